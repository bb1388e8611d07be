using System.Text.Json;
using System.Text.Json.Serialization;
using Fogline.EventStream.Rpc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.Greengrass.Ipc;

/// <summary>
/// What every generated service base shares: it is the <see cref="IRpcService"/> the RPC server runs, authenticates
/// connections through <see cref="AuthenticateAsync"/>, and turns each new stream into a typed handler.
/// </summary>
public abstract class IpcServiceBase : IRpcService
{
    /// <summary>Creates the service.</summary>
    protected IpcServiceBase(ILogger? logger = null)
    {
        Logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The logger.</summary>
    public ILogger Logger { get; }

    /// <summary>The source-generated JSON metadata of the model's shapes (used to write error shapes).</summary>
    protected internal abstract JsonSerializerContext JsonContext { get; }

    /// <summary>Decides whether a connection is accepted and who it is.</summary>
    public abstract ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken);

    /// <inheritdoc />
    public IRpcServerStreamHandler? OpenStream(RpcServerStream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return CreateStreamHandler(stream.Operation);
    }

    /// <summary>A connection closed; release what it held.</summary>
    public virtual void OnConnectionClosed(RpcServerConnection connection)
    {
    }

    /// <summary>Reads the <c>authToken</c> of a Greengrass Connect payload (<c>{"authToken":"…"}</c>); null when absent or malformed.</summary>
    public static string? ReadAuthToken(ReadOnlyMemory<byte> connectPayload)
    {
        if (connectPayload.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(connectPayload.Span);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isToken = reader.ValueTextEquals("authToken"u8);
                reader.Read();
                if (isToken && reader.TokenType == JsonTokenType.String)
                {
                    return reader.GetString();
                }

                reader.Skip();
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    /// <summary>The exception the default operation implementations throw: answered as "Unsupported Operation".</summary>
    protected static Exception NotServed(IpcOperationModel operation) => new IpcOperationNotServedException(operation);

    /// <summary>Creates the handler of a new stream; null for operations the model does not have.</summary>
    protected abstract IRpcServerStreamHandler? CreateStreamHandler(string operation);
}

/// <summary>Thrown by operation implementations the server does not provide; answered like an unknown operation.</summary>
public sealed class IpcOperationNotServedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IpcOperationNotServedException(IpcOperationModel operation)
        : base($"{operation?.Name} is an unsupported operation.")
    {
        Operation = operation;
    }

    /// <summary>Creates the exception.</summary>
    public IpcOperationNotServedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public IpcOperationNotServedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public IpcOperationNotServedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The operation.</summary>
    public IpcOperationModel? Operation { get; }
}

/// <summary>About the call being served: who called, on which connection and stream.</summary>
public sealed class IpcCallContext
{
    internal IpcCallContext(RpcServerStream stream, IpcOperationModel operation)
    {
        Stream = stream;
        Operation = operation;
    }

    /// <summary>The operation.</summary>
    public IpcOperationModel Operation { get; }

    /// <summary>Who called, as authenticated at Connect.</summary>
    public object? Identity => Stream.Connection.Identity;

    /// <summary>The connection.</summary>
    public RpcServerConnection Connection => Stream.Connection;

    /// <summary>The RPC stream of the call.</summary>
    public RpcServerStream Stream { get; }

    /// <summary>Cancelled when the call's stream ends (closed by the client, or the connection went away).</summary>
    public CancellationToken CallEnded => Stream.EndedToken;
}
