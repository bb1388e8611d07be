using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.PubSub;

/// <summary>
/// Local publish/subscribe, as the Nucleus's PubSubIPCEventStreamAgent does it: components publish with PublishToTopic
/// and subscribe with SubscribeToTopic (authorized by the IPC service); the host and tests use <see cref="Publish"/>,
/// <see cref="PublishJson"/> and <see cref="Subscribe"/> directly.
/// <para>
/// Topic filters match as the Nucleus's SubscriptionTrie matches them (see <see cref="SubscriptionTrie"/>). A
/// subscription that does not ask for a receive mode gets RECEIVE_MESSAGES_FROM_OTHERS when its filter has a wildcard
/// and RECEIVE_ALL_MESSAGES otherwise; with RECEIVE_MESSAGES_FROM_OTHERS it does not get what its own component
/// publishes. A topic published to must not be null nor hold <c>+</c>, <c>#</c> or <c>*</c>.
/// </para>
/// <para>
/// Delivery: each published message is serialised once (the SubscriptionResponseMessage event) and the same bytes are
/// queued for every matching subscriber; every subscriber has its own bounded queue and pump (see
/// <see cref="PubSubSubscription"/>), so messages reach a subscriber in the order they were published, and a slow
/// subscriber never holds up the publisher or the other subscribers. Overflow policy: when a subscriber's queue is full
/// (<see cref="PubSubOptions.SubscriberQueueCapacity"/>), its oldest queued message is dropped and counted, per
/// subscriber (<see cref="PubSubSubscription.DroppedMessages"/>) and in total (<see cref="DroppedMessages"/>), and a
/// warning is logged when a subscriber starts dropping. The Nucleus's queues are unbounded; this is the local Nucleus's
/// addition.
/// </para>
/// </summary>
public sealed class LocalPubSub : IAsyncDisposable
{
    /// <summary>The component name in-process subscribers and publishers have when they give none.</summary>
    public const string HostName = "(host)";

    private const string PublishTopicNull = "Publish topic must not be null";
    private const string PublishTopicWildcard = "Publish topic must not contain a wildcard.";
    private const string SubscribeTopicEmpty = "Subscribe topic must not be empty";

    [ThreadStatic]
    private static List<PubSubSubscription>? t_matches;

    private readonly ILogger _logger;
    private readonly int _capacity;
    private readonly Lock _lock = new();
    private readonly SubscriptionTrie _trie = new();
    private readonly HashSet<PubSubSubscription> _all = [];
    private long _dropped;
    private long _published;
    private bool _disposed;

