using System.Text;
using System.Text.Json;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>Hand-built eventstream RPC frames, for peers that must be able to break the protocol.</summary>
internal static class RpcFrames
{
    /// <summary>
    /// A frame with the protocol headers as int32 (any of them left out when null), then <paramref name="operation"/>
    /// and the extra headers.
    /// </summary>
    public static byte[] Build(MessageType? type, MessageFlags? flags, int? streamId, string? operation = null, string? payload = null, params EventStreamHeader[] extra)
    {
        var headers = new List<EventStreamHeader>();
        if (type is { } t)
        {
            headers.Add(EventStreamHeader.FromInt32(RpcHeaders.MessageType, (int)t));
        }

        if (flags is { } f)
        {
            headers.Add(EventStreamHeader.FromInt32(RpcHeaders.MessageFlags, (int)f));
        }

        if (streamId is { } id)
        {
            headers.Add(EventStreamHeader.FromInt32(RpcHeaders.StreamId, id));
        }

        if (operation is not null)
        {
            headers.Add(EventStreamHeader.FromString(RpcHeaders.Operation, operation));
        }

        headers.AddRange(extra);
        return FrameEncoder.Encode([.. headers], Encoding.UTF8.GetBytes(payload ?? string.Empty));
    }

    public static string AuthPayload(string token) => JsonSerializer.Serialize(new Dictionary<string, string> { ["authToken"] = token });

    public static byte[] Connect(string token = EchoService.GoodToken, string? version = RpcHeaders.ProtocolVersion) =>
        version is null
            ? Build(MessageType.Connect, MessageFlags.None, 0, payload: AuthPayload(token))
            : Build(MessageType.Connect, MessageFlags.None, 0, payload: AuthPayload(token), extra: EventStreamHeader.FromString(RpcHeaders.Version, version));

    public static byte[] Message(int streamId, string? operation = null, string payload = "", MessageFlags flags = MessageFlags.None) =>
        Build(MessageType.ApplicationMessage, flags, streamId, operation, payload);

    public static MessageType TypeOf(EventStreamMessage message) => (MessageType)Int(message, RpcHeaders.MessageType);

    public static MessageFlags FlagsOf(EventStreamMessage message) => (MessageFlags)Int(message, RpcHeaders.MessageFlags);

    public static int StreamIdOf(EventStreamMessage message) => Int(message, RpcHeaders.StreamId);

    public static string? StringHeader(EventStreamMessage message, string name)
    {
        foreach (var header in message.Headers)
        {
            if (header.Name == name && header.Type == HeaderType.String)
            {
                return header.StringValue;
            }
        }

        return null;
    }

    public static string PayloadText(EventStreamMessage message) => Encoding.UTF8.GetString(message.Payload.Span);

    public static string Describe(EventStreamMessage message) =>
        $"{TypeOf(message)} flags={FlagsOf(message)} stream={StreamIdOf(message)} payload='{PayloadText(message)}'";

    private static int Int(EventStreamMessage message, string name)
    {
        foreach (var header in message.Headers)
        {
            if (header.Name == name && header.Type == HeaderType.Int32)
            {
                return (int)header.IntegerValue;
            }
        }

        throw new AssertionException($"The message has no int32 {name} header.");
    }
}
