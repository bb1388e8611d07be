using System.Collections.Concurrent;
using System.Text;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.IoTCore;

[CancelAfter(60_000)]
public class SubscribeToIoTCoreTests : IoTCoreTestBase
{
    [Test]
    public async Task CloudToDevice_ReachesTheMatchingSubscribersOnly_WithTheMessagesFields()
    {
        await StartAsync();
        var a = await ConnectAsync("com.example.A");
        var b = await ConnectAsync("com.example.B");
        var toA = new ConcurrentQueue<IoTCoreMessage>();
        var toB = new ConcurrentQueue<IoTCoreMessage>();
        await using var subA = await a.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/+/reboot", Qos = QOS.AtLeastOnce }, toA.Enqueue);
        await using var subB = await b.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/b/#", Qos = QOS.AtMostOnce }, toB.Enqueue);

        var r1 = Cloud.SendToDevice(new CloudMessage
        {
            Topic = "cmd/a/reboot",
            Payload = Encoding.UTF8.GetBytes("now"),
            Qos = MqttQos.AtLeastOnce,
            PayloadFormat = MqttPayloadFormat.Utf8,
            ContentType = "text/plain",
            ResponseTopic = "cmd/a/reboot/ack",
            CorrelationData = new byte[] { 9 },
            MessageExpiryIntervalSeconds = 60,
            UserProperties = [new MqttUserProperty("by", "operator")],
        });
        var r2 = Cloud.SendToDevice("cmd/b/x/y", "for b");
        var r3 = Cloud.SendToDevice("cmd/b/reboot", "for both");
        var r4 = Cloud.SendToDevice("cmd/c/update", "for nobody");

        Assert.That(new[] { r1, r2, r3, r4 }, Is.EqualTo(new[]
        {
            new CloudSendResult(CloudSendOutcome.Delivered, 1),
            new CloudSendResult(CloudSendOutcome.Delivered, 1),
            new CloudSendResult(CloudSendOutcome.Delivered, 2),
            new CloudSendResult(CloudSendOutcome.NoMatchingSubscription, 0),
        }));
        await Eventually.UntilAsync(() => toA.Count == 2 && toB.Count == 2, "messages delivered");
        Assert.That(toA.Select(m => m.Message!.TopicName), Is.EqualTo(new[] { "cmd/a/reboot", "cmd/b/reboot" }));
        Assert.That(toB.Select(Text), Is.EqualTo(new[] { "for b", "for both" }));
        var first = toA.First().Message!;
        Assert.Multiple(() =>
        {
            Assert.That(Text(toA.First()), Is.EqualTo("now"));
            Assert.That(first.PayloadFormat, Is.EqualTo(PayloadFormat.Utf8));
            Assert.That(first.ContentType, Is.EqualTo("text/plain"));
            Assert.That(first.ResponseTopic, Is.EqualTo("cmd/a/reboot/ack"));
            Assert.That(first.CorrelationData!.Value.ToArray(), Is.EqualTo(new byte[] { 9 }));
            Assert.That(first.MessageExpiryIntervalSeconds, Is.EqualTo(60));
            Assert.That(first.Retain, Is.False);
            Assert.That(first.UserProperties!.Select(p => (p.Key, p.Value)), Is.EqualTo(new[] { ("by", "operator") }));
            Assert.That(toB.First().Message!.PayloadFormat, Is.EqualTo(PayloadFormat.Bytes), "BYTES when the message has no format, as the Nucleus forwards it");
        });
        Assert.That(Cloud.Counters.DeliveredToDevice, Is.EqualTo(4));
    }

    [Test]
    public async Task ClosingTheStream_ReleasesTheSubscription()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");
        var received = new ConcurrentQueue<IoTCoreMessage>();
        var stream = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/a", Qos = QOS.AtLeastOnce }, received.Enqueue);
        Assert.That(Cloud.CloudSubscriptions, Is.EqualTo(new[] { "cmd/a" }));
        Cloud.SendToDevice("cmd/a", "one");
        await Eventually.UntilAsync(() => received.Count == 1, "first message");

        await stream.DisposeAsync();
        await Eventually.UntilAsync(() => Cloud.DeviceSubscriptions.Count == 0, "subscription released");

