using Fogline.EventStream.Framing;

namespace Fogline.EventStream.Rpc;

/// <summary>What a Connect message carried, handed to <see cref="IRpcService.AuthenticateAsync"/>.</summary>
public sealed class RpcConnectRequest
{
    internal RpcConnectRequest(RpcServerConnection connection, EventStreamMessage message)
    {
        Connection = connection;
        Headers = message.Headers;
        Payload = message.Payload;
    }

    /// <summary>The connection being established.</summary>
    public RpcServerConnection Connection { get; }

    /// <summary>All headers of the Connect message.</summary>
    public IReadOnlyList<EventStreamHeader> Headers { get; }

    /// <summary>The Connect payload (Greengrass: <c>{"authToken":"…"}</c>).</summary>
    public ReadOnlyMemory<byte> Payload { get; }
}

/// <summary>The outcome of authenticating a Connect.</summary>
public readonly record struct RpcConnectResult
{
    /// <summary>Whether the connection is accepted.</summary>
    public bool Accepted { get; init; }

    /// <summary>Who connected (any object the service understands), when accepted.</summary>
    public object? Identity { get; init; }

    /// <summary>Why it was rejected, for the log.</summary>
    public string? Reason { get; init; }

    /// <summary>Accepts the connection as <paramref name="identity"/>.</summary>
    public static RpcConnectResult Accept(object identity) => new() { Accepted = true, Identity = identity };

    /// <summary>Rejects the connection; <paramref name="reason"/> goes to the log, not to the client.</summary>
    public static RpcConnectResult Reject(string reason) => new() { Accepted = false, Reason = reason };
}

/// <summary>
/// A service served over eventstream RPC: it authenticates connections and opens a handler for each new stream.
/// One instance serves all connections of a server.
/// </summary>
public interface IRpcService
{
    /// <summary>Decides whether a connection is accepted. The protocol version was already checked.</summary>
    ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Returns the handler for a new stream of <see cref="RpcServerStream.Operation"/>, or null when the operation is
    /// unknown: the RPC layer then answers as the Greengrass Nucleus does, with an ApplicationError
    /// <c>{"error":"Unsupported Operation","message":"&lt;operation&gt; is an unsupported operation."}</c>.
    /// </summary>
    IRpcServerStreamHandler? OpenStream(RpcServerStream stream);

    /// <summary>A connection closed (after all its streams were closed).</summary>
    void OnConnectionClosed(RpcServerConnection connection)
    {
    }
}

/// <summary>Receives what arrives on a server stream. Called on the connection's read loop: do not block.</summary>
public interface IRpcServerStreamHandler
{
    /// <summary>A message arrived: the first one carries the request.</summary>
    void OnMessage(RpcServerStream stream, in RpcMessage message);

    /// <summary>The stream ended: terminated by either side, or the connection closed.</summary>
    void OnClosed(RpcServerStream stream);
}
