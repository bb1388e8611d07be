namespace Fogline.Greengrass.Ipc;

/// <summary>Base of every exception the Greengrass IPC layer throws.</summary>
public class GreengrassIpcException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GreengrassIpcException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A modeled error of the service (UnauthorizedError, ResourceNotFoundError, …). Each error shape has its own
/// generated subclass (<see cref="UnauthorizedException"/>, …) carrying the shape in <c>Error</c>.
/// </summary>
public abstract class GreengrassIpcServiceException : GreengrassIpcException
{
    /// <summary>Creates the exception.</summary>
    protected GreengrassIpcServiceException(string modelType, string errorCode, bool isServerError, string? message)
        : base(message is null or "" ? errorCode : $"{errorCode}: {message}")
    {
        ModelType = modelType;
        ErrorCode = errorCode;
        IsServerError = isServerError;
        ServiceMessage = message;
    }

    /// <summary>The error shape id, e.g. <c>aws.greengrass#UnauthorizedError</c>.</summary>
    public string ModelType { get; }

    /// <summary>The error code (<c>_errorCode</c>), e.g. <c>UnauthorizedError</c>.</summary>
    public string ErrorCode { get; }

    /// <summary>The service's message, as sent.</summary>
    public string? ServiceMessage { get; }

    /// <summary>Whether the model marks the error <c>@error("server")</c>; such errors may be retried.</summary>
    public bool IsServerError { get; }

    /// <summary>Whether the model marks the error <c>@error("client")</c>.</summary>
    public bool IsClientError => !IsServerError;

    /// <summary>The error shape (the generated error class), for serialisation.</summary>
    public abstract IIpcErrorShape ErrorShape { get; }
}

/// <summary>An error shape: a structure with the three members every eventstream RPC error carries.</summary>
public interface IIpcErrorShape : IIpcShape
{
    /// <summary><c>_service</c>: the service id.</summary>
    string? ServiceName { get; set; }

    /// <summary><c>_message</c>: the message.</summary>
    string? ServiceMessage { get; set; }

    /// <summary><c>_errorCode</c>: the error shape name.</summary>
    string? ErrorCode { get; set; }
}

/// <summary>
/// The connection to the Nucleus is gone (closed, lost, or never made). Calls in flight fail with it and open streams
/// end with it; see <see cref="GreengrassIpcClientOptions.Reconnect"/> for what the next call does.
/// </summary>
public sealed class GreengrassIpcConnectionException : GreengrassIpcException
{
    /// <summary>Creates the exception.</summary>
    public GreengrassIpcConnectionException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The server does not implement the operation (its answer: <c>"Unsupported Operation"</c>).</summary>
public sealed class GreengrassIpcUnsupportedOperationException : GreengrassIpcException
{
    /// <summary>Creates the exception.</summary>
    public GreengrassIpcUnsupportedOperationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcUnsupportedOperationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcUnsupportedOperationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The server answered with something that is not a modeled shape: an unmodeled failure (<c>text/plain</c>
/// "InternalServerError"), an unexpected shape, or a payload that is not valid for its shape.
/// </summary>
public sealed class GreengrassIpcProtocolException : GreengrassIpcException
{
    /// <summary>Creates the exception.</summary>
    public GreengrassIpcProtocolException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public GreengrassIpcProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
