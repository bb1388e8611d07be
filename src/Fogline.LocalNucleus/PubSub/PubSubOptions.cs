namespace Fogline.LocalNucleus.PubSub;

/// <summary>
/// How local publish/subscribe delivers messages. The Nucleus hands every message to an unbounded ordered executor per
/// subscriber; the local Nucleus bounds each subscriber instead, so that a subscriber that does not keep up cannot
/// exhaust memory or stall anyone else.
/// </summary>
public sealed class PubSubOptions
{
    /// <summary>The default <see cref="SubscriberQueueCapacity"/>: 1024 messages.</summary>
    public const int DefaultSubscriberQueueCapacity = 1024;

    /// <summary>
    /// How many messages may wait for one subscriber (an IPC SubscribeToTopic stream or an in-process subscription)
    /// while it is busy with earlier ones. When a message arrives for a subscriber whose queue is full, the OLDEST
    /// queued message is dropped to make room and counted (<see cref="PubSubSubscription.DroppedMessages"/> and
    /// <see cref="LocalPubSub.DroppedMessages"/>); the publisher is never made to wait. Default 1024; at least 1.
    /// </summary>
    public int SubscriberQueueCapacity { get; init; } = DefaultSubscriberQueueCapacity;
}
