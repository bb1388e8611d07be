using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;

namespace Fogline.ComponentKit.Tests.Hosting;

/// <summary>The <c>cloudMetrics</c> configuration every hosting-kit component reads: off unless asked, its topic filled in, bad values named.</summary>
public class CloudMetricsTests
{
    private static ConfigNode Configuration(string json) => new(JsonDocument.Parse(json).RootElement.Clone());

    [Test]
    public void WithoutTheObject_NothingIsSent()
    {
        Assert.That(CloudMetrics.Read(Configuration("""{"deviation": 0.5}"""), "com.fogline.EdgeFilter", "gw-1"), Is.Null);
    }

    [Test]
    public void TheTopic_NamesTheThingAndTheComponent_AndTheIntervalDefaultsToAMinute()
    {
        Assert.That(CloudMetrics.Read(Configuration("""{"cloudMetrics": {}}"""), "com.fogline.EdgeFilter", "gw-1"),
            Is.EqualTo(new CloudMetrics(TimeSpan.FromSeconds(60), "fogline/gw-1/metrics/com.fogline.EdgeFilter")));
        Assert.That(CloudMetrics.Read(Configuration("""{"cloudMetrics": {"intervalSeconds": 5, "topic": "site/{thing}/health"}}"""), "c", "gw-2"),
            Is.EqualTo(new CloudMetrics(TimeSpan.FromSeconds(5), "site/gw-2/health")));
    }

    [Test]
    public void BadValues_AreNamedByTheirPath()
    {
        var noThing = Assert.Throws<ConfigurationException>(() => CloudMetrics.Read(Configuration("""{"cloudMetrics": {}}"""), "c", null));
        Assert.That(noThing!.Message, Does.Contain("/cloudMetrics/topic").And.Contain("AWS_IOT_THING_NAME"));
        var wildcard = Assert.Throws<ConfigurationException>(() => CloudMetrics.Read(Configuration("""{"cloudMetrics": {"topic": "fogline/#"}}"""), "c", "gw-1"));
        Assert.That(wildcard!.Message, Does.Contain("/cloudMetrics/topic").And.Contain("not a topic a device may publish to"));
        var interval = Assert.Throws<ConfigurationException>(() => CloudMetrics.Read(Configuration("""{"cloudMetrics": {"intervalSeconds": 0}}"""), "c", "gw-1"));
        Assert.That(interval!.Message, Does.Contain("/cloudMetrics/intervalSeconds"));
    }
}
