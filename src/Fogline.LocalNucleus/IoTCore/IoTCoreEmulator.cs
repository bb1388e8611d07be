using System.Globalization;
using Fogline.LocalNucleus.IoTCore.Mqtt;
using Fogline.Mqtt;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.IoTCore;

/// <summary>
/// The emulated AWS IoT Core: the device side behaves as the Nucleus's MqttClient and its spooler, the cloud side is
/// driven by tests and people.
/// <para>
/// Device to cloud (<see cref="Publish"/>, what PublishToIoTCore calls): the request is checked as the Nucleus checks it
/// (device configured for the cloud, payload size, topic), a QoS 0 message is refused while offline unless
/// <see cref="IoTCoreOptions.KeepQos0WhenOffline"/>, and the message is added to the in-memory spool, which refuses it
/// when full (after dropping QoS 0 messages to make room). The spool is drained in order to the cloud while the
/// connection is up, with up to <see cref="IoTCoreOptions.MaxInFlightPublishes"/> messages in flight, each taking the
/// configured latency; a message in flight when the connection drops goes back to the front of the spool and is
/// retried. When the connection drops, the QoS 0 messages in the spool are dropped (unless kept). Every message that
/// reaches the cloud is appended to the journal (<see cref="JournalPath"/>) and routed, like any message the cloud
/// receives, to the device's own matching subscriptions.
/// </para>
/// <para>
/// Cloud to device (<see cref="SendToDevice(CloudMessage)"/>): the broker sends the message to the device when one of the
/// device's cloud subscriptions matches it (MQTT matching), and the device hands it to each of its subscriptions whose
/// filter covers the topic as the Nucleus's MqttTopic decides. While the device is offline, the cloud keeps QoS 1
/// messages for QoS 1 subscriptions in the device's persistent session (the Nucleus connects with a 7-day session
/// expiry) and sends them at the reconnection; QoS 0 messages are not kept. Retained messages are kept by the cloud
/// and sent when a new cloud subscription matches them.
/// </para>
/// <para>
/// Subscriptions (<see cref="Subscribe"/>, what SubscribeToIoTCore calls) are made at the cloud as the Nucleus makes
/// them: not again when an existing cloud subscription covers the filter; removed from the cloud when no device
/// subscription is left under them. A subscription made while offline completes at the reconnection.
/// </para>
/// <para>
/// With <see cref="IoTCoreOptions.Broker"/> set, the device side is the same (checks, spool, subscriptions, their
/// restoration) but the cloud is a real MQTT broker reached with mutual TLS (<see cref="MqttBrokerConnection"/>): the
/// connection is up when the broker accepted it, a message leaves the spool when the broker acknowledged it (QoS 1
/// PUBACK; a PUBACK refusal that cannot change drops it, as the Nucleus does), subscriptions are SUBSCRIBEs (made again
/// after a reconnection without a session), and what the broker sends goes to the device's subscriptions. The
/// emulated cloud's controls (outages, latency, <see cref="SendToDevice(CloudMessage)"/>) are not available then: an
/// outage is the broker stopping or the network dropping.
/// </para>
/// </summary>
public sealed class IoTCoreEmulator : IAsyncDisposable
{
    private readonly IoTCoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CloudJournal _journal;
    private readonly long _spoolMaxBytes;
    private readonly int _maxMessageSize;
    private readonly int _maxInFlight;

    // _dispatchLock orders the hand-over of messages to device subscriptions; it is taken before _lock, never after.
    private readonly Lock _dispatchLock = new();
    private readonly Lock _lock = new();

    private readonly LinkedList<SpoolEntry> _queue = new();
    private readonly LinkedList<SpoolEntry> _inFlight = new();
    private readonly HashSet<IoTCoreOutage> _activeOutages = [];
    private readonly List<IoTCoreOutage> _outages = [];
    private readonly List<IoTCoreSubscription> _subscriptions = [];
    private readonly Dictionary<string, MqttQos> _cloudSubscriptions = new(StringComparer.Ordinal);
    private readonly List<CloudMessage> _session = [];
    private readonly Dictionary<string, CloudMessage> _retained = new(StringComparer.Ordinal);
    private readonly Queue<IoTCoreConnectionChangedEventArgs> _stateEvents = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _delivery;
    private readonly MqttBrokerConnection? _broker;
    private bool _brokerUp;
    private bool _brokerSessionPresent;

    private long _spoolBytes;
    private bool _online;
    private bool _manualOffline;
    private bool _raisingState;
    private bool _disposed;
    private TimeSpan _latency;
    private TaskCompletionSource? _wake;

    private long _published;
    private long _spooled;
    private long _refused;
    private long _dropped;
    private long _delivered;
    private long _retried;
    private long _sentToDevice;
    private long _deliveredToDevice;

