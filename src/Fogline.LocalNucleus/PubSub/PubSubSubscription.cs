using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.PubSub;

/// <summary>
/// One subscriber of local publish/subscribe: an IPC SubscribeToTopic stream, or an in-process callback. Messages for
/// it wait in its own bounded queue (<see cref="PubSubOptions.SubscriberQueueCapacity"/>), in the order they were
/// published, and are handed over by its own pump, one at a time: a subscriber that is slow (or whose client does not
/// read) holds up only itself. When its queue is full, the oldest queued message is dropped and counted. The pump
/// runs only while there is something to deliver. Dispose to unsubscribe (an IPC stream is then closed too).
/// </summary>
public sealed class PubSubSubscription : IDisposable
{
    private readonly LocalPubSub _owner;
    private readonly IpcEventStream<SubscriptionResponseMessage>? _events;
    private readonly Action<string, ReadOnlyMemory<byte>>? _callback;
    private readonly CancellationToken _ended;
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private readonly PumpStart _pumpStart;
    private Fogline.EventStream.Transport.IdleGate _arrivals;
    private PublishedMessage?[] _queue = [];
    private int _head;
    private int _count;
    private bool _pumping;
    private bool _dropping;
    private bool _closed;
    private long _matched;
    private long _dropped;
    private long _delivered;

    internal PubSubSubscription(LocalPubSub owner, string topic, string[] levels, string component, ReceiveMode receiveMode, int capacity, IpcEventStream<SubscriptionResponseMessage>? events, Action<string, ReadOnlyMemory<byte>>? callback)
    {
        _owner = owner;
        Topic = topic;
        Levels = levels;
        Component = component;
        ReceiveMode = receiveMode;
        _capacity = capacity;
        _events = events;
        _callback = callback;
        _ended = events?.Closed ?? CancellationToken.None;
        _pumpStart = new PumpStart(this);
    }

    /// <summary>The topic filter subscribed to.</summary>
    public string Topic { get; }

    /// <summary>The subscribing component (for in-process subscribers, the name they gave, or <c>(host)</c>).</summary>
    public string Component { get; }

    /// <summary>The receive mode in force (the default applied when none was asked for).</summary>
    public ReceiveMode ReceiveMode { get; }

    /// <summary>Whether this is an IPC stream (otherwise an in-process callback).</summary>
    public bool IsIpc => _events is not null;

    /// <summary>Whether it has been unsubscribed (stream closed, connection lost, or disposed).</summary>
    public bool IsClosed
    {
        get
        {
            lock (_lock)
            {
                return _closed;
            }
        }
    }

    /// <summary>Messages published to a topic its filter matches (and for it by its receive mode): delivered, queued or dropped.</summary>
    public long MatchedMessages => Interlocked.Read(ref _matched);

    /// <summary>Messages dropped because its queue was full.</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>Messages handed to the stream or the callback.</summary>
    public long DeliveredMessages => Interlocked.Read(ref _delivered);

    /// <summary>Messages waiting in its queue.</summary>
    public int QueuedMessages
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Whether its pump is running (there is or was just something to deliver).</summary>
    public bool IsPumping
    {
        get
        {
            lock (_lock)
            {
                return _pumping;
            }
        }
    }

    internal string[] Levels { get; }

    /// <summary>Used by the trie, under its lock, to match each subscription once per publish.</summary>
    internal long MatchStamp { get; set; }

    /// <summary>Unsubscribes; an IPC stream is closed.</summary>
    public void Dispose() => Close(closeStream: true);

    /// <summary>Whether a message published by <paramref name="source"/> is for this subscriber (its receive mode).</summary>
    internal bool Accepts(string? source) =>
        source is null || ReceiveMode != ReceiveMode.ReceiveMessagesFromOthers || !string.Equals(source, Component, StringComparison.Ordinal);

    /// <summary>Releases the subscription because its stream ended (the client closed it or the connection went).</summary>
    internal void Release() => Close(closeStream: false);

