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
/// AnomalyDetector's NativeAOT binary (with ONNX Runtime's native library and the shipped model beside it, as its recipe
/// deploys them) on a local Nucleus: a NAB series replayed by SensorGateway raises an anomaly alert that CloudUplink
/// takes to the emulated IoT Core; candidate models in shadow mode are promoted or discarded while the active model
/// keeps scoring every reading; a model that cannot be loaded at start is ERRORED with the reason.
/// </summary>
[NonParallelizable]
[CancelAfter(240_000)]
public class AnomalyDetectorTests
{
    private const string Detector = "com.fogline.AnomalyDetector";
    private const string DecisionsTopic = "fogline/metrics/com.fogline.AnomalyDetector/models";
    private Nucleus _nucleus = null!;
    private GreengrassIpcClient _probe = null!;
    private string _root = null!;
    private string _models = null!;
    private readonly ConcurrentQueue<JsonNode> _scores = new();
    private int _sent;
    private readonly ConcurrentQueue<JsonNode> _decisions = new();
    private readonly ConcurrentQueue<JsonNode> _alerts = new();

    private static string Artifact(string file) => Path.Combine(Repository.ComponentArtifacts, Detector, "1.0.0", file);

    [SetUp]
    public async Task SetUp()
    {
        foreach (var file in new[] { "AnomalyDetector-linux-x64", "libonnxruntime-linux-x64.so", "knn-novelty-v1.onnx" })
        {
            Assert.That(File.Exists(Artifact(file)), Is.True, $"{Artifact(file)} is missing: dotnet cake --target=Components");
        }

        // NUnit runs every test of the fixture on one instance.
        _scores.Clear();
        _decisions.Clear();
        _alerts.Clear();
        _sent = 0;
        _root = Path.Combine(Path.GetTempPath(), "fogline-anomaly-" + Guid.NewGuid().ToString("N")[..8]);
        _models = Path.Combine(_root, "models");
        Directory.CreateDirectory(_models);
        File.Copy(Artifact("knn-novelty-v1.onnx"), Path.Combine(_models, "knn-novelty-v1.onnx"));
        foreach (var file in Directory.GetFiles(Path.Combine(Repository.Root, "tests", "Fogline.Anomaly.Tests", "Models"), "*.onnx"))
        {
            File.Copy(file, Path.Combine(_models, Path.GetFileName(file)));
        }

        var shipped = File.ReadAllBytes(Artifact("knn-novelty-v1.onnx"));
        File.WriteAllBytes(Path.Combine(_models, "corrupt.onnx"), shipped.AsSpan(0, shipped.Length / 2).ToArray());
        _nucleus = await Nucleus.StartAsync(new NucleusOptions
        {
            RootPath = _root,
            ThingName = "gw-1",
            Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) },
        });
        var probe = _nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        _probe = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = _nucleus.SocketPath, AuthToken = probe.Token });
        await SubscribeAsync("fogline/anomaly/#", _scores);
        await SubscribeAsync(DecisionsTopic, _decisions);
        await SubscribeAsync("fogline/alerts/#", _alerts);
    }

    [TearDown]
    public async Task TearDown()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            TestContext.Out.WriteLine($"{_scores.Count} scores, {_alerts.Count} alerts locally, {_decisions.Count} decisions; last score: {_scores.LastOrDefault()?.ToJsonString()}");
            foreach (var log in Directory.Exists(Path.Combine(_root, "logs")) ? Directory.GetFiles(Path.Combine(_root, "logs")) : [])
            {
                TestContext.Out.WriteLine($"--- {Path.GetFileName(log)}");
                foreach (var line in File.ReadLines(log).TakeLast(15))
                {
                    TestContext.Out.WriteLine(line.Length > 400 ? line[..400] : line);
                }
            }
        }

        await _probe.DisposeAsync();
        await _nucleus.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task ANabSeriesReplayedBySensorGateway_RaisesAnAnomalyAlert_ThatCloudUplinkTakesToIoTCore()
    {
        // art_daily_jumpsup: five-minute readings whose daily pattern never goes above 88 until it jumps to about 120 at
        // reading 2988 for 108 readings. Its readings 1500 to 3199 are replayed at one every 10 ms (the replay samples
        // the series by wall-clock time, so a late poll skips rows); the detector learns from the first 600 (two days).
        // Alerts clear as soon as a score is back under the threshold and nothing is held back, so that an earlier
        // alert cannot hide the jump's.
        var series = Path.Combine(_root, "jumpsup-1500-3199.csv");
        var rows = File.ReadAllLines(Path.Combine(Repository.Shared, "data", "nab", "art_daily_jumpsup.csv"));
        File.WriteAllLines(series, rows.Take(1).Concat(rows.Skip(1 + 1500).Take(1700)));
        var deployed = await DeployAsync(new Dictionary<string, string>
        {
            ["com.fogline.SensorGateway"] = $$$"""{"RESET": ["/devices"], "MERGE": {"devices": [{"zone": "plant", "device": "press-7", "source": "csv", "file": {{{JsonSerializer.Serialize(series)}}}, "metric": "load", "speed": 30000, "intervalMs": 10}]}}""",
            [Detector] = """{"MERGE": {"warmUpReadings": 600, "quietReadings": 0, "publishScores": true, "alert": {"threshold": 0.901, "hysteresis": 0, "cooldownSeconds": 0}}}""",
            ["com.fogline.CloudUplink"] = """{"MERGE": {"normalBatchSeconds": 0.5}}""",
        });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);

        JsonNode? inCloud = null;
        await Eventually.UntilAsync(() =>
        {
            inCloud = CloudBodies("fogline/gw-1/alerts").FirstOrDefault(b => b["rule"]?.GetValue<string>() == "anomaly"
                && b["severity"]!.GetValue<string>() == "critical" && b["reading"]!["value"]!.GetValue<double>() > 100);
            return inCloud is not null;
        }, "an anomaly alert on the jump in IoT Core", TimeSpan.FromSeconds(90));
        Assert.That(inCloud!["device"]!.GetValue<string>(), Is.EqualTo("press-7"));
        Assert.That(inCloud["anomaly"]!["model"]!.GetValue<string>(), Is.EqualTo("knn-novelty-v1"));
        Assert.That(inCloud["anomaly"]!["score"]!.GetValue<double>(), Is.GreaterThanOrEqualTo(0.901));
        Assert.That(_scores, Is.Not.Empty, "scores were published locally");
        TestContext.Out.WriteLine($"scores published: {_scores.Count}; alerts: {string.Join(", ", _alerts.Select(a => $"{a["severity"]} at {a["reading"]!["value"]}"))}");
    }

    [Test]
    public async Task ShadowMode_PromotesABetterCandidate_DiscardsNoisyThrowingAndCorruptOnes_TheActiveModelScoresEveryReading()
    {
        // The active model at first: a weaker one (one time scale of 8 readings).
        var deployed = await DeployAsync(new Dictionary<string, string>
        {
            [Detector] = Config("""{"model": "single-scale-8.onnx", "warmUpReadings": 100}"""),
        });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        await SendAsync(400);
        await WaitForScoresAsync(_sent - 100);

        // A better candidate (the shipped model): compared on the next 400 readings, then promoted.
        await UpdateAsync("""{"candidate": {"model": "knn-novelty-v1.onnx", "readings": 400, "criteria": {"minCorrelation": 0.2, "minAgreement": 0.95, "alertRateSlack": 0.01}}}""");
        await SendAsync(1200);
        var promoted = await WaitForDecisionAsync("knn-novelty-v1");
        Assert.That(promoted["decision"]!.GetValue<string>(), Is.EqualTo("promoted"), promoted.ToJsonString());
        Assert.That(promoted["figures"]!["readings"]!.GetValue<long>(), Is.EqualTo(400));
        Assert.That(promoted["active"]!.GetValue<string>(), Is.EqualTo("knn-novelty-v1"));
        Assert.That(promoted["previousActive"]!.GetValue<string>(), Is.EqualTo("single-scale-8"));
        await SendAsync(1300);
        await WaitForScoresAsync(_sent - 100);
        Assert.That(_scores.Last()["model"]!.GetValue<string>(), Is.EqualTo("knn-novelty-v1"), "scores come from the promoted model");

        // A noisy candidate: alerts far more often, discarded.
        await UpdateAsync("""{"candidate": {"model": "noisy.onnx", "readings": 300}}""");
        await SendAsync(1700);
        var noisy = await WaitForDecisionAsync("noisy");
        Assert.That(noisy["decision"]!.GetValue<string>(), Is.EqualTo("discarded"));
        Assert.That(noisy["reasons"]!.AsArray().Select(r => r!.GetValue<string>()), Has.Some.Contains("alert rate"));

        // A candidate that throws on a value far above the range: discarded at its first error.
        await UpdateAsync("""{"candidate": {"model": "fails-on-high-values.onnx", "readings": 100000}}""");
        await SendAsync(1750);
        await PublishReadingAsync(_sent++, 500);
        var failing = await WaitForDecisionAsync("fails-on-high-values");
        Assert.That(failing["decision"]!.GetValue<string>(), Is.EqualTo("discarded"));
        Assert.That(failing["summary"]!.GetValue<string>(), Does.Contain("inference error"));

        // A corrupt file: discarded at load, reported with the reason.
        await UpdateAsync("""{"candidate": {"model": "corrupt.onnx"}}""");
        await SendAsync(1800);
        var corrupt = await WaitForDecisionAsync("corrupt");
        Assert.That(corrupt["decision"]!.GetValue<string>(), Is.EqualTo("discarded"));
        Assert.That(corrupt["summary"]!.GetValue<string>(), Does.StartWith("failed to load"));

        // Report mode: the figures and the verdict are reported, the candidate stops, the active model stays.
        File.Copy(Path.Combine(_models, "single-scale-8.onnx"), Path.Combine(_models, "single-scale-8-again.onnx"));
        await UpdateAsync("""{"candidate": {"model": "single-scale-8-again.onnx", "readings": 200, "mode": "report"}}""");
        await SendAsync(2100);
        var reported = await WaitForDecisionAsync("single-scale-8");
        Assert.That(reported["decision"]!.GetValue<string>(), Is.EqualTo("reported"));
        Assert.That(reported["mode"]!.GetValue<string>(), Is.EqualTo("report"));
        Assert.That(reported["verdict"]!.GetValue<string>(), Is.AnyOf("pass", "fail"));
        Assert.That(reported["active"]!.GetValue<string>(), Is.EqualTo("knn-novelty-v1"));

        // The active model scored every reading after its warm-up, in order, through all of it.
        await WaitForScoresAsync(_sent - 100);
        var timestamps = _scores.Select(s => s["ts"]!.GetValue<double>()).ToList();
        Assert.That(timestamps, Is.Ordered.Ascending);
        Assert.That(timestamps, Is.EqualTo(Enumerable.Range(100, _sent - 100).Select(Time)), "one score per reading, none missing");

        // Decisions reach IoT Core on the device's topic, and are kept across a restart: the promoted model stays active.
        var cloud = CloudBodies("fogline/gw-1/anomaly/models").Select(b => b["decision"]!.GetValue<string>() + ":" + b["candidate"]!.GetValue<string>()).ToList();
        Assert.That(cloud, Is.SupersetOf(new[] { "promoted:knn-novelty-v1", "discarded:noisy", "discarded:fails-on-high-values", "discarded:corrupt" }));
        Assert.That(File.ReadAllText(Path.Combine(_nucleus.WorkPath(Detector), "model-decisions.json")), Does.Contain("\"promoted\""));

        // Killed, restarted by the Nucleus: the promoted model is still the active one (the configuration's model is
        // still the one it replaced, and the candidate it names now is another).
        var pid = _nucleus.Supervisor.ProcessIds(Detector).Single();
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        await Eventually.UntilAsync(() => _nucleus.Supervisor.ProcessIds(Detector) is [var again] && again != pid && _nucleus.Components.TryGet(Detector, out var r) && r.State == LifecycleState.Running, "restarted", TimeSpan.FromSeconds(60));
        await Eventually.UntilAsync(() => _nucleus.PubSub.GetSubscribers().Any(x => x.Component == Detector), "subscribed again");
        _scores.Clear();
        await SendAsync(_sent + 150);
        await Eventually.UntilAsync(() => !_scores.IsEmpty, "scores after the restart");
        Assert.That(_scores.Select(x => x["model"]!.GetValue<string>()).Distinct(), Is.EqualTo(new[] { "knn-novelty-v1" }));
    }

    [Test]
    public async Task ACorruptActiveModel_IsErroredWithTheReason()
    {
        var deployed = await DeployAsync(new Dictionary<string, string> { [Detector] = Config("""{"model": "corrupt.onnx"}""") }, expectFailure: true);
        Assert.That(deployed.Status, Is.Not.EqualTo(DeploymentStatus.Succeeded));
        await Eventually.UntilAsync(() => File.Exists(LogPath) && File.ReadAllText(LogPath).Contains("corrupt.onnx", StringComparison.Ordinal), "the reason in the log");
        Assert.That(File.ReadAllText(LogPath), Does.Contain("is not a model ONNX Runtime can load"));
    }

    [TestCase("""{"alert": {"threshold": 1.5}}""", "/alert/threshold")]
    [TestCase("""{"alert": {"threshold": 0.9, "warning": 0.95}}""", "/alert")]
    [TestCase("""{"candidate": {"model": "knn-novelty-v1.onnx"}}""", "/candidate/model")]
    [TestCase("""{"candidate": {"model": "x.onnx", "mode": "sometimes"}}""", "/candidate/mode")]
    [TestCase("""{"candidate": {"model": "x.onnx", "criteria": {"maxAlertRateRatio": 0.5}}}""", "/candidate/criteria/maxAlertRateRatio")]
    [TestCase("""{"metrics": ["temp/x"]}""", "/metrics/0")]
    [TestCase("""{"maxSeries": 0}""", "/maxSeries")]
    [TestCase("""{"decisionTopic": "fogline/#"}""", "/decisionTopic")]
    public void ABadConfiguration_IsAnErrorNamingItsPath(string json, string path)
    {
        var component = new Fogline.AnomalyDetector.AnomalyDetectorComponent();
        var error = Assert.Throws<Fogline.ComponentKit.Configuration.ConfigurationException>(() => component.ParseOptions(new Fogline.ComponentKit.Configuration.ConfigNode(JsonDocument.Parse(json).RootElement)));
        Assert.That(error!.Message, Does.StartWith("configuration " + path + ":"));
    }

    private string LogPath => Path.Combine(_root, "logs", Detector + ".log");

    private string Config(string json)
    {
        var node = JsonNode.Parse(json)!.AsObject();
        node["modelDirectory"] = _models;
        node["publishScores"] = true;
        return new JsonObject { ["MERGE"] = node }.ToJsonString();
    }

    private static double Time(int i) => 1_700_000_000 + (i * 60.0);

    private Task PublishReadingAsync(int i, double value) => _probe.PublishToTopicAsync(new PublishToTopicRequest
    {
        Topic = "fogline/raw/z/pump/pressure",
        PublishMessage = new PublishMessage
        {
            BinaryMessage = new BinaryMessage
            {
                Message = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"z","device":"pump","metric":"pressure","value":{{value}},"ts":{{Time(i)}},"seq":{{i}}}""")),
            },
        },
    });

    /// <summary>A noisy daily-ish cycle (period 60 readings), one reading a minute of the sensor's clock.</summary>
    private async Task SendAsync(int until)
    {
        var random = new Random(_sent);
        var tasks = new List<Task>();
        for (; _sent < until; _sent++)
        {
            tasks.Add(PublishReadingAsync(_sent, 5 + (2 * Math.Sin(_sent * 2 * Math.PI / 60)) + (0.2 * random.NextDouble())));
            if (tasks.Count == 50)
            {
                await Task.WhenAll(tasks);
                tasks.Clear();
            }
        }

        await Task.WhenAll(tasks);
    }

    private Task WaitForScoresAsync(int count) => Eventually.UntilAsync(() => _scores.Count >= count, $"{count} scores (have {_scores.Count})", TimeSpan.FromSeconds(60));

    private async Task<JsonNode> WaitForDecisionAsync(string candidate)
    {
        JsonNode? found = null;
        await Eventually.UntilAsync(() => (found = _decisions.FirstOrDefault(d => d["candidate"]!.GetValue<string>() == candidate)) is not null, $"a decision about {candidate}", TimeSpan.FromSeconds(60));
        return found!;
    }

    private async Task UpdateAsync(string configuration)
    {
        var deployed = await DeployAsync(new Dictionary<string, string> { [Detector] = Config(configuration) });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
    }

    private async Task SubscribeAsync(string topic, ConcurrentQueue<JsonNode> into) =>
        await _probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = topic }, m => into.Enqueue(JsonNode.Parse(m.BinaryMessage!.Message!.Value.Span)!));

    private Task<DeploymentRecord> DeployAsync(Dictionary<string, string> configurations, bool expectFailure = false) =>
        _nucleus.DeployFromRepositoryAsync(configurations, expectFailure);

    private List<JsonNode> CloudBodies(string topic) =>
        [.. _nucleus.IoTCore.ReadJournal().Where(e => e.Topic == topic).SelectMany(e => UplinkJournal.Decode(e.Payload.ToArray())).Select(m => m["body"] ?? m)];
}
