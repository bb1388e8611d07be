using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus;

namespace Fogline.IpcBench;

/// <summary>
/// <c>pipeline</c>: the edge pipeline's NativeAOT binaries (artifacts/components, from `dotnet cake
/// --target=Components`) on an in-process local Nucleus.
/// <list type="number">
/// <item>Each component alone: time from process start to its RUNNING report over IPC, and its RSS after 3 s idle.</item>
/// <item>The chain: EdgeFilter, Aggregator and AlertEngine on fogline/raw/#, a publisher as fast as it can for the
/// duration; readings/s every consumer kept up with (from their counters), none dropped.</item>
/// <item>Latency at a fixed rate: every 10th reading crosses the alert threshold and back; time from its publish to the
/// delivery of its alert to a subscriber (p50/p99).</item>
/// </list>
/// </summary>
internal static class PipelineBench
{
    private static readonly string[] Components = ["SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "AnomalyDetector", "ZoneCorrelator", "Dashboard"];

    public static async Task<int> RunAsync(string[] args, string? repoRoot)
    {
        var duration = 5.0;
        var rate = 1000;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--duration": duration = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rate": rate = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine("usage: Fogline.IpcBench pipeline [--duration 5] [--rate 1000]");
                    return 2;
            }
        }

        if (repoRoot is null)
        {
            Console.Error.WriteLine("pipeline: run it inside the repository");
            return 2;
        }

        var artifacts = Path.Combine(repoRoot, "artifacts", "components");
        foreach (var name in Components)
        {
            if (!File.Exists(Binary(artifacts, name)))
            {
                Console.Error.WriteLine($"pipeline: {Binary(artifacts, name)} is missing; build the components: dotnet cake --target=Components");
                return 2;
            }
        }

