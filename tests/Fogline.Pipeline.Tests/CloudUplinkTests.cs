using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.ComponentKit.Storage;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Deployments;
using Fogline.LocalNucleus.IoTCore;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// CloudUplink's NativeAOT binary on a local Nucleus with the Nucleus's default spool (2.5 MB, in memory): outages,
/// a Nucleus restarted in the middle of one, SIGKILLs under load, a message IoT Core would never take. Every accepted
/// message reaches the cloud journal, by its id.
/// </summary>
[NonParallelizable]
[CancelAfter(240_000)]
public class CloudUplinkTests
{
    private const string Uplink = "com.fogline.CloudUplink";
    private const string BaseConfiguration = """{"normalBatchSeconds": 0.2, "lowBatchSeconds": 0.3, "statusSeconds": 0.2}""";
    private Nucleus _nucleus = null!;
    private GreengrassIpcClient _probe = null!;
    private string _root = null!;
    private JsonNode? _status;

    private static CancellationToken Token => TestContext.CurrentContext.CancellationToken;

    [SetUp]
    public void SetUp()
    {
        Assert.That(File.Exists(Path.Combine(Repository.ComponentArtifacts, Uplink, "1.0.0", "CloudUplink-linux-x64")), Is.True,
            "the CloudUplink binary is missing: dotnet cake --target=Components");
        _root = Path.Combine(Path.GetTempPath(), "fogline-uplink-" + Guid.NewGuid().ToString("N")[..8]);
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_probe is not null)
        {
            await _probe.DisposeAsync();
        }