    internal LocalPubSub(NucleusContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = context.Options.PubSub ?? new PubSubOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.SubscriberQueueCapacity, 1, "PubSubOptions.SubscriberQueueCapacity");
        _capacity = options.SubscriberQueueCapacity;
        _logger = context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.PubSub");
    }

    /// <summary>Subscribers (IPC streams and in-process subscriptions).</summary>
    public int SubscriberCount
    {
        get
        {
            lock (_lock)
            {
                return _all.Count;
            }
        }
    }

    /// <summary>Distinct topic filters with at least one subscriber (filters the Nucleus treats alike, as <c>a</c> and <c>a/</c>, count once).</summary>
    public int TopicCount
    {
        get
        {
            lock (_lock)
            {
                return _trie.TopicCount;
            }
        }
    }

    /// <summary>Messages dropped, over all subscribers, because a subscriber's queue was full.</summary>
    public long DroppedMessages => Interlocked.Read(ref _dropped);

    /// <summary>Messages published (accepted), whether or not anyone subscribed.</summary>
    public long PublishedMessages => Interlocked.Read(ref _published);

    /// <summary>The capacity of each subscriber's queue.</summary>
    public int SubscriberQueueCapacity => _capacity;

    /// <summary>Nodes of the subscription trie (it is pruned as subscriptions go).</summary>
    internal int TrieNodeCount
    {
        get
        {
            lock (_lock)
            {
                return _trie.NodeCount;
            }
        }
    }

    /// <summary>The current subscribers, with their counters.</summary>
    public IReadOnlyList<PubSubSubscription> GetSubscribers()
    {
        lock (_lock)
        {
            return [.. _all];
        }
    }

    /// <summary>
    /// Publishes a binary message, as a component (<paramref name="source"/>, which subscribers in
    /// RECEIVE_MESSAGES_FROM_OTHERS mode of that component do not get) or as the host. Throws
    /// <see cref="InvalidArgumentsException"/> with the Nucleus's message for a null topic or one with a wildcard.
    /// </summary>
    public void Publish(string topic, ReadOnlyMemory<byte> binary, string? source = null) =>
        PublishCore(topic, source, PublishKind.Binary, binary.ToArray());

    /// <summary>
    /// Publishes a JSON message (a JSON object, as the Nucleus requires), as a component or as the host. Subscribers get
    /// it as the Nucleus passes JSON on (numbers become doubles: <c>1</c> arrives as <c>1.0</c>).
    /// </summary>
    public void PublishJson(string topic, JsonNode message, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message is not JsonObject)
        {
            throw new ArgumentException("A JSON message must be a JSON object.", nameof(message));
        }

        using var document = JsonDocument.Parse(message.ToJsonString());
        var json = PubSubJson.Normalize(document.RootElement, out var infinity);
        PublishCore(topic, source, PublishKind.Json, json, infinity);
    }

    /// <summary>
    /// Subscribes in process: <paramref name="onMessage"/> gets the topic each message was published to and its payload
    /// (the binary message, or the JSON message as UTF-8 JSON), on the subscription's own pump, one at a time, in
    /// order. <paramref name="component"/> is whom it subscribes as (for the receive mode); without
    /// <paramref name="receiveMode"/>, the Nucleus's default applies. Dispose the result to unsubscribe.
    /// </summary>
    public PubSubSubscription Subscribe(string topic, Action<string, ReadOnlyMemory<byte>> onMessage, string? component = null, ReceiveMode? receiveMode = null)
    {
        ArgumentNullException.ThrowIfNull(onMessage);
        return AddSubscription(topic, component ?? HostName, receiveMode, null, onMessage);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        PubSubSubscription[] all;
        lock (_lock)
        {
            _disposed = true;
            all = [.. _all];
        }

        foreach (var subscription in all)
        {
            subscription.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>An IPC SubscribeToTopic: the stream gets the events until it ends.</summary>
    internal PubSubSubscription SubscribeStream(string? topic, string component, ReceiveMode? receiveMode, IpcEventStream<SubscriptionResponseMessage> events) =>
        AddSubscription(topic, component, receiveMode, events, null);

    /// <summary>A publish, once the request has been read and authorized.</summary>
    internal void PublishCore(string? topic, string? source, PublishKind kind, ReadOnlyMemory<byte> payload, bool hasInfinity = false)
    {
        if (topic is null)
        {
            throw new InvalidArgumentsException(PublishTopicNull);
        }

        if (topic.AsSpan().IndexOfAny('+', '#', '*') >= 0)
        {
            throw new InvalidArgumentsException(PublishTopicWildcard);
        }

        var levels = SubscriptionTrie.Split(topic);
        var matches = t_matches ??= [];
        try
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                _trie.Match(levels, matches, source);
            }

            Interlocked.Increment(ref _published);
            if (matches.Count == 0)
            {
                PubSubLog.NoSubscribers(_logger, topic, source ?? HostName);
                return;
            }

            PubSubLog.Publishing(_logger, topic, source ?? HostName, matches.Count);
            var message = new PublishedMessage(topic, Serialize(topic, source, kind, payload, hasInfinity), payload);
            foreach (var subscription in matches)
            {
                subscription.Enqueue(message);
            }
        }
        finally
        {
            matches.Clear();
        }
    }

    internal void Remove(PubSubSubscription subscription)
    {
        lock (_lock)
        {
            if (!_all.Remove(subscription))
            {
                return;
            }

            _trie.Remove(subscription.Levels, subscription);
        }

        PubSubLog.Unsubscribed(_logger, subscription.Component, subscription.Topic);
    }

    internal void OnDropped(PubSubSubscription subscription, bool startedDropping, long dropped, int capacity)
    {
        Interlocked.Increment(ref _dropped);
        if (startedDropping)
        {
            PubSubLog.SubscriberDropping(_logger, subscription.Component, subscription.Topic, capacity, dropped);
        }
    }

    internal void OnCaughtUp(PubSubSubscription subscription, long dropped) =>
        PubSubLog.SubscriberCaughtUp(_logger, subscription.Component, subscription.Topic, dropped);

    internal void OnDeliveryEnded(PubSubSubscription subscription, string reason) =>
        PubSubLog.DeliveryEnded(_logger, subscription.Topic, subscription.Component, reason);

    internal void OnCallbackFailed(PubSubSubscription subscription, string publishedTopic, Exception exception) =>
        PubSubLog.CallbackFailed(_logger, subscription.Topic, publishedTopic, exception);

    private static ReceiveMode DefaultReceiveMode(string topic) =>
        SubscriptionTrie.IsWildcard(topic) ? ReceiveMode.ReceiveMessagesFromOthers : ReceiveMode.ReceiveAllMessages;

    private PubSubSubscription AddSubscription(string? topic, string component, ReceiveMode? receiveMode, IpcEventStream<SubscriptionResponseMessage>? events, Action<string, ReadOnlyMemory<byte>>? callback)
    {
        if (string.IsNullOrEmpty(topic))
        {
            throw new InvalidArgumentsException(SubscribeTopicEmpty);
        }

        // A receive mode the model does not define reads as none in the Nucleus (its JSON reader makes it null).
        var mode = receiveMode is { IsKnown: true } asked ? asked : DefaultReceiveMode(topic);
        var subscription = new PubSubSubscription(this, topic, SubscriptionTrie.Split(topic), component, mode, _capacity, events, callback);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _all.Add(subscription);
            _trie.Add(subscription.Levels, subscription);
        }

        PubSubLog.Subscribed(_logger, component, topic, mode.Value);
        return subscription;
    }

    private byte[]? Serialize(string topic, string? source, PublishKind kind, ReadOnlyMemory<byte> payload, bool hasInfinity)
    {
        var context = new MessageContext { Topic = topic };
        SubscriptionResponseMessage message;
        switch (kind)
        {
            case PublishKind.Json:
                if (hasInfinity)
                {
                    PubSubLog.NotSendable(_logger, topic, source ?? HostName);
                    return null;
                }

                var reader = new Utf8JsonReader(payload.Span);
                message = new SubscriptionResponseMessage
                {
                    JsonMessage = new JsonMessage { Message = JsonElement.ParseValue(ref reader), Context = context },
                };
                break;
            case PublishKind.Binary:
                message = new SubscriptionResponseMessage { BinaryMessage = new BinaryMessage { Message = payload, Context = context } };
                break;
            default:
                message = new SubscriptionResponseMessage();
                break;
        }

        return JsonSerializer.SerializeToUtf8Bytes(message, GreengrassCoreIpcJsonContext.Default.SubscriptionResponseMessage);
    }
}