        Assert.That(Cloud.CloudSubscriptions, Is.Empty, "the cloud subscription goes with the last device subscription under it");
        Assert.That(Cloud.SendToDevice("cmd/a", "two"), Is.EqualTo(new CloudSendResult(CloudSendOutcome.NoMatchingSubscription, 0)));
        Assert.That(received, Has.Count.EqualTo(1));
    }

    [Test]
    public async Task ADroppedConnection_ReleasesItsSubscriptions()
    {
        await StartAsync();
        var component = Nucleus.Add("com.example.A", TestNucleus.Policy(IpcServices.MqttProxy, "p", [SubscribeOperation], ["*"]));
        var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = Nucleus.Nucleus.SocketPath, AuthToken = component.Token });
        await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/#", Qos = QOS.AtLeastOnce });
        await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/a", Qos = QOS.AtLeastOnce });
        Assert.That(Cloud.DeviceSubscriptions, Has.Count.EqualTo(2));
        Assert.That(Cloud.CloudSubscriptions, Is.EqualTo(new[] { "cmd/#" }), "cmd/a is covered by cmd/#: no second cloud subscription, as in the Nucleus");

        await client.DisposeAsync();

        await Eventually.UntilAsync(() => Cloud.DeviceSubscriptions.Count == 0, "subscriptions released");
        Assert.That(Cloud.CloudSubscriptions, Is.Empty);
    }

    [Test]
    public async Task CloudSubscriptions_AreMadeAndRemovedAsTheNucleusDoes()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");
        var received = new ConcurrentQueue<IoTCoreMessage>();
        var narrow = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "a/b", Qos = QOS.AtLeastOnce }, received.Enqueue);
        var wide = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "a/#", Qos = QOS.AtLeastOnce });
        Assert.That(Cloud.CloudSubscriptions, Is.EqualTo(new[] { "a/#", "a/b" }), "a/b does not cover a/#, so a/# is subscribed at the cloud too");

        await wide.DisposeAsync();
        await Eventually.UntilAsync(() => Cloud.DeviceSubscriptions.Count == 1, "a/# released");

        // The Nucleus keeps a cloud subscription while it covers a device subscription (a/# covers a/b): messages on
        // a/c still reach the device, where no subscription takes them.
        Assert.That(Cloud.CloudSubscriptions, Is.EqualTo(new[] { "a/#", "a/b" }));
        Assert.That(Cloud.SendToDevice("a/c", "x"), Is.EqualTo(new CloudSendResult(CloudSendOutcome.Delivered, 0)));
        Assert.That(Cloud.SendToDevice("a/b", "y"), Is.EqualTo(new CloudSendResult(CloudSendOutcome.Delivered, 1)));
        await Eventually.UntilAsync(() => received.Count == 1, "a/b message");
        Assert.That(received.Select(Text), Is.EqualTo(new[] { "y" }));

        await narrow.DisposeAsync();
        await Eventually.UntilAsync(() => Cloud.CloudSubscriptions.Count == 0, "both unsubscribed at the cloud");
    }

    [Test]
    public async Task DeviceToCloudMessages_ComeBackToTheDevicesOwnSubscriptions()
    {
        await StartAsync();
        var publisher = await ConnectAsync("com.example.Publisher");
        var subscriber = await ConnectAsync("com.example.Subscriber");
        var received = new ConcurrentQueue<IoTCoreMessage>();
        await using var stream = await subscriber.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "dt/+/status", Qos = QOS.AtLeastOnce }, received.Enqueue);

        await PublishAsync(publisher, "dt/p/status", "up");
        await PublishAsync(publisher, "dt/p/other", "not for the subscriber");

        await Eventually.UntilAsync(() => received.Count == 1 && Cloud.ReadJournal().Count == 2, "message through the cloud");
        Assert.That(received.Select(m => (m.Message!.TopicName, Text(m))), Is.EqualTo(new[] { ("dt/p/status", "up") }));
    }

    [Test]
    public async Task CloudToDeviceWhileOffline_Qos1IsKeptForTheReconnection_Qos0IsNot()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");
        var received = new ConcurrentQueue<IoTCoreMessage>();
        await using var stream = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/#", Qos = QOS.AtLeastOnce }, received.Enqueue);
        Cloud.GoOffline();

        var kept1 = Cloud.SendToDevice("cmd/1", "kept 1", MqttQos.AtLeastOnce);
        var lost = Cloud.SendToDevice("cmd/2", "lost", MqttQos.AtMostOnce);
        var kept2 = Cloud.SendToDevice("cmd/3", "kept 2", MqttQos.AtLeastOnce);
        var nobody = Cloud.SendToDevice("other", "nobody", MqttQos.AtLeastOnce);

        Assert.That(new[] { kept1.Outcome, lost.Outcome, kept2.Outcome, nobody.Outcome }, Is.EqualTo(new[]
        {
            CloudSendOutcome.QueuedUntilOnline, CloudSendOutcome.DroppedDeviceOffline, CloudSendOutcome.QueuedUntilOnline, CloudSendOutcome.NoMatchingSubscription,
        }));
        Assert.That(received, Is.Empty);
        Cloud.GoOnline();
        await Eventually.UntilAsync(() => received.Count == 2, "kept messages delivered");
        Assert.That(received.Select(Text), Is.EqualTo(new[] { "kept 1", "kept 2" }));
    }

    [Test]
    public async Task Qos0Subscription_DoesNotKeepMessagesWhileOffline()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");
        await using var stream = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/#", Qos = QOS.AtMostOnce });
        Cloud.GoOffline();

        Assert.That(Cloud.SendToDevice("cmd/1", "x", MqttQos.AtLeastOnce).Outcome, Is.EqualTo(CloudSendOutcome.DroppedDeviceOffline));
    }

    [Test]
    public async Task ASubscriptionMadeWhileOffline_IsAnsweredAtTheReconnection()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");
        Cloud.GoOffline();

        var pending = client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cmd/a", Qos = QOS.AtLeastOnce });
        await Eventually.UntilAsync(() => Cloud.DeviceSubscriptions.Count == 1, "subscription registered");
        Assert.That(pending.IsCompleted, Is.False, "the Nucleus answers once its connection is back");
        Assert.That(Cloud.CloudSubscriptions, Is.Empty);
        Cloud.GoOnline();

        await using var stream = await pending;
        Assert.That(Cloud.CloudSubscriptions, Is.EqualTo(new[] { "cmd/a" }));
    }

    [Test]
    public async Task RetainedMessages_AreSentToNewSubscriptions()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");
        Cloud.SendToDevice("cfg/a", "retained a", MqttQos.AtLeastOnce, retain: true);
        await PublishAsync(client, "cfg/b", "retained b");
        await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "cfg/c", Qos = QOS.AtLeastOnce, Payload = Encoding.UTF8.GetBytes("retained c"), Retain = true });
        await JournalAsync(2);
        Cloud.SendToDevice("cfg/a2", "cleared", MqttQos.AtLeastOnce, retain: true);
        Cloud.SendToDevice("cfg/a2", string.Empty, MqttQos.AtLeastOnce, retain: true);
        Assert.That(Cloud.RetainedMessages.Select(m => m.Topic), Is.EqualTo(new[] { "cfg/a", "cfg/c" }));

        var received = new ConcurrentQueue<IoTCoreMessage>();
        await using var stream = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "cfg/+", Qos = QOS.AtLeastOnce }, received.Enqueue);

        await Eventually.UntilAsync(() => received.Count == 2, "retained messages");
        Assert.That(received.Select(m => (m.Message!.TopicName, Text(m), m.Message.Retain)), Is.EqualTo(new[] { ("cfg/a", "retained a", (bool?)true), ("cfg/c", "retained c", (bool?)true) }));
    }

    [Test]
    public async Task SubscribeErrors_AreTheNucleuss()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.A");

        var tooDeep = await Assert.ThrowsAsync<ServiceException>(() => client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "a/b/c/d/e/f/g/h/#", Qos = QOS.AtLeastOnce }));
        var invalidQos = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "a", Qos = new QOS("2") }));

        Assert.That(tooDeep!.ServiceMessage, Is.EqualTo("Subscribe to topic a/b/c/d/e/f/g/h/# failed with error com.aws.greengrass.mqttclient.MqttRequestException: The request topic must have no more than 7 forward slashes (/)"));
        Assert.That(invalidQos!.ServiceMessage, Is.EqualTo("Invalid QoS value: 2"));
        Assert.That(Cloud.DeviceSubscriptions, Is.Empty);

        // A shared subscription is checked without its $share/group/ prefix.
        await using var shared = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "$share/group/a/b/c/d/e/f/g/#", Qos = QOS.AtLeastOnce });
    }

    [Test]
    public async Task SendToDevice_RefusesTopicsAClientCannotPublishTo()
    {
        await StartAsync();

        Assert.That(() => Cloud.SendToDevice("a/+", "x"), Throws.ArgumentException);
        Assert.That(() => Cloud.SendToDevice("a/#", "x"), Throws.ArgumentException);
        Assert.That(() => Cloud.SendToDevice(" ", "x"), Throws.ArgumentException);
        Assert.That(Cloud.Counters.SentToDevice, Is.Zero);
    }
}