    internal IoTCoreEmulator(NucleusContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _options = context.Options.IoTCore;
        _time = context.Time;
        _logger = context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.IoTCore");
        _spoolMaxBytes = _options.SpoolMaxBytes;
        _maxMessageSize = Math.Min(_options.MaxMessageSizeInBytes, IoTCoreOptions.MaxMessageSizeLimitInBytes);
        _maxInFlight = Math.Clamp(_options.MaxInFlightPublishes, 1, IoTCoreOptions.MaxInFlightPublishesLimit);
        _latency = _options.Latency < TimeSpan.Zero ? TimeSpan.Zero : _options.Latency;
        _online = _options.StartOnline;
        _manualOffline = !_options.StartOnline;
        _journal = new CloudJournal(System.IO.Path.Combine(System.IO.Path.GetFullPath(context.RootPath), "cloud", "journal.jsonl"));
        IoTCoreLog.Configured(_logger, _spoolMaxBytes, _options.KeepQos0WhenOffline, _maxMessageSize, _maxInFlight);
        if (_options.Broker is { } broker)
        {
            _online = false;
            _manualOffline = false;
            _broker = new MqttBrokerConnection(broker with { MqttVersion = _options.MqttVersion }, OnBrokerConnection, m => OnBrokerMessage(CloudMessageMqtt.FromMqtt(m)), _logger, _time);
            _delivery = Task.Run(DeliverToBrokerAsync);
            _broker.Start();
        }
        else
        {
            _delivery = Task.Run(DeliverAsync);
        }
    }

    /// <summary>The real broker the device is connected to (<c>host:port</c>), or null for the emulated IoT Core.</summary>
    public string? Broker => _broker?.Description;

    /// <summary>Raised after the connection went up or down (on the thread that changed it; handlers run one at a time, in order).</summary>
    public event EventHandler<IoTCoreConnectionChangedEventArgs>? StateChanged;

    /// <summary>Raised after each message reached the cloud and was journaled (on the delivery thread, in order).</summary>
    public event EventHandler<CloudJournalEntry>? MessageReceived;

    /// <summary>The options.</summary>
    public IoTCoreOptions Options => _options;

    /// <summary>Whether the connection to the cloud is up.</summary>
    public bool IsOnline
    {
        get
        {
            lock (_lock)
            {
                return _online;
            }
        }
    }

    /// <summary>The latency added to each message on its way to the cloud.</summary>
    public TimeSpan Latency
    {
        get
        {
            lock (_lock)
            {
                return _latency;
            }
        }
    }

    /// <summary>The journal of the messages that reached the cloud: <c>&lt;root&gt;/cloud/journal.jsonl</c>.</summary>
    public string JournalPath => _journal.Path;

    /// <summary>The counters.</summary>
    public IoTCoreCounters Counters
    {
        get
        {
            lock (_lock)
            {
                return new IoTCoreCounters
                {
                    Published = _published,
                    Spooled = _spooled,
                    Refused = _refused,
                    Dropped = _dropped,
                    Delivered = _delivered,
                    Retried = _retried,
                    SentToDevice = _sentToDevice,
                    DeliveredToDevice = _deliveredToDevice,
                    SpoolMessages = _queue.Count + _inFlight.Count,
                    SpoolBytes = _spoolBytes,
                    InFlight = _inFlight.Count,
                };
            }
        }
    }