    /// <summary>Queues a message; never blocks. Drops the oldest queued message when the queue is full.</summary>
    internal void Enqueue(PublishedMessage message)
    {
        var startPump = false;
        var startedDropping = false;
        var afterQuiet = false;
        long dropped = 0;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            afterQuiet = _arrivals.ArrivesAfterQuiet();

            Interlocked.Increment(ref _matched);
            if (_count == _capacity)
            {
                _queue[_head] = null;
                _head = (_head + 1) % _queue.Length;
                _count--;
                dropped = Interlocked.Increment(ref _dropped);
                if (!_dropping)
                {
                    _dropping = true;
                    startedDropping = true;
                }
            }

            if (_count == _queue.Length)
            {
                Grow();
            }

            _queue[(_head + _count) % _queue.Length] = message;
            _count++;
            if (!_pumping)
            {
                _pumping = true;
                startPump = true;
            }
        }

        if (dropped > 0)
        {
            _owner.OnDropped(this, startedDropping, dropped, _capacity);
        }

        if (startPump)
        {
            if (_events is not null && afterQuiet)
            {
                // An IPC subscriber after a quiet spell: delivered now, on the publisher's thread (no thread-pool
                // wake-up). When messages come fast the pump runs on the thread pool, so a fan-out uses both cores and
                // the messages that gather meanwhile leave together (see IdleGate). Callbacks always go to the pool.
                _ = PumpAsync();
            }
            else
            {
                ThreadPool.UnsafeQueueUserWorkItem(_pumpStart, preferLocal: false);
            }
        }
    }

    private void Close(bool closeStream)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _queue = [];
            _head = 0;
            _count = 0;
        }

        _owner.Remove(this);
        if (closeStream && _events is { IsClosed: false } events)
        {
            _ = CloseStreamAsync(events);
        }
    }

    private static async Task CloseStreamAsync(IpcEventStream<SubscriptionResponseMessage> events)
    {
        try
        {
            await events.CloseAsync().ConfigureAwait(false);
        }
        catch (RpcException)
        {
        }
    }

    private void Grow()
    {
        var size = Math.Min(_capacity, Math.Max(4, _queue.Length * 2));
        var grown = new PublishedMessage?[size];
        for (var i = 0; i < _count; i++)
        {
            grown[i] = _queue[(_head + i) % _queue.Length];
        }

        _queue = grown;
        _head = 0;
    }

    private async Task PumpAsync()
    {
        while (TryTake(out var message))
        {
            if (!await DeliverAsync(message).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    // Takes the next message; when there is none, the pump stops (under the lock, so that the next Enqueue starts
    // another one).
    private bool TryTake(out PublishedMessage message)
    {
        var caughtUp = false;
        lock (_lock)
        {
            if (!_closed && _count > 0)
            {
                message = _queue[_head]!;
                _queue[_head] = null;
                _head = (_head + 1) % _queue.Length;
                _count--;
                return true;
            }

            _pumping = false;
            if (!_closed)
            {
                caughtUp = _dropping;
                _dropping = false;

                // Give back what a burst made the queue grow to.
                if (_queue.Length > 64)
                {
                    _queue = [];
                    _head = 0;
                }
            }
        }

        if (caughtUp)
        {
            _owner.OnCaughtUp(this, DroppedMessages);
        }

        message = null!;
        return false;
    }

    private async ValueTask<bool> DeliverAsync(PublishedMessage message)
    {
        if (_events is { } events)
        {
            if (message.EventJson is not { } json)
            {
                return true;
            }

            try
            {
                await events.SendSerializedAsync(json, _ended).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                // The stream or its connection ended: whatever was queued goes with it.
                lock (_lock)
                {
                    _pumping = false;
                }

                _owner.OnDeliveryEnded(this, ex.Message);
                Release();
                return false;
            }
        }
        else
        {
            try
            {
                _callback!(message.Topic, message.Payload);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                _owner.OnCallbackFailed(this, message.Topic, ex);
            }
        }

        Interlocked.Increment(ref _delivered);
        return true;
    }

    // Starts the pump on the thread pool, without an allocation per start.
    private sealed class PumpStart(PubSubSubscription subscription) : IThreadPoolWorkItem
    {
        public void Execute() => _ = subscription.PumpAsync();
    }
}
