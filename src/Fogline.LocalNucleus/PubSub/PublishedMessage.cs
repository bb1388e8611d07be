namespace Fogline.LocalNucleus.PubSub;

/// <summary>
/// One published message, shared by every subscriber it goes to: serialised once per publish, never copied per
/// subscriber, and immutable.
/// </summary>
internal sealed class PublishedMessage
{
    public PublishedMessage(string topic, byte[]? eventJson, ReadOnlyMemory<byte> payload)
    {
        Topic = topic;
        EventJson = eventJson;
        Payload = payload;
    }

    /// <summary>The topic it was published to (the subscribers' MessageContext.topic).</summary>
    public string Topic { get; }

    /// <summary>
    /// The UTF-8 JSON of the SubscriptionResponseMessage event that IPC subscribers get; null when the Nucleus could
    /// not write it (then IPC subscribers do not get the message).
    /// </summary>
    public byte[]? EventJson { get; }

    /// <summary>What in-process subscribers get: the binary message, or the JSON message as the Nucleus writes it.</summary>
    public ReadOnlyMemory<byte> Payload { get; }
}

/// <summary>What a publish carries, once read from the request.</summary>
internal enum PublishKind
{
    /// <summary>Neither a JSON nor a binary message (the Nucleus accepts it and sends an empty event).</summary>
    Empty,

    /// <summary>A JSON message (the payload is its JSON as the Nucleus writes it).</summary>
    Json,

    /// <summary>A binary message.</summary>
    Binary,
}
