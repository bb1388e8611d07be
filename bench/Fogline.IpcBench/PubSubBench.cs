using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;

namespace Fogline.IpcBench;

/// <summary>
/// Local pub/sub through the local Nucleus with 256-byte binary messages: one publisher to 1 and to 8 subscribers,
/// each subscriber its own component and connection; maximum throughput (publisher with K publishes in flight) and
/// publish-to-deliver latency at a fixed offered rate, for our C# client and for the official Node.js client in the
/// same run, plus the raw Unix-socket rate of the machine as the ceiling.
/// Usage: <c>dotnet run -c Release --project bench/Fogline.IpcBench -- pubsub [--duration 3] [--inflight 32] [--rate 10000] [--no-node]</c>.
/// </summary>
internal static class PubSubBench
{
    private const string Topic = "bench/pubsub";
    private const int PayloadBytes = 256;

    private sealed record Row(string Scenario, string Client, double PublishedPerSecond, double DeliveredPerSecond, long Lost, double P50Us, double P99Us, double RateAchieved);

    public static async Task<int> RunAsync(string[] args, string? repoRoot)
    {
        var duration = 3.0;
        var inflight = 32;
        var rate = 10_000;
        var runNode = true;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--duration": duration = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--inflight": inflight = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rate": rate = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--no-node": runNode = false; break;
                default:
                    Console.Error.WriteLine($"error: unknown option {args[i]} (pubsub: --duration S --inflight K --rate R --no-node)");
                    return 2;
            }
        }

        if (runNode && (repoRoot is null || NodeClientRunner.CheckInstalled(repoRoot) is { } missing))
        {
            Console.Error.WriteLine("error: the official Node.js IPC client is not installed: run `npm ci --ignore-scripts` in tests/Conformance/js (or pass --no-node)");
            return 2;
        }

        Console.WriteLine($"pub/sub through the local Nucleus: {PayloadBytes}-byte binary messages, {duration} s per row, {inflight} publishes in flight for max rate, {rate} msgs/s offered for latency");
        var rows = new List<Row>();
        foreach (var fanout in new[] { 1, 8 })
        {
            rows.Add(await RunCSharpAsync(fanout, duration, inflight, null));
            rows.Add(await RunCSharpAsync(fanout, duration, inflight, rate));
            if (runNode)
            {
                rows.Add(await RunNodeAsync(repoRoot!, fanout, duration, inflight, null));
                rows.Add(await RunNodeAsync(repoRoot!, fanout, duration, inflight, rate));
            }
        }

        var (smallMsgs, smallMb) = RawSocketRate(256, duration);
        var (bigMsgs, bigMb) = RawSocketRate(64 * 1024, duration);

        var table = new StringBuilder();
        table.AppendLine("| scenario | client | max published msgs/s | max delivered msgs/s | lost | p50 µs @ offered rate | p99 µs @ offered rate | rate achieved msgs/s |");
        table.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var group in rows.GroupBy(r => (r.Scenario, r.Client)))
        {
            var max = group.First(r => r.RateAchieved == 0);
            var paced = group.First(r => r.RateAchieved != 0);
            table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {group.Key.Scenario} | {group.Key.Client} | {max.PublishedPerSecond:N0} | {max.DeliveredPerSecond:N0} | {max.Lost + paced.Lost} | {paced.P50Us:N1} | {paced.P99Us:N1} | {paced.RateAchieved:N0} |"));
        }

        Console.WriteLine();
        Console.Write(table);
        if (runNode)
        {
            Console.WriteLine();
            foreach (var fanout in new[] { "1 → 1", "1 → 8" })
            {
                var cs = rows.First(r => r.Scenario == fanout && r.Client.StartsWith("C#", StringComparison.Ordinal) && r.RateAchieved == 0);
                var js = rows.First(r => r.Scenario == fanout && r.Client.StartsWith("Node", StringComparison.Ordinal) && r.RateAchieved == 0);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"- {fanout}: C# / Node.js delivered throughput {cs.DeliveredPerSecond / js.DeliveredPerSecond:N2}x"));
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw Unix socket (one writer thread, one reader thread): 256-byte writes {smallMsgs:N0} msgs/s ({smallMb:N0} MB/s); 64 KiB writes {bigMsgs:N0} writes/s ({bigMb:N0} MB/s)"));
        return 0;
    }

    private static async Task<(Nucleus Nucleus, string Root, string Publisher, string[] Subscribers)> StartNucleusAsync(int fanout)
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-pubsub-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root });
        JsonObject Policy() => new()
        {
            ["accessControl"] = new JsonObject
            {
                ["aws.greengrass.ipc.pubsub"] = new JsonObject
                {
                    ["bench:1"] = new JsonObject
                    {
                        ["operations"] = new JsonArray("aws.greengrass#PublishToTopic", "aws.greengrass#SubscribeToTopic"),
                        ["resources"] = new JsonArray(Topic),
                    },
                },
            },
        };
        var publisher = nucleus.AddComponent("bench.Publisher", "1.0.0", Policy()).Token;
        var subscribers = Enumerable.Range(0, fanout).Select(i => nucleus.AddComponent($"bench.Subscriber{i}", "1.0.0", Policy()).Token).ToArray();
        return (nucleus, root, publisher, subscribers);
    }

    private static async Task<Row> RunCSharpAsync(int fanout, double duration, int inflight, int? rate)
    {
        var (nucleus, root, pubToken, subTokens) = await StartNucleusAsync(fanout);
        await using var nucleusScope = nucleus;
        var subscribers = new List<(GreengrassIpcClient Client, SubscriberStats Stats, IAsyncDisposable Stream)>();
        foreach (var token in subTokens)
        {
            var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = token });
            var stats = new SubscriberStats();
            var stream = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = Topic }, evt => stats.OnMessage(evt.BinaryMessage!.Message!.Value.Span));
            subscribers.Add((client, stats, stream));
        }

        await using var publisher = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = pubToken });

        // Warm-up, then reset the subscribers' statistics.
        await PublishForAsync(publisher, 1.0, inflight, null);
        await Task.Delay(300);
        foreach (var s in subscribers)
        {
            s.Stats.Reset();
        }

        using var sampler = Environment.GetEnvironmentVariable("FOGLINE_BENCH_ALLOC_PROFILE") == "1" ? new AllocationSampler() : null;
        sampler?.Start();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var gcBefore = (GC.CollectionCount(0), GC.GetTotalPauseDuration());
        var (published, seconds, _) = rate is null
            ? await PublishForAsync(publisher, duration, inflight, rate)
            : await Task.Factory.StartNew(() => PublishForAsync(publisher, duration, inflight, rate).GetAwaiter().GetResult(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.Delay(500);
        var delivered = subscribers.Sum(s => s.Stats.Received);
        sampler?.Stop();
        foreach (var (type, _, bytes, share) in sampler?.Top(20) ?? [])
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {share,6:P1}  {type}"));
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  1 -> {fanout} {(rate is null ? "max" : "paced")}: {(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)Math.Max(1, delivered):0} B allocated per delivery in this process (publisher, Nucleus, subscribers); {GC.CollectionCount(0) - gcBefore.Item1} gen0+ collections, {(GC.GetTotalPauseDuration() - gcBefore.Item2).TotalMilliseconds:0.0} ms paused"));
        var lost = (published * fanout) - delivered;
        var all = new List<double>();
        foreach (var s in subscribers)
        {
            all.AddRange(s.Stats.Latencies);
            await s.Stream.DisposeAsync();
            await s.Client.DisposeAsync();
        }

        all.Sort();
        TryDelete(root);
        return new Row(fanout == 1 ? "1 → 1" : $"1 → {fanout}", "C# (Fogline.Greengrass.Ipc)", published / seconds, delivered / seconds, Math.Max(0, lost),
            Percentile(all, 50), Percentile(all, 99), rate is null ? 0 : published / seconds);
    }

    private static long _sequence;

    private static async Task<(long Published, double Seconds, long FirstSeq)> PublishForAsync(GreengrassIpcClient publisher, double duration, int inflight, int? rate)
    {
        var slots = new SemaphoreSlim(inflight, inflight);
        long published = 0;
        var firstSeq = Interlocked.Read(ref _sequence);
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(duration * Stopwatch.Frequency);
        var pacer = rate is { } r ? new Pacer(r) : null;
        while (true)
        {
            // Paced on this (dedicated) thread, sleeping until each send time so the delivery path has the cores.
            pacer?.WaitNext();
            var now = Stopwatch.GetTimestamp();
            if (now >= end)
            {
                break;
            }

            if (rate is null)
            {
                await slots.WaitAsync();
            }
            else
            {
                slots.Wait();
            }

            var payload = new byte[PayloadBytes];
            BinaryPrimitives.WriteInt64LittleEndian(payload, Stopwatch.GetTimestamp());
            BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), Interlocked.Increment(ref _sequence));
            var call = publisher.PublishToTopicAsync(new PublishToTopicRequest { Topic = Topic, PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = payload } } });
            _ = call.ContinueWith(
                t =>
                {
                    if (t.IsCompletedSuccessfully)
                    {
                        Interlocked.Increment(ref published);
                    }

                    slots.Release();
                },
                TaskScheduler.Default);
        }

        for (var i = 0; i < inflight; i++)
        {
            await slots.WaitAsync();
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (Interlocked.Read(ref published), seconds, firstSeq);
    }

    private static async Task<Row> RunNodeAsync(string repoRoot, int fanout, double duration, int inflight, int? rate)
    {
        var (nucleus, root, pubToken, subTokens) = await StartNucleusAsync(fanout);
        await using var nucleusScope = nucleus;
        var script = Path.Combine(repoRoot, "bench", "js", "pubsub.js");
        Process Start(string token, params string[] args)
        {
            var info = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(script);
            foreach (var a in args)
            {
                info.ArgumentList.Add(a);
            }

            info.Environment["AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"] = nucleus.SocketPath;
            info.Environment["SVCUID"] = token;
            info.Environment["FOGLINE_CONFORMANCE_JS"] = NodeClientRunner.ConformanceDirectory(repoRoot);
            return Process.Start(info)!;
        }

        async Task<JsonElement> ReadEventAsync(Process p, string name)
        {
            while (await p.StandardOutput.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith('{'))
                {
                    continue;
                }

                var e = JsonDocument.Parse(line).RootElement;
                var kind = e.GetProperty("event").GetString();
                if (kind == name)
                {
                    return e;
                }

                if (kind == "fatal")
                {
                    throw new InvalidOperationException("node: " + e.GetProperty("fatal").GetString());
                }
            }

            throw new InvalidOperationException("node exited early: " + await p.StandardError.ReadToEndAsync());
        }

        // Warm-up run of the publisher with the subscribers attached is part of the same processes' lifetime: the
        // subscribers count from their start, so the warm-up is a separate short publisher first.
        var subs = subTokens.Select(t => Start(t, "--role", "sub", "--topic", Topic)).ToList();
        foreach (var s in subs)
        {
            await ReadEventAsync(s, "ready");
        }

        var warm = Start(pubToken, "--role", "pub", "--topic", Topic, "--mode", "max", "--inflight", inflight.ToString(CultureInfo.InvariantCulture), "--duration", "1");
        var warmResult = await ReadEventAsync(warm, "result");
        await warm.WaitForExitAsync();
        await Task.Delay(300);
        var args = rate is null
            ? new[] { "--role", "pub", "--topic", Topic, "--mode", "max", "--inflight", inflight.ToString(CultureInfo.InvariantCulture), "--duration", duration.ToString(CultureInfo.InvariantCulture) }
            : ["--role", "pub", "--topic", Topic, "--mode", "rate", "--rate", rate.Value.ToString(CultureInfo.InvariantCulture), "--duration", duration.ToString(CultureInfo.InvariantCulture)];
        var pub = Start(pubToken, args);
        var result = await ReadEventAsync(pub, "result");
        await pub.WaitForExitAsync();
        await Task.Delay(500);
        long delivered = 0;
        var p50 = new List<double>();
        var p99 = new List<double>();
        foreach (var s in subs)
        {
            await s.StandardInput.WriteLineAsync("stop");
            await s.StandardInput.FlushAsync();
            var r = await ReadEventAsync(s, "result");
            delivered += r.GetProperty("received").GetInt64();
            p50.Add(r.GetProperty("p50").GetDouble());
            p99.Add(r.GetProperty("p99").GetDouble());
            await s.WaitForExitAsync();
        }

        var warmPublished = warmResult.GetProperty("published").GetInt64();
        var published = result.GetProperty("published").GetInt64();
        var seconds = result.GetProperty("seconds").GetDouble();
        delivered -= warmPublished * fanout;
        var lost = (published * fanout) - delivered;
        TryDelete(root);

        // Latency percentiles of several subscribers: the median of their p50s and the largest p99 (conservative).
        p50.Sort();
        return new Row(fanout == 1 ? "1 → 1" : $"1 → {fanout}", "Node.js (aws-iot-device-sdk-v2)", published / seconds, delivered / seconds, Math.Max(0, lost),
            p50[p50.Count / 2], p99.Max(), rate is null ? 0 : published / seconds);
    }

    private static (double MessagesPerSecond, double MegabytesPerSecond) RawSocketRate(int writeSize, double duration)
    {
        var path = Path.Combine(Path.GetTempPath(), "fogline-raw-" + Guid.NewGuid().ToString("N")[..8] + ".sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        using var writer = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        writer.Connect(new UnixDomainSocketEndPoint(path));
        using var reader = listener.Accept();
        long received = 0;
        var stop = false;
        var readThread = new Thread(() =>
        {
            var buffer = new byte[256 * 1024];
            while (true)
            {
                var n = reader.Receive(buffer);
                if (n <= 0)
                {
                    break;
                }

                Interlocked.Add(ref received, n);
            }
        });
        readThread.Start();
        var data = new byte[writeSize];
        var start = Stopwatch.GetTimestamp();
        long writes = 0;
        while (!stop)
        {
            writer.Send(data);
            writes++;
            if ((writes & 255) == 0 && Stopwatch.GetElapsedTime(start).TotalSeconds >= duration)
            {
                stop = true;
            }
        }

        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        writer.Shutdown(SocketShutdown.Both);
        readThread.Join();
        File.Delete(path);
        return (writes / seconds, Interlocked.Read(ref received) / seconds / 1e6);
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static void TryDelete(string root)
    {
        try
        {
            Directory.Delete(root, true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Latencies (µs) and count of one subscriber; called on its connection's read loop.</summary>
    private sealed class SubscriberStats
    {
        private readonly Lock _gate = new();
        private List<double> _latencies = new(1 << 16);

        public long Received { get; private set; }

        public List<double> Latencies
        {
            get
            {
                lock (_gate)
                {
                    return [.. _latencies];
                }
            }
        }

        public void OnMessage(ReadOnlySpan<byte> payload)
        {
            var now = Stopwatch.GetTimestamp();
            var stamp = BinaryPrimitives.ReadInt64LittleEndian(payload);
            lock (_gate)
            {
                Received++;
                _latencies.Add((now - stamp) * 1e6 / Stopwatch.Frequency);
            }
        }

        public void Reset()
        {
            lock (_gate)
            {
                Received = 0;
                _latencies = new List<double>(1 << 16);
            }
        }
    }
}
