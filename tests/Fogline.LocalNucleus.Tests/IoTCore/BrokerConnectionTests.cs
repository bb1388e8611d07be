using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.IoTCore;
using Fogline.Mqtt;
using Fogline.LocalNucleus.Tests.Infrastructure;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Fogline.Mqtt.Broker;

namespace Fogline.LocalNucleus.Tests.IoTCore;

/// <summary>
/// The local Nucleus connected to a real broker (Debian's Mosquitto with mutual TLS and per-device ACLs, started by the
/// test) instead of the emulated IoT Core: PublishToIoTCore and SubscribeToIoTCore through it, what one device may
/// not see, QoS 1 across a broker restart, and a certificate the broker refuses.
/// </summary>
[Category("Conformance")]
[CancelAfter(120_000)]
public class BrokerConnectionTests : IoTCoreTestBase
{
    private MosquittoBroker _broker = null!;
    private MqttObserver? _observer;

    [SetUp]
    public async Task StartBroker() => _broker = await MosquittoBroker.StartAsync();

    [TearDown]
    public async Task StopBroker()
    {
        if (_observer is not null)
        {
            await _observer.DisposeAsync();
            _observer = null;
        }

        await TearDownNucleus();
        await _broker.DisposeAsync();
    }

    [Test]
    public async Task PublishToIoTCore_ReachesTheBroker_OverMutualTls()
    {
        await StartWithBrokerAsync("dev1");
        _observer = await MqttObserver.ConnectAsync(_broker, "things/dev1/#");
        var client = await ConnectAsync("com.example.Sensor");

        await PublishAsync(client, "things/dev1/temperature", "21.5");
        await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "things/dev1/status", Qos = QOS.AtMostOnce, Payload = "ok"u8.ToArray() });

        await Eventually.UntilAsync(() => _observer.Received.Count >= 2, "both messages at the broker");
        Assert.That(_observer.Received.Select(m => (m.Topic, Encoding.UTF8.GetString(m.Payload))).Order(), Is.EqualTo(new[] { ("things/dev1/status", "ok"), ("things/dev1/temperature", "21.5") }));
        Assert.That(Cloud.Broker, Is.EqualTo($"127.0.0.1:{_broker.Port}"));
        var journal = await JournalAsync(2);
        Assert.That(journal.Select(j => j.Topic), Is.EquivalentTo(new[] { "things/dev1/temperature", "things/dev1/status" }), "the journal records what the broker acknowledged");
    }

    [Test]
    public async Task SubscribeToIoTCore_GetsWhatTheBrokerSends()
    {
        await StartWithBrokerAsync("dev1");
        _observer = await MqttObserver.ConnectAsync(_broker);
        var client = await ConnectAsync("com.example.Actuator");
        var received = new ConcurrentQueue<string>();
        await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "things/dev1/cmd/#", Qos = QOS.AtLeastOnce }, m => received.Enqueue(Text(m)));

        await _observer.PublishAsync("things/dev1/cmd/valve", "open");

        await Eventually.UntilAsync(() => received.Contains("open"), "the command through the broker");
    }

    [Test]
    public async Task ADevice_NeitherSeesNorWritesAnotherDevicesTopics()
    {
        await StartWithBrokerAsync("dev1");
        _observer = await MqttObserver.ConnectAsync(_broker, "things/dev2/#");
        var client = await ConnectAsync("com.example.Snoop");
        var received = new ConcurrentQueue<string>();
        await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "things/+/cmd", Qos = QOS.AtLeastOnce }, m => received.Enqueue(Text(m)));

        await _observer.PublishAsync("things/dev2/cmd", "for dev2 only");
        await _observer.PublishAsync("things/dev1/cmd", "for dev1");
        await PublishAsync(client, "things/dev2/cmd", "written by dev1");
        await PublishAsync(client, "things/dev1/cmd", "dev1's own");

        // dev1's own messages come through the same subscription, so the others would have by then.
        await Eventually.UntilAsync(() => received.Contains("for dev1") && received.Contains("dev1's own"), "dev1's own messages");
        await Eventually.UntilAsync(() => Cloud.Counters.Dropped >= 1, "the broker's refusal of the write to dev2 (PUBACK not authorized)");
        Assert.That(received, Does.Not.Contain("for dev2 only"), "dev1 read dev2's topic");
        Assert.That(_observer.Received.Select(m => Encoding.UTF8.GetString(m.Payload)), Does.Not.Contain("written by dev1"), "dev1 wrote dev2's topic");
        Assert.That(Cloud.ReadJournal().Select(j => j.PayloadUtf8), Does.Not.Contain("written by dev1"), "a refused message is not journaled as delivered");
    }

    [Test]
    public async Task Qos1_IsSpooledWhileTheBrokerIsDown_AndDeliveredWhenItIsBack_SubscriptionsRestored()
    {
        await StartWithBrokerAsync("dev1");
        var client = await ConnectAsync("com.example.Sensor");
        var commands = new ConcurrentQueue<string>();
        await client.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = "things/dev1/cmd", Qos = QOS.AtLeastOnce }, m => commands.Enqueue(Text(m)));

        await _broker.StopAsync();
        await Eventually.UntilAsync(() => !Cloud.IsOnline, "the Nucleus sees the broker gone");
        for (var i = 0; i < 20; i++)
        {
            await PublishAsync(client, "things/dev1/readings", "r" + i);
        }

        var qos0 = await Assert.ThrowsAsync<ServiceException>(() => client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "things/dev1/readings", Qos = QOS.AtMostOnce, Payload = "lost"u8.ToArray() }));
        Assert.That(qos0!.Message, Does.Contain("Device is offline. Dropping QoS 0 message."));
        Assert.That(Cloud.Counters.SpoolMessages, Is.EqualTo(20));

        await _broker.RestartAsync();
        _observer = await MqttObserver.ConnectAsync(_broker, "things/dev1/readings");
        await Eventually.UntilAsync(() => Cloud.Counters.SpoolMessages == 0, "the spool drained to the broker", TimeSpan.FromSeconds(30));
        var journal = Cloud.ReadJournal().Select(j => j.PayloadUtf8).ToList();
        Assert.That(journal, Is.EquivalentTo(Enumerable.Range(0, 20).Select(i => "r" + i)), "every QoS 1 message reached the broker once it was back");

        // The broker lost its sessions (no persistence): the Nucleus made the subscription again.
        await Eventually.UntilAsync(async () =>
        {
            await _observer.PublishAsync("things/dev1/cmd", "after the restart");
            await Task.Delay(200);
            return commands.Contains("after the restart");
        }, "the subscription restored after the reconnection");
    }

    [Test]
    public async Task ACertificateTheBrokerRefuses_IsLogged_RetriedWithBackoff_AndNothingCrashes()
    {
        var rogue = CertificateAuthority.OpenOrCreate(Path.Combine(_broker.Directory, "rogue"), "rogue");
        var (certificate, key) = rogue.IssueClient("dev1");
        var logs = new CapturingLoggerFactory();
        await StartAsync(BrokerOptions("dev1", certificate, key), logs: logs);
        var client = await ConnectAsync("com.example.Sensor");

        await PublishAsync(client, "things/dev1/readings", "kept in the spool");

        await Eventually.UntilAsync(() => logs.Lines.Count(l => l.Contains("MQTT connection to 127.0.0.1:" + _broker.Port + " as dev1 failed", StringComparison.Ordinal)) >= 2,
            "two refused attempts logged", TimeSpan.FromSeconds(20));
        Assert.That(logs.Lines.Where(l => l.Contains("next attempt in", StringComparison.Ordinal)), Is.Not.Empty);
        Assert.That(Cloud.IsOnline, Is.False);
        Assert.That(Cloud.Counters.SpoolMessages, Is.EqualTo(1), "the accepted message waits");
        Assert.That(Nucleus.Nucleus.Components.TryGet("com.example.Sensor", out _), Is.True, "the Nucleus keeps serving");
    }

    private async Task StartWithBrokerAsync(string thing)
    {
        var (certificate, key) = _broker.Pki.IssueClient(thing);
        await StartAsync(BrokerOptions(thing, certificate, key));
        await Eventually.UntilAsync(() => Cloud.IsOnline, "connected to the broker", TimeSpan.FromSeconds(20));
    }

    private IoTCoreOptions BrokerOptions(string thing, string certificate, string key) => new()
    {
        Broker = new MqttBrokerOptions
        {
            Endpoint = "127.0.0.1",
            Port = _broker.Port,
            ClientId = thing,
            CertificateFile = certificate,
            PrivateKeyFile = key,
            RootCaFile = _broker.Pki.CaCertificateFile,
            MinimumBackoff = TimeSpan.FromMilliseconds(200),
            MaximumBackoff = TimeSpan.FromSeconds(2),
        },
    };
}
