using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Deployments;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// CloudUplink's NativeAOT binary on a local Nucleus whose emulated IoT Core goes down and whose spool is small, and
/// killed with SIGKILL under load: every accepted message reaches the cloud journal, by its id.
/// </summary>
[NonParallelizable]
[CancelAfter(240_000)]
public class CloudUplinkTests
{
    private const string Uplink = "com.fogline.CloudUplink";
    private Nucleus _nucleus = null!;
    private GreengrassIpcClient _probe = null!;
    private string _root = null!;

    [SetUp]
    public async Task SetUp()
    {
        Assert.That(File.Exists(Path.Combine(Repository.Root, "artifacts", "components", Uplink, "1.0.0", "CloudUplink-linux-x64")), Is.True,
            "the CloudUplink binary is missing: dotnet cake --target=Components");
        _root = Path.Combine(Path.GetTempPath(), "fogline-uplink-" + Guid.NewGuid().ToString("N")[..8]);
        _nucleus = await Nucleus.StartAsync(new NucleusOptions
        {
            RootPath = _root,
            ThingName = "gw-1",
            IoTCore = new Fogline.LocalNucleus.IoTCore.IoTCoreOptions { SpoolMaxBytes = 16 * 1024 },
            Lifecycle = new Fogline.LocalNucleus.Lifecycle.LifecycleOptions { ErrorsBeforeBroken = 1000 },
            Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) },
        });
        var probe = _nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        _probe = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = _nucleus.SocketPath, AuthToken = probe.Token });
        var id = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = Path.Combine(Repository.Root, "recipes"),
            ArtifactsDirectoryPath = Path.Combine(Repository.Root, "artifacts", "components"),
            RootComponentVersionsToAdd = new Dictionary<string, string> { [Uplink] = "1.0.0" },
            ComponentToConfiguration = new Dictionary<string, JsonElement> { [Uplink] = JsonDocument.Parse("""{"MERGE": {"normalBatchSeconds": 0.2, "lowBatchSeconds": 0.3}}""").RootElement.Clone() },
        });
        var deployed = await _nucleus.Deployments.WaitAsync(id);
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        await Task.Delay(300);
    }

    [TearDown]
    public async Task TearDown()
    {
        await _probe.DisposeAsync();
        await _nucleus.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task AnOutage_LosesNothing_AndCriticalGoesFirstWhenTheLinkReturns()
    {
        await SendAsync(0, 100);
        await WaitForCloudAsync(100, "before the outage");

        _nucleus.IoTCore.GoOffline();
        await SendAsync(100, 600);
        await Task.Delay(2000);
        var reconnectedAt = _nucleus.IoTCore.ReadJournal().Count;
        _nucleus.IoTCore.GoOnline();

        var cloud = await WaitForCloudAsync(600, "after the outage");
        Assert.That(cloud.Select(m => m.Body), Is.EquivalentTo(Enumerable.Range(0, 600).Select(Body)), "every message once it is deduplicated by id, no gap");
        var ids = cloud.GroupBy(m => m.Id).ToList();
        Assert.That(ids.All(g => g.Select(m => m.Body).Distinct().Count() == 1), Is.True, "a duplicate carries the same id as the original");

        // After the link came back: the critical messages the uplink kept are published before its remaining batches.
        var after = _nucleus.IoTCore.ReadJournal().Skip(reconnectedAt).Select(e => e.Topic).ToList();
        var lastCritical = after.FindLastIndex(t => t.EndsWith("/alerts", StringComparison.Ordinal));
        var lastTelemetry = after.FindLastIndex(t => t.EndsWith("/telemetry", StringComparison.Ordinal));
        Assert.That(lastCritical, Is.LessThan(lastTelemetry), "critical first when the link returns");
    }

    [Test]
    public async Task KilledTwentyTimesUnderLoad_EveryAcceptedMessageReachesTheCloud()
    {
        var random = new Random(5);
        var sent = 0;
        var accepted = new List<int>();
        for (var kill = 0; kill < 20; kill++)
        {
            var burst = 50 + random.Next(100);
            await SendAsync(sent, sent + burst);
            accepted.AddRange(Enumerable.Range(sent, burst));
            sent += burst;

            // Everything sent more than 500 ms before the kill has been accepted (written and fsynced). What is sent
            // while it is being killed may or may not have been; what is published while it is down has no
            // subscriber and is not expected.
            await Task.Delay(600);
            var more = random.Next(60);
            var during = SendAsync(sent, sent + more);
            await Task.Delay(random.Next(50));
            var pid = _nucleus.Supervisor.ProcessIds(Uplink).Single();
            _ = Kill(pid, 9);
            await during;
            sent += more;
            await Eventually.UntilAsync(() => _nucleus.Supervisor.ProcessIds(Uplink).Count == 1 && _nucleus.Supervisor.ProcessIds(Uplink)[0] != pid && _nucleus.Components.TryGet(Uplink, out var r) && r.State == LifecycleState.Running, "restarted");
            await Task.Delay(300);
        }

        var cloud = await WaitForCloudAsync(accepted.Count, "after 20 kills", exact: false);
        var bodies = cloud.Select(m => m.Body).ToHashSet();
        var missing = accepted.Select(Body).Where(b => !bodies.Contains(b)).ToList();
        Assert.That(missing, Is.Empty, $"accepted before a kill but never reached the cloud ({missing.Count} of {accepted.Count})");
        Assert.That(cloud.GroupBy(m => m.Id).All(g => g.Select(m => m.Body).Distinct().Count() == 1), Is.True, "duplicates carry the same id");
        TestContext.Out.WriteLine($"{sent} sent, {cloud.Count} messages in the cloud, {cloud.Count - cloud.Select(m => m.Id).Distinct().Count()} duplicates (same id)");
    }

    [Test]
    public async Task AnOutage_WithThePipelineRunning_EveryMessageTheUplinkGotReachesTheCloud()
    {
        // Everything the pipeline publishes for the cloud, as the probe sees it on local pub/sub.
        var produced = new System.Collections.Concurrent.ConcurrentBag<string>();
        foreach (var topic in new[] { "fogline/alerts/#", "fogline/summary/#", "fogline/filtered/#" })
        {
            await _probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = topic }, m => produced.Add(Encoding.UTF8.GetString(m.BinaryMessage!.Message!.Value.Span)));
        }

        var id = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = Path.Combine(Repository.Root, "recipes"),
            ArtifactsDirectoryPath = Path.Combine(Repository.Root, "artifacts", "components"),
            RootComponentVersionsToAdd = new[] { "SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine" }.ToDictionary(n => "com.fogline." + n, _ => "1.0.0"),
            ComponentToConfiguration = new Dictionary<string, JsonElement>
            {
                ["com.fogline.Aggregator"] = JsonDocument.Parse("""{"MERGE": {"windowSeconds": 1}}""").RootElement.Clone(),
                ["com.fogline.AlertEngine"] = JsonDocument.Parse("""{"RESET": ["/rules"], "MERGE": {"rules": [{"name": "hot", "metric": "temperature", "direction": "above", "warning": 55, "hysteresis": 0}]}}""").RootElement.Clone(),
                ["com.fogline.SensorGateway"] = JsonDocument.Parse("""{"RESET": ["/devices"], "MERGE": {"devices": [{"zone": "z", "device": "p", "source": "simulator", "intervalMs": 20, "metrics": [{"name": "temperature", "profile": "sine", "base": 55, "amplitude": 10, "periodSeconds": 2, "noise": 1}]}]}}""").RootElement.Clone(),
            },
        });
        var deployed = await _nucleus.Deployments.WaitAsync(id);
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);

        await Task.Delay(2000);
        _nucleus.IoTCore.GoOffline();
        await Task.Delay(4000);
        _nucleus.IoTCore.GoOnline();
        await Task.Delay(2000);

        // Stop the sources, then everything produced must reach the cloud.
        var stop = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest { RootComponentsToRemove = ["com.fogline.SensorGateway"] });
        await _nucleus.Deployments.WaitAsync(stop);
        await Task.Delay(1500);
        var expected = produced.ToHashSet();
        Assert.That(expected.Count(b => b.Contains("\"severity\"", StringComparison.Ordinal)), Is.GreaterThan(2), "alerts were produced");
        List<string> inCloud = [];
        await Eventually.UntilAsync(() =>
        {
            inCloud = CloudBodies();
            return expected.All(inCloud.Contains);
        }, "every message the pipeline produced in the cloud journal", TimeSpan.FromSeconds(60));
        Assert.That(expected.Where(b => !inCloud.Contains(b)), Is.Empty);
    }

    private static string Body(int i) => i % 10 == 0 ? $"alert-{i}" : i % 3 == 0 ? $"summary-{i}" : $"reading-{i}";

    private async Task SendAsync(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var body = Body(i);
            var topic = body.StartsWith("alert", StringComparison.Ordinal) ? "fogline/alerts/z/d/m" : body.StartsWith("summary", StringComparison.Ordinal) ? "fogline/summary/z/d/m" : "fogline/filtered/z/d/m";
            await _probe.PublishToTopicAsync(new PublishToTopicRequest
            {
                Topic = topic,
                PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes($$"""{"v":1,"name":"{{body}}"}""") } },
            });
        }
    }

    /// <summary>The original payloads (the "body" of each uplink message) in the cloud journal, as compact JSON.</summary>
    private List<string> CloudBodies()
    {
        var result = new List<string>();
        foreach (var entry in UplinkMessagesInJournal())
        {
            foreach (var m in Decode(entry.Payload.ToArray()))
            {
                result.Add(m["body"]!.ToJsonString());
            }
        }

        return result;
    }

    /// <summary>The journal without the uplink's delivery markers (on its confirm topic).</summary>
    private IEnumerable<Fogline.LocalNucleus.IoTCore.CloudJournalEntry> UplinkMessagesInJournal() =>
        _nucleus.IoTCore.ReadJournal().Where(e => !e.Topic.EndsWith("/uplink/confirm", StringComparison.Ordinal));

    private static IEnumerable<JsonNode> Decode(byte[] payload)
    {
        if (payload.Length > 2 && payload[0] == 0x1f && payload[1] == 0x8b)
        {
            using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            payload = plain.ToArray();
        }

        var json = JsonNode.Parse(payload)!;
        return json["messages"] is JsonArray batch ? [.. batch.Select(m => m!)] : [json];
    }

    /// <summary>The uplink's messages in the cloud journal: single messages and the contents of (gzip) batches.</summary>
    private List<(string Id, string Body)> CloudMessages()
    {
        var result = new List<(string, string)>();
        foreach (var entry in UplinkMessagesInJournal())
        {
            var payload = entry.Payload.ToArray();
            if (payload.Length > 2 && payload[0] == 0x1f && payload[1] == 0x8b)
            {
                using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
                using var plain = new MemoryStream();
                gzip.CopyTo(plain);
                payload = plain.ToArray();
            }

            var json = JsonNode.Parse(payload)!;
            var messages = json["messages"] is JsonArray batch ? batch.Select(m => m!) : [json];
            foreach (var m in messages)
            {
                result.Add((m["id"]!.GetValue<string>(), m["body"]!["name"]!.GetValue<string>()));
            }
        }

        return result;
    }

    private async Task<List<(string Id, string Body)>> WaitForCloudAsync(int distinct, string what, bool exact = true)
    {
        List<(string Id, string Body)> messages = [];
        await Eventually.UntilAsync(() =>
        {
            messages = CloudMessages();
            var count = messages.Select(m => m.Body).Distinct().Count();
            return exact ? count == distinct : count >= distinct;
        }, $"{distinct} messages in the cloud journal {what}", TimeSpan.FromSeconds(60));
        return messages;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
