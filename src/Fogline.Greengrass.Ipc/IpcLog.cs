using Microsoft.Extensions.Logging;

namespace Fogline.Greengrass.Ipc;

/// <summary>Log messages of the Greengrass IPC layer, with stable event ids (1100-1199).</summary>
internal static partial class IpcLog
{
    [LoggerMessage(1100, LogLevel.Warning, "{Connection}: {Operation}: bad request: {Reason}")]
    public static partial void BadRequest(ILogger logger, string connection, string operation, string reason);

    [LoggerMessage(1101, LogLevel.Debug, "{Connection}: {Operation} answered {ErrorCode}: {Message}")]
    public static partial void ModeledError(ILogger logger, string connection, string operation, string errorCode, string message);

    [LoggerMessage(1102, LogLevel.Information, "{Connection}: {Operation} is not served here; answered Unsupported Operation")]
    public static partial void NotServed(ILogger logger, string connection, string operation);

    [LoggerMessage(1103, LogLevel.Error, "{Connection}: {Operation} failed; answered InternalServerError")]
    public static partial void HandlerFailed(ILogger logger, string connection, string operation, Exception exception);

    [LoggerMessage(1104, LogLevel.Warning, "{Operation}: an event could not be read and was skipped: {Reason}")]
    public static partial void BadEvent(ILogger logger, string operation, string reason);

    [LoggerMessage(1105, LogLevel.Warning, "{Operation}: the event handler threw; the stream goes on")]
    public static partial void EventHandlerFailed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(1106, LogLevel.Warning, "{Operation}: the event queue is full ({Capacity}); dropping events ({Mode})")]
    public static partial void EventsDropped(ILogger logger, string operation, int capacity, IpcStreamFullMode mode);

    [LoggerMessage(1107, LogLevel.Information, "Connected to the Greengrass IPC server at {SocketPath}")]
    public static partial void Connected(ILogger logger, string socketPath);

    [LoggerMessage(1108, LogLevel.Warning, "The connection to the Greengrass IPC server was lost: {Reason}")]
    public static partial void ConnectionLost(ILogger logger, string reason);

    [LoggerMessage(1109, LogLevel.Information, "Reconnecting to the Greengrass IPC server (attempt {Attempt} of {MaxAttempts}) in {Delay}")]
    public static partial void Reconnecting(ILogger logger, int attempt, int maxAttempts, TimeSpan delay);
}
