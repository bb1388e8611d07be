using System.Text;
using System.Text.Json;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.IoTCore;

[CancelAfter(60_000)]
public class PublishToIoTCoreTests : IoTCoreTestBase
{
    [Test]
    public async Task APublish_ReachesTheJournal_WithAllItsFields()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.Sensor", "dt/#");

        await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest
        {
            TopicName = "dt/sensor-1/telemetry",
            Qos = QOS.AtLeastOnce,
            Payload = Encoding.UTF8.GetBytes("{\"t\":21.5}"),
            Retain = true,
            UserProperties = [new UserProperty { Key = "unit", Value = "C" }, new UserProperty { Key = "unit", Value = "K" }],
            MessageExpiryIntervalSeconds = 3600,
            CorrelationData = new byte[] { 1, 2, 3 },
            ResponseTopic = "dt/sensor-1/ack",
            PayloadFormat = PayloadFormat.Utf8,
            ContentType = "application/json",
        });
        await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "dt/sensor-1/raw", Qos = QOS.AtMostOnce, Payload = new byte[] { 0xff, 0xfe, 0x00 } });

        var journal = await JournalAsync(2);
        var first = journal[0];
        Assert.Multiple(() =>
        {
            Assert.That(first.Sequence, Is.EqualTo(1));
            Assert.That(first.Topic, Is.EqualTo("dt/sensor-1/telemetry"));
            Assert.That(first.Qos, Is.EqualTo(1));
            Assert.That(first.Retain, Is.True);
            Assert.That(first.Payload, Is.EqualTo(Encoding.UTF8.GetBytes("{\"t\":21.5}")));
            Assert.That(first.PayloadUtf8, Is.EqualTo("{\"t\":21.5}"));
            Assert.That(first.PayloadFormat, Is.EqualTo("UTF8"));
            Assert.That(first.UserProperties, Is.EqualTo(new[] { new MqttUserProperty("unit", "C"), new MqttUserProperty("unit", "K") }));
            Assert.That(first.MessageExpiryIntervalSeconds, Is.EqualTo(3600));
            Assert.That(first.CorrelationData, Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(first.ResponseTopic, Is.EqualTo("dt/sensor-1/ack"));
            Assert.That(first.ContentType, Is.Null, "the Nucleus's MqttProxyIPCAgent does not pass the content type on to the cloud");
            Assert.That(first.Component, Is.EqualTo("com.example.Sensor"));
            Assert.That(first.ReceivedAt, Is.GreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5)).And.LessThanOrEqualTo(DateTimeOffset.UtcNow.AddMinutes(1)));
        });

        var second = journal[1];
        Assert.Multiple(() =>
        {
            Assert.That((second.Sequence, second.Topic, second.Qos, second.Retain), Is.EqualTo((2L, "dt/sensor-1/raw", 0, false)));
            Assert.That(second.Payload, Is.EqualTo(new byte[] { 0xff, 0xfe, 0x00 }));
            Assert.That(second.PayloadUtf8, Is.Null, "not valid UTF-8");
            Assert.That(second.PayloadFormat, Is.EqualTo("BYTES"), "the Nucleus sends BYTES when the request has no format");
            Assert.That(second.UserProperties, Is.Empty);
            Assert.That(second.CorrelationData, Is.Null);
        });

        // The file itself: one JSON object per line, payload in base64, readable while the Nucleus runs.
        string[] lines;
        using (var stream = new FileStream(Path.Combine(Nucleus.Root, "cloud", "journal.jsonl"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
        {
            lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        Assert.That(lines, Has.Length.EqualTo(2));
        using var line = JsonDocument.Parse(lines[0]);
        var root = line.RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(root.GetProperty("topic").GetString(), Is.EqualTo("dt/sensor-1/telemetry"));
            Assert.That(root.GetProperty("payload").GetString(), Is.EqualTo(Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"t\":21.5}"))));
            Assert.That(root.GetProperty("payloadUtf8").GetString(), Is.EqualTo("{\"t\":21.5}"));
            Assert.That(root.GetProperty("qos").GetInt32(), Is.EqualTo(1));
            Assert.That(root.GetProperty("retain").GetBoolean(), Is.True);
            Assert.That(root.GetProperty("userProperties")[1].GetProperty("value").GetString(), Is.EqualTo("K"));
            Assert.That(root.GetProperty("correlationData").GetString(), Is.EqualTo(Convert.ToBase64String(new byte[] { 1, 2, 3 })));
            Assert.That(DateTimeOffset.TryParse(root.GetProperty("receivedAt").GetString(), out _), Is.True, "ISO-8601 receive time");
            Assert.That(root.TryGetProperty("contentType", out _), Is.True);
        });
        Assert.That(Cloud.Counters, Is.EqualTo(new IoTCoreCounters { Published = 2, Delivered = 2 }));
    }

    [Test]
    public async Task Authorization_MatchesPolicyResourcesAsMqttFilters_AndRefusesWithNotAuthorized()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.Sensor", "dt/+/telemetry");

        await PublishAsync(client, "dt/a/telemetry", "ok");
        var deep = await Assert.ThrowsAsync<UnauthorizedException>(() => PublishAsync(client, "dt/a/b/telemetry", "no"));
        var other = await Assert.ThrowsAsync<UnauthorizedException>(() => PublishAsync(client, "dt/a/status", "no"));
        var subscribe = await Assert.ThrowsAsync<UnauthorizedException>(() => client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "dt/#", Qos = QOS.AtMostOnce }));
        await using var allowed = await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "dt/b/telemetry", Qos = QOS.AtMostOnce });

        Assert.That(deep!.ServiceMessage, Is.EqualTo("Not Authorized"));
        Assert.That(other!.ServiceMessage, Is.EqualTo("Not Authorized"));
        Assert.That(subscribe!.ServiceMessage, Is.EqualTo("Not Authorized"));
        var journal = await JournalAsync(1);
        Assert.That(journal.Select(e => e.Topic), Is.EqualTo(new[] { "dt/a/telemetry" }));
        Assert.That(Cloud.DeviceSubscriptions.Select(s => s.TopicFilter), Is.EqualTo(new[] { "dt/b/telemetry" }));
    }

    [Test]
    public async Task AComponentWithoutAPolicy_IsNotAuthorized()
    {
        await StartAsync();
        var client = await Nucleus.ConnectAsync(Nucleus.Add("com.example.NoPolicy"));

        var ex = await Assert.ThrowsAsync<UnauthorizedException>(() => PublishAsync(client, "dt/a", "x"));

        Assert.That(ex!.ServiceMessage, Is.EqualTo("Not Authorized"));
        Assert.That(Cloud.Counters.Published, Is.Zero);
    }

    [Test]
    public async Task Qos0WhileOffline_IsRefusedAsTheNucleusRefusesIt_Qos1IsSpooled()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.Sensor");
        Cloud.GoOffline();

        var ex = await Assert.ThrowsAsync<ServiceException>(() => PublishAsync(client, "dt/q0", "lost", QOS.AtMostOnce));
        await PublishAsync(client, "dt/q1", "kept", QOS.AtLeastOnce);

        Assert.That(ex!.ServiceMessage, Is.EqualTo("Publish to topic dt/q0 failed: Device is offline. Dropping QoS 0 message."));
        var counters = Cloud.Counters;
        Assert.That((counters.Refused, counters.Published, counters.Spooled, counters.SpoolMessages, counters.Delivered), Is.EqualTo((1L, 1L, 1L, 1, 0L)));
        Cloud.GoOnline();
        var journal = await JournalAsync(1);
        Assert.That(journal.Select(e => e.Topic), Is.EqualTo(new[] { "dt/q1" }));
    }

    [Test]
    public async Task Qos0WhileOffline_IsSpooledWhenKeepQos0WhenOffline()
    {
        await StartAsync(new IoTCoreOptions { KeepQos0WhenOffline = true });
        var client = await ConnectAsync("com.example.Sensor");
        Cloud.GoOffline();

        await PublishAsync(client, "dt/q0", "kept", QOS.AtMostOnce);
        Assert.That(Cloud.Counters.SpoolMessages, Is.EqualTo(1));
        Cloud.GoOnline();

        var journal = await JournalAsync(1);
        Assert.That((journal[0].Topic, journal[0].Qos), Is.EqualTo(("dt/q0", 0)));
    }

    [Test]
    public async Task Qos1PublishedWhileOffline_ReachTheCloudAfterReconnect_InOrder()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.Sensor");
        await PublishAsync(client, "dt/seq", "before");
        await JournalAsync(1);
        Cloud.GoOffline();

        for (var i = 0; i < 20; i++)
        {
            await PublishAsync(client, "dt/seq", "offline-" + i);
        }

        Assert.That(Cloud.ReadJournal(), Has.Count.EqualTo(1), "nothing reaches the cloud while offline");
        Assert.That(Cloud.Counters.Spooled, Is.EqualTo(20));
        Cloud.GoOnline();

        var journal = await JournalAsync(21);
        Assert.That(journal.Select(e => e.PayloadUtf8), Is.EqualTo(new[] { "before" }.Concat(Enumerable.Range(0, 20).Select(i => "offline-" + i))));
        Assert.That(journal.Select(e => e.Sequence), Is.Ordered);
        await Eventually.UntilAsync(() => Cloud.Counters.SpoolBytes == 0, "spool empty");
    }

    [Test]
    public async Task GoingOffline_DropsTheSpooledQos0Messages()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(new IoTCoreOptions { Latency = TimeSpan.FromSeconds(5), MaxInFlightPublishes = 1 }, time);
        var client = await ConnectAsync("com.example.Sensor");

        // The first message is in flight (it takes 5 s on the fake clock); the others wait in the spool.
        await PublishAsync(client, "dt/a", "q1-first", QOS.AtLeastOnce);
        await PublishAsync(client, "dt/a", "q0", QOS.AtMostOnce);
        await PublishAsync(client, "dt/a", "q1-second", QOS.AtLeastOnce);
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 1 && time.PendingTimers > 0, "first message in flight");
        Cloud.GoOffline();

        var counters = Cloud.Counters;
        Assert.That((counters.Dropped, counters.Retried, counters.SpoolMessages, counters.InFlight), Is.EqualTo((1L, 1L, 2, 0)), "the QoS 0 message is dropped, the one in flight goes back");
        Cloud.GoOnline();
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 1 && time.PendingTimers > 0, "first message in flight again");
        time.Advance(TimeSpan.FromSeconds(5));
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 1 && time.PendingTimers > 0, "second message in flight");
        time.Advance(TimeSpan.FromSeconds(5));

        var journal = await JournalAsync(2);
        Assert.That(journal.Select(e => e.PayloadUtf8), Is.EqualTo(new[] { "q1-first", "q1-second" }));
    }

    [Test]
    public async Task AFullSpool_RefusesThePublish_WithTheSpoolersMessage()
    {
        await StartAsync(new IoTCoreOptions { SpoolMaxBytes = 10 });
        var client = await ConnectAsync("com.example.Sensor");
        Cloud.GoOffline();

        await PublishAsync(client, "dt/a", "123456");
        var full = await Assert.ThrowsAsync<ServiceException>(() => PublishAsync(client, "dt/b", "123456"));
        var larger = await Assert.ThrowsAsync<ServiceException>(() => PublishAsync(client, "dt/c", "12345678901"));
        await PublishAsync(client, "dt/d", "1234");

        Assert.That(full!.ServiceMessage, Is.EqualTo("Publish to topic dt/b failed: Message spool is full. Message could not be added."));
        Assert.That(larger!.ServiceMessage, Is.EqualTo("Publish to topic dt/c failed: Message is larger than the size of message spool."));
        Assert.That((Cloud.Counters.SpoolBytes, Cloud.Counters.SpoolMessages, Cloud.Counters.Refused), Is.EqualTo((10L, 2, 2L)));
        Cloud.GoOnline();
        var journal = await JournalAsync(2);
        Assert.That(journal.Select(e => e.Topic), Is.EqualTo(new[] { "dt/a", "dt/d" }));
    }

    [Test]
    public async Task AFullSpool_DropsQos0MessagesToMakeRoom()
    {
        await StartAsync(new IoTCoreOptions { SpoolMaxBytes = 10, KeepQos0WhenOffline = true });
        var client = await ConnectAsync("com.example.Sensor");
        Cloud.GoOffline();

        await PublishAsync(client, "dt/q0", "123456", QOS.AtMostOnce);
        await PublishAsync(client, "dt/q1", "123456", QOS.AtLeastOnce);
        var full = await Assert.ThrowsAsync<ServiceException>(() => PublishAsync(client, "dt/q1b", "123456", QOS.AtLeastOnce));

        Assert.That(full!.ServiceMessage, Is.EqualTo("Publish to topic dt/q1b failed: Message spool is full. Message could not be added."), "QoS 1 messages are never dropped to make room");
        Assert.That((Cloud.Counters.Dropped, Cloud.Counters.SpoolMessages), Is.EqualTo((1L, 1)));
        Cloud.GoOnline();
        var journal = await JournalAsync(1);
        Assert.That(journal.Select(e => e.Topic), Is.EqualTo(new[] { "dt/q1" }));
    }

    [Test]
    public async Task Limits_AreTheNucleuss()
    {
        await StartAsync(new IoTCoreOptions { MaxMessageSizeInBytes = 16 });
        var client = await ConnectAsync("com.example.Sensor");

        async Task<string?> Refusal(string topic, string payload) =>
            (await Assert.ThrowsAsync<ServiceException>(() => PublishAsync(client, topic, payload)))!.ServiceMessage;

        var longTopic = new string('t', 257);
        var refusals = new[]
        {
            await Refusal("dt/big", new string('x', 17)),
            await Refusal("dt/+/x", "p"),
            await Refusal("dt/#", "p"),
            await Refusal("a/b/c/d/e/f/g/h/i", "p"),
            await Refusal(longTopic, "p"),
        };

        Assert.That(refusals, Is.EqualTo(new[]
        {
            "Publish to topic dt/big failed: The publishing message size 17 bytes exceeds the configured limit of 16 bytes",
            "Publish to topic dt/+/x failed: Publish topics must not contain wildcard characters of '#' or '+'",
            "Publish to topic dt/# failed: Publish topics must not contain wildcard characters of '#' or '+'",
            "Publish to topic a/b/c/d/e/f/g/h/i failed: The request topic must have no more than 7 forward slashes (/)",
            $"Publish to topic {longTopic} failed: The topic size of request must be no larger than 256 bytes of UTF-8 encoded characters. This excludes the first 3 mandatory segments for Basic Ingest topics ($AWS/rules/rule-name/)",
        }));

        // A blank topic is refused by authorization ("Resource cannot be empty" in the Nucleus's AuthorizationModule),
        // which the agent answers with "Not Authorized" before the topic is validated.
        var blank = await Assert.ThrowsAsync<UnauthorizedException>(() => PublishAsync(client, "   ", "p"));
        Assert.That(blank!.ServiceMessage, Is.EqualTo("Not Authorized"));

        // Eight levels, 256 characters, and Basic Ingest topics whose effective topic fits, are accepted.
        await PublishAsync(client, "a/b/c/d/e/f/g/h", "p");
        await PublishAsync(client, new string('t', 256), "p");
        await PublishAsync(client, "$aws/rules/my_rule/" + new string('t', 250), "p");
        await PublishAsync(client, "$aws/things/thing/shadow/name/x/update/a/b", "p");
        await JournalAsync(4);

        var invalidQos = await Assert.ThrowsAsync<InvalidArgumentsException>(() => PublishAsync(client, "dt/x", "p", new QOS("2")));
        Assert.That(invalidQos!.ServiceMessage, Is.EqualTo("Invalid QoS value: 2"));
    }

    [Test]
    public async Task ADeviceNotConfiguredForTheCloud_RefusesPublishAndSubscribe()
    {
        await StartAsync(new IoTCoreOptions { DeviceConfiguredForCloud = false });
        var client = await ConnectAsync("com.example.Sensor");

        var publish = await Assert.ThrowsAsync<ServiceException>(() => PublishAsync(client, "dt/a", "x"));
        var subscribe = await Assert.ThrowsAsync<ServiceException>(() => client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "dt/a", Qos = QOS.AtLeastOnce }));

        Assert.That(publish!.ServiceMessage, Is.EqualTo("Publish to topic dt/a failed: Cannot publish because device is configured to run offline"));
        Assert.That(subscribe!.ServiceMessage, Is.EqualTo("Subscribe to topic dt/a failed with error com.aws.greengrass.mqttclient.MqttRequestException: Device is not configured to connect to AWS"));
    }
}
