using System.Text;
using Fogline.LocalNucleus.IoTCore;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>A message the cloud received from the device.</summary>
public sealed record CloudReceived(string Topic, int Qos, string Payload);

/// <summary>
/// The cloud the IoT Core steps of a scenario talk to (<c>offline</c>, <c>online</c>, <c>journal</c>,
/// <c>sendToDevice</c>): the emulated IoT Core inside the local Nucleus, or a real broker.
/// </summary>
public interface ICloudSide : IAsyncDisposable
{
    /// <summary>Takes the device's connection down; true once the Nucleus sees it down.</summary>
    Task GoOfflineAsync();

    /// <summary>Brings it back; completes once the Nucleus is connected again.</summary>
    Task GoOnlineAsync();

    /// <summary>What reached the cloud, in order (waiting up to 10 s for <paramref name="count"/> messages).</summary>
    Task<IReadOnlyList<CloudReceived>> JournalAsync(int count);

    /// <summary>The cloud publishes a text payload to the device.</summary>
    Task<string> SendToDeviceAsync(string topic, string payload);
}

/// <summary>The emulated IoT Core (the embedded default): its outage control, its journal, its cloud-to-device sends.</summary>
public sealed class EmulatedCloud(Nucleus nucleus) : ICloudSide
{
    public Task GoOfflineAsync()
    {
        nucleus.IoTCore.GoOffline();
        return Task.CompletedTask;
    }

    public Task GoOnlineAsync()
    {
        nucleus.IoTCore.GoOnline();
        return Task.CompletedTask;
    }

    public async Task<IReadOnlyList<CloudReceived>> JournalAsync(int count)
    {
        var deadline = Environment.TickCount64 + 10_000;
        var entries = nucleus.IoTCore.ReadJournal();
        while (entries.Count < count && Environment.TickCount64 < deadline)
        {
            await Task.Delay(20);
            entries = nucleus.IoTCore.ReadJournal();
        }

        return [.. entries.Select(e => new CloudReceived(e.Topic, e.Qos, Encoding.UTF8.GetString(e.Payload)))];
    }

    public Task<string> SendToDeviceAsync(string topic, string payload) => Task.FromResult(nucleus.IoTCore.SendToDevice(topic, payload).ToString());

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Mosquitto with mutual TLS, persistent as AWS IoT Core is: an outage is the broker stopping (gracefully, so it keeps
/// its sessions) and starting again on the same port; the journal is what a privileged observer with a persistent
/// session, subscribed to everything at QoS 1, received; cloud-to-device messages are the observer's publishes.
/// </summary>
public sealed class BrokerCloud : ICloudSide
{
    /// <summary>The device's thing name (its certificate's common name).</summary>
    public const string Thing = "conformance-device";

    private readonly MosquittoBroker _broker;
    private readonly MqttObserver _observer;
    private Nucleus? _nucleus;

    private BrokerCloud(MosquittoBroker broker, MqttObserver observer)
    {
        _broker = broker;
        _observer = observer;
    }

    /// <summary>The device's connection to the broker.</summary>
    public IoTCoreOptions DeviceOptions => new() { Broker = _broker.ClientOptions(Thing) };

    /// <summary>
    /// Starts the broker with an IoT policy that gives the device <paramref name="deviceTopics"/> and connects the
    /// observer.
    /// </summary>
    public static async Task<BrokerCloud> StartAsync(IReadOnlyList<string> deviceTopics)
    {
        var broker = await MosquittoBroker.StartAsync(persistent: true, deviceTopics);
        var observer = await MqttObserver.ConnectAsAsync(broker, MosquittoBroker.Observer, persistentSession: true, "#");
        return new BrokerCloud(broker, observer);
    }

    /// <summary>Waits until <paramref name="nucleus"/> is connected to the broker; the steps then run against it.</summary>
    public async Task AttachAsync(Nucleus nucleus)
    {
        _nucleus = nucleus;
        await Eventually.UntilAsync(() => nucleus.IoTCore.IsOnline, "the device connected to Mosquitto");
    }

    public async Task GoOfflineAsync()
    {
        await _broker.StopAsync(graceful: true);
        await Eventually.UntilAsync(() => !_nucleus!.IoTCore.IsOnline, "the device sees the broker gone");
    }

    public async Task GoOnlineAsync()
    {
        await _broker.RestartAsync();
        await _observer.ReconnectAsync();
        await Eventually.UntilAsync(() => _nucleus!.IoTCore.IsOnline, "the device reconnected", TimeSpan.FromSeconds(30));
    }

    public async Task<IReadOnlyList<CloudReceived>> JournalAsync(int count)
    {
        var deadline = Environment.TickCount64 + 10_000;
        while (_observer.Received.Count < count && Environment.TickCount64 < deadline)
        {
            await Task.Delay(20);
        }

        return [.. _observer.Received.Select(m => new CloudReceived(m.Topic, m.Qos, Encoding.UTF8.GetString(m.Payload)))];
    }

    public async Task<string> SendToDeviceAsync(string topic, string payload)
    {
        await _observer.PublishAsync(topic, payload);
        return "Published";
    }

    public async ValueTask DisposeAsync()
    {
        await _observer.DisposeAsync();
        await _broker.DisposeAsync();
    }
}
