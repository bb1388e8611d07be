using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Configuration;

[CancelAfter(30_000)]
public class ConfigurationIpcTests
{
    private TestNucleus _nucleus = null!;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task GetConfiguration_OwnAndOtherComponent_ByKeyPath()
    {
        var a = _nucleus.Add("com.example.A", """{"threshold":{"high":30,"low":10},"name":"a"}""");
        _nucleus.Add("com.example.B", """{"peer":"x"}""");
        var client = await _nucleus.ConnectAsync(a);

        var own = await client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["threshold"] });
        var leaf = await client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["threshold", "high"] });
        var other = await client.GetConfigurationAsync(new GetConfigurationRequest { ComponentName = "com.example.B", KeyPath = [] });

        Assert.That(own.ComponentName, Is.EqualTo("com.example.A"));
        Assert.That(own.Value!.Value.GetRawText(), Is.EqualTo("""{"high":30,"low":10}"""));
        Assert.That(leaf.Value!.Value.GetRawText(), Is.EqualTo("""{"high":30}"""));
        Assert.That(other.ComponentName, Is.EqualTo("com.example.B"));
        Assert.That(other.Value!.Value.GetProperty("peer").GetString(), Is.EqualTo("x"));
    }

    [Test]
    public async Task GetConfiguration_MissingKey_IsResourceNotFound_KeyNotFound()
    {
        var a = _nucleus.Add("com.example.A", """{"x":1}""");
        var client = await _nucleus.ConnectAsync(a);

        var ex = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["nope"] }));
        var unknown = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetConfigurationAsync(new GetConfigurationRequest { ComponentName = "com.example.Nobody", KeyPath = [] }));

        Assert.That(ex!.Error.Message, Is.EqualTo("Key not found"));
        Assert.That(unknown!.Error.Message, Is.EqualTo("Key not found"));
    }

    [Test]
    public async Task UpdateConfiguration_MergesOwnConfiguration_AndSubscribersSeeTheChangedKeyPath()
    {
        var a = _nucleus.Add("com.example.A", """{"threshold":{"high":30}}""");
        var b = _nucleus.Add("com.example.B");
        var writer = await _nucleus.ConnectAsync(a);
        var watcher = await _nucleus.ConnectAsync(b);
        await using var updates = await watcher.SubscribeToConfigurationUpdateAsync(new SubscribeToConfigurationUpdateRequest { ComponentName = "com.example.A", KeyPath = ["threshold"] });

        await writer.UpdateConfigurationAsync(new UpdateConfigurationRequest
        {
            KeyPath = ["threshold"],
            Timestamp = DateTimeOffset.UtcNow.AddSeconds(5),
            ValueToMerge = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["high"] = 35 }),
        });

        await using var e = updates.GetAsyncEnumerator();
        Assert.That(await e.MoveNextAsync(), Is.True);
        Assert.That(e.Current.ConfigurationUpdateEvent!.ComponentName, Is.EqualTo("com.example.A"));
        Assert.That(e.Current.ConfigurationUpdateEvent.KeyPath, Is.EqualTo(new[] { "threshold", "high" }));
        var now = await writer.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["threshold", "high"] });
        Assert.That(now.Value!.Value.GetProperty("high").GetInt32(), Is.EqualTo(35));
    }

    [Test]
    public async Task UpdateConfiguration_OlderTimestamp_IsFailedUpdateConditionCheck()
    {
        var a = _nucleus.Add("com.example.A", """{"v":1}""");
        var client = await _nucleus.ConnectAsync(a);

        var ex = await Assert.ThrowsAsync<FailedUpdateConditionCheckException>(() => client.UpdateConfigurationAsync(new UpdateConfigurationRequest
        {
            KeyPath = [],
            Timestamp = DateTimeOffset.UtcNow.AddDays(-1),
            ValueToMerge = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["v"] = 2 }),
        }));

        Assert.That(ex!.Error.Message, Is.EqualTo("Proposed timestamp is older than the config's latest modified timestamp"));
    }

    [Test]
    public async Task UpdateConfiguration_AccessControl_IsNotAllowed()
    {
        var a = _nucleus.Add("com.example.A", """{"v":1}""");
        var client = await _nucleus.ConnectAsync(a);

        var ex = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.UpdateConfigurationAsync(new UpdateConfigurationRequest
        {
            KeyPath = ["accessControl"],
            Timestamp = DateTimeOffset.UtcNow,
            ValueToMerge = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["x"] = 1 }),
        }));

        Assert.That(ex!.Error.Message, Is.EqualTo("Config update is not allowed for following fields [accessControl]"));
    }

    [Test]
    public async Task SubscribeToConfigurationUpdate_UnknownKey_IsResourceNotFound_AndClosingReleasesTheWatch()
    {
        var a = _nucleus.Add("com.example.A", """{"v":1}""");
        var client = await _nucleus.ConnectAsync(a);

        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.SubscribeToConfigurationUpdateAsync(new SubscribeToConfigurationUpdateRequest { KeyPath = ["nope"] }));
        var before = _nucleus.Nucleus.Configuration.WatcherCount;
        var s = await client.SubscribeToConfigurationUpdateAsync(new SubscribeToConfigurationUpdateRequest { KeyPath = [] });
        Assert.That(_nucleus.Nucleus.Configuration.WatcherCount, Is.EqualTo(before + 1));
        await s.DisposeAsync();

        await Eventually.UntilAsync(() => _nucleus.Nucleus.Configuration.WatcherCount == before, "watch released");
    }

    [Test]
    public async Task ValidateConfigurationUpdates_TheComponentReportsAndTheDeploymentGetsTheReport()
    {
        var a = _nucleus.Add("com.example.A", """{"v":1}""");
        var client = await _nucleus.ConnectAsync(a);
        await using var validations = await client.SubscribeToValidateConfigurationUpdatesAsync(new SubscribeToValidateConfigurationUpdatesRequest(), evt =>
        {
            var proposed = evt.ValidateConfigurationUpdateEvent!;
            var valid = proposed.Configuration!.Value.GetProperty("v").GetInt32() < 10;
            _ = client.SendConfigurationValidityReportAsync(new SendConfigurationValidityReportRequest
            {
                ConfigurationValidityReport = new ConfigurationValidityReport
                {
                    DeploymentId = proposed.DeploymentId,
                    Status = valid ? ConfigurationValidityStatus.Accepted : ConfigurationValidityStatus.Rejected,
                    Message = valid ? null : "v must be below 10",
                },
            });
        });

        var ok = await _nucleus.Nucleus.ConfigurationValidation.RequestAsync("com.example.A", "d-1", JsonNode.Parse("""{"v":5}""")!.AsObject(), TimeSpan.FromSeconds(10));
        var bad = await _nucleus.Nucleus.ConfigurationValidation.RequestAsync("com.example.A", "d-2", JsonNode.Parse("""{"v":50}""")!.AsObject(), TimeSpan.FromSeconds(10));

        Assert.That(ok!.Status, Is.EqualTo(ConfigurationValidityStatus.Accepted));
        Assert.That(bad!.Status, Is.EqualTo(ConfigurationValidityStatus.Rejected));
        Assert.That(bad.Message, Is.EqualTo("v must be below 10"));
    }

    [Test]
    public async Task SendConfigurationValidityReport_WithoutARequest_IsInvalidArguments()
    {
        var a = _nucleus.Add("com.example.A", """{"v":1}""");
        var client = await _nucleus.ConnectAsync(a);

        var ex = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.SendConfigurationValidityReportAsync(new SendConfigurationValidityReportRequest
        {
            ConfigurationValidityReport = new ConfigurationValidityReport { DeploymentId = "nope", Status = ConfigurationValidityStatus.Accepted },
        }));

        Assert.That(ex!.Error.Message, Is.EqualTo("Validation request either timed out or was never made"));
    }
}
