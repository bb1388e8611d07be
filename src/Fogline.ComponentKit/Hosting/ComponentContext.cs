using System.Buffers;
using System.Threading.Channels;
using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// What a running component uses: its IPC client, current options, counters, logger, and the host's single
/// processing loop (subscriptions and timers deliver onto it, so handlers run one at a time).
/// </summary>
/// <typeparam name="TOptions">The component's options.</typeparam>
public sealed class ComponentContext<TOptions>
    where TOptions : class
{
    private readonly Channel<WorkItem> _work;
    private readonly ComponentHostOptions _hostOptions;
    private readonly SemaphoreSlim _publishSlots;
    private readonly List<IAsyncDisposable> _subscriptions = [];
    private readonly List<ITimer> _timers = [];
    private int _queuedMessages;
    private int _criticalSections;
    private volatile bool _acceptingMessages = true;

    internal ComponentContext(string componentName, GreengrassIpcClient ipc, TOptions options, ILoggerFactory loggerFactory, ComponentHostOptions hostOptions, CancellationToken stopping)
    {
        ComponentName = componentName;
        Ipc = ipc;
        Options = options;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger(componentName);
        _hostOptions = hostOptions;
        Time = hostOptions.Time;
        Stopping = stopping;
        _publishSlots = new SemaphoreSlim(hostOptions.MaxPublishesInFlight, hostOptions.MaxPublishesInFlight);
        // Synchronous continuations: when the processing loop is idle, a message is handled on the thread that
        // delivered it (the IPC read loop) instead of waking another thread first; while the loop is busy, messages
        // queue and are handled in order, one at a time, as before.
        _work = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = true });
        InboundDepth = Counters.Get("inbound_depth");
    }

    /// <summary>The component's name.</summary>
    public string ComponentName { get; }

    /// <summary>The IPC client (connected as this component).</summary>
    public GreengrassIpcClient Ipc { get; }

    /// <summary>The current options; replaced (before <see cref="FoglineComponent{T}.OnOptionsChangedAsync"/>) when a valid update arrives.</summary>
    public TOptions Options { get; internal set; }

    /// <summary>Creates loggers writing the component's structured log lines.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>The component's logger.</summary>
    public ILogger Logger { get; }

    /// <summary>The component's counters (published on <c>fogline/metrics/{component}</c>).</summary>
    public ComponentCounters Counters { get; } = new();

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; }

    /// <summary>Cancelled when the component is asked to stop (SIGTERM).</summary>
    public CancellationToken Stopping { get; }

    /// <summary>Whether a critical section is open (component updates are deferred meanwhile).</summary>
    public bool InCriticalSection => Volatile.Read(ref _criticalSections) > 0;

    private Counter InboundDepth { get; }

    /// <summary>
    /// Subscribes to local pub/sub <paramref name="topic"/> (MQTT-style wildcards allowed); each message's payload (a
    /// binary message, or a JSON message as its UTF-8 JSON) is handed to <paramref name="handler"/> on the processing
    /// loop. When <see cref="ComponentHostOptions.InboundCapacity"/> messages are waiting, new ones are dropped and counted.
    /// A handler that throws is logged and counted; the next message is handled as usual.
    /// </summary>
    public async Task SubscribeAsync(string topic, Func<string, ReadOnlyMemory<byte>, ValueTask> handler, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var stream = await Ipc.SubscribeToTopicAsync(
            new SubscribeToTopicRequest { Topic = topic },
            evt => OnMessage(topic, evt, handler),
            cancellationToken).ConfigureAwait(false);
        lock (_subscriptions)
        {
            _subscriptions.Add(stream);
        }
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> as a binary message on local pub/sub. The payload is copied, so the caller
    /// may reuse its buffer at once; at most <see cref="ComponentHostOptions.MaxPublishesInFlight"/> publishes are in
    /// flight (the call waits for a slot). A failed publish is logged and counted (<c>errors</c>, <c>dropped</c>).
    /// </summary>
    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        await _publishSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var rented = ArrayPool<byte>.Shared.Rent(payload.Length);
        payload.Span.CopyTo(rented);
        Task call;
        try
        {
            call = Ipc.PublishToTopicAsync(
                new PublishToTopicRequest
                {
                    Topic = topic,
                    PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = rented.AsMemory(0, payload.Length) } },
                },
                CancellationToken.None);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(rented);
            _publishSlots.Release();
            throw;
        }

        _ = CompletePublishAsync(call, topic, rented);
    }

    /// <summary>Runs <paramref name="tick"/> on the processing loop every <paramref name="period"/> until the component stops.</summary>
    public void Every(TimeSpan period, Func<CancellationToken, ValueTask> tick)
    {
        ArgumentNullException.ThrowIfNull(tick);
        var timer = Time.CreateTimer(_ => _work.Writer.TryWrite(WorkItem.ForTick(tick)), null, period, period);
        lock (_timers)
        {
            _timers.Add(timer);
        }
    }

    /// <summary>
    /// Opens a critical section: until it is disposed, component updates (deployments of a new version) are deferred
    /// with DeferComponentUpdate, as the Nucleus allows.
    /// </summary>
    public IDisposable BeginCritical()
    {
        Interlocked.Increment(ref _criticalSections);
        return new CriticalSection(this);
    }

    internal ChannelReader<WorkItem> Work => _work.Reader;

    internal ValueTask PostAsync(WorkItem item) => _work.Writer.WriteAsync(item);

    internal void MessageHandled()
    {
        var depth = Interlocked.Decrement(ref _queuedMessages);
        InboundDepth.Set(depth);
    }

    internal async Task StopAcceptingAsync()
    {
        _acceptingMessages = false;
        lock (_timers)
        {
            foreach (var t in _timers)
            {
                t.Dispose();
            }

            _timers.Clear();
        }

        IAsyncDisposable[] subscriptions;
        lock (_subscriptions)
        {
            subscriptions = [.. _subscriptions];
            _subscriptions.Clear();
        }

        foreach (var s in subscriptions)
        {
            try
            {
                await s.DisposeAsync().ConfigureAwait(false);
            }
            catch (GreengrassIpcException)
            {
                // The connection may already be gone; nothing is lost by not closing the stream politely.
            }
        }
    }

    internal void CompleteWork() => _work.Writer.TryComplete();

    /// <summary>Waits until every publish in flight has completed (or the token fires).</summary>
    internal async Task WaitForPublishesAsync(CancellationToken cancellationToken)
    {
        var max = _hostOptions.MaxPublishesInFlight;
        var taken = 0;
        try
        {
            for (; taken < max; taken++)
            {
                await _publishSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (taken > 0)
            {
                _publishSlots.Release(taken);
            }
        }
    }

    private void OnMessage(string subscription, SubscriptionResponseMessage evt, Func<string, ReadOnlyMemory<byte>, ValueTask> handler)
    {
        Counters.Received.Increment();
        if (!_acceptingMessages)
        {
            Counters.Dropped.Increment();
            return;
        }

        ReadOnlyMemory<byte> payload;
        string topic;
        if (evt.BinaryMessage is { } binary)
        {
            payload = binary.Message ?? ReadOnlyMemory<byte>.Empty;
            topic = binary.Context?.Topic ?? subscription;
        }
        else if (evt.JsonMessage is { } json)
        {
            payload = json.Message is { } element ? System.Text.Encoding.UTF8.GetBytes(element.GetRawText()) : ReadOnlyMemory<byte>.Empty;
            topic = json.Context?.Topic ?? subscription;
        }
        else
        {
            Counters.Rejected.Increment();
            return;
        }

        if (Interlocked.Increment(ref _queuedMessages) > _hostOptions.InboundCapacity)
        {
            Interlocked.Decrement(ref _queuedMessages);
            Counters.Dropped.Increment();
            return;
        }

        if (!_work.Writer.TryWrite(WorkItem.ForMessage(topic, payload, handler)))
        {
            Interlocked.Decrement(ref _queuedMessages);
            Counters.Dropped.Increment();
        }
    }

    private async Task CompletePublishAsync(Task call, string topic, byte[] rented)
    {
        try
        {
            await call.ConfigureAwait(false);
            Counters.Published.Increment();
        }
        catch (Exception e) when (e is GreengrassIpcException or OperationCanceledException)
        {
            Counters.Errors.Increment();
            Counters.Dropped.Increment();
            HostLog.PublishFailed(Logger, topic, e.Message);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
            _publishSlots.Release();
        }
    }

    private sealed class CriticalSection(ComponentContext<TOptions> owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._criticalSections);
            }
        }
    }
}

/// <summary>One unit of work for the processing loop.</summary>
internal readonly record struct WorkItem(
    WorkKind Kind,
    string? Topic,
    ReadOnlyMemory<byte> Payload,
    Func<string, ReadOnlyMemory<byte>, ValueTask>? Handler,
    Func<CancellationToken, ValueTask>? Action)
{
    public static WorkItem ForMessage(string topic, ReadOnlyMemory<byte> payload, Func<string, ReadOnlyMemory<byte>, ValueTask> handler) =>
        new(WorkKind.Message, topic, payload, handler, null);

    public static WorkItem ForTick(Func<CancellationToken, ValueTask> tick) => new(WorkKind.Tick, null, default, null, tick);

    public static WorkItem ForControl(Func<CancellationToken, ValueTask> action) => new(WorkKind.Control, null, default, null, action);
}

/// <summary>Kinds of work.</summary>
internal enum WorkKind
{
    Message,
    Tick,
    Control,
}