        if (_nucleus is not null)
        {
            await _nucleus.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task AnOutage_LosesNothing_AndCriticalGoesFirstWhenTheLinkReturns()
    {
        // A small confirmation window keeps the backlog in the uplink's log, where it decides the order.
        await StartAsync("""{"confirm": {"windowKilobytes": 1, "timeoutSeconds": 1}}""");
        await SendAsync(0, 100);
        await WaitForCloudAsync(100, "before the outage");

        _nucleus.IoTCore.GoOffline();
        await SendAsync(100, 600);
        await WaitForStatusAsync(s => s["accepted"]!.GetValue<long>() >= 600 && s["state"]!.GetValue<string>() == "offline", "all 600 accepted and the link seen down");
        var spooled = _nucleus.IoTCore.Counters.SpoolMessages;
        var reconnectedAt = _nucleus.IoTCore.ReadJournal().Count;
        _nucleus.IoTCore.GoOnline();

        var cloud = await WaitForCloudAsync(600, "after the outage");
        Assert.That(cloud.Select(m => m.Body), Is.EquivalentTo(Enumerable.Range(0, 600).Select(Body)), "every message once it is deduplicated by id, no gap");
        Assert.That(cloud.GroupBy(m => m.Id).All(g => g.Select(m => m.Body).Distinct().Count() == 1), Is.True, "a duplicate carries the same id as the original");

        // After the link came back, the Nucleus first sends what it had spooled; then what the uplink still held: every
        // critical message of that backlog before any batch of summaries or telemetry.
        var backlog = _nucleus.IoTCore.ReadJournal().Skip(reconnectedAt + spooled).Select(e => e.Topic).Where(t => !t.EndsWith("/uplink/confirm", StringComparison.Ordinal)).ToList();
        var firstBatch = backlog.FindIndex(t => !t.EndsWith("/alerts", StringComparison.Ordinal));
        var lastCritical = backlog.FindLastIndex(t => t.EndsWith("/alerts", StringComparison.Ordinal));
        Assert.That(backlog.Count(t => t.EndsWith("/alerts", StringComparison.Ordinal)), Is.GreaterThan(10), "the uplink kept critical messages in its backlog");
        Assert.That(lastCritical, Is.LessThan(firstBatch), $"critical first when the link returns: {string.Join(", ", backlog.Select(t => t[(t.LastIndexOf('/') + 1)..]))}");
    }

    /// <summary>
    /// With the Nucleus's default spool (2.5 MB, in memory) an outage would move the uplink's backlog into the Nucleus,
    /// which loses it when it restarts. The uplink keeps every record until IoT Core confirms it, so a Nucleus restarted
    /// in the middle of an outage loses nothing the uplink accepted.
    /// </summary>
    [Test]
    public async Task TheNucleusRestartedDuringAnOutage_WithTheDefaultSpool_LosesNothingAccepted()
    {
        await StartAsync();
        await SendAsync(0, 50);
        await WaitForCloudAsync(50, "before the outage");

        _nucleus.IoTCore.GoOffline();
        await SendAsync(50, 450);
        await WaitForStatusAsync(s => s["accepted"]!.GetValue<long>() >= 450, "all 450 accepted");
        Assert.That(_nucleus.IoTCore.Counters.SpoolMessages, Is.GreaterThan(0), "some of the backlog did go into the Nucleus's volatile spool");

        // The Nucleus stops (its spool is gone with it) and starts again on the same root, still without IoT Core;
        // the uplink comes back with the deployment.
        await _probe.DisposeAsync();
        _probe = null!;
        await _nucleus.DisposeAsync();
        await StartNucleusAsync(deploy: false, offline: true);
        await WaitForStatusAsync(s => s["queued"]!.GetValue<long>() > 0, "the uplink running again, with its backlog");
        _nucleus.IoTCore.GoOnline();

        var cloud = await WaitForCloudAsync(450, "after the restart and the outage");
        Assert.That(cloud.Select(m => m.Body).Distinct(), Is.EquivalentTo(Enumerable.Range(0, 450).Select(Body)));
    }

    /// <summary>A message IoT Core would refuse every time is refused at acceptance and never holds up the rest.</summary>
    [Test]
    public async Task AMessageOverIoTCoresLimit_IsRefusedAtAcceptance_AndTheRestGoesOn()
    {
        await StartAsync();
        var huge = "{\"v\":1,\"name\":\"huge\",\"blob\":\"" + new string('x', 130 * 1024) + "\"}";
        await PublishAsync("fogline/alerts/z/d/m", huge);
        await SendAsync(0, 30);

        await WaitForCloudAsync(30, "the messages after the oversized one");
        await WaitForStatusAsync(s => s["oversize"]!.GetValue<long>() == 1, "the oversized message counted");
        Assert.That(CloudMessages().Select(m => m.Body), Has.None.EqualTo("huge"));
        Assert.That(File.ReadAllText(Path.Combine(_root, "logs", Uplink + ".log")), Does.Contain("Refused a message of " + Encoding.UTF8.GetByteCount(huge) + " bytes from fogline/alerts/z/d/m"));
    }

    [TestCase(null, new byte[] { 0x46, 0x47, 0x42, 1 })]
    [TestCase("json", new byte[] { 0x1f, 0x8b })]
    public async Task Batches_AreInTheConfiguredEncoding_AndAlertsStayReadableJson(string? encoding, byte[] batchStart)
    {
        await StartAsync(encoding is null ? null : $$$"""{"batchEncoding": "{{{encoding}}}"}""");
        await SendAsync(0, 60);

        await WaitForCloudAsync(60, "in batches and one by one");
        var entries = UplinkMessagesInJournal().ToList();
        var batches = entries.Where(e => !e.Topic.EndsWith("/alerts", StringComparison.Ordinal)).ToList();
        var alerts = entries.Where(e => e.Topic.EndsWith("/alerts", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(batches, Is.Not.Empty);
            Assert.That(batches.Select(e => e.Payload[..batchStart.Length]), Has.All.EqualTo(batchStart));
            Assert.That(alerts, Is.Not.Empty);
            Assert.That(alerts.Select(e => JsonNode.Parse(e.Payload)!["body"]!["name"]!.GetValue<string>()), Has.All.StartWith("alert-"));
        });
    }

    /// <summary>
    /// SIGKILL at random moments under load. "Accepted" is what the uplink had stored when it was killed: its log,
    /// read from a copy taken while the process was stopped (SIGSTOP) just before the SIGKILL, plus what had already
    /// reached the cloud. Every accepted message must reach the cloud.
    /// </summary>
    [Test]
    public async Task KilledTwentyTimesUnderLoad_EveryAcceptedMessageReachesTheCloud()
    {
        await StartAsync();
        var random = new Random(5);
        var sent = 0;
        var accepted = new HashSet<string>();
        for (var kill = 0; kill < 20; kill++)
        {
            var burst = 50 + random.Next(100);
            await SendAsync(sent, sent + burst);
            sent += burst;
            var more = random.Next(60);
            var during = SendAsync(sent, sent + more);
            await Task.Delay(random.Next(50), Token);

            // Stopped, its log copied as it is on disk, then killed.
            var pid = _nucleus.Supervisor.ProcessIds(Uplink).Single();
            _ = Kill(pid, 19);
            await WaitStoppedAsync(pid);
            accepted.UnionWith(StoredBodies());
            accepted.UnionWith(CloudMessages().Select(m => m.Body));
            _ = Kill(pid, 9);
            _ = Kill(pid, 18);
            await during;
            sent += more;
            await Eventually.UntilAsync(() => _nucleus.Supervisor.ProcessIds(Uplink) is [var again] && again != pid && _nucleus.Components.TryGet(Uplink, out var r) && r.State == LifecycleState.Running, "restarted");
            await WaitForSubscriptionsAsync();
        }

        Assert.That(accepted, Has.Count.GreaterThan(sent / 2), "most of what was sent had been accepted when the kills came");
        var cloud = await WaitForCloudAsync(accepted.Count, "after 20 kills", exact: false);
        var bodies = cloud.Select(m => m.Body).ToHashSet();
        var missing = accepted.Where(b => !bodies.Contains(b)).ToList();
        Assert.That(missing, Is.Empty, $"accepted before a kill but never reached the cloud ({missing.Count} of {accepted.Count})");
        Assert.That(cloud.GroupBy(m => m.Id).All(g => g.Select(m => m.Body).Distinct().Count() == 1), Is.True, "duplicates carry the same id");
        TestContext.Out.WriteLine($"{sent} sent, {accepted.Count} accepted, {cloud.Count} messages in the cloud, {cloud.Count - cloud.Select(m => m.Id).Distinct().Count()} duplicates (same id)");
    }

    [Test]
    public async Task AnOutage_WithThePipelineRunning_EveryMessageTheUplinkGotReachesTheCloud()
    {
        await StartAsync();

        // Everything the pipeline publishes for the cloud, as the probe sees it on local pub/sub.
        var produced = new System.Collections.Concurrent.ConcurrentBag<string>();
        foreach (var topic in new[] { "fogline/alerts/#", "fogline/summary/#", "fogline/filtered/#" })
        {
            await _probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = topic }, m => produced.Add(Encoding.UTF8.GetString(m.BinaryMessage!.Message!.Value.Span)));
        }

