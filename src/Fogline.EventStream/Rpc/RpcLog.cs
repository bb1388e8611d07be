using Microsoft.Extensions.Logging;

namespace Fogline.EventStream.Rpc;

/// <summary>Log messages of the RPC layer, with stable event ids (1000-1099).</summary>
internal static partial class RpcLog
{
    [LoggerMessage(1000, LogLevel.Warning, "{Connection}: malformed frame, closing the connection: {Reason}")]
    public static partial void MalformedFrame(ILogger logger, string connection, string reason);

    [LoggerMessage(1001, LogLevel.Warning, "{Connection}: protocol violation, sending ProtocolError and closing: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string connection, string reason);

    [LoggerMessage(1002, LogLevel.Warning, "{Connection}: the peer sent {MessageType}: {Payload}")]
    public static partial void PeerError(ILogger logger, string connection, MessageType messageType, string payload);

    [LoggerMessage(1003, LogLevel.Debug, "{Connection}: closed ({Reason})")]
    public static partial void Closed(ILogger logger, string connection, string reason);

    [LoggerMessage(1004, LogLevel.Information, "{Connection}: connection accepted for {Identity}")]
    public static partial void ConnectionAccepted(ILogger logger, string connection, string identity);

    [LoggerMessage(1005, LogLevel.Warning, "{Connection}: connection rejected: {Reason}")]
    public static partial void ConnectionRejected(ILogger logger, string connection, string reason);

    [LoggerMessage(1006, LogLevel.Warning, "{Connection}: no Connect message within {Timeout}; closing")]
    public static partial void ConnectTimeout(ILogger logger, string connection, TimeSpan timeout);

    [LoggerMessage(1007, LogLevel.Debug, "{Connection}: message for stream {StreamId}, which is not open; ignored")]
    public static partial void UnknownStream(ILogger logger, string connection, int streamId);

    [LoggerMessage(1008, LogLevel.Warning, "{Connection}: the connection ended in the middle of a frame ({Bytes} bytes pending)")]
    public static partial void TruncatedAtClose(ILogger logger, string connection, long bytes);

    [LoggerMessage(1009, LogLevel.Error, "{Connection}: stream handler for {Operation} threw")]
    public static partial void HandlerFailed(ILogger logger, string connection, string operation, Exception exception);

    [LoggerMessage(1010, LogLevel.Information, "{Connection}: unsupported operation {Operation}")]
    public static partial void UnsupportedOperation(ILogger logger, string connection, string operation);

    [LoggerMessage(1011, LogLevel.Error, "RPC server on {Path}: accept failed")]
    public static partial void AcceptFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(1012, LogLevel.Debug, "{Connection}: unexpected {MessageType} on stream 0; ignored")]
    public static partial void UnexpectedMessage(ILogger logger, string connection, MessageType messageType);

    [LoggerMessage(1013, LogLevel.Error, "{Connection}: authentication handler threw; rejecting")]
    public static partial void AuthenticationFailed(ILogger logger, string connection, Exception exception);
}
