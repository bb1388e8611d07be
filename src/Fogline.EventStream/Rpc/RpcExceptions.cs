namespace Fogline.EventStream.Rpc;

/// <summary>Base of the exceptions of the RPC layer.</summary>
public class RpcException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RpcException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The server answered Connect without the ConnectionAccepted flag (wrong token, wrong version).</summary>
public sealed class RpcConnectionRejectedException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcConnectionRejectedException()
        : base("The server rejected the connection (ConnectAck without the ConnectionAccepted flag): check the auth token and the protocol version.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcConnectionRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcConnectionRejectedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// The connection is gone: closed by either side, lost (socket error, peer vanished), or ended by a protocol error.
/// Calls and streams in flight fail with this exception; <see cref="Exception.InnerException"/> holds the cause.
/// </summary>
public sealed class RpcConnectionClosedException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcConnectionClosedException()
        : base("The eventstream RPC connection is closed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcConnectionClosedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcConnectionClosedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The peer sent a ProtocolError or InternalError message, or broke the protocol.</summary>
public sealed class RpcProtocolException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcProtocolException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcProtocolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcProtocolException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
