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
/// The pipeline's real binaries (the NativeAOT builds in artifacts/components, made by `dotnet cake
/// --target=Components`, which the Test target runs first) deployed from the repository's recipes on a local
/// Nucleus; the test publishes raw readings as a sensor would and watches what comes out.
/// </summary>
[NonParallelizable]
[CancelAfter(120_000)]
public class PipelineEndToEndTests
{
    private const string Probe = "com.fogline.test.Probe";
    private Nucleus _nucleus = null!;
    private GreengrassIpcClient _probe = null!;
    private readonly ConcurrentQueue<(string Topic, JsonNode Message)> _seen = new();
    private string _root = null!;

    [SetUp]
    public async Task SetUp()
    {
        var artifacts = Path.Combine(Repository.Root, "artifacts", "components");
        foreach (var name in new[] { "EdgeFilter", "Aggregator", "AlertEngine", "SensorGateway" })
        {
            Assert.That(File.Exists(Path.Combine(artifacts, "com.fogline." + name, "1.0.0", name + "-linux-x64")), Is.True,
                $"the {name} binary is missing: build the components first (dotnet cake --target=Components)");
        }

        // NUnit runs every test on one instance of the fixture: what an earlier test saw must not count for this one.
        _seen.Clear();
        _root = Path.Combine(Path.GetTempPath(), "fogline-pipeline-" + Guid.NewGuid().ToString("N")[..8]);
        _nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root, Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) } });
        var probe = _nucleus.AddComponent(Probe, "1.0.0", JsonNode.Parse("""
            {"accessControl": {"aws.greengrass.ipc.pubsub": {"probe:1": {"operations": ["*"], "resources": ["*"]}}}}
            """)!.AsObject());
        _probe = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = _nucleus.SocketPath, AuthToken = probe.Token });
        foreach (var topic in new[] { "fogline/filtered/#", "fogline/summary/#", "fogline/alerts/#", "fogline/actuate/#", "fogline/metrics/#" })
        {
            await _probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = topic }, m =>
            {
                var bytes = m.BinaryMessage?.Message ?? ReadOnlyMemory<byte>.Empty;
                _seen.Enqueue((m.BinaryMessage?.Context?.Topic ?? topic, JsonNode.Parse(bytes.Span)!));
            });
        }
    }

    [TearDown]
    public async Task TearDown()
    {
        await _probe.DisposeAsync();
        await _nucleus.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task ReadingsIn_FilteredWindowsAndAlertsOut_RulesChangeLive_MalformedPayloadsAreSkipped()
    {
        var deployed = await DeployAsync(new Dictionary<string, string>
        {
            ["com.fogline.EdgeFilter"] = """{"MERGE": {"mode": "swingingDoor", "deviation": 0.5, "maxSilenceSeconds": 0}}""",
            ["com.fogline.Aggregator"] = """{"MERGE": {"windowSeconds": 1}}""",
            ["com.fogline.AlertEngine"] = """{"RESET": ["/rules"], "MERGE": {"rules": [{"name": "hot", "metric": "temperature", "direction": "above", "warning": 70, "critical": 80, "hysteresis": 1}]}}""",
        }, "com.fogline.EdgeFilter", "com.fogline.Aggregator", "com.fogline.AlertEngine");
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);

        // A slow ramp from 60 to 85 in two straight pieces (steeper after 70) with a little noise, one reading every
        // 100 ms of the sensor's clock (the timestamps are the sensor's, not the moment the test publishes: a ramp
        // stamped with the wall clock while publishing as fast as possible is no ramp in time): the filter needs a
        // point at the start and one at the bend; the rule goes warning at 70 and critical at 80.
        var start = Math.Round(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, 3);
        var sent = 0;
        for (var i = 0; i <= 250; i++)
        {
            var value = (i <= 125 ? 60 + (i * 0.08) : 70 + ((i - 125) * 0.12)) + (i % 2 == 0 ? 0.05 : -0.05);
            await PublishRawAsync("hall-a", "press-1", "temperature", value, i, start + (i * 0.1));
            sent++;
        }

        await Eventually.UntilAsync(() => Count("fogline/alerts/") >= 2, "warning and critical alerts");
        var alerts = Messages("fogline/alerts/").ToList();
        Assert.That(alerts.Select(a => a["severity"]!.GetValue<string>()), Is.EqualTo(new[] { "warning", "critical" }));
        Assert.That(alerts[0]["reading"]!["value"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(70), "the alert carries the reading that triggered it");
        Assert.That(Count("fogline/actuate/hall-a/press-1"), Is.EqualTo(2), "an actuation per alert");

        await Eventually.UntilAsync(() => Count("fogline/summary/") >= 1, "a window summary (windows of 1 s close on the clock)");
        await Eventually.UntilAsync(() => Count("fogline/filtered/") >= 2, "filtered readings: the start of the ramp and its bend");
        var filtered = Count("fogline/filtered/");
        Assert.That(filtered, Is.EqualTo(2), $"the filter forwards the start and the bend of the {sent} readings of a ramp in two pieces (the last one is held until the series goes on), not {filtered}");

        // A malformed payload and one of an unknown schema version: counted, skipped, and the components go on.
        await _probe.PublishToTopicAsync(new PublishToTopicRequest { Topic = "fogline/raw/hall-a/press-1/temperature", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes("{not json") } } });
        await _probe.PublishToTopicAsync(new PublishToTopicRequest { Topic = "fogline/raw/hall-a/press-1/temperature", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes("""{"v":99,"zone":"hall-a","device":"press-1","metric":"temperature","value":1,"ts":1}""") } } });
        await Eventually.UntilAsync(() => Messages("fogline/metrics/com.fogline.AlertEngine").Any(m => m["counters"]!["rejected"]!.GetValue<long>() >= 2), "AlertEngine counted the two rejected payloads", TimeSpan.FromSeconds(15));

        // Live rule change through a deployment's configuration update: clear first, then a lower warning threshold.
        await PublishRawAsync("hall-a", "press-1", "temperature", 50, 300, start + 30);
        await Eventually.UntilAsync(() => Messages("fogline/alerts/").Any(a => a["severity"]!.GetValue<string>() == "normal"), "cleared");
        var changed = await DeployAsync(new Dictionary<string, string>
        {
            ["com.fogline.AlertEngine"] = """{"MERGE": {"rules": [{"name": "hot", "metric": "temperature", "direction": "above", "warning": 40, "critical": 80, "hysteresis": 1}]}}""",
        });
        Assert.That(changed.Status, Is.EqualTo(DeploymentStatus.Succeeded), changed.FailureCause);
        var pid = _nucleus.Supervisor.ProcessIds("com.fogline.AlertEngine").Single();
        await Eventually.UntilAsync(() => Messages("fogline/metrics/com.fogline.AlertEngine").Any(m => m["counters"]!["config_applied"]?.GetValue<long>() >= 1), "AlertEngine applied the new rules", TimeSpan.FromSeconds(15));
        await PublishRawAsync("hall-a", "press-1", "temperature", 50, 301, start + 31);
        await Eventually.UntilAsync(() => Messages("fogline/alerts/").Count(a => a["severity"]!.GetValue<string>() == "warning") == 2, "50 is a warning under the new rule");
        Assert.That(_nucleus.Supervisor.ProcessIds("com.fogline.AlertEngine").Single(), Is.EqualTo(pid), "applied live, without a restart");
        foreach (var name in new[] { "com.fogline.EdgeFilter", "com.fogline.Aggregator", "com.fogline.AlertEngine" })
        {
            Assert.That(_nucleus.Components.TryGet(name, out var record) ? record.State : default, Is.EqualTo(Fogline.Greengrass.Ipc.LifecycleState.Running), name);
        }
    }

    /// <summary>
    /// optimalPlr (the recipe's default mode) through the binary: the points it forwards rebuild every reading within
    /// the bound, and a series that stops is released by the clock after maxHoldSeconds, up to its last reading.
    /// </summary>
    [Test]
    public async Task OptimalPlr_PointsRebuildTheReadingsWithinTheBound_AndAQuietSeriesIsReleasedByTheClock()
    {
        var deployed = await DeployAsync(new Dictionary<string, string>
        {
            ["com.fogline.EdgeFilter"] = """{"MERGE": {"mode": "optimalPlr", "deviation": 0.5, "maxSilenceSeconds": 0, "maxHoldSeconds": 1}}""",
        }, "com.fogline.EdgeFilter");
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        await Eventually.UntilAsync(() => _nucleus.Components.TryGet("com.fogline.EdgeFilter", out var r) && r.State == Fogline.Greengrass.Ipc.LifecycleState.Running, "EdgeFilter running");

        var start = Math.Round(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, 3);
        var random = new Random(5);
        var readings = new List<Fogline.ComponentKit.Processing.SeriesPoint>();
        for (var i = 0; i < 300; i++)
        {
            var ts = Math.Round(start + (i * 0.001), 3);
            var value = Math.Round((i < 150 ? 20 + (i * 0.05) : 27.5 - ((i - 150) * 0.08)) + (random.NextDouble() * 0.6), 3);
            readings.Add(new(ts, value));
            await PublishRawAsync("hall-b", "line-1", "temperature", value, i + 1, ts);
        }

        // The last readings sit in the filter until the clock releases them (maxHoldSeconds 1, a 1 s timer).
        await Eventually.UntilAsync(() => Points().Count > 0 && Points()[^1].Time == readings[^1].Time, "the series released up to its last reading", TimeSpan.FromSeconds(10));
        var points = Points();
        Assert.That(points, Has.Count.LessThan(readings.Count / 3), "far fewer points than readings");
        Assert.That(Fogline.ComponentKit.Processing.PiecewiseLinearReconstruction.MaxError([.. readings], [.. points]), Is.LessThanOrEqualTo(0.5), "straight lines between the points stay within the bound of every reading");
        await Eventually.UntilAsync(() => Messages("fogline/metrics/com.fogline.EdgeFilter").Any(m => m["counters"]!["released_quiet"]?.GetValue<long>() >= 1), "counted as released by the clock", TimeSpan.FromSeconds(15));

        List<Fogline.ComponentKit.Processing.SeriesPoint> Points() => [.. Messages("fogline/filtered/hall-b/line-1/temperature").Select(m => new Fogline.ComponentKit.Processing.SeriesPoint(m["ts"]!.GetValue<double>(), m["value"]!.GetValue<double>())).OrderBy(p => p.Time)];
    }

    [Test]
    public async Task SensorGatewayBinary_PublishesSimulatedReadings_ThatFlowThroughTheFilter()
    {
        var deployed = await DeployAsync(new Dictionary<string, string>
        {
            ["com.fogline.SensorGateway"] = """{"RESET": ["/devices"], "MERGE": {"devices": [{"zone": "z", "device": "sim", "source": "simulator", "intervalMs": 20, "metrics": [{"name": "temperature", "profile": "steady", "base": 20, "noise": 2}]}]}}""",
        }, "com.fogline.SensorGateway", "com.fogline.EdgeFilter");
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);

        await Eventually.UntilAsync(() => Count("fogline/filtered/z/sim/temperature") >= 10, "simulated readings through the filter");
        await Eventually.UntilAsync(() => Messages("fogline/metrics/com.fogline.SensorGateway").Any(m => m["counters"]!["readings"]?.GetValue<long>() >= 50), "the gateway's counters", TimeSpan.FromSeconds(15));
    }

    [Test]
    public async Task ThePipelineBundle_DeploysItsComponentsUnderOneName()
    {
        // recipes/com.fogline.Pipeline-1.0.0.yaml (rendered from the repository's recipe.yaml): no artifacts, no
        // lifecycle, a HARD dependency on each pipeline component.
        var names = new[] { "com.fogline.SensorGateway", "com.fogline.EdgeFilter", "com.fogline.Aggregator", "com.fogline.AlertEngine", "com.fogline.AnomalyDetector", "com.fogline.ZoneCorrelator", "com.fogline.CloudUplink", "com.fogline.Dashboard" };
        Assert.That(File.Exists(Path.Combine(Repository.ComponentArtifacts, "com.fogline.CloudUplink", "1.0.0", "CloudUplink-linux-x64")), Is.True,
            "the CloudUplink binary is missing: build the components first (dotnet cake --target=Components)");
        var deployed = await DeployAsync([], "com.fogline.Pipeline");
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        foreach (var name in names)
        {
            await Eventually.UntilAsync(() => _nucleus.Components.TryGet(name, out var record) && record.State == Fogline.Greengrass.Ipc.LifecycleState.Running, name + " running");
        }

        Assert.That(_nucleus.Components.TryGet("com.fogline.Pipeline", out var bundle) ? bundle.State : default, Is.EqualTo(Fogline.Greengrass.Ipc.LifecycleState.Finished), "the bundle runs nothing");
        await Eventually.UntilAsync(() => Count("fogline/filtered/") >= 1, "the default simulated readings through the filter");
    }

    private async Task<DeploymentRecord> DeployAsync(Dictionary<string, string> configuration, params string[] roots)
    {
        var id = _nucleus.Deployments.Submit(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = Path.Combine(Repository.Root, "recipes"),
            ArtifactsDirectoryPath = Path.Combine(Repository.Root, "artifacts", "components"),
            RootComponentVersionsToAdd = roots.ToDictionary(r => r, _ => "1.0.0"),
            ComponentToConfiguration = configuration.ToDictionary(c => c.Key, c => JsonDocument.Parse(c.Value).RootElement.Clone()),
        });
        return await _nucleus.Deployments.WaitAsync(id);
    }

    private async Task PublishRawAsync(string zone, string device, string metric, double value, long seq, double ts)
    {
        var json = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"{{zone}}","device":"{{device}}","metric":"{{metric}}","value":{{value}},"unit":"C","ts":{{ts}},"seq":{{seq}}}""");
        await _probe.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = $"fogline/raw/{zone}/{device}/{metric}",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes(json) } },
        });
    }

    private int Count(string topicPrefix) => _seen.Count(s => s.Topic.StartsWith(topicPrefix, StringComparison.Ordinal));

    private IEnumerable<JsonNode> Messages(string topicPrefix) => _seen.Where(s => s.Topic.StartsWith(topicPrefix, StringComparison.Ordinal)).Select(s => s.Message);
}
