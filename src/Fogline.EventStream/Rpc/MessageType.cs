namespace Fogline.EventStream.Rpc;

/// <summary>The <c>:message-type</c> values of the eventstream RPC protocol.</summary>
public enum MessageType
{
    /// <summary>A request, response or event on a stream.</summary>
    ApplicationMessage = 0,

    /// <summary>A modeled or unmodeled error on a stream.</summary>
    ApplicationError = 1,

    /// <summary>Connection-level ping; answered with <see cref="PingResponse"/>.</summary>
    Ping = 2,

    /// <summary>Answer to <see cref="Ping"/>.</summary>
    PingResponse = 3,

    /// <summary>First message of a connection, from the client.</summary>
    Connect = 4,

    /// <summary>The server's answer to <see cref="Connect"/>; accepted when it carries <see cref="MessageFlags.ConnectionAccepted"/>.</summary>
    ConnectAck = 5,

    /// <summary>The peer broke the protocol; the connection is closed after it.</summary>
    ProtocolError = 6,

    /// <summary>The peer failed internally; the connection is closed after it.</summary>
    InternalError = 7,
}

/// <summary>The <c>:message-flags</c> bits of the eventstream RPC protocol.</summary>
[Flags]
public enum MessageFlags
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>On <see cref="MessageType.ConnectAck"/>: the connection was accepted.</summary>
    ConnectionAccepted = 1,

    /// <summary>On a stream message: the sender ends the stream with this message.</summary>
    TerminateStream = 2,
}
