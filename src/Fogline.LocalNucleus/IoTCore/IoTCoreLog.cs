using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.IoTCore;

/// <summary>Log messages of the emulated AWS IoT Core and its IPC operations (event ids 2300-2399). Payloads are never logged.</summary>
internal static partial class IoTCoreLog
{
    [LoggerMessage(2300, LogLevel.Information, "Spooler has been configured: maxSizeInBytes {MaxBytes}, keepQos0WhenOffline {KeepQos0}; maxMessageSizeInBytes {MaxMessage}, maxInFlightPublishes {MaxInFlight}")]
    public static partial void Configured(ILogger logger, long maxBytes, bool keepQos0, int maxMessage, int maxInFlight);

    [LoggerMessage(2301, LogLevel.Information, "Connection to AWS IoT Core {State}")]
    public static partial void ConnectionChanged(ILogger logger, string state);

    [LoggerMessage(2302, LogLevel.Debug, "{Component} published to {Topic} (QoS {Qos}, {Size} bytes); spool holds {SpoolMessages} messages, {SpoolBytes} bytes")]
    public static partial void Spooled(ILogger logger, string? component, string topic, int qos, int size, int spoolMessages, long spoolBytes);

    [LoggerMessage(2303, LogLevel.Debug, "Publish of {Component} to {Topic} refused: {Reason}")]
    public static partial void PublishRefused(ILogger logger, string? component, string topic, string reason);

    [LoggerMessage(2304, LogLevel.Trace, "Message on {Topic} reached the cloud (journal entry {Sequence})")]
    public static partial void Delivered(ILogger logger, string topic, long sequence);

    [LoggerMessage(2305, LogLevel.Debug, "The spooler is configured to drop QoS 0 when offline. Dropping message on {Topic} now.")]
    public static partial void Qos0Dropped(ILogger logger, string topic);

    [LoggerMessage(2306, LogLevel.Error, "Failed to publish the message on {Topic} via Spooler after retried {Retries} times and will drop the message")]
    public static partial void RetriesExhausted(ILogger logger, string topic, int retries);

    [LoggerMessage(2307, LogLevel.Error, "Unable to write the cloud journal {Path}")]
    public static partial void JournalFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(2308, LogLevel.Debug, "Subscribed to {Topic} (QoS {Qos}); cloud subscription {CloudSubscription}")]
    public static partial void Subscribed(ILogger logger, string topic, int qos, string cloudSubscription);

    [LoggerMessage(2309, LogLevel.Debug, "Unsubscribed from {Topic}; cloud subscriptions removed: {Removed}")]
    public static partial void Unsubscribed(ILogger logger, string topic, int removed);

    [LoggerMessage(2310, LogLevel.Error, "Somehow got message from topic {Topic} that no one subscribed to")]
    public static partial void NoSubscriber(ILogger logger, string topic);

    [LoggerMessage(2311, LogLevel.Debug, "Cloud sent a message on {Topic} (QoS {Qos}): {Outcome}, {Subscribers} device subscriptions")]
    public static partial void SentToDevice(ILogger logger, string topic, int qos, CloudSendOutcome outcome, int subscribers);

    [LoggerMessage(2312, LogLevel.Error, "Unhandled error in MQTT message callback for {Topic}")]
    public static partial void CallbackFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(2313, LogLevel.Information, "Outage scheduled: {Description}")]
    public static partial void OutageScheduled(ILogger logger, string description);

    [LoggerMessage(2314, LogLevel.Error, "Unhandled error in the IoT Core connection state handler")]
    public static partial void StateHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(2315, LogLevel.Error, "Unhandled error in the cloud message handler")]
    public static partial void MessageHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(2316, LogLevel.Error, "The delivery of spooled messages to the cloud stopped")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception);

    [LoggerMessage(2320, LogLevel.Information, "Not Authorized: {Error}")]
    public static partial void NotAuthorized(ILogger logger, string error);

    [LoggerMessage(2321, LogLevel.Error, "{Component}: {Error}")]
    public static partial void InvalidRequest(ILogger logger, string component, string error);

    [LoggerMessage(2322, LogLevel.Error, "Unable to subscribe {Component} to topic {Topic}")]
    public static partial void SubscribeFailed(ILogger logger, string component, string topic, Exception exception);

    [LoggerMessage(2323, LogLevel.Debug, "Subscriber {Component} of {Topic} is gone; its messages are no longer sent")]
    public static partial void SubscriberGone(ILogger logger, string component, string topic);
}
