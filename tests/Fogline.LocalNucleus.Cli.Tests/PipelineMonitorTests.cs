using System.Text;
using Fogline.LocalNucleus.Cli.Commands;

namespace Fogline.LocalNucleus.Cli.Tests;

/// <summary>The demo's live view: the latest alerts of every kind on local pub/sub, and what it cannot read left out.</summary>
[CancelAfter(60_000)]
public class PipelineMonitorTests
{
    private CliHarness _cli = null!;

    [SetUp]
    public async Task SetUp() => _cli = await CliHarness.StartAsync();

    [TearDown]
    public async Task TearDown() => await _cli.DisposeAsync();

    [Test]
    public async Task ThresholdAndZoneAlerts_AreShown_AnythingElseOnlyCounted()
    {
        using var monitor = new PipelineMonitor(_cli.Nucleus);
        void Publish(string topic, string json) => _cli.Nucleus.PubSub.Publish(topic, Encoding.UTF8.GetBytes(json));
        Publish("fogline/alerts/hall-a/press-1/temperature", """{"v":1,"id":"1","rule":"temperature-high","zone":"hall-a","device":"press-1","metric":"temperature","severity":"critical","previous":"warning","threshold":82,"direction":"above","ts":1,"reading":{"value":83.5}}""");
        Publish("fogline/alerts/zone/hall-a/hot-and-shaking", """{"v":1,"id":"2","kind":"zone","rule":"hot-and-shaking","zone":"hall-a","severity":"critical","previous":"normal","combine":"all","ts":2,"conditions":[{"metric":"temperature","aggregate":"max","value":86.14,"devices":3},{"metric":"vibration","aggregate":"max","value":null,"devices":0}]}""");
        Publish("fogline/alerts/hall-a/press-1/temperature", "not json");
        await Eventually.UntilAsync(() => monitor.AlertCount == 3, "three alerts counted");
        var lines = monitor.Alerts();
        Assert.That(lines, Has.Count.EqualTo(2));
        Assert.That(lines[0], Does.EndWith("CRITICAL hot-and-shaking zone hall-a: max temperature 86.14 and max vibration -"));
        Assert.That(lines[1], Does.EndWith("CRITICAL temperature-high hall-a/press-1/temperature = 83.5 (threshold 82)"));
    }
}
