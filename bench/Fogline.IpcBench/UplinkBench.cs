using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;

namespace Fogline.IpcBench;

/// <summary>
/// <c>uplink</c>: CloudUplink's NativeAOT binary on an in-process local Nucleus. The emulated IoT Core goes offline,
/// N filtered readings arrive and are accepted into the uplink's log; the link comes back and the time until every
/// one has been published (and the Nucleus's spool has delivered it) gives the drain rate. The bytes the uplink sent
/// per reading are compared with one publish per raw reading.
/// </summary>
internal static class UplinkBench
{
    public static async Task<int> RunAsync(string[] args, string? repoRoot)
    {
        var count = args.Length > 1 && args[0] == "--readings" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 100_000;
        var binary = Path.Combine(repoRoot ?? ".", "artifacts", "components", "com.fogline.CloudUplink", "1.0.0", "CloudUplink-linux-x64");
        if (repoRoot is null || !File.Exists(binary))
        {
            Console.Error.WriteLine("uplink: build the components first: dotnet cake --target=Components");
            return 2;
        }

        var root = Path.Combine(Path.GetTempPath(), "fogline-uplink-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, ThingName = "gw-1", IoTCore = new Fogline.LocalNucleus.IoTCore.IoTCoreOptions { SpoolMaxBytes = 64 * 1024 }, PubSub = new Fogline.LocalNucleus.PubSub.PubSubOptions { SubscriberQueueCapacity = 65_536 } });
        Process? uplink = null;
        try
        {
            var configuration = PipelineBench.DefaultConfiguration(repoRoot, "CloudUplink");
            configuration["lowBatchSeconds"] = 1;
            var record = nucleus.AddComponent("com.fogline.CloudUplink", "1.0.0", configuration);
            uplink = PipelineBench.Spawn(nucleus, record, binary);
            var probe = nucleus.AddComponent("com.fogline.bench.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
            await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
            var counters = new ConcurrentDictionary<string, long>();
            await using var metrics = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/metrics/com.fogline.CloudUplink" }, e =>
            {
                foreach (var (name, value) in JsonNode.Parse(e.BinaryMessage!.Message!.Value.Span)!["counters"]!.AsObject())
                {
                    counters[name] = value!.GetValue<long>();
                }
            });
            while (!(nucleus.Components.TryGet("com.fogline.CloudUplink", out var r) && r.State == LifecycleState.Running))
            {
                await Task.Delay(20);
            }

            nucleus.IoTCore.GoOffline();
            long rawBytes = 0;
            var inflight = new SemaphoreSlim(64);
            for (var i = 0; i < count; i++)
            {
                var ts = 1_795_000_000 + (i * 0.1);
                var reading = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"hall-a","device":"press-{{i % 8}}","metric":"temperature","value":{{60 + (25 * Math.Sin(i / 300.0)):0.###}},"unit":"C","ts":{{ts:0.###}},"seq":{{i}}}"""));
                rawBytes += reading.Length;
                await inflight.WaitAsync();
                _ = client.PublishToTopicAsync(new PublishToTopicRequest { Topic = $"fogline/filtered/hall-a/press-{i % 8}/temperature", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = reading } } })
                    .ContinueWith(_ => inflight.Release(), TaskScheduler.Default);
            }

            while (counters.GetValueOrDefault("accepted") < count)
            {
                await Task.Delay(100);
            }

            // Count the readings inside the batches as they reach the cloud.
            long arrived = 0;
            var clock = Stopwatch.StartNew();
            var lastArrival = TimeSpan.Zero;
            var firstArrival = TimeSpan.MinValue;
            nucleus.IoTCore.MessageReceived += (_, entry) =>
            {
                if (firstArrival == TimeSpan.MinValue)
                {
                    firstArrival = clock.Elapsed;
                }

                long n;
                if (Fogline.ComponentKit.Messages.UplinkBatchCodec.IsBatch(entry.Payload))
                {
                    n = Fogline.ComponentKit.Messages.UplinkBatchCodec.Decode(entry.Payload).Messages.Count;
                }
                else
                {
                    using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(entry.Payload.ToArray()), System.IO.Compression.CompressionMode.Decompress);
                    n = JsonNode.Parse(gzip)!["count"]!.GetValue<long>();
                }

                Interlocked.Add(ref arrived, n);
                lastArrival = clock.Elapsed;
            };
            nucleus.IoTCore.GoOnline();
            while (Interlocked.Read(ref arrived) < count)
            {
                await Task.Delay(5);
            }

            var drain = (lastArrival - firstArrival).TotalSeconds;
            while (counters.GetValueOrDefault("sent") < count)
            {
                await Task.Delay(100);
            }

            var sentBytes = counters.GetValueOrDefault("bytes_sent");
            var publishes = nucleus.IoTCore.Counters.Delivered;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"drain after an outage (Nucleus spool 64 KB, so the uplink's log holds the backlog): first message {firstArrival.TotalSeconds:0.00} s after the link returned (the uplink's retry backoff), then {count:N0} readings in {drain:0.00} s = {count / drain:0} readings/s into the emulated IoT Core ({publishes} publishes) (goal 20,000/s)"));
            const int mqttOverhead = 2 + 2 + 2 + 40; // fixed header, topic length, packet id, a topic like dt/fogline/gw-1/telemetry/...
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bytes to the cloud per reading: {(double)sentBytes / count:0.0} B batched and compressed, vs {(double)rawBytes / count:0.0} B of JSON + ~{mqttOverhead} B of MQTT per publish when every reading is sent on its own ({((double)rawBytes / count + mqttOverhead) / ((double)sentBytes / count):0.0}x less); with EdgeFilter forwarding ~15% of raw readings: {0.15 * sentBytes / count:0.0} B per raw reading"));
            return 0;
        }
        finally
        {
            if (uplink is not null)
            {
                uplink.Kill();
                await uplink.WaitForExitAsync();
            }

            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }
}