        var id = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = Repository.Recipes,
            ArtifactsDirectoryPath = Repository.ComponentArtifacts,
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

        // Online until alerts, summaries and telemetry have reached the cloud; offline until the pipeline has
        // produced a good deal more (alerts included); online again.
        await Eventually.UntilAsync(() => CloudBodies().Count(b => b.Contains("\"severity\"", StringComparison.Ordinal)) > 0 && CloudBodies().Count > 20, "the pipeline's messages in the cloud");
        _nucleus.IoTCore.GoOffline();
        var before = produced.Count;
        var alertsBefore = produced.Count(b => b.Contains("\"severity\"", StringComparison.Ordinal));
        await Eventually.UntilAsync(() => produced.Count > before + 100 && produced.Count(b => b.Contains("\"severity\"", StringComparison.Ordinal)) > alertsBefore + 2, "the pipeline producing during the outage");
        _nucleus.IoTCore.GoOnline();

        // Stop the sources, then everything produced (until the pipeline is quiet) must reach the cloud.
        var stop = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest { RootComponentsToRemove = ["com.fogline.SensorGateway"] });
        await _nucleus.Deployments.WaitAsync(stop);
        HashSet<string> expected = [];
        List<string> inCloud = [];
        await Eventually.UntilAsync(() =>
        {
            expected = produced.ToHashSet();
            inCloud = CloudBodies();
            return expected.All(inCloud.Contains);
        }, "every message the pipeline produced in the cloud journal", TimeSpan.FromSeconds(60));
        Assert.That(expected.Where(b => !inCloud.Contains(b)), Is.Empty);
    }

    private async Task StartAsync(string? configuration = null)
    {
        await StartNucleusAsync(deploy: true, offline: false, configuration);
    }

    private async Task StartNucleusAsync(bool deploy, bool offline, string? configuration = null)
    {
        _nucleus = await Nucleus.StartAsync(new NucleusOptions
        {
            RootPath = _root,
            ThingName = "gw-1",
            Lifecycle = new Fogline.LocalNucleus.Lifecycle.LifecycleOptions { ErrorsBeforeBroken = 1000 },
            Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) },
        });
        if (offline)
        {
            _nucleus.IoTCore.GoOffline();
        }

        var probe = _nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        _probe = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = _nucleus.SocketPath, AuthToken = probe.Token });
        await _probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/uplink/status" }, m => Volatile.Write(ref _status, JsonNode.Parse(m.BinaryMessage!.Message!.Value.Span)));
        if (deploy)
        {
            var merged = JsonNode.Parse(BaseConfiguration)!.AsObject();
            foreach (var (key, value) in configuration is null ? [] : JsonNode.Parse(configuration)!.AsObject())
            {
                merged[key] = value?.DeepClone();
            }

            var id = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest
            {
                RecipeDirectoryPath = Repository.Recipes,
                ArtifactsDirectoryPath = Repository.ComponentArtifacts,
                RootComponentVersionsToAdd = new Dictionary<string, string> { [Uplink] = "1.0.0" },
                ComponentToConfiguration = new Dictionary<string, JsonElement> { [Uplink] = JsonDocument.Parse(new JsonObject { ["MERGE"] = merged }.ToJsonString()).RootElement.Clone() },
            });
            var deployed = await _nucleus.Deployments.WaitAsync(id);
            Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        }

        await WaitForSubscriptionsAsync();
    }

    /// <summary>Until the uplink is subscribed to the three topics it takes messages from, and to its confirm topic.</summary>
    private Task WaitForSubscriptionsAsync() => Eventually.UntilAsync(
        () => _nucleus.PubSub.GetSubscribers().Count(s => s.Component == Uplink) == 3
            && _nucleus.IoTCore.DeviceSubscriptions.Any(s => s.Component == Uplink),
        "the uplink's subscriptions");

    private async Task WaitForStatusAsync(Func<JsonNode, bool> condition, string what) =>
        await Eventually.UntilAsync(() => Volatile.Read(ref _status) is { } s && condition(s), what, TimeSpan.FromSeconds(60));

    private static string Body(int i) => i % 10 == 0 ? $"alert-{i}" : i % 3 == 0 ? $"summary-{i}" : $"reading-{i}";

    private async Task SendAsync(int from, int to)
    {
        for (var i = from; i < to; i++)
        {
            var body = Body(i);
            var topic = body.StartsWith("alert", StringComparison.Ordinal) ? "fogline/alerts/z/d/m" : body.StartsWith("summary", StringComparison.Ordinal) ? "fogline/summary/z/d/m" : "fogline/filtered/z/d/m";
            await PublishAsync(topic, $$"""{"v":1,"name":"{{body}}"}""");
        }
    }

    private Task PublishAsync(string topic, string json) => _probe.PublishToTopicAsync(new PublishToTopicRequest
    {
        Topic = topic,
        PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes(json) } },
    });

    /// <summary>
    /// Waits until every thread of <paramref name="pid"/> is stopped: kill(SIGSTOP) returns before the group stop
    /// completes, and a thread still running could change the log while it is copied.
    /// </summary>
    private static Task WaitStoppedAsync(int pid) => Eventually.UntilAsync(
        () =>
        {
            try
            {
                return Directory.GetDirectories($"/proc/{pid}/task").All(task =>
                {
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('T');
                });
            }
            catch (IOException)
            {
                return false; // a thread ended while it was being read
            }
        },
        "the uplink stopped by SIGSTOP");

    /// <summary>The names of the messages in the uplink's durable log, read from a copy of its directory.</summary>
    private List<string> StoredBodies()
    {
        var directory = Path.Combine(_nucleus.WorkPath(Uplink), "uplink-log");
        var copy = Path.Combine(_root, "log-copy-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.Exists(directory) ? Directory.GetFiles(directory) : [])
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        var log = DurableLog.Open(copy, new DurableLogOptions { Fsync = false });
        var names = log.Peek(int.MaxValue).Select(r => JsonNode.Parse(r.Payload)!["name"]!.GetValue<string>()).ToList();
        log.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(copy, recursive: true);
        return names;
    }

    /// <summary>The original payloads (the "body" of each uplink message) in the cloud journal, as compact JSON.</summary>
    private List<string> CloudBodies() => [.. UplinkMessagesInJournal().SelectMany(e => UplinkJournal.Decode(e.Payload.ToArray())).Select(m => m["body"]!.ToJsonString())];

    /// <summary>The uplink's messages in the cloud journal (single messages and the contents of gzip batches): id and name.</summary>
    private List<(string Id, string Body)> CloudMessages() =>
        [.. UplinkMessagesInJournal().SelectMany(e => UplinkJournal.Decode(e.Payload.ToArray())).Select(m => (m["id"]!.GetValue<string>(), m["body"]!["name"]!.GetValue<string>()))];

    /// <summary>The journal without the uplink's delivery markers (on its confirm topic).</summary>
    private IEnumerable<CloudJournalEntry> UplinkMessagesInJournal() =>
        _nucleus.IoTCore.ReadJournal().Where(e => !e.Topic.EndsWith("/uplink/confirm", StringComparison.Ordinal));

    private async Task<List<(string Id, string Body)>> WaitForCloudAsync(int distinct, string what, bool exact = true)
    {
        List<(string Id, string Body)> messages = [];
        await Eventually.UntilAsync(() =>
        {
            messages = CloudMessages();
            var count = messages.Select(m => m.Body).Distinct().Count();
            return exact ? count == distinct : count >= distinct;
        }, $"{distinct} messages in the cloud journal {what}", TimeSpan.FromSeconds(90));
        return messages;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
