using System.Text.Json;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.PubSub;

/// <summary>PublishToTopic and SubscribeToTopic through real IPC clients, each component with its own token and policy.</summary>
[CancelAfter(60_000)]
public class PubSubIpcTests
{
    private const string PubSubService = "aws.greengrass.ipc.pubsub";
    private const string Publish = "aws.greengrass#PublishToTopic";
    private const string Subscribe = "aws.greengrass#SubscribeToTopic";

    private TestNucleus _nucleus = null!;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task JsonMessage_RoundTrips_AsTheNucleusPassesJsonOn()
    {
        var (publisher, subscriber) = await TwoComponentsAsync("sensors/kitchen/temperature", "sensors/+/temperature");
        await using var stream = await subscriber.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "sensors/+/temperature" });

        using var document = JsonDocument.Parse("""{"celsius":21.5,"reading":1,"big":12345678,"tiny":0.0001,"text":"héllo <&>","list":[1,true,null],"nested":{"k":"v","n":-0.5}}""");
        await publisher.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "sensors/kitchen/temperature",
            PublishMessage = new PublishMessage { JsonMessage = new JsonMessage { Message = document.RootElement } },
        });

        var evt = await NextAsync(stream);
        Assert.That(evt.BinaryMessage, Is.Null);
        Assert.That(evt.JsonMessage!.Context!.Topic, Is.EqualTo("sensors/kitchen/temperature"), "the published topic, not the filter");
        var message = evt.JsonMessage.Message!.Value;
        Assert.That(
            message.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() : p.Value.GetRawText())),
            Is.EqualTo(new (string, string?)[]
            {
                ("celsius", "21.5"),
                ("reading", "1.0"),
                ("big", "1.2345678E7"),
                ("tiny", "1.0E-4"),
                ("text", "héllo <&>"),
                ("list", "[1.0,true,null]"),
                ("nested", """{"k":"v","n":-0.5}"""),
            }),
            "numbers become Java doubles; order and everything else are kept");
    }

    [Test]
    public async Task BinaryMessage_RoundTrips()
    {
        var (publisher, subscriber) = await TwoComponentsAsync("files/chunk", "files/chunk");
        await using var stream = await subscriber.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "files/chunk" });
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

        await publisher.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "files/chunk",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = bytes } },
        });
        await publisher.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "files/chunk",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = ReadOnlyMemory<byte>.Empty } },
        });

        var first = await NextAsync(stream);
        var second = await NextAsync(stream);
        Assert.That(first.JsonMessage, Is.Null);
        Assert.That(first.BinaryMessage!.Message!.Value.ToArray(), Is.EqualTo(bytes));
        Assert.That(first.BinaryMessage.Context!.Topic, Is.EqualTo("files/chunk"));
        Assert.That(second.BinaryMessage!.Message!.Value.Length, Is.Zero);
    }

    [Test]
    public async Task HostAndComponents_ShareTopics()
    {
        var (publisher, subscriber) = await TwoComponentsAsync("host/in", "host/out");
        await using var stream = await subscriber.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "host/out" });
        var fromComponent = new TaskCompletionSource<(string Topic, byte[] Payload)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var hostSubscription = _nucleus.Nucleus.PubSub.Subscribe("host/in", (topic, payload) => fromComponent.TrySetResult((topic, payload.ToArray())));

        _nucleus.Nucleus.PubSub.Publish("host/out", "from host"u8.ToArray());
        await publisher.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "host/in",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = "from component"u8.ToArray() } },
        });

        Assert.That((await NextAsync(stream)).BinaryMessage!.Message!.Value.ToArray(), Is.EqualTo("from host"u8.ToArray()));
        var (topic, payload) = await fromComponent.Task;
        Assert.That((topic, System.Text.Encoding.UTF8.GetString(payload)), Is.EqualTo(("host/in", "from component")));
    }

    [TestCase(null, "modes/exact", false, Description = "no mode, no wildcard: RECEIVE_ALL_MESSAGES")]
    [TestCase(null, "modes/+", true, Description = "no mode, wildcard: RECEIVE_MESSAGES_FROM_OTHERS")]
    [TestCase(null, "modes/#", true, Description = "no mode, wildcard: RECEIVE_MESSAGES_FROM_OTHERS")]
    [TestCase("RECEIVE_ALL_MESSAGES", "modes/+", false)]
    [TestCase("RECEIVE_MESSAGES_FROM_OTHERS", "modes/exact", true)]
    [TestCase("NOT_A_MODE", "modes/+", true, Description = "an unknown mode reads as none")]
    public async Task ReceiveMode_DecidesWhetherAComponentGetsItsOwnMessages(string? mode, string filter, bool fromOthersOnly)
    {
        var component = _nucleus.Add("com.example.Both", TestNucleus.Policy(PubSubService, "both", [Publish, Subscribe], ["modes/*"]));
        var client = await _nucleus.ConnectAsync(component);
        await using var stream = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest
        {
            Topic = filter,
            ReceiveMode = mode is null ? null : new ReceiveMode(mode),
        });

        await client.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "modes/exact",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = "own"u8.ToArray() } },
        });
        _nucleus.Nucleus.PubSub.Publish("modes/exact", "host"u8.ToArray());

        // Each subscriber gets messages in publish order: its own message, if it gets it, comes first.
        var first = await NextAsync(stream);
        Assert.That(System.Text.Encoding.UTF8.GetString(first.BinaryMessage!.Message!.Value.Span), Is.EqualTo(fromOthersOnly ? "host" : "own"));
        var subscription = _nucleus.Nucleus.PubSub.GetSubscribers().Single();
        Assert.That(subscription.ReceiveMode, Is.EqualTo(fromOthersOnly ? ReceiveMode.ReceiveMessagesFromOthers : ReceiveMode.ReceiveAllMessages));
        Assert.That(subscription.MatchedMessages, Is.EqualTo(fromOthersOnly ? 1 : 2));
    }

    [TestCase("a/+")]
    [TestCase("a/#")]
    [TestCase("#")]
    [TestCase("a/*")]
    [TestCase("a+b")]
    public async Task PublishingToAWildcardTopic_IsRejected(string topic)
    {
        var component = _nucleus.Add("com.example.Pub", TestNucleus.Policy(PubSubService, "pub", [Publish], ["*"]));
        var client = await _nucleus.ConnectAsync(component);

        var error = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = topic,
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = "x"u8.ToArray() } },
        }));
        Assert.That(error!.ServiceMessage, Is.EqualTo("Publish topic must not contain a wildcard."));
        Assert.That(_nucleus.Nucleus.PubSub.PublishedMessages, Is.Zero);
    }

    [Test]
    public async Task SubscribingToAnEmptyTopic_IsRejected_ByAuthorizationFirst()
    {
        var component = _nucleus.Add("com.example.Sub", TestNucleus.Policy(PubSubService, "sub", [Subscribe], ["*"]));
        var client = await _nucleus.ConnectAsync(component);

        // The Nucleus authorizes before it validates: an empty resource is refused there.
        var error = await Assert.ThrowsAsync<UnauthorizedException>(() => client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = string.Empty }));
        Assert.That(error!.ServiceMessage, Is.EqualTo("Resource cannot be empty"));
        Assert.That(_nucleus.Nucleus.PubSub.SubscriberCount, Is.Zero);
    }

    [Test]
    public async Task UnauthorizedPublishAndSubscribe_GetTheNucleusMessage()
    {
        var (publisher, subscriber) = await TwoComponentsAsync("allowed/topic", "allowed/topic");

        var publish = await Assert.ThrowsAsync<UnauthorizedException>(() => publisher.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "other/topic",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = "x"u8.ToArray() } },
        }));
        Assert.That(publish!.ServiceMessage, Is.EqualTo("Principal com.example.Publisher is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#PublishToTopic on resource other/topic"));

        var subscribe = await Assert.ThrowsAsync<UnauthorizedException>(() => subscriber.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "other/topic" }));
        Assert.That(subscribe!.ServiceMessage, Is.EqualTo("Principal com.example.Subscriber is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#SubscribeToTopic on resource other/topic"));

        // The publisher may not subscribe (its policy is for PublishToTopic only), even to its own topic.
        var wrongOperation = await Assert.ThrowsAsync<UnauthorizedException>(() => publisher.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "allowed/topic" }));
        Assert.That(wrongOperation!.ServiceMessage, Does.StartWith("Principal com.example.Publisher is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#SubscribeToTopic"));
        Assert.That(_nucleus.Nucleus.PubSub.SubscriberCount, Is.Zero);
    }

    [Test]
    public async Task PolicyResources_AreMatchedLiterally_PlusAndHashAreNotWildcardsThere()
    {
        var component = _nucleus.Add("com.example.Sub", TestNucleus.Policy(PubSubService, "sub", [Subscribe], ["sensors/+", "logs/#"]));
        var client = await _nucleus.ConnectAsync(component);

        await using var plus = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "sensors/+" });
        await using var hash = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "logs/#" });
        await Assert.ThrowsAsync<UnauthorizedException>(() => client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "sensors/kitchen" }));
        await Assert.ThrowsAsync<UnauthorizedException>(() => client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "logs/app" }));
        Assert.That(_nucleus.Nucleus.PubSub.SubscriberCount, Is.EqualTo(2));
    }

    [Test]
    public async Task RequestsTheTypedClientWouldNotSend_GetTheNucleusAnswers()
    {
        var component = _nucleus.Add("com.example.Raw", TestNucleus.Policy(PubSubService, "raw", [Publish, Subscribe], ["*"]));
        var nucleus = _nucleus.Nucleus;
        var publish = GreengrassCoreIpc.PublishToTopic;

        var noTopic = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"publishMessage":{"binaryMessage":{"message":"eA=="}}}""");
        Assert.That((noTopic.ModelType, Message(noTopic)), Is.EqualTo(("aws.greengrass#InvalidArgumentsError", "Publish topic must not be null")));

        var noMessage = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"topic":"t"}""");
        Assert.That((noMessage.ModelType, Message(noMessage)), Is.EqualTo(("aws.greengrass#ServiceError", (string?)null)), "a NullPointerException in the Nucleus");

        var noJson = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"topic":"t","publishMessage":{"jsonMessage":{}}}""");
        Assert.That((noJson.ModelType, Message(noJson)), Is.EqualTo(("aws.greengrass#ServiceError", (string?)null)));

        var noBytes = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"topic":"t","publishMessage":{"binaryMessage":{"message":null}}}""");
        Assert.That((noBytes.ModelType, Message(noBytes)), Is.EqualTo(("aws.greengrass#ServiceError", (string?)null)));

        var both = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"topic":"t","publishMessage":{"jsonMessage":{"message":{}},"binaryMessage":{"message":"eA=="}}}""");
        Assert.That((both.Type, both.ContentType, both.Payload), Is.EqualTo((MessageType.ApplicationError, "text/plain", "InternalServerError")));

        var notAnObject = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"topic":"t","publishMessage":{"jsonMessage":{"message":[1,2]}}}""");
        Assert.That((notAnObject.Type, notAnObject.ContentType, notAnObject.Payload), Is.EqualTo((MessageType.ApplicationError, "text/plain", "InternalServerError")));

        var onlySlashes = await PubSubRawIpc.CallAsync(nucleus, component, publish, """{"topic":"/","publishMessage":{"binaryMessage":{"message":"eA=="}}}""");
        Assert.That((onlySlashes.ModelType, Message(onlySlashes)), Is.EqualTo(("aws.greengrass#ServiceError", "Index 0 out of bounds for length 0")));

        var noSubscribeTopic = await PubSubRawIpc.CallAsync(nucleus, component, GreengrassCoreIpc.SubscribeToTopic, "{}");
        Assert.That((noSubscribeTopic.ModelType, Message(noSubscribeTopic)), Is.EqualTo(("aws.greengrass#InvalidArgumentsError", "Subscribe topic must not be empty")));
        Assert.That(nucleus.PubSub.SubscriberCount, Is.Zero);

        static string? Message(PubSubRawReply reply) => JsonDocument.Parse(reply.Payload).RootElement.TryGetProperty("message", out var m) ? m.GetString() : null;
    }

    [Test]
    public async Task AnEmptyPublishMessage_IsAcceptedAndSentAsAnEmptyEvent()
    {
        var (_, subscriber) = await TwoComponentsAsync("t", "t");
        var raw = _nucleus.Nucleus.Components.TryGet("com.example.Publisher", out var publisher) ? publisher : throw new AssertionException("no publisher");
        await using var stream = await subscriber.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "t" });

        var reply = await PubSubRawIpc.CallAsync(_nucleus.Nucleus, raw, GreengrassCoreIpc.PublishToTopic, """{"topic":"t","publishMessage":{}}""");

        Assert.That(reply.ModelType, Is.EqualTo("aws.greengrass#PublishToTopicResponse"));
        var evt = await NextAsync(stream);
        Assert.That((evt.JsonMessage, evt.BinaryMessage), Is.EqualTo(((JsonMessage?)null, (BinaryMessage?)null)));
    }

    [Test]
    public async Task ANumberBeyondADouble_IsNotSentToIpcSubscribers_AsTheNucleusCannotWriteIt()
    {
        var (publisher, subscriber) = await TwoComponentsAsync("n", "n");
        await using var stream = await subscriber.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "n" });

        foreach (var json in new[] { """{"v":1e400}""", """{"v":2}""" })
        {
            using var document = JsonDocument.Parse(json);
            await publisher.PublishToTopicAsync(new PublishToTopicRequest
            {
                Topic = "n",
                PublishMessage = new PublishMessage { JsonMessage = new JsonMessage { Message = document.RootElement.Clone() } },
            });
        }

        Assert.That((await NextAsync(stream)).JsonMessage!.Message!.Value.GetRawText(), Is.EqualTo("""{"v":2.0}"""));
    }

    private static async Task<SubscriptionResponseMessage> NextAsync(IpcStream<SubscribeToTopicResponse, SubscriptionResponseMessage> stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var events = stream.GetAsyncEnumerator(timeout.Token);
        Assert.That(await events.MoveNextAsync(), Is.True, "the stream ended");
        return events.Current;
    }

    private async Task<(GreengrassIpcClient Publisher, GreengrassIpcClient Subscriber)> TwoComponentsAsync(string publishResource, string subscribeResource)
    {
        ComponentRecord publisher = _nucleus.Add("com.example.Publisher", TestNucleus.Policy(PubSubService, "publish", [Publish], [publishResource]));
        ComponentRecord subscriber = _nucleus.Add("com.example.Subscriber", TestNucleus.Policy(PubSubService, "subscribe", [Subscribe], [subscribeResource]));
        return (await _nucleus.ConnectAsync(publisher), await _nucleus.ConnectAsync(subscriber));
    }
}