        var root = Path.Combine(Path.GetTempPath(), "fogline-pipeline-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, PubSub = new Fogline.LocalNucleus.PubSub.PubSubOptions { SubscriberQueueCapacity = 65_536 } });
        try
        {
            Console.WriteLine("component       start to RUNNING (ms, median of 3)  idle RSS (MB)   (goals: 100 ms, 16 MB)");
            foreach (var name in Components)
            {
                var (startMs, rssMb) = await MeasureComponentAsync(nucleus, repoRoot, artifacts, name);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-15} {startMs,34:0.0}  {rssMb,13:0.0}"));
            }

            await ChainAsync(nucleus, repoRoot, artifacts, duration, rate);
            return 0;
        }
        finally
        {
            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    internal static string Binary(string artifacts, string name) => Path.Combine(artifacts, "com.fogline." + name, "1.0.0", name + "-linux-x64");

    internal static JsonObject DefaultConfiguration(string repoRoot, string name)
    {
        var configuration = ComponentRecipe.Load(Path.Combine(repoRoot, "recipes", $"com.fogline.{name}-1.0.0.yaml")).DefaultConfiguration;
        if (name == "Dashboard")
        {
            // Any free port on loopback, so that a bench never collides with a dashboard already running.
            configuration["bindAddress"] = "127.0.0.1";
            configuration["port"] = 0;
        }

        return configuration;
    }

    internal static Process Spawn(Nucleus nucleus, Fogline.LocalNucleus.Components.ComponentRecord record, string binary)
    {
        var psi = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = nucleus.WorkPath(record.Name) };
        foreach (var (key, value) in nucleus.EnvironmentFor(record))
        {
            psi.Environment[key] = value;
        }

        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task<(double StartMs, double RssMb)> MeasureComponentAsync(Nucleus nucleus, string repoRoot, string artifacts, string name)
    {
        var starts = new List<double>();
        double rss = 0;
        for (var run = 0; run < 3; run++)
        {
            var record = nucleus.AddComponent("com.fogline." + name, "1.0.0", DefaultConfiguration(repoRoot, name));
            var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnState(object? sender, Fogline.LocalNucleus.Components.ComponentStateChange change)
            {
                if (change.Component.Name == record.Name && change.Current == LifecycleState.Running)
                {
                    running.TrySetResult();
                }
            }

            nucleus.Components.StateChanged += OnState;
            var clock = Stopwatch.StartNew();
            using var process = Spawn(nucleus, record, Binary(artifacts, name));
            if (await Task.WhenAny(running.Task, Task.Delay(10_000)) != running.Task)
            {
                throw new TimeoutException($"{name} did not report RUNNING");
            }

            starts.Add(clock.Elapsed.TotalMilliseconds);
            nucleus.Components.StateChanged -= OnState;
            if (run == 2)
            {
                await Task.Delay(3000);
                rss = StatusMb(process.Id, "VmRSS:");
            }

            process.Kill();
            await process.WaitForExitAsync();
            nucleus.RemoveComponent(record.Name);
        }

        starts.Sort();
        return (starts[1], rss);
    }

    private static async Task ChainAsync(Nucleus nucleus, string repoRoot, string artifacts, double duration, int rate)
    {
        var processes = new List<Process>();
        var names = new[] { "EdgeFilter", "Aggregator", "AlertEngine" };
        var rules = JsonNode.Parse("""[{"name": "bench", "metric": "m", "direction": "above", "warning": 50, "hysteresis": 0, "cooldownSeconds": 0}]""")!;
        foreach (var name in names)
        {
            var configuration = DefaultConfiguration(repoRoot, name);
            if (name == "AlertEngine")
            {
                configuration["rules"] = rules.DeepClone();
            }

            var record = nucleus.AddComponent("com.fogline." + name, "1.0.0", configuration);
            processes.Add(Spawn(nucleus, record, Binary(artifacts, name)));
        }

        var probe = nucleus.AddComponent("com.fogline.bench.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
        var metrics = new ConcurrentDictionary<string, JsonNode>();
        var alertTimes = new ConcurrentDictionary<long, long>();
        await using var m = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/metrics/#" }, e =>
        {
            var node = JsonNode.Parse(e.BinaryMessage!.Message!.Value.Span)!;
            metrics[node["component"]!.GetValue<string>()] = node;
        });
        await using var a = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/alerts/#" }, e =>
        {
            var now = Stopwatch.GetTimestamp();
            var node = JsonNode.Parse(e.BinaryMessage!.Message!.Value.Span)!;
            alertTimes[node["reading"]!["seq"]!.GetValue<long>()] = now;
        });
        while (!nucleus.Components.All.Where(c => c.Name.StartsWith("com.fogline.", StringComparison.Ordinal) && names.Any(n => c.Name.EndsWith(n, StringComparison.Ordinal))).All(c => c.State == LifecycleState.Running))
        {
            await Task.Delay(20);
        }

        await Task.Delay(500);

        // Throughput: as fast as the publisher goes, 64 in flight.
        var sent = 0L;
        var clock = Stopwatch.StartNew();
        var inflight = new SemaphoreSlim(64);
        var payload = new byte[256];
        while (clock.Elapsed.TotalSeconds < duration)
        {
            await inflight.WaitAsync();
            var body = Reading(++sent, 10, payload);
            _ = client.PublishToTopicAsync(new PublishToTopicRequest { Topic = "fogline/raw/z/d/m", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = body } } })
                .ContinueWith(_ => inflight.Release(), TaskScheduler.Default);
        }

        var published = clock.Elapsed.TotalSeconds;
        for (var i = 0; i < 64; i++)
        {
            await inflight.WaitAsync();
        }

        // Wait for every consumer to have counted every reading (their counters arrive every 5 s).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !names.All(n => metrics.TryGetValue("com.fogline." + n, out var node) && node["counters"]!["received"]!.GetValue<long>() >= sent))
        {
            await Task.Delay(100);
        }

        var processed = clock.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"chain throughput: {sent} readings published in {published:0.0} s ({sent / published:0} /s); all three consumers had received them after {processed:0.0} s ({sent / processed:0} readings/s end to end)"));
        foreach (var n in names)
        {
            var c = metrics.TryGetValue("com.fogline." + n, out var node) ? node["counters"]! : null;
            Console.WriteLine($"  {n,-12} received {c?["received"]} dropped {c?["dropped"]} rejected {c?["rejected"]}");
        }

        // Latency: a fixed rate; every 10th reading is 60 (above the warning of 50), the next one 10 (clears).
        alertTimes.Clear();
        var sentAt = new Dictionary<long, long>();
        var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
        var pacer = new Pacer(rate);
        var seq = 10_000_000L;
        var count = (int)(rate * duration);
        for (var i = 0; i < count; i++)
        {
            pacer.WaitNext();
            var value = i % 10 == 0 || i % 10 == 1 ? (i % 10 == 0 ? 60 : 10) : 10;
            var body = Reading(++seq, value, payload);
            if (i % 10 == 0)
            {
                sentAt[seq] = Stopwatch.GetTimestamp();
            }

            _ = client.PublishToTopicAsync(new PublishToTopicRequest { Topic = "fogline/raw/z/d/m", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = body } } });
        }

        await Task.Delay(2000);
        var latencies = sentAt.Where(s => alertTimes.ContainsKey(s.Key)).Select(s => Stopwatch.GetElapsedTime(s.Value, alertTimes[s.Key]).TotalMicroseconds).Order().ToList();
        if (latencies.Count == 0)
        {
            Console.WriteLine("latency: no alerts arrived");
        }
        else
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"reading -> alert at {rate} readings/s: {latencies.Count}/{sentAt.Count} alerts, p50 {latencies[latencies.Count / 2]:0} µs, p99 {latencies[(int)(latencies.Count * 0.99)]:0} µs, max {latencies[^1]:0} µs (goal p99 < 1000 µs)"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  this process (publisher, local Nucleus, subscriber) meanwhile: {GC.CollectionCount(0) - gcBefore.Item1} gen0, {GC.CollectionCount(1) - gcBefore.Item2} gen1, {GC.CollectionCount(2) - gcBefore.Item3} gen2 collections, {(GC.GetTotalPauseDuration() - gcBefore.Item4).TotalMilliseconds:0.0} ms paused"));
        }

        foreach (var p in processes)
        {
            p.Kill();
            await p.WaitForExitAsync();
            p.Dispose();
        }
    }

    private static ReadOnlyMemory<byte> Reading(long seq, double value, byte[] scratch)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        return Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"z","device":"d","metric":"m","value":{{value}},"ts":{{ts}},"seq":{{seq}}}"""));
    }

    internal static double StatusMb(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                return double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
            }
        }

        return 0;
    }
}
