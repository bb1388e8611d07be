using System.Collections.Concurrent;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Transport;
using Microsoft.Extensions.Logging;

namespace Fogline.EventStream.Rpc;

/// <summary>Options of the client side of an eventstream RPC connection.</summary>
public sealed class RpcClientConnectionOptions
{
    /// <summary>Extra headers of the Connect message (the <c>:version</c> header is always added). Default none.</summary>
    public IReadOnlyList<EventStreamHeader> ConnectHeaders { get; init; } = [];

    /// <summary>Payload of the Connect message; Greengrass expects <c>{"authToken":"…"}</c>. Default empty.</summary>
    public ReadOnlyMemory<byte> ConnectPayload { get; init; }

    /// <summary>How long to wait for the ConnectAck. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Frame limits. Default <see cref="EventStreamLimits.Default"/>.</summary>
    public EventStreamLimits? Limits { get; init; }
}

/// <summary>
/// The client role: performs the Connect/ConnectAck handshake, opens streams with sequential ids, answers the server's
/// pings, and routes stream messages to their <see cref="RpcClientStream"/>.
/// </summary>
public sealed class RpcClientConnection : RpcConnection
{
    private readonly Dictionary<int, RpcClientStream> _streams = [];
    private readonly Lock _streamsLock = new();
    private readonly TaskCompletionSource<bool> _connectAck = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<TaskCompletionSource> _pings = new();
    private int _lastStreamId;

    private RpcClientConnection(IRpcTransport transport, RpcClientConnectionOptions options, ILogger? logger)
        : base(transport, options.Limits, logger)
    {
    }

    /// <summary>Number of streams currently open on this connection.</summary>
    public int OpenStreamCount
    {
        get
        {
            lock (_streamsLock)
            {
                return _streams.Count;
            }
        }
    }

    /// <summary>
    /// Runs the handshake on <paramref name="transport"/>. Throws <see cref="RpcConnectionRejectedException"/> when the
    /// server answers without the ConnectionAccepted flag, and <see cref="RpcConnectionClosedException"/> when the
    /// connection ends first. On failure the transport is disposed.
    /// </summary>
    public static async Task<RpcClientConnection> ConnectAsync(IRpcTransport transport, RpcClientConnectionOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        options ??= new RpcClientConnectionOptions();
        var connection = new RpcClientConnection(transport, options, logger);
        connection.StartReading();
        try
        {
            var headers = new EventStreamHeader[options.ConnectHeaders.Count + 1];
            headers[0] = EventStreamHeader.FromString(RpcHeaders.Version, RpcHeaders.ProtocolVersion);
            for (var i = 0; i < options.ConnectHeaders.Count; i++)
            {
                headers[i + 1] = options.ConnectHeaders[i];
            }

            var connect = new RpcOutgoingMessage { Type = MessageType.Connect, Headers = headers, Payload = options.ConnectPayload };
            await connection.SendAsync(0, connect, null, null, cancellationToken).ConfigureAwait(false);
            bool accepted;
            try
            {
                accepted = await connection._connectAck.Task.WaitAsync(options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException ex)
            {
                throw new RpcConnectionClosedException($"No ConnectAck from {transport.Description} within {options.ConnectTimeout}.", ex);
            }

            if (!accepted)
            {
                throw new RpcConnectionRejectedException($"The server at {transport.Description} rejected the connection (ConnectAck without the ConnectionAccepted flag): check the auth token and the protocol version.");
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a stream; it gets its id when activated.</summary>
    public RpcClientStream NewStream(IRpcClientStreamHandler handler)
    {
        ThrowIfClosed();
        return new RpcClientStream(this, handler);
    }

    /// <summary>Sends a Ping and waits for the PingResponse.</summary>
    public async Task PingAsync(ReadOnlyMemory<byte> payload = default, CancellationToken cancellationToken = default)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pings.Enqueue(waiter);
        await SendAsync(0, new RpcOutgoingMessage { Type = MessageType.Ping, Payload = payload }, null, null, cancellationToken).ConfigureAwait(false);
        await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    internal override int AllocateStreamId(object allocation)
    {
        var stream = (RpcClientStream)allocation;
        var id = ++_lastStreamId;
        stream.StreamId = id;
        lock (_streamsLock)
        {
            _streams[id] = stream;
        }

        return id;
    }

    internal void Forget(RpcClientStream stream)
    {
        lock (_streamsLock)
        {
            if (_streams.TryGetValue(stream.StreamId, out var current) && ReferenceEquals(current, stream))
            {
                _streams.Remove(stream.StreamId);
            }
        }
    }

    internal ValueTask<int> SendOnStreamAsync(RpcClientStream stream, RpcOutgoingMessage message, string? operation, CancellationToken cancellationToken) =>
        operation is null
            ? SendAsync(stream.StreamId, message, null, null, cancellationToken)
            : SendAsync(0, message, operation, stream, cancellationToken);

    /// <inheritdoc />
    protected override void OnMessage(in RpcMessage message)
    {
        if (message.StreamId == 0)
        {
            OnConnectionMessage(message);
            return;
        }

        RpcClientStream? stream;
        lock (_streamsLock)
        {
            if (_streams.TryGetValue(message.StreamId, out stream) && message.IsTerminal)
            {
                _streams.Remove(message.StreamId);
            }
        }

        if (stream is null)
        {
            RpcLog.UnknownStream(Logger, Description, message.StreamId);
            return;
        }

        stream.Deliver(message);
    }

    /// <inheritdoc />
    protected override void OnClosed(Exception? reason)
    {
        _connectAck.TrySetException(Closed(reason));
        while (_pings.TryDequeue(out var ping))
        {
            ping.TrySetException(Closed(reason));
        }

        RpcClientStream[] streams;
        lock (_streamsLock)
        {
            streams = [.. _streams.Values];
            _streams.Clear();
        }

        var error = Closed(reason);
        foreach (var stream in streams)
        {
            stream.OnConnectionClosed(error);
        }
    }

    private void OnConnectionMessage(in RpcMessage message)
    {
        switch (message.Type)
        {
            case MessageType.ConnectAck:
                _connectAck.TrySetResult((message.Flags & MessageFlags.ConnectionAccepted) != 0);
                break;
            case MessageType.Ping:
                _ = AnswerPingAsync(EventStreamMessage.FromFrame(message.Frame));
                break;
            case MessageType.PingResponse:
                if (_pings.TryDequeue(out var waiter))
                {
                    waiter.TrySetResult();
                }

                break;
            case MessageType.ProtocolError:
            case MessageType.InternalError:
                {
                    var text = message.PayloadText;
                    RpcLog.PeerError(Logger, Description, message.Type, text);
                    Abort(new RpcProtocolException($"The server sent {message.Type}: {text}"));
                    break;
                }

            default:
                RpcLog.UnexpectedMessage(Logger, Description, message.Type);
                break;
        }
    }

    private async Task AnswerPingAsync(EventStreamMessage ping)
    {
        try
        {
            await SendAsync(0, PingEcho.ResponseTo(ping), null, null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RpcException)
        {
        }
    }
}

/// <summary>Builds the PingResponse to a Ping: the Ping's own headers (except the ':' protocol headers) and payload.</summary>
internal static class PingEcho
{
    public static RpcOutgoingMessage ResponseTo(EventStreamMessage ping)
    {
        var headers = new List<EventStreamHeader>();
        foreach (var header in ping.Headers)
        {
            if (!header.Name.StartsWith(':'))
            {
                headers.Add(header);
            }
        }

        return new RpcOutgoingMessage { Type = MessageType.PingResponse, Headers = headers, Payload = ping.Payload };
    }
}
