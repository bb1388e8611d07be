using System.Diagnostics;
using System.Globalization;
using Fogline.ComponentKit.Storage;

namespace Fogline.IpcBench;

/// <summary>
/// <c>log</c>: the uplink's durable log. Durable enqueue rate of 256-byte records with fsync group commit (many
/// concurrent appenders, each waiting for its record to be on disk), and the time to open a log holding 1,000,000
/// records.
/// </summary>
internal static class LogBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var duration = 5.0;
        var appenders = 1024;
        var recoveryRecords = 1_000_000;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--duration": duration = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--appenders": appenders = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--records": recoveryRecords = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("usage: Fogline.IpcBench log [--duration 5] [--appenders 1024] [--records 1000000]");
                    return 2;
            }
        }

        var dir = Path.Combine(Path.GetTempPath(), "fogline-log-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            var payload = new byte[256];
            Random.Shared.NextBytes(payload);
            long count = 0;
            var latencies = new List<double>();
            await using (var log = DurableLog.Open(Path.Combine(dir, "enqueue")))
            {
                var clock = Stopwatch.StartNew();
                var tasks = Enumerable.Range(0, appenders).Select(async _ =>
                {
                    var mine = new List<double>();
                    while (clock.Elapsed.TotalSeconds < duration)
                    {
                        var start = Stopwatch.GetTimestamp();
                        await log.AppendAsync(LogPriority.Low, payload);
                        mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                        Interlocked.Increment(ref count);
                    }

                    return mine;
                }).ToList();
                foreach (var t in tasks)
                {
                    latencies.AddRange(await t);
                }

                var elapsed = clock.Elapsed.TotalSeconds;
                latencies.Sort();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"durable enqueue, 256 B, {appenders} appenders, fsync group commit: {count / elapsed:0} records/s ({count} in {elapsed:0.0} s); append-to-durable p50 {latencies[latencies.Count / 2]:0.00} ms, p99 {latencies[(int)(latencies.Count * 0.99)]:0.00} ms (goal 50,000/s)"));
            }

            // Recovery: fill without fsync (what is measured is reading it back), close, open again.
            var recoveryDir = Path.Combine(dir, "recovery");
            await using (var fill = DurableLog.Open(recoveryDir, new DurableLogOptions { Fsync = false, CommitInterval = TimeSpan.FromMilliseconds(5), MaxBytes = long.MaxValue }))
            {
                var batch = new List<Task>(10_000);
                for (var i = 0; i < recoveryRecords; i++)
                {
                    batch.Add(fill.AppendAsync(LogPriority.Normal, payload).AsTask());
                    if (batch.Count == 10_000)
                    {
                        await Task.WhenAll(batch);
                        batch.Clear();
                    }
                }

                await Task.WhenAll(batch);
            }

            var bytes = Directory.GetFiles(recoveryDir, "*.seg").Sum(f => new FileInfo(f).Length);
            var open = Stopwatch.StartNew();
            await using (var reopened = DurableLog.Open(recoveryDir, new DurableLogOptions { MaxBytes = long.MaxValue }))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"recovery: opened a log of {reopened.Count:N0} records ({bytes / 1048576.0:0} MiB) in {open.Elapsed.TotalMilliseconds:0} ms"));
            }

            return 0;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
