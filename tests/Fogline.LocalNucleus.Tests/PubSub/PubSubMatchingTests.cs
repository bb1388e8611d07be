using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.PubSub;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.PubSub;

/// <summary>
/// Topic matching as the Nucleus's SubscriptionTrie does it (the cases of its SubscriptionTrieTest, and what follows from
/// its Java String.split), receive-mode defaults, and the Java number formatting JSON messages go through.
/// </summary>
[CancelAfter(30_000)]
public class PubSubMatchingTests
{
    private TestNucleus _nucleus = null!;

    private LocalPubSub PubSub => _nucleus.Nucleus.PubSub;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [TestCase("foo", "foo")]
    [TestCase("foo/bar", "foo/bar")]
    [TestCase("#", "foo")]
    [TestCase("#", "foo/bar")]
    [TestCase("#", "foo/bar/baz")]
    [TestCase("#", "$foo/bar")]
    [TestCase("foo/#", "foo/bar")]
    [TestCase("foo/#", "foo/bar/baz")]
    [TestCase("+", "foo")]
    [TestCase("+", "foo/")]
    [TestCase("+", "$foo")]
    [TestCase("foo/+/baz", "foo/bar/baz")]
    [TestCase("foo/+/baz/#", "foo//baz/bar")]
    [TestCase("foo/+/baz/#", "foo/bar/baz/bat")]
    [TestCase("foo/", "foo")]
    [TestCase("foo", "foo/")]
    [TestCase("foo/#/baz", "foo/x/baz")]
    [TestCase("+/+", "/foo")]
    [TestCase("sensors/+/temperature", "sensors/kitchen/temperature")]
    public void FilterMatchesTopic(string filter, string topic) => Assert.That(Matches(filter, topic), Is.True);

    [TestCase("foo", "fo")]
    [TestCase("foo", "foo/bar")]
    [TestCase("foo", "abc")]
    [TestCase("foo/bar", "foo")]
    [TestCase("foo/bar", "foo/bar/baz")]
    [TestCase("foo/bar", "fo/bar")]
    [TestCase("foo/#", "foo")]
    [TestCase("foo/#", "foo/")]
    [TestCase("+", "/foo")]
    [TestCase("+", "foo/bar")]
    [TestCase("foo/+/baz", "foo")]
    [TestCase("foo/+/baz", "foo/baz")]
    [TestCase("foo/+/baz", "foo/bar/bat/baz")]
    [TestCase("foo/#/baz", "foo/x/y/baz")]
    [TestCase("a/+", "a/")]
    [TestCase("Foo", "foo")]
    [TestCase("/", "foo")]
    [TestCase("/", "")]
    public void FilterDoesNotMatchTopic(string filter, string topic) => Assert.That(Matches(filter, topic), Is.False);

