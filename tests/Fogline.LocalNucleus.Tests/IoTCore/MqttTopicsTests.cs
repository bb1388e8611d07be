using Fogline.LocalNucleus.IoTCore;

namespace Fogline.LocalNucleus.Tests.IoTCore;

public class MqttTopicsTests
{
    [TestCase("a/b", "a/b", true)]
    [TestCase("a/+", "a/b", true)]
    [TestCase("a/+", "a/b/c", false)]
    [TestCase("a/#", "a/b/c", true)]
    [TestCase("a/#", "a", false)]
    [TestCase("#", "a/b", true)]
    [TestCase("#", "$aws/things/x", true)]
    [TestCase("a/b/", "a/b", true)]
    [TestCase("a/+/c", "a/b/d", false)]
    [TestCase("a/#", "a/+", true)]
    [TestCase("a/b", "a/#", false)]
    public void NucleusCovers_IsTheNucleussMqttTopicMatching(string filter, string topic, bool expected) =>
        Assert.That(MqttTopics.NucleusCovers(filter, topic), Is.EqualTo(expected));

    [TestCase("a/b", "a/b", true)]
    [TestCase("a/+", "a/b", true)]
    [TestCase("a/+", "a/b/c", false)]
    [TestCase("a/+", "a/", true)]
    [TestCase("a/#", "a", true)]
    [TestCase("a/#", "a/b/c", true)]
    [TestCase("#", "$aws/things/x", false)]
    [TestCase("+/things/x", "$aws/things/x", false)]
    [TestCase("$aws/things/+", "$aws/things/x", true)]
    [TestCase("$share/g/a/+", "a/b", true)]
    [TestCase("a/b", "a/b/", false)]
    public void BrokerMatches_IsMqttMatching(string filter, string topic, bool expected) =>
        Assert.That(MqttTopics.BrokerMatches(filter, topic), Is.EqualTo(expected));

    [TestCase("a/b/c/d/e/f/g/h", false, null)]
    [TestCase("a/b/c/d/e/f/g/h/i", false, "The request topic must have no more than 7 forward slashes (/)")]
    [TestCase("a/+", false, "Publish topics must not contain wildcard characters of '#' or '+'")]
    [TestCase("a/+", true, null)]
    [TestCase("", true, "Topic must not be empty")]
    [TestCase("\u00a0", false, "Topic must not be empty")]
    [TestCase("$aws/rules/r/", false, null)]
    [TestCase("$aws/rules/r/a/b/c/d/e/f/g/h", false, null)]
    [TestCase("$aws/rules/r/a/b/c/d/e/f/g/h/i", false, "The request topic must have no more than 7 forward slashes (/)")]
    [TestCase("$share/g/a/b/c/d/e/f/g/h", true, null)]
    [TestCase("$share/g/a/b/c/d/e/f/g/h", false, "The request topic must have no more than 7 forward slashes (/)")]
    [TestCase("$aws/things/t/shadow/name/n/update/accepted/x/y", false, null)]
    public void Validate_IsTheNucleussIotCoreTopicValidator(string topic, bool subscribe, string? error)
    {
        if (error is null)
        {
            Assert.That(() => MqttTopics.Validate(topic, subscribe), Throws.Nothing);
        }
        else
        {
            Assert.That(() => MqttTopics.Validate(topic, subscribe), Throws.TypeOf<MqttRequestException>().With.Message.EqualTo(error));
        }
    }

    [Test]
    public void Validate_ReservedTopics_AreLimitedTo512CharactersWithMqtt5_AndValidatedAsTopicsWithMqtt3()
    {
        var reserved = "$aws/things/t/" + new string('x', 300);
        Assert.That(() => MqttTopics.Validate(reserved, false, "mqtt5"), Throws.Nothing);
        Assert.That(() => MqttTopics.Validate(reserved, false, "mqtt3"), Throws.TypeOf<MqttRequestException>());
        Assert.That(() => MqttTopics.Validate("$aws/things/" + new string('x', 501), false, "mqtt5"), Throws.TypeOf<MqttRequestException>()
            .With.Message.EqualTo("Reserved topic total length is greater than 512 bytes of UTF-8 encoded characters and is most likely over the IoT Core limit of 256 bytes (excluding prefixes)."));
        Assert.That(() => MqttTopics.Validate("$share/g/" + new string('x', 257), true), Throws.TypeOf<MqttRequestException>()
            .With.Message.EndsWith("or first 2 mandatory segments for MQTT Shared Subscriptions ($share/share-name/)"));
    }
}
