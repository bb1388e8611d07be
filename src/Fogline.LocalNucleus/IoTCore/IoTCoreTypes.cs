namespace Fogline.LocalNucleus.IoTCore;

/// <summary>The connection to the emulated AWS IoT Core went up or down.</summary>
public sealed class IoTCoreConnectionChangedEventArgs : EventArgs
{
    internal IoTCoreConnectionChangedEventArgs(bool isOnline, DateTimeOffset at)
    {
        IsOnline = isOnline;
        At = at;
    }

    /// <summary>Whether the connection is now up.</summary>
    public bool IsOnline { get; }

    /// <summary>When it changed (the Nucleus's clock).</summary>
    public DateTimeOffset At { get; }
}

/// <summary>What happened to a message the cloud sent to the device.</summary>
public enum CloudSendOutcome
{
    /// <summary>The device is online and has a cloud subscription that matches: the message was handed to the device's matching subscriptions.</summary>
    Delivered,

    /// <summary>The device has no cloud subscription that matches the topic; the broker does not send it (a retained message is still kept).</summary>
    NoMatchingSubscription,

    /// <summary>The device is offline and the message is QoS 1 on a QoS 1 subscription: the cloud keeps it in the device's persistent session and sends it when the device reconnects.</summary>
    QueuedUntilOnline,

    /// <summary>The device is offline and the message is QoS 0 (or the subscription is): the cloud does not keep it.</summary>
    DroppedDeviceOffline,
}

/// <summary>The result of <see cref="IoTCoreEmulator.SendToDevice(CloudMessage)"/>.</summary>
/// <param name="Outcome">What happened.</param>
/// <param name="Subscriptions">How many device subscriptions (SubscribeToIoTCore streams) received it.</param>
public readonly record struct CloudSendResult(CloudSendOutcome Outcome, int Subscriptions);

/// <summary>Counters of the emulated AWS IoT Core connection, since the Nucleus started.</summary>
public readonly record struct IoTCoreCounters
{
    /// <summary>Publishes accepted into the spool.</summary>
    public long Published { get; init; }

    /// <summary>Publishes accepted while the connection was down (they waited in the spool for the connection).</summary>
    public long Spooled { get; init; }

    /// <summary>Publishes refused with an error to the caller (QoS 0 offline, spool full, too large, invalid topic, ...).</summary>
    public long Refused { get; init; }

    /// <summary>Accepted messages dropped without reaching the cloud (QoS 0 dropped on disconnect or to make room, retries exhausted).</summary>
    public long Dropped { get; init; }

    /// <summary>Messages that reached the cloud (one journal line each).</summary>
    public long Delivered { get; init; }

    /// <summary>Deliveries that failed because the connection went down while the message was in flight, and were retried.</summary>
    public long Retried { get; init; }

    /// <summary>Messages the cloud sent to the device (<see cref="IoTCoreEmulator.SendToDevice(CloudMessage)"/>).</summary>
    public long SentToDevice { get; init; }

    /// <summary>Messages handed to device subscriptions (one per subscription that received a message).</summary>
    public long DeliveredToDevice { get; init; }

    /// <summary>Messages now in the spool (waiting or in flight).</summary>
    public int SpoolMessages { get; init; }

    /// <summary>Payload bytes now in the spool (what <see cref="IoTCoreOptions.SpoolMaxBytes"/> limits).</summary>
    public long SpoolBytes { get; init; }

    /// <summary>Messages now on their way to the cloud.</summary>
    public int InFlight { get; init; }
}

/// <summary>
/// An outage of the connection to the cloud: one now for a while, one scheduled, or a repeating schedule. Dispose it to
/// cancel what is still to come and end the outage if it is under way.
/// </summary>
public sealed class IoTCoreOutage : IDisposable
{
    private readonly IoTCoreEmulator _owner;

    internal IoTCoreOutage(IoTCoreEmulator owner, string description, TimeSpan duration)
    {
        _owner = owner;
        Description = description;
        Duration = duration;
    }

    /// <summary>What it is, e.g. "every 00:01:00 for 00:00:10".</summary>
    public string Description { get; }

    /// <summary>How long each outage lasts.</summary>
    public TimeSpan Duration { get; }

    /// <summary>Whether the connection is down because of this outage now.</summary>
    public bool IsActive => _owner.IsActive(this);

    /// <summary>How many times this outage has begun.</summary>
    public int Occurrences { get; internal set; }

    internal ITimer? StartTimer { get; set; }

    internal bool Repeating { get; init; }

    internal ITimer? EndTimer { get; set; }

    internal bool Cancelled { get; set; }

    /// <summary>Cancels the outages still to come and ends the one under way.</summary>
    public void Dispose() => _owner.Cancel(this);

    internal IoTCoreEmulator Owner() => _owner;

    /// <inheritdoc />
    public override string ToString() => Description;
}

/// <summary>
/// A device-side subscription to an IoT Core topic filter (what SubscribeToIoTCore makes). Dispose it to unsubscribe.
/// </summary>
public sealed class IoTCoreSubscription : IDisposable
{
    private readonly IoTCoreEmulator _owner;
    private readonly TaskCompletionSource _subscribed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal IoTCoreSubscription(IoTCoreEmulator owner, string topicFilter, MqttQos qos, Action<CloudMessage> handler, string? component)
    {
        _owner = owner;
        TopicFilter = topicFilter;
        Qos = qos;
        Handler = handler;
        Component = component;
    }

    /// <summary>The topic filter.</summary>
    public string TopicFilter { get; }

    /// <summary>The QoS asked for.</summary>
    public MqttQos Qos { get; }

    /// <summary>The component that subscribed, if known.</summary>
    public string? Component { get; }

    /// <summary>
    /// Completes when the cloud has the subscription (or one that covers it): at once when online, at the reconnection
    /// when offline (as the Nucleus's subscribe waits for its connection). Cancelled if unsubscribed before; failed with
    /// <see cref="MqttRequestException"/> when a real broker refuses it.
    /// </summary>
    public Task Subscribed => _subscribed.Task;

    internal Action<CloudMessage> Handler { get; }

    internal bool Pending { get; set; }

    internal void MarkSubscribed() => _subscribed.TrySetResult();

    internal void MarkCancelled() => _subscribed.TrySetCanceled();

    internal void MarkFailed(Exception error) => _subscribed.TrySetException(error);

    /// <summary>Unsubscribes.</summary>
    public void Dispose() => _owner.Unsubscribe(this);
}
