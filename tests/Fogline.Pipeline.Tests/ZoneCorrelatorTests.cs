using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Deployments;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// ZoneCorrelator's NativeAOT binary on a local Nucleus with CloudUplink: a zone rule over two devices raises a zone
/// alert that reaches IoT Core as critical, a rule changed by a deployment applies at once, a device that stops
/// reporting is listed stale in the zone summary and left out, malformed readings are counted and skipped.
/// </summary>
[NonParallelizable]
[CancelAfter(120_000)]
public class ZoneCorrelatorTests
{
    private const string Correlator = "com.fogline.ZoneCorrelator";
    private Nucleus _nucleus = null!;
    private GreengrassIpcClient _probe = null!;
    private string _root = null!;
    private readonly ConcurrentQueue<(string Topic, JsonNode Message)> _seen = new();

    [SetUp]
    public async Task SetUp()
    {
        Assert.That(File.Exists(Path.Combine(Repository.ComponentArtifacts, Correlator, "1.0.0", "ZoneCorrelator-linux-x64")), Is.True, "dotnet cake --target=Components");
        _seen.Clear();
        _root = Path.Combine(Path.GetTempPath(), "fogline-zones-" + Guid.NewGuid().ToString("N")[..8]);
        _nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root, ThingName = "gw-1", Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) } });
        var probe = _nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        _probe = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = _nucleus.SocketPath, AuthToken = probe.Token });
        foreach (var topic in new[] { "fogline/alerts/#", "fogline/zones/#", "fogline/metrics/#" })
        {
            await _probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = topic }, m =>
            {
                if (m.BinaryMessage?.Message is { } bytes)
                {
                    _seen.Enqueue((m.BinaryMessage.Context?.Topic ?? topic, JsonNode.Parse(bytes.Span)!));
                }
            });
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            var log = Path.Combine(_root, "logs", Correlator + ".log");
            TestContext.Out.WriteLine(File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no log)");
        }

        await _probe.DisposeAsync();
        await _nucleus.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task AZoneRuleOverTwoDevices_RaisesAZoneAlertThatReachesIoTCore_ARuleChangedLiveAppliesAtOnce_StaleDevicesAreListed()
    {
        var deployed = await DeployAsync(new Dictionary<string, string>
        {
            [Correlator] = """
                {"RESET": ["/rules", "/zones"], "MERGE": {"staleSeconds": 2, "summarySeconds": 0.5, "zones": ["hall-a"], "rules": [
                  {"name": "hot-and-shaking", "zone": "hall-a", "combine": "all", "minDurationSeconds": 0.5,
                   "conditions": [{"metric": "temperature", "device": "press-1", "above": 80}, {"metric": "vibration", "device": "press-2", "above": 5}]}]}}
                """,
            ["com.fogline.CloudUplink"] = """{"MERGE": {"normalBatchSeconds": 0.5}}""",
        });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);

        // Malformed readings first: counted and skipped.
        await PublishAsync("fogline/raw/hall-a/press-1/temperature", "{\"v\":1,");
        await PublishAsync("fogline/raw/hall-a/press-1/temperature", "[]");

        // Only press-1 hot: nothing for a second.
        using var stop = new CancellationTokenSource();
        var vibration = 2.0;
        var feeding = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await ReadingAsync("press-1", "temperature", 86);
                await ReadingAsync("press-2", "vibration", Volatile.Read(ref vibration));
                await ReadingAsync("press-3", "temperature", 20);
                await Task.Delay(50);
            }
        });
        await Task.Delay(1000);
        Assert.That(ZoneAlerts(), Is.Empty, "one device's condition alone");

        // Both: raised after the minimum duration, taken to IoT Core as a critical message.
        Volatile.Write(ref vibration, 6.0);
        await Eventually.UntilAsync(() => ZoneAlerts().Any(a => a["severity"]!.GetValue<string>() == "critical"), "the zone alert");
        var alert = ZoneAlerts().First();
        Assert.That(alert["kind"]!.GetValue<string>(), Is.EqualTo("zone"));
        Assert.That(alert["conditions"]!.AsArray().Select(c => c!["device"]!.GetValue<string>()), Is.EqualTo(new[] { "press-1", "press-2" }));
        JsonNode? inCloud = null;
        await Eventually.UntilAsync(() => (inCloud = CloudBodies("fogline/gw-1/alerts").FirstOrDefault(b => b["kind"]?.GetValue<string>() == "zone")) is not null, "the zone alert in IoT Core");
        Assert.That(inCloud!["rule"]!.GetValue<string>(), Is.EqualTo("hot-and-shaking"));

        // The rule changed live: the temperature threshold moves above the readings, the alert clears.
        deployed = await DeployAsync(new Dictionary<string, string>
        {
            [Correlator] = """
                {"RESET": ["/rules"], "MERGE": {"rules": [{"name": "hot-and-shaking", "zone": "hall-a", "combine": "all", "minDurationSeconds": 0.5,
                   "conditions": [{"metric": "temperature", "device": "press-1", "above": 90}, {"metric": "vibration", "device": "press-2", "above": 5}]}]}}
                """,
        });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        await Eventually.UntilAsync(() => ZoneAlerts().Any(a => a["severity"]!.GetValue<string>() == "normal"), "cleared under the new rule");

        // press-3 stops reporting: listed stale in the zone summary, left out of its aggregates.
        await stop.CancelAsync();
        await feeding;
        _seen.Clear();
        var quiet = Task.Run(async () =>
        {
            for (var i = 0; i < 80; i++)
            {
                await ReadingAsync("press-1", "temperature", 86);
                await Task.Delay(50);
            }
        });
        JsonNode? summary = null;
        await Eventually.UntilAsync(() => (summary = Summaries().LastOrDefault(s => s["stale"]!.AsArray().Any(d => d!.GetValue<string>() == "press-3") && s["fresh"]!.GetValue<int>() == 1)) is not null,
            "a summary listing press-3 (and press-2) stale", TimeSpan.FromSeconds(10));
        Assert.That(summary!["metrics"]!["temperature"]!["devices"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(summary["metrics"]!["temperature"]!["min"]!.GetValue<double>(), Is.EqualTo(86), "the stale device's 20 is left out");
        await quiet;
        await Eventually.UntilAsync(() => _seen.Any(s => s.Topic == "fogline/metrics/" + Correlator && s.Message["counters"]!["rejected"]!.GetValue<long>() == 2), "two malformed readings counted", TimeSpan.FromSeconds(10));
    }

    private List<JsonNode> ZoneAlerts() => [.. _seen.Where(s => s.Topic.StartsWith("fogline/alerts/zone/hall-a/", StringComparison.Ordinal)).Select(s => s.Message)];

    private List<JsonNode> Summaries() => [.. _seen.Where(s => s.Topic == "fogline/zones/hall-a").Select(s => s.Message)];

    private List<JsonNode> CloudBodies(string topic) =>
        [.. _nucleus.IoTCore.ReadJournal().Where(e => e.Topic == topic).SelectMany(e => UplinkJournal.Decode(e.Payload.ToArray())).Select(m => m["body"] ?? m)];

    private Task ReadingAsync(string device, string metric, double value) =>
        PublishAsync($"fogline/raw/hall-a/{device}/{metric}", string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"hall-a","device":"{{device}}","metric":"{{metric}}","value":{{value}},"ts":{{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0}},"seq":1}"""));

    private Task PublishAsync(string topic, string payload) =>
        _probe.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = topic,
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes(payload) } },
        });

    private Task<DeploymentRecord> DeployAsync(Dictionary<string, string> configurations) => _nucleus.DeployFromRepositoryAsync(configurations);
}
