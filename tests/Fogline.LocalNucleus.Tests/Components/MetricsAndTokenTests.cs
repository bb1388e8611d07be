using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Tests.Infrastructure;


namespace Fogline.LocalNucleus.Tests.Components;

[CancelAfter(30_000)]
public class MetricsAndTokenTests
{
    private const string MetricService = "aws.greengrass.ipc.componentmetric";
    private const string StreamManager = "aws.greengrass.StreamManager";

    private TestNucleus _nucleus = null!;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task PutComponentMetric_ByAnAuthorizedAwsComponent_IsRecordedWithTheTelemetryUnit()
    {
        var component = _nucleus.Add("aws.example.Reporter", TestNucleus.Policy(MetricService, "m", ["aws.greengrass#PutComponentMetric"], ["requests", "latency"]));
        var client = await _nucleus.ConnectAsync(component);

        await client.PutComponentMetricAsync(new PutComponentMetricRequest
        {
            Metrics = [new Metric { Name = "requests", Unit = MetricUnitType.Count, Value = 3 }, new Metric { Name = "latency", Unit = MetricUnitType.BytesPerSecond, Value = 0.5 }],
        });
        await client.PutComponentMetricAsync(new PutComponentMetricRequest { Metrics = [new Metric { Name = "requests", Unit = MetricUnitType.Count, Value = 4 }] });

        var recorded = _nucleus.Nucleus.Metrics.For("aws.example.Reporter");
        Assert.That(recorded.Select(m => (m.Component, m.Name, m.Unit, m.Value)), Is.EqualTo(new[]
        {
            ("aws.example.Reporter", "requests", "Count", 3d), ("aws.example.Reporter", "latency", "BytesPerSecond", 0.5), ("aws.example.Reporter", "requests", "Count", 4d),
        }));
        Assert.That(_nucleus.Nucleus.Metrics.Sum("aws.example.Reporter", "requests"), Is.EqualTo(7));
    }

    [Test]
    public async Task PutComponentMetric_FromANonAwsComponent_IsUnauthorizedEvenWithAPolicy()
    {
        var component = _nucleus.Add("com.example.Reporter", TestNucleus.Policy(MetricService, "m", ["aws.greengrass#PutComponentMetric"], ["*"]));
        var client = await _nucleus.ConnectAsync(component);

        var ex = await Assert.ThrowsAsync<UnauthorizedException>(() => client.PutComponentMetricAsync(new PutComponentMetricRequest
        {
            Metrics = [new Metric { Name = "requests", Unit = MetricUnitType.Count, Value = 1 }],
        }));

        Assert.That(ex!.Error.Message, Is.EqualTo("Principal com.example.Reporter is not authorized to perform aws.greengrass.ipc.componentmetric:aws.greengrass#PutComponentMetric "));
        Assert.That(_nucleus.Nucleus.Metrics.All, Is.Empty);
    }

    [Test]
    public async Task PutComponentMetric_NeedsAPolicyPerMetricName_ExceptForStreamManager()
    {
        var reporter = await _nucleus.ConnectAsync(_nucleus.Add("aws.example.Reporter", TestNucleus.Policy(MetricService, "m", ["aws.greengrass#PutComponentMetric"], ["requests"])));
        var streamManager = await _nucleus.ConnectAsync(_nucleus.Add(StreamManager));

        var ex = await Assert.ThrowsAsync<UnauthorizedException>(() => reporter.PutComponentMetricAsync(new PutComponentMetricRequest
        {
            Metrics = [new Metric { Name = "requests", Unit = MetricUnitType.Count, Value = 1 }, new Metric { Name = "other", Unit = MetricUnitType.Count, Value = 1 }],
        }));
        await streamManager.PutComponentMetricAsync(new PutComponentMetricRequest { Metrics = [new Metric { Name = "streams", Unit = MetricUnitType.Megabytes, Value = 2 }] });

        Assert.That(ex!.Error.Message, Is.EqualTo("Principal aws.example.Reporter is not authorized to perform aws.greengrass.ipc.componentmetric:aws.greengrass#PutComponentMetric on resource other"));
        Assert.That(_nucleus.Nucleus.Metrics.For("aws.example.Reporter"), Is.Empty, "nothing is recorded when one metric is refused");
        Assert.That(_nucleus.Nucleus.Metrics.For(StreamManager).Select(m => (m.Name, m.Unit, m.Value)), Is.EqualTo(new[] { ("streams", "Megabytes", 2d) }));
    }

    [Test]
    public async Task PutComponentMetric_Validation_IsTheNucleus()
    {
        var streamManager = _nucleus.Add(StreamManager);
        var client = await _nucleus.ConnectAsync(streamManager);

        async Task<string?> Invalid(params Metric[]? metrics) =>
            (await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.PutComponentMetricAsync(new PutComponentMetricRequest { Metrics = metrics })))!.Error.Message;

