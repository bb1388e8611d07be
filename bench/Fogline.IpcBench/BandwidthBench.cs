using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Fogline.ComponentKit.Processing;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.Plr;

namespace Fogline.IpcBench;

/// <summary>
/// Bytes on the wire per raw reading, SensorGateway → EdgeFilter → CloudUplink → the emulated IoT Core, all three as
/// the NativeAOT binaries the recipes deploy: the demo's signals (one simulated device per profile) and NAB series
/// replayed, each metric's bound 1% of its range; before (swinging door, gzip JSON batches) and after (optimalPlr,
/// columnar batches) in the same run.
/// </summary>
internal static class BandwidthBench
{
    private static readonly string[] NabFiles =
    [
        "realKnownCause/ambient_temperature_system_failure.csv",
        "realKnownCause/cpu_utilization_asg_misconfiguration.csv",
        "realKnownCause/nyc_taxi.csv",
        "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
        "realTraffic/speed_6005.csv",
        "artificialWithAnomaly/art_daily_jumpsup.csv",
    ];

    public static async Task<int> RunAsync(string[] args, string? repoRoot)
    {
        var seconds = Option(args, "--seconds", 60);
        var batchSeconds = Option(args, "--batch-seconds", 30);
        var artifacts = Path.Combine(repoRoot ?? ".", "artifacts", "components");
        if (repoRoot is null || !File.Exists(PipelineBench.Binary(artifacts, "EdgeFilter")))
        {
            Console.Error.WriteLine("bandwidth: build the components first: dotnet cake --target=Components");
            return 2;
        }

        var corpus = Path.GetFullPath(Path.Combine(repoRoot, "..", "shared", "data", "nab-corpus"));
        var scenarios = new (string Name, JsonArray Devices, JsonObject Deviations)[] { DemoSignals(), NabReplay(corpus) };
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bandwidth: {seconds:0} s per run, every metric's bound 1% of its range, readings every 10 ms per device, uplink batches every {batchSeconds:0} s"));
        foreach (var (name, devices, deviations) in scenarios)
        {
            foreach (var (mode, encoding) in new[] { ("swingingDoor", "json"), ("swingingDoor", "columnar"), ("optimalPlr", "columnar") })
            {
                var r = await RunOnceAsync(repoRoot, artifacts, devices, deviations, mode, encoding, seconds, batchSeconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{name,-22} {mode,-12} {encoding,-8}: {r.Raw,8:N0} raw readings, {r.Forwarded,7:N0} forwarded ({100.0 * r.Forwarded / r.Raw:0.0}%), {r.Bytes,9:N0} B to IoT Core in {r.Publishes} publishes = {(double)r.Bytes / r.Raw:0.000} B per raw reading ({(double)r.Bytes / Math.Max(1, r.Forwarded):0.00} B per forwarded point)"));
            }
        }

        return 0;
    }

    private static double Option(string[] args, string name, double fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The demo's simulated profiles (recipes/com.fogline.SensorGateway), one device each, one metric name each.</summary>
    private static (string, JsonArray, JsonObject) DemoSignals()
    {
        var devices = new JsonArray();
        var deviations = new JsonObject();
        void Device(string device, string metric, string profile, string extra, double range)
        {
            devices.Add(JsonNode.Parse($$"""{"zone": "hall-a", "device": "{{device}}", "source": "simulator", "intervalMs": 10, "seed": 7, "metrics": [{"name": "{{metric}}", "profile": "{{profile}}", {{extra}}}]}"""));
            deviations[metric] = JsonNode.Parse(string.Create(CultureInfo.InvariantCulture, $$"""{"deviation": {{0.01 * range}}}"""));
        }

        // Ranges: the profile's swing plus six standard deviations of its noise.
        Device("press-1", "temperature", "sine", "\"base\": 60, \"amplitude\": 25, \"periodSeconds\": 120, \"noise\": 0.3", 50 + 1.8);
        Device("press-1b", "pressure", "spikes", "\"base\": 4, \"noise\": 0.02, \"spikeProbability\": 0.002, \"spikeSize\": 3", 3 + 0.12);
        Device("oven-1", "oventemp", "drift", "\"base\": 55, \"driftPerHour\": 30, \"noise\": 0.3", 1.8 + 0.5);
        Device("fan-1", "vibration", "steady", "\"base\": 2, \"noise\": 0.2", 1.2);
        return ("demo signals", devices, deviations);
    }

    /// <summary>NAB series replayed one sample per poll (speed = sample interval / poll interval).</summary>
    private static (string, JsonArray, JsonObject) NabReplay(string corpus)
    {
        var devices = new JsonArray();
        var deviations = new JsonObject();
        var i = 0;
        foreach (var file in NabFiles)
        {
            var path = Path.Combine(corpus, file);
            var series = SeriesFile.Read(path);
            var interval = series[1].Time - series[0].Time;
            var metric = "nab" + i++.ToString(CultureInfo.InvariantCulture);
            devices.Add(JsonNode.Parse(string.Create(CultureInfo.InvariantCulture, $$"""{"zone": "nab", "device": "{{Path.GetFileNameWithoutExtension(file)}}", "source": "csv", "intervalMs": 10, "file": "{{path}}", "metric": "{{metric}}", "speed": {{interval / 0.01}}}""")));
            deviations[metric] = JsonNode.Parse(string.Create(CultureInfo.InvariantCulture, $$"""{"deviation": {{0.01 * SeriesFile.Range(series)}}}"""));
        }

        return ("NAB replay (6 series)", devices, deviations);
    }

    private static async Task<(long Raw, long Forwarded, long Bytes, long Publishes)> RunOnceAsync(string repoRoot, string artifacts, JsonArray devices, JsonObject deviations, string mode, string encoding, double seconds, double batchSeconds)
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-bandwidth-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, ThingName = "gw-1" });
        var processes = new List<Process>();
        try
        {
            long bytes = 0, publishes = 0;
            nucleus.IoTCore.MessageReceived += (_, entry) =>
            {
                if (entry.Topic.EndsWith("/telemetry", StringComparison.Ordinal))
                {
                    Interlocked.Add(ref bytes, entry.Payload.Length);
                    Interlocked.Increment(ref publishes);
                }
            };

            var probe = nucleus.AddComponent("com.fogline.bench.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
            await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
            long raw = 0, forwarded = 0;
            var counters = new ConcurrentDictionary<string, long>();
            await using var rawSubscription = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/raw/#" }, _ => Interlocked.Increment(ref raw));
            await using var filteredSubscription = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/filtered/#" }, _ => Interlocked.Increment(ref forwarded));

            var uplinkConfiguration = PipelineBench.DefaultConfiguration(repoRoot, "CloudUplink");
            uplinkConfiguration["lowBatchSeconds"] = batchSeconds;
            uplinkConfiguration["batchEncoding"] = encoding;
            var filterConfiguration = PipelineBench.DefaultConfiguration(repoRoot, "EdgeFilter");
            filterConfiguration["mode"] = mode;
            filterConfiguration["maxSilenceSeconds"] = 0;
            filterConfiguration["metrics"] = deviations.DeepClone();
            var gatewayConfiguration = PipelineBench.DefaultConfiguration(repoRoot, "SensorGateway");
            gatewayConfiguration["devices"] = devices.DeepClone();
            foreach (var (name, configuration) in new[] { ("CloudUplink", uplinkConfiguration), ("EdgeFilter", filterConfiguration) })
            {
                var record = nucleus.AddComponent("com.fogline." + name, "1.0.0", configuration);
                processes.Add(PipelineBench.Spawn(nucleus, record, PipelineBench.Binary(artifacts, name)));
                await UntilRunningAsync(nucleus, record.Name);
            }

            var gatewayRecord = nucleus.AddComponent("com.fogline.SensorGateway", "1.0.0", gatewayConfiguration);
            var gateway = PipelineBench.Spawn(nucleus, gatewayRecord, PipelineBench.Binary(artifacts, "SensorGateway"));
            processes.Add(gateway);
            await Task.Delay(TimeSpan.FromSeconds(seconds));

            // Stop the sensors, then EdgeFilter (SIGTERM: it forwards what it holds), then let the uplink send the rest.
            gateway.Kill();
            await gateway.WaitForExitAsync();
            await Task.Delay(200);
            var filter = processes[1];
            _ = Process.Start("kill", ["-TERM", filter.Id.ToString(CultureInfo.InvariantCulture)])!;
            await filter.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            var quiet = Stopwatch.StartNew();
            var last = Interlocked.Read(ref bytes);
            while (quiet.Elapsed < TimeSpan.FromSeconds(4))
            {
                await Task.Delay(250);
                if (Interlocked.Read(ref bytes) != last)
                {
                    last = Interlocked.Read(ref bytes);
                    quiet.Restart();
                }
            }

            return (Interlocked.Read(ref raw), Interlocked.Read(ref forwarded), Interlocked.Read(ref bytes), Interlocked.Read(ref publishes));
        }
        finally
        {
            foreach (var p in processes.Where(p => !p.HasExited))
            {
                p.Kill();
                await p.WaitForExitAsync();
            }

            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task UntilRunningAsync(Nucleus nucleus, string name)
    {
        var deadline = Stopwatch.StartNew();
        while (!(nucleus.Components.TryGet(name, out var r) && r.State == LifecycleState.Running))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException(name + " did not start");
            }

            await Task.Delay(20);
        }
    }
}
