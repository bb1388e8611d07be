using Fogline.EventStream.Framing;

namespace Fogline.EventStream.Rpc;

/// <summary>
/// A message to send. The RPC layer adds <c>:message-type</c>, <c>:message-flags</c> and <c>:stream-id</c> (and
/// <c>operation</c> on the first message of a client stream); the optional string headers below are added when set.
/// Building one allocates nothing.
/// </summary>
public readonly record struct RpcOutgoingMessage
{
    /// <summary>The message type (default <see cref="MessageType.ApplicationMessage"/>).</summary>
    public MessageType Type { get; init; }

    /// <summary>The flags (default none).</summary>
    public MessageFlags Flags { get; init; }

    /// <summary>The <c>:content-type</c> header, when set.</summary>
    public string? ContentType { get; init; }

    /// <summary>The <c>service-model-type</c> header, when set.</summary>
    public string? ServiceModelType { get; init; }

    /// <summary>Further headers, written after the protocol headers.</summary>
    public IReadOnlyList<EventStreamHeader>? Headers { get; init; }

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }
}