        async Task<RawReply> Raw(string json) => await RawIpc.CallAsync(_nucleus.Nucleus, streamManager, GreengrassCoreIpc.PutComponentMetric, json);

        Assert.That(await Invalid(), Is.EqualTo("Null or Empty list of metrics found in PutComponentMetricRequest"));
        Assert.That((await Raw("{}")).Message, Is.EqualTo("Null or Empty list of metrics found in PutComponentMetricRequest"));
        Assert.That(await Invalid(new Metric { Name = new string('n', 33), Unit = MetricUnitType.Count, Value = 1 }), Is.EqualTo("Invalid argument found in PutComponentMetricRequest"));
        Assert.That(await Invalid(new Metric { Name = "ok", Unit = MetricUnitType.Count, Value = -1 }), Is.EqualTo("Invalid argument found in PutComponentMetricRequest"));
        Assert.That(await Invalid(new Metric { Name = "", Unit = MetricUnitType.Count, Value = 1 }), Is.EqualTo("Invalid argument found in PutComponentMetricRequest"));
        var noUnit = await Raw("""{"metrics":[{"name":"ok","value":1}]}""");
        var noValue = await Raw("""{"metrics":[{"name":"ok","unit":"COUNT"}]}""");
        Assert.That((noUnit.ModelType, noUnit.Message), Is.EqualTo(("aws.greengrass#InvalidArgumentsError", "Invalid argument found in PutComponentMetricRequest")));
        Assert.That((noValue.ModelType, noValue.Message), Is.EqualTo(("aws.greengrass#ServiceError", (string?)null)));
        Assert.That(_nucleus.Nucleus.Metrics.All, Is.Empty);

        // 32 bytes of UTF-8 is the longest name; the unit is matched loosely, as the Nucleus does.
        await client.PutComponentMetricAsync(new PutComponentMetricRequest { Metrics = [new Metric { Name = new string('é', 16), Unit = new MetricUnitType("percent"), Value = 0 }] });
        Assert.That(_nucleus.Nucleus.Metrics.All.Single().Unit, Is.EqualTo("Percent"));

        // Metrics are emitted one by one: those before an unknown unit are recorded.
        var unit = await Invalid(new Metric { Name = "first", Unit = MetricUnitType.Seconds, Value = 1 }, new Metric { Name = "second", Unit = new MetricUnitType("FURLONGS"), Value = 1 });
        Assert.That(unit, Is.EqualTo("Invalid telemetry unit: No matching TelemetryUnit type found"));
        Assert.That(_nucleus.Nucleus.Metrics.All.Select(m => m.Name), Is.EqualTo(new[] { new string('é', 16), "first" }));
    }

    [Test]
    public async Task ValidateAuthorizationToken_ByStreamManager_ChecksTheTokenAgainstTheComponents()
    {
        var a = _nucleus.Add("com.example.A");
        var gone = _nucleus.Add("com.example.Gone");
        var goneToken = gone.Token;
        _nucleus.Nucleus.RemoveComponent("com.example.Gone");
        var streamManager = _nucleus.Add(StreamManager);
        var client = await _nucleus.ConnectAsync(streamManager);

        var valid = await client.ValidateAuthorizationTokenAsync(new ValidateAuthorizationTokenRequest { Token = a.Token });
        var unknown = await Assert.ThrowsAsync<InvalidTokenException>(() => client.ValidateAuthorizationTokenAsync(new ValidateAuthorizationTokenRequest { Token = "0123456789ABCDEF" }));
        var removed = await Assert.ThrowsAsync<InvalidTokenException>(() => client.ValidateAuthorizationTokenAsync(new ValidateAuthorizationTokenRequest { Token = goneToken }));
        var missing = await RawIpc.CallAsync(_nucleus.Nucleus, streamManager, GreengrassCoreIpc.ValidateAuthorizationToken, "{}");

        Assert.That(valid.IsValid, Is.True);
        Assert.That(unknown!.Error.Message, Is.EqualTo("Authentication token not found"));
        Assert.That(removed!.Error.Message, Is.EqualTo("Authentication token not found"));
        Assert.That((missing.ModelType, missing.Message), Is.EqualTo(("aws.greengrass#InvalidTokenError", "Invalid authentication token")));
    }

    [Test]
    public async Task ValidateAuthorizationToken_ByAnyoneElse_IsUnauthorized()
    {
        var a = _nucleus.Add("com.example.A", TestNucleus.Policy("aws.greengrass.ipc.pubsub", "p", ["*"], ["*"]));
        var client = await _nucleus.ConnectAsync(a);

        var ex = await Assert.ThrowsAsync<UnauthorizedException>(() => client.ValidateAuthorizationTokenAsync(new ValidateAuthorizationTokenRequest { Token = a.Token }));

        Assert.That(ex!.Error.Message, Is.EqualTo("com.example.A is not authorized to perform aws.greengrass#ValidateAuthorizationToken"));
    }
}
