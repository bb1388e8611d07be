namespace Fogline.EventStream.Rpc;

/// <summary>Names and fixed values of the headers the eventstream RPC protocol defines.</summary>
public static class RpcHeaders
{
    /// <summary><c>:message-type</c>, int32.</summary>
    public const string MessageType = ":message-type";

    /// <summary><c>:message-flags</c>, int32.</summary>
    public const string MessageFlags = ":message-flags";

    /// <summary><c>:stream-id</c>, int32; 0 for connection-level messages.</summary>
    public const string StreamId = ":stream-id";

    /// <summary><c>operation</c>, string; on the first message of a stream.</summary>
    public const string Operation = "operation";

    /// <summary><c>service-model-type</c>, string: the modeled shape of the payload.</summary>
    public const string ServiceModelType = "service-model-type";

    /// <summary><c>:content-type</c>, string.</summary>
    public const string ContentType = ":content-type";

    /// <summary><c>:version</c>, string; on Connect.</summary>
    public const string Version = ":version";

    /// <summary>The protocol version the client sends and the server requires.</summary>
    public const string ProtocolVersion = "0.1.0";

    /// <summary>JSON payloads.</summary>
    public const string ContentTypeJson = "application/json";

    /// <summary>Plain-text payloads (unmodeled errors).</summary>
    public const string ContentTypeText = "text/plain";

    internal static ReadOnlySpan<byte> MessageTypeUtf8 => ":message-type"u8;

    internal static ReadOnlySpan<byte> MessageFlagsUtf8 => ":message-flags"u8;

    internal static ReadOnlySpan<byte> StreamIdUtf8 => ":stream-id"u8;

    internal static ReadOnlySpan<byte> OperationUtf8 => "operation"u8;

    internal static ReadOnlySpan<byte> ServiceModelTypeUtf8 => "service-model-type"u8;

    internal static ReadOnlySpan<byte> ContentTypeUtf8 => ":content-type"u8;

    internal static ReadOnlySpan<byte> VersionUtf8 => ":version"u8;
}
