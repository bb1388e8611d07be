using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.PubSub;

/// <summary>Log messages of local publish/subscribe (event ids 2200-2299). Message payloads are never logged.</summary>
internal static partial class PubSubLog
{
    [LoggerMessage(2200, LogLevel.Debug, "{Component} subscribed to topic {Topic} ({ReceiveMode})")]
    public static partial void Subscribed(ILogger logger, string component, string topic, string receiveMode);

    [LoggerMessage(2201, LogLevel.Debug, "{Component} unsubscribed from topic {Topic}")]
    public static partial void Unsubscribed(ILogger logger, string component, string topic);

    [LoggerMessage(2202, LogLevel.Debug, "No one subscribed to topic {Topic} published by {Component}. Returning.")]
    public static partial void NoSubscribers(ILogger logger, string topic, string component);

    [LoggerMessage(2203, LogLevel.Trace, "Sending publish event for topic {Topic} from {Component} to {Subscribers} subscribers")]
    public static partial void Publishing(ILogger logger, string topic, string component, int subscribers);

    [LoggerMessage(2204, LogLevel.Warning, "Subscriber {Component} of {Topic} is not keeping up: its queue of {Capacity} messages is full, so the oldest queued messages are dropped ({Dropped} dropped by this subscriber so far)")]
    public static partial void SubscriberDropping(ILogger logger, string component, string topic, int capacity, long dropped);

    [LoggerMessage(2205, LogLevel.Information, "Subscriber {Component} of {Topic} caught up ({Dropped} messages dropped by this subscriber so far)")]
    public static partial void SubscriberCaughtUp(ILogger logger, string component, string topic, long dropped);

    [LoggerMessage(2206, LogLevel.Error, "The in-process subscriber of {Topic} failed on a message published to {PublishedTopic}")]
    public static partial void CallbackFailed(ILogger logger, string topic, string publishedTopic, Exception exception);

    [LoggerMessage(2207, LogLevel.Debug, "Stopped delivering {Topic} to {Component}: {Reason}")]
    public static partial void DeliveryEnded(ILogger logger, string topic, string component, string reason);

    [LoggerMessage(2208, LogLevel.Error, "A JSON message published to {Topic} by {Component} holds a number outside the range of a double; as in the Nucleus (whose JSON writer refuses infinities) it is not sent to IPC subscribers")]
    public static partial void NotSendable(ILogger logger, string topic, string component);
}