    [Test]
    public async Task EachMatchingSubscriberGetsTheMessageOnce_WithThePublishedTopic()
    {
        var received = new List<(string Filter, string Topic, string Payload)>();
        var filters = new[] { "#", "home/#", "home/+/light", "home/kitchen/light", "home/+/+", "other" };
        var subscriptions = filters.Select(f => PubSub.Subscribe(f, (topic, payload) =>
        {
            lock (received)
            {
                received.Add((f, topic, System.Text.Encoding.UTF8.GetString(payload.Span)));
            }
        })).ToList();

        PubSub.Publish("home/kitchen/light", "on"u8.ToArray());

        await Eventually.UntilAsync(() => { lock (received) { return received.Count >= 5; } }, "five deliveries");
        Assert.That(subscriptions.Select(s => s.MatchedMessages), Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 0 }));
        lock (received)
        {
            Assert.That(received.Select(r => r.Filter), Is.EquivalentTo(filters[..5]));
            Assert.That(received.Select(r => (r.Topic, r.Payload)).Distinct(), Is.EqualTo(new[] { ("home/kitchen/light", "on") }));
        }
    }

    [Test]
    public void TopicCountAndTrieFollowSubscriptions_FiltersTheNucleusSplitsAlikeShareATopic()
    {
        var a = PubSub.Subscribe("a/b", (_, _) => { });
        var b = PubSub.Subscribe("a/b/", (_, _) => { });
        var c = PubSub.Subscribe("a/+/c", (_, _) => { });
        Assert.That((PubSub.SubscriberCount, PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((3, 2, 4)));

        a.Dispose();
        Assert.That((PubSub.SubscriberCount, PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((2, 2, 4)));
        c.Dispose();
        Assert.That((PubSub.SubscriberCount, PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((1, 1, 2)), "a/+/c pruned back to a/b");
        b.Dispose();
        b.Dispose();
        Assert.That((PubSub.SubscriberCount, PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((0, 0, 0)));
    }

    [TestCase("+", true)]
    [TestCase("#", true)]
    [TestCase("/+/", true)]
    [TestCase("/#", true)]
    [TestCase("foo/+", true)]
    [TestCase("foo/ba+/#", true)]
    [TestCase("foo/+/bar/#", true)]
    [TestCase("$aws/things/+/shadow/#", true)]
    [TestCase("#/", true)]
    [TestCase("/", false)]
    [TestCase("foo", false)]
    [TestCase("#/foo", false)]
    [TestCase("foo/+bar", false)]
    [TestCase("foo/+#", false)]
    public void DefaultReceiveMode_IsFromOthersForWildcardFilters(string filter, bool wildcard)
    {
        using var subscription = PubSub.Subscribe(filter, (_, _) => { }, "com.example.A");
        Assert.That(subscription.ReceiveMode, Is.EqualTo(wildcard ? ReceiveMode.ReceiveMessagesFromOthers : ReceiveMode.ReceiveAllMessages));
    }

    [Test]
    public void ReceiveMode_FromOthersLeavesOutOnlyTheSubscribersOwnComponent()
    {
        using var wildcardDefault = PubSub.Subscribe("t/+", (_, _) => { }, "A");
        using var wildcardAll = PubSub.Subscribe("t/+", (_, _) => { }, "A", ReceiveMode.ReceiveAllMessages);
        using var exactDefault = PubSub.Subscribe("t/x", (_, _) => { }, "A");
        using var exactFromOthers = PubSub.Subscribe("t/x", (_, _) => { }, "A", ReceiveMode.ReceiveMessagesFromOthers);
        using var unknownMode = PubSub.Subscribe("t/x", (_, _) => { }, "A", new ReceiveMode("RECEIVE_NOTHING"));

        PubSub.Publish("t/x", "1"u8.ToArray(), source: "A");
        Assert.That(
            new[] { wildcardDefault, wildcardAll, exactDefault, exactFromOthers, unknownMode }.Select(s => s.MatchedMessages),
            Is.EqualTo(new long[] { 0, 1, 1, 0, 1 }));
        Assert.That(unknownMode.ReceiveMode, Is.EqualTo(ReceiveMode.ReceiveAllMessages), "an unknown mode reads as none");

        PubSub.Publish("t/x", "2"u8.ToArray(), source: "B");
        PubSub.Publish("t/x", "3"u8.ToArray());
        Assert.That(
            new[] { wildcardDefault, wildcardAll, exactDefault, exactFromOthers }.Select(s => s.MatchedMessages),
            Is.EqualTo(new long[] { 2, 3, 3, 2 }));
    }

    [Test]
    public void InProcessValidation_HasTheNucleusMessages()
    {
        Assert.That(Assert.Throws<InvalidArgumentsException>(() => PubSub.Publish("a/+", "x"u8.ToArray()))!.ServiceMessage, Is.EqualTo("Publish topic must not contain a wildcard."));
        Assert.That(Assert.Throws<InvalidArgumentsException>(() => PubSub.Publish("a/*/b", "x"u8.ToArray()))!.ServiceMessage, Is.EqualTo("Publish topic must not contain a wildcard."));
        Assert.That(Assert.Throws<InvalidArgumentsException>(() => PubSub.Subscribe(string.Empty, (_, _) => { }))!.ServiceMessage, Is.EqualTo("Subscribe topic must not be empty"));
        Assert.That(Assert.Throws<IndexOutOfRangeException>(() => PubSub.Publish("/", "x"u8.ToArray()))!.Message, Is.EqualTo("Index 0 out of bounds for length 0"));
        Assert.Throws<ArgumentException>(() => PubSub.PublishJson("a", new System.Text.Json.Nodes.JsonArray(1, 2)));
        Assert.That(PubSub.PublishedMessages, Is.Zero);
    }

    [Test]
    public async Task InProcessJson_ArrivesAsTheNucleusWritesIt()
    {
        var payloads = new List<string>();
        using var subscription = PubSub.Subscribe("j", (_, payload) => { lock (payloads) { payloads.Add(System.Text.Encoding.UTF8.GetString(payload.Span)); } });

        PubSub.PublishJson("j", System.Text.Json.Nodes.JsonNode.Parse("""{"n":1,"a":[2,{"b":null}],"s":"x","t":true}""")!);

        await Eventually.UntilAsync(() => { lock (payloads) { return payloads.Count == 1; } }, "the JSON message");
        Assert.That(payloads[0], Is.EqualTo("""{"n":1.0,"a":[2.0,{"b":null}],"s":"x","t":true}"""));
    }

    [TestCase("a/b/", new[] { "a", "b" })]
    [TestCase("/", new string[0])]
    [TestCase("//", new string[0])]
    [TestCase("", new[] { "" })]
    [TestCase("/a", new[] { "", "a" })]
    [TestCase("a//b", new[] { "a", "", "b" })]
    [TestCase("abc", new[] { "abc" })]
    public void TopicsSplitAsJavaSplits(string topic, string[] levels) => Assert.That(SubscriptionTrie.Split(topic), Is.EqualTo(levels));

    [TestCase(1.0, "1.0")]
    [TestCase(0.1, "0.1")]
    [TestCase(100.0, "100.0")]
    [TestCase(-2.5, "-2.5")]
    [TestCase(0.001, "0.001")]
    [TestCase(0.0001, "1.0E-4")]
    [TestCase(9999999.0, "9999999.0")]
    [TestCase(1e7, "1.0E7")]
    [TestCase(12345678.0, "1.2345678E7")]
    [TestCase(123456.789, "123456.789")]
    [TestCase(1e21, "1.0E21")]
    [TestCase(2e23, "2.0E23")]
    [TestCase(9007199254740993.0, "9.007199254740992E15")]
    [TestCase(double.MaxValue, "1.7976931348623157E308")]
    [TestCase(double.Epsilon, "4.9E-324")]
    [TestCase(-0.0, "-0.0")]
    [TestCase(0.0, "0.0")]
    public void NumbersAreWrittenAsJavaDoubleToString(double value, string expected) =>
        Assert.That(Fogline.Greengrass.Recipes.JavaNumbers.DoubleToString(value), Is.EqualTo(expected));

    [Test]
    public void JsonMessages_AreReadAsAJavaMapAndWrittenBack()
    {
        static string Normalize(string json, out bool infinity)
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            return System.Text.Encoding.UTF8.GetString(PubSubJson.Normalize(document.RootElement, out infinity));
        }

        Assert.That(Normalize("""{"a":1,"b":{"c":2,"c":3,"d":4},"e":null,"e":5}""", out var infinity), Is.EqualTo("""{"a":1.0,"b":{"c":3.0,"d":4.0},"e":5.0}"""));
        Assert.That(infinity, Is.False);
        Assert.That(Normalize("""{"big":1e400}""", out infinity), Is.EqualTo("""{"big":"Infinity"}"""));
        Assert.That(infinity, Is.True);
        Assert.Throws<PubSubFormatException>(() => Normalize("""{"a":1,"a":2}""", out _), "a repeated top-level key");
        Assert.Throws<PubSubFormatException>(() => Normalize("[1]", out _), "not an object");
        Assert.Throws<PubSubFormatException>(() => Normalize("\"text\"", out _), "not an object");
    }

    private bool Matches(string filter, string topic)
    {
        using var subscription = PubSub.Subscribe(filter, (_, _) => { });
        PubSub.Publish(topic, "x"u8.ToArray());
        return subscription.MatchedMessages switch
        {
            0 => false,
            1 => true,
            var n => throw new AssertionException($"matched {n} times"),
        };
    }
}