    /// <summary>The topic filters the device is subscribed to at the cloud, sorted.</summary>
    public IReadOnlyList<string> CloudSubscriptions
    {
        get
        {
            lock (_lock)
            {
                return [.. _cloudSubscriptions.Keys.Order(StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The device's subscriptions (one per SubscribeToIoTCore stream), oldest first.</summary>
    public IReadOnlyList<IoTCoreSubscription> DeviceSubscriptions
    {
        get
        {
            lock (_lock)
            {
                return [.. _subscriptions];
            }
        }
    }

    /// <summary>The retained messages the cloud keeps, by topic.</summary>
    public IReadOnlyList<CloudMessage> RetainedMessages
    {
        get
        {
            lock (_lock)
            {
                return [.. _retained.Values.OrderBy(m => m.Topic, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>The scheduled and active outages not yet over or cancelled.</summary>
    public IReadOnlyList<IoTCoreOutage> Outages
    {
        get
        {
            lock (_lock)
            {
                return [.. _outages];
            }
        }
    }

    /// <summary>Reads the journal: every message that reached the cloud, in order.</summary>
    public IReadOnlyList<CloudJournalEntry> ReadJournal() => CloudJournal.Read(_journal.Path);

    /// <summary>Sets the latency added to each message on its way to the cloud, from the next message that leaves the spool.</summary>
    public void SetLatency(TimeSpan latency)
    {
        ThrowIfBroker();
        ArgumentOutOfRangeException.ThrowIfLessThan(latency, TimeSpan.Zero);
        lock (_lock)
        {
            _latency = latency;
            WakeLocked();
        }
    }

    /// <summary>Takes the connection down until <see cref="GoOnline"/>.</summary>
    public void GoOffline()
    {
        ThrowIfBroker();
        ChangeConnection(() => _manualOffline = true);
    }

    /// <summary>Brings the connection up now: ends <see cref="GoOffline"/> and any outage under way (scheduled outages still to come remain).</summary>
    public void GoOnline() => ChangeConnection(() =>
    {
        ThrowIfBroker();
        _manualOffline = false;
        foreach (var outage in _activeOutages)
        {
            EndLocked(outage);
        }

        _activeOutages.Clear();
    });

    /// <summary>Takes the connection down now for <paramref name="duration"/> (on the Nucleus's clock).</summary>
    public IoTCoreOutage OutageFor(TimeSpan duration)
    {
        ThrowIfBroker();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        var outage = new IoTCoreOutage(this, string.Create(CultureInfo.InvariantCulture, $"now for {duration}"), duration);
        Register(outage);
        Begin(outage);
        return outage;
    }

    /// <summary>Takes the connection down after <paramref name="startAfter"/>, for <paramref name="duration"/> (on the Nucleus's clock).</summary>
    public IoTCoreOutage ScheduleOutage(TimeSpan startAfter, TimeSpan duration)
    {
        ThrowIfBroker();
        ArgumentOutOfRangeException.ThrowIfLessThan(startAfter, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        var outage = new IoTCoreOutage(this, string.Create(CultureInfo.InvariantCulture, $"after {startAfter} for {duration}"), duration);
        Register(outage);
        lock (_lock)
        {
            outage.StartTimer = _time.CreateTimer(static s => ((IoTCoreOutage)s!).Owner().Begin((IoTCoreOutage)s!), outage, startAfter, Timeout.InfiniteTimeSpan);
        }

        return outage;
    }

    /// <summary>
    /// Takes the connection down every <paramref name="every"/> for <paramref name="duration"/>, the first time after
    /// <paramref name="firstAfter"/> (default <paramref name="every"/>), until the outage is disposed.
    /// </summary>
    public IoTCoreOutage ScheduleRepeatingOutage(TimeSpan every, TimeSpan duration, TimeSpan? firstAfter = null)
    {
        ThrowIfBroker();
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(every, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(duration, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(duration, every);
        var first = firstAfter ?? every;
        ArgumentOutOfRangeException.ThrowIfLessThan(first, TimeSpan.Zero);
        var outage = new IoTCoreOutage(this, string.Create(CultureInfo.InvariantCulture, $"every {every} for {duration}, first after {first}"), duration) { Repeating = true };
        Register(outage);
        lock (_lock)
        {
            outage.StartTimer = _time.CreateTimer(static s => ((IoTCoreOutage)s!).Owner().Begin((IoTCoreOutage)s!), outage, first, every);
        }

        return outage;
    }

    /// <summary>
    /// Publishes from the device to the cloud as the Nucleus's MqttClient.publish does: checks, then the spool. Throws
    /// <see cref="MqttRequestException"/> or <see cref="SpoolerStoreException"/> with the Nucleus's messages.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="component">The publishing component, recorded in the journal.</param>
    public void Publish(CloudMessage message, string? component = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        try
        {
            if (!_options.DeviceConfiguredForCloud)
            {
                throw new MqttRequestException("Cannot publish because device is configured to run offline");
            }

            var size = message.Payload.Length;
            if (size > _maxMessageSize)
            {
                throw new MqttRequestException(string.Create(CultureInfo.InvariantCulture, $"The publishing message size {size} bytes exceeds the configured limit of {_maxMessageSize} bytes"));
            }

            MqttTopics.Validate(message.Topic, subscribe: false, _options.MqttVersion);
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (!_online && message.Qos == MqttQos.AtMostOnce && !_options.KeepQos0WhenOffline)
                {
                    throw new SpoolerStoreException(SpoolerStoreException.DeviceOffline);
                }

                if (size > _spoolMaxBytes)
                {
                    throw new SpoolerStoreException(SpoolerStoreException.LargerThanSpool);
                }

                _spoolBytes += size;
                if (_spoolBytes > _spoolMaxBytes)
                {
                    DropQos0Locked(onlyWhileOverCapacity: true);
                }

                if (_spoolBytes > _spoolMaxBytes)
                {
                    _spoolBytes -= size;
                    throw new SpoolerStoreException(SpoolerStoreException.SpoolFull);
                }

                _queue.AddLast(new SpoolEntry(message, component, size));
                _published++;
                if (!_online)
                {
                    _spooled++;
                }

                IoTCoreLog.Spooled(_logger, component, message.Topic, (int)message.Qos, size, _queue.Count + _inFlight.Count, _spoolBytes);
                WakeLocked();
            }
        }
        catch (Exception ex) when (ex is MqttRequestException or SpoolerStoreException)
        {
            lock (_lock)
            {
                _refused++;
            }

            IoTCoreLog.PublishRefused(_logger, component, message.Topic, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Subscribes the device to a topic filter as the Nucleus's MqttClient.subscribe does; <paramref name="handler"/>
    /// receives the messages whose topic the filter covers (called in order, one at a time; keep it short). Throws
    /// <see cref="MqttRequestException"/> for a filter IoT Core refuses. See <see cref="IoTCoreSubscription.Subscribed"/>.
    /// </summary>
    public IoTCoreSubscription Subscribe(string topicFilter, MqttQos qos, Action<CloudMessage> handler, string? component = null)
    {
        ArgumentNullException.ThrowIfNull(topicFilter);
        ArgumentNullException.ThrowIfNull(handler);
        if (!_options.DeviceConfiguredForCloud)
        {
            throw new MqttRequestException("Device is not configured to connect to AWS");
        }

        MqttTopics.Validate(topicFilter, subscribe: true, _options.MqttVersion);
        var subscription = new IoTCoreSubscription(this, topicFilter, qos, handler, component);
        List<CloudMessage>? retained = null;
        lock (_dispatchLock)
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _subscriptions.Add(subscription);
                var covering = _cloudSubscriptions.Keys.FirstOrDefault(f => MqttTopics.NucleusCovers(f, topicFilter));
                if (covering is not null)
                {
                    subscription.MarkSubscribed();
                    IoTCoreLog.Subscribed(_logger, topicFilter, (int)qos, "existing " + covering);
                }
                else if (_online)
                {
                    retained = CloudSubscribeLocked(subscription);
                }
                else
                {
                    subscription.Pending = true;
                    IoTCoreLog.Subscribed(_logger, topicFilter, (int)qos, "pending until online");
                }
            }

            if (retained is not null)
            {
                foreach (var message in retained)
                {
                    HandToDevice(message);
                }
            }
        }

        return subscription;
    }

    /// <summary>The cloud publishes a message with a text payload to the device. See <see cref="SendToDevice(CloudMessage)"/>.</summary>
    public CloudSendResult SendToDevice(string topic, string payload, MqttQos qos = MqttQos.AtMostOnce, bool retain = false) =>
        SendToDevice(CloudMessage.FromText(topic, payload, qos, retain));

    /// <summary>The cloud publishes a message with a binary payload to the device. See <see cref="SendToDevice(CloudMessage)"/>.</summary>
    public CloudSendResult SendToDevice(string topic, ReadOnlyMemory<byte> payload, MqttQos qos = MqttQos.AtMostOnce, bool retain = false) =>
        SendToDevice(new CloudMessage { Topic = topic, Payload = payload, Qos = qos, Retain = retain });

    /// <summary>
    /// The cloud publishes a message (as another client or an IoT rule would) that goes to the device's matching
    /// subscriptions. Online: delivered now. Offline: QoS 1 kept in the device's persistent session and delivered at
    /// the reconnection; QoS 0 not kept. A retained message (non-empty payload) is kept by the cloud for later
    /// subscriptions; an empty retained payload clears the topic's retained message. Throws
    /// <see cref="ArgumentException"/> for a topic a client cannot publish to (empty, or with a wildcard).
    /// </summary>
    public CloudSendResult SendToDevice(CloudMessage message)
    {
        ThrowIfBroker();
        ArgumentNullException.ThrowIfNull(message);
        if (MqttTopics.IsBlank(message.Topic))
        {
            throw new ArgumentException(MqttTopics.ErrorEmptyTopic, nameof(message));
        }

        if (message.Topic.Contains('#', StringComparison.Ordinal) || message.Topic.Contains('+', StringComparison.Ordinal))
        {
            throw new ArgumentException(MqttTopics.ErrorWildcardInPublish, nameof(message));
        }

        var result = Route(message, fromCloud: true);
        IoTCoreLog.SentToDevice(_logger, message.Topic, (int)message.Qos, result.Outcome, result.Subscriptions);
        return result;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        List<IoTCoreSubscription> subscriptions;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var outage in _outages)
            {
                outage.Cancelled = true;
                outage.StartTimer?.Dispose();
                outage.EndTimer?.Dispose();
            }

            _outages.Clear();
            _activeOutages.Clear();
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
            WakeLocked();
        }

        foreach (var subscription in subscriptions)
        {
            subscription.MarkCancelled();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync().ConfigureAwait(false);
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _delivery.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _journal.Dispose();
        _stop.Dispose();
    }

    internal bool IsActive(IoTCoreOutage outage)
    {
        lock (_lock)
        {
            return _activeOutages.Contains(outage);
        }
    }

    internal void Cancel(IoTCoreOutage outage) => ChangeConnection(() =>
    {
        outage.Cancelled = true;
        outage.StartTimer?.Dispose();
        outage.StartTimer = null;
        EndLocked(outage);
        _activeOutages.Remove(outage);
        _outages.Remove(outage);
    });

    internal void Unsubscribe(IoTCoreSubscription subscription)
    {
        int removed;
        lock (_lock)
        {
            if (!_subscriptions.Remove(subscription))
            {
                return;
            }

            // As the Nucleus: a cloud subscription no device subscription falls under any more is removed.
            var dead = _cloudSubscriptions.Keys.Where(f => !_subscriptions.Exists(s => MqttTopics.NucleusCovers(f, s.TopicFilter))).ToList();
            foreach (var filter in dead)
            {
                _cloudSubscriptions.Remove(filter);
            }

            removed = dead.Count;
            foreach (var filter in dead)
            {
                BrokerUnsubscribe(filter);
            }
        }

        subscription.MarkCancelled();
        IoTCoreLog.Unsubscribed(_logger, subscription.TopicFilter, removed);
    }

    private static MqttQos Min(MqttQos a, MqttQos b) => a < b ? a : b;

    private void Register(IoTCoreOutage outage)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _outages.Add(outage);
        }

        IoTCoreLog.OutageScheduled(_logger, outage.Description);
    }

    private void Begin(IoTCoreOutage outage) => ChangeConnection(() =>
    {
        if (outage.Cancelled)
        {
            return;
        }

        outage.Occurrences++;
        _activeOutages.Add(outage);
        outage.EndTimer?.Dispose();
        outage.EndTimer = _time.CreateTimer(static s => ((IoTCoreOutage)s!).Owner().End((IoTCoreOutage)s!), outage, outage.Duration, Timeout.InfiniteTimeSpan);
    });

    private void End(IoTCoreOutage outage) => ChangeConnection(() =>
    {
        EndLocked(outage);
        _activeOutages.Remove(outage);

        // A one-time outage is over; a repeating one stays until disposed.
        if (!outage.Repeating)
        {
            outage.StartTimer?.Dispose();
            _outages.Remove(outage);
        }
    });

    private static void EndLocked(IoTCoreOutage outage)
    {
        outage.EndTimer?.Dispose();
        outage.EndTimer = null;
    }

    /// <summary>Runs a change of the connection's inputs and, if the connection went up or down, what follows.</summary>
    private void ChangeConnection(Action mutate)
    {
        lock (_dispatchLock)
        {
            List<CloudMessage>? toDevice = null;
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }

                mutate();
                var online = _broker is null ? !_manualOffline && _activeOutages.Count == 0 : _brokerUp;
                if (online == _online)
                {
                    return;
                }

                _online = online;
                if (online)
                {
                    toDevice = ConnectedLocked();
                }
                else
                {
                    DisconnectedLocked();
                }

                _stateEvents.Enqueue(new IoTCoreConnectionChangedEventArgs(online, _time.GetUtcNow()));
                IoTCoreLog.ConnectionChanged(_logger, online ? "resumed" : "interrupted");
            }

            if (toDevice is not null)
            {
                foreach (var message in toDevice)
                {
                    HandToDevice(message);
                }
            }
        }

        RaiseStateEvents();
    }

    /// <summary>The connection came up: subscriptions made while offline go to the cloud, the session's messages come, the spool drains.</summary>
    private List<CloudMessage> ConnectedLocked()
    {
        if (_broker is not null && !_brokerSessionPresent)
        {
            // As the Nucleus: without a session at the broker, every subscription is made again.
            foreach (var (filter, qos) in _cloudSubscriptions)
            {
                _ = BrokerSubscribeAsync(filter, qos, subscription: null);
            }
        }

        var toDevice = new List<CloudMessage>(_session);
        _session.Clear();
        foreach (var subscription in _subscriptions.Where(s => s.Pending).ToList())
        {
            subscription.Pending = false;
            toDevice.AddRange(CloudSubscribeLocked(subscription));
        }

        WakeLocked();
        return toDevice;
    }

    /// <summary>
    /// The connection went down: the messages in flight failed and go back to the front of the spool (or are dropped
    /// when their retries are exhausted); the spool's QoS 0 messages are dropped unless kept.
    /// </summary>
    private void DisconnectedLocked()
    {
        while (_inFlight.Last is { } node)
        {
            _inFlight.RemoveLast();
            var entry = node.Value;
            if (_options.MaxPublishRetry == -1 || entry.Retried++ < _options.MaxPublishRetry)
            {
                _retried++;
                _queue.AddFirst(entry);
            }
            else
            {
                _spoolBytes -= entry.Size;
                _dropped++;
                IoTCoreLog.RetriesExhausted(_logger, entry.Message.Topic, _options.MaxPublishRetry);
            }
        }

        if (!_options.KeepQos0WhenOffline)
        {
            DropQos0Locked(onlyWhileOverCapacity: false);
        }

        WakeLocked();
    }

    /// <summary>Drops QoS 0 messages from the spool, oldest first (while over capacity, or all of them).</summary>
    private void DropQos0Locked(bool onlyWhileOverCapacity)
    {
        var node = _queue.First;
        while (node is not null && (!onlyWhileOverCapacity || _spoolBytes > _spoolMaxBytes))
        {
            var next = node.Next;
            if (node.Value.Message.Qos == MqttQos.AtMostOnce)
            {
                _queue.Remove(node);
                _spoolBytes -= node.Value.Size;
                _dropped++;
                IoTCoreLog.Qos0Dropped(_logger, node.Value.Message.Topic);
            }

            node = next;
        }
    }

    /// <summary>Makes the cloud subscription of a device subscription; returns the retained messages it brings.</summary>
    private List<CloudMessage> CloudSubscribeLocked(IoTCoreSubscription subscription)
    {
        _cloudSubscriptions[subscription.TopicFilter] = subscription.Qos;
        if (_broker is not null)
        {
            // Subscribed when the broker grants it; the broker sends its retained messages itself.
            _ = BrokerSubscribeAsync(subscription.TopicFilter, subscription.Qos, subscription);
            return [];
        }

        subscription.MarkSubscribed();
        IoTCoreLog.Subscribed(_logger, subscription.TopicFilter, (int)subscription.Qos, "new");
        return [.. _retained.Values
            .Where(m => MqttTopics.BrokerMatches(subscription.TopicFilter, m.Topic))
            .OrderBy(m => m.Topic, StringComparer.Ordinal)
            .Select(m => m.With(retain: true, Min(m.Qos, subscription.Qos)))];
    }

    /// <summary>A message reached the cloud broker (from the device or from the cloud side): retain it, and send it to the device if subscribed.</summary>
    private CloudSendResult Route(CloudMessage message, bool fromCloud)
    {
        lock (_dispatchLock)
        {
            CloudMessage? forward = null;
            CloudSendOutcome outcome;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (fromCloud)
                {
                    _sentToDevice++;
                }

                if (message.Retain)
                {
                    if (message.Payload.IsEmpty)
                    {
                        _retained.Remove(message.Topic);
                    }
                    else
                    {
                        _retained[message.Topic] = message;
                    }
                }

                MqttQos? granted = null;
                foreach (var (filter, qos) in _cloudSubscriptions)
                {
                    if (MqttTopics.BrokerMatches(filter, message.Topic) && (granted is null || qos > granted))
                    {
                        granted = qos;
                    }
                }

                if (granted is not { } subscriptionQos)
                {
                    outcome = CloudSendOutcome.NoMatchingSubscription;
                }
                else
                {
                    var qos = Min(message.Qos, subscriptionQos);
                    var copy = message.With(message.Retain, qos);
                    if (_online)
                    {
                        forward = copy;
                        outcome = CloudSendOutcome.Delivered;
                    }
                    else if (qos == MqttQos.AtLeastOnce)
                    {
                        _session.Add(copy);
                        outcome = CloudSendOutcome.QueuedUntilOnline;
                    }
                    else
                    {
                        outcome = CloudSendOutcome.DroppedDeviceOffline;
                    }
                }
            }

            var handed = forward is null ? 0 : HandToDevice(forward);
            return new CloudSendResult(outcome, handed);
        }
    }

    /// <summary>
    /// The device received a message from the cloud: it goes to every device subscription whose filter covers the
    /// topic (the Nucleus's MqttTopic matching). Called with <see cref="_dispatchLock"/> held.
    /// </summary>
    private int HandToDevice(CloudMessage message)
    {
        IoTCoreSubscription[] targets;
        lock (_lock)
        {
            targets = [.. _subscriptions.Where(s => MqttTopics.NucleusCovers(s.TopicFilter, message.Topic))];
            _deliveredToDevice += targets.Length;
        }

        if (targets.Length == 0)
        {
            IoTCoreLog.NoSubscriber(_logger, message.Topic);
        }

        foreach (var subscription in targets)
        {
            try
            {
                subscription.Handler(message);
            }
            catch (Exception ex)
            {
                IoTCoreLog.CallbackFailed(_logger, message.Topic, ex);
            }
        }

        return targets.Length;
    }

    private void RaiseStateEvents()
    {
        lock (_lock)
        {
            if (_raisingState)
            {
                return;
            }

            _raisingState = true;
        }

        while (true)
        {
            IoTCoreConnectionChangedEventArgs? args;
            lock (_lock)
            {
                if (!_stateEvents.TryDequeue(out args))
                {
                    _raisingState = false;
                    return;
                }
            }

            try
            {
                StateChanged?.Invoke(this, args);
            }
            catch (Exception ex)
            {
                IoTCoreLog.StateHandlerFailed(_logger, ex);
            }
        }
    }

    private void WakeLocked()
    {
        _wake?.TrySetResult();
        _wake = null;
    }

    /// <summary>Drains the spool to the cloud while the connection is up, in order, with the latency, journaling each message.</summary>
    private async Task DeliverAsync()
    {
        var stop = _stop.Token;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                SpoolEntry? arrived = null;
                Task wake;
                var wait = TimeSpan.Zero;
                lock (_lock)
                {
                    if (_disposed)
                    {
                        return;
                    }

                    if (_online)
                    {
                        while (_inFlight.Count < _maxInFlight && _queue.First is { } next)
                        {
                            _queue.RemoveFirst();
                            next.Value.Sent = _time.GetTimestamp();
                            next.Value.Latency = _latency;
                            _inFlight.AddLast(next.Value);
                        }

                        if (_inFlight.First is { } head)
                        {
                            wait = head.Value.Latency - _time.GetElapsedTime(head.Value.Sent);
                            if (wait <= TimeSpan.Zero)
                            {
                                _inFlight.RemoveFirst();
                                _spoolBytes -= head.Value.Size;
                                _delivered++;
                                arrived = head.Value;
                                WakeLocked();
                            }
                        }
                    }

                    _wake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wake = _wake.Task;
                }

                if (arrived is not null)
                {
                    Arrive(arrived);
                    continue;
                }

                if (wait > TimeSpan.Zero)
                {
                    using var delay = CancellationTokenSource.CreateLinkedTokenSource(stop);
                    await Task.WhenAny(Task.Delay(wait, _time, delay.Token), wake).ConfigureAwait(false);
                    await delay.CancelAsync().ConfigureAwait(false);
                }
                else
                {
                    await wake.WaitAsync(stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            IoTCoreLog.DeliveryFailed(_logger, ex);
            throw;
        }
    }

    /// <summary>A message reached the cloud: journal it, then route it as the broker does (retain, the device's own subscriptions).</summary>
    private void Arrive(SpoolEntry entry)
    {
        CloudJournalEntry? journaled = null;
        try
        {
            journaled = _journal.Append(entry.Message, _time.GetUtcNow(), entry.Component);
            IoTCoreLog.Delivered(_logger, entry.Message.Topic, journaled.Sequence);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            IoTCoreLog.JournalFailed(_logger, _journal.Path, ex);
        }

        try
        {
            Route(entry.Message, fromCloud: false);
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        if (journaled is not null)
        {
            try
            {
                MessageReceived?.Invoke(this, journaled);
            }
            catch (Exception ex)
            {
                IoTCoreLog.MessageHandlerFailed(_logger, ex);
            }
        }
    }

    private void ThrowIfBroker()
    {
        if (_broker is not null)
        {
            throw new InvalidOperationException($"The device is connected to the MQTT broker at {_broker.Description}: outages, latency and cloud messages are controls of the emulated IoT Core. Stop the broker or drop the network for an outage; publish to the broker with any MQTT client.");
        }
    }

    private void OnBrokerConnection(bool up, bool sessionPresent) => ChangeConnection(() =>
    {
        _brokerUp = up;
        _brokerSessionPresent = sessionPresent;
    });

    private void OnBrokerMessage(CloudMessage message)
    {
        lock (_dispatchLock)
        {
            HandToDevice(message);
        }
    }

    /// <summary>SUBSCRIBE at the broker; a device subscription completes when granted, fails when refused, waits for the next connection when it was lost.</summary>
    private async Task BrokerSubscribeAsync(string filter, MqttQos qos, IoTCoreSubscription? subscription)
    {
        try
        {
            var refused = await _broker!.SubscribeAsync(filter, CloudMessageMqtt.ToMqtt(qos), _stop.Token).ConfigureAwait(false);
            if (refused is null)
            {
                subscription?.MarkSubscribed();
                IoTCoreLog.Subscribed(_logger, filter, (int)qos, "granted by " + _broker.Description);
                return;
            }

            MqttLog.SubscribeRefused(_logger, filter, refused);
            lock (_lock)
            {
                if (subscription is not null && !_subscriptions.Exists(s => s != subscription && s.TopicFilter == filter))
                {
                    _cloudSubscriptions.Remove(filter);
                }
            }

            subscription?.MarkFailed(new MqttRequestException($"the broker refused the subscription: {refused}"));
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The connection went away first: the subscription is made at the next connection.
            lock (_lock)
            {
                if (subscription is not null)
                {
                    subscription.Pending = true;
                }
            }

            MqttLog.SubscribeRefused(_logger, filter, "not connected (" + ex.Message + "); again at the next connection");
            if (!_broker!.IsConnected)
            {
                OnBrokerConnection(false, false);
            }
        }
    }

    private void BrokerUnsubscribe(string filter)
    {
        if (_broker is null)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await _broker.UnsubscribeAsync(filter, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                MqttLog.SubscribeRefused(_logger, filter, "UNSUBSCRIBE failed: " + ex.Message);
            }
        });
    }

    /// <summary>Drains the spool to the broker while connected: up to the in-flight limit, each leaving the spool when acknowledged.</summary>
    private async Task DeliverToBrokerAsync()
    {
        var stop = _stop.Token;
        var toSend = new List<SpoolEntry>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                Task wake;
                lock (_lock)
                {
                    if (_disposed)
                    {
                        return;
                    }

                    if (_online)
                    {
                        while (_inFlight.Count < _maxInFlight && _queue.First is { } next)
                        {
                            _queue.RemoveFirst();
                            next.Value.Sent = _time.GetTimestamp();
                            _inFlight.AddLast(next.Value);
                            toSend.Add(next.Value);
                        }
                    }

                    _wake ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wake = _wake.Task;
                }

                if (toSend.Count > 0)
                {
                    foreach (var entry in toSend)
                    {
                        _ = SendToBrokerAsync(entry);
                    }

                    toSend.Clear();
                    continue;
                }

                await wake.WaitAsync(stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task SendToBrokerAsync(SpoolEntry entry)
    {
        BrokerPublishOutcome outcome;
        string reason;
        try
        {
            (outcome, reason) = await _broker!.PublishAsync(CloudMessageMqtt.ToMqtt(entry.Message, _broker.IsMqtt5), _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            (outcome, reason) = (BrokerPublishOutcome.Retry, ex.Message);
        }

        var connected = _broker!.IsConnected;
        var arrived = false;
        lock (_lock)
        {
            var node = _inFlight.Find(entry);
            if (node is null)
            {
                // The connection dropped first and put it back in the spool.
                return;
            }

            _inFlight.Remove(node);
            switch (outcome)
            {
                case BrokerPublishOutcome.Delivered:
                    _spoolBytes -= entry.Size;
                    _delivered++;
                    arrived = true;
                    break;
                case BrokerPublishOutcome.Refused:
                    _spoolBytes -= entry.Size;
                    _dropped++;
                    MqttLog.PublishRefused(_logger, entry.Message.Topic, reason);
                    break;
                default:
                    // Not sent because the connection is gone: back to the head, not a retry of the message.
                    if (!connected || _options.MaxPublishRetry == -1 || entry.Retried++ < _options.MaxPublishRetry)
                    {
                        _retried++;
                        _queue.AddFirst(entry);
                        MqttLog.PublishRetried(_logger, entry.Message.Topic, reason);
                    }
                    else
                    {
                        _spoolBytes -= entry.Size;
                        _dropped++;
                        IoTCoreLog.RetriesExhausted(_logger, entry.Message.Topic, _options.MaxPublishRetry);
                    }

                    break;
            }

            WakeLocked();
        }

        if (!connected)
        {
            OnBrokerConnection(false, false);
        }

        if (arrived)
        {
            Journal(entry);
        }
    }

    /// <summary>A message reached the broker: journal it (the broker routes it, to this device too if subscribed).</summary>
    private void Journal(SpoolEntry entry)
    {
        try
        {
            var journaled = _journal.Append(entry.Message, _time.GetUtcNow(), entry.Component);
            IoTCoreLog.Delivered(_logger, entry.Message.Topic, journaled.Sequence);
            MessageReceived?.Invoke(this, journaled);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            IoTCoreLog.JournalFailed(_logger, _journal.Path, ex);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            IoTCoreLog.MessageHandlerFailed(_logger, ex);
        }
    }

    private sealed class SpoolEntry(CloudMessage message, string? component, int size)
    {
        public CloudMessage Message { get; } = message;

        public string? Component { get; } = component;

        public int Size { get; } = size;

        public int Retried { get; set; }

        public long Sent { get; set; }

        public TimeSpan Latency { get; set; }
    }
}
