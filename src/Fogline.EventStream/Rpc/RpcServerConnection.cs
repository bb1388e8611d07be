using System.Text;
using System.Text.Json;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Transport;
using Microsoft.Extensions.Logging;

namespace Fogline.EventStream.Rpc;

/// <summary>Options of the server side of eventstream RPC.</summary>
public sealed class RpcServerOptions
{
    /// <summary>
    /// How long a new connection may stay silent before its Connect message. Default 10 seconds. (The Nucleus has no
    /// such limit; a connection that never speaks would hold its resources forever.)
    /// </summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Frame limits. Default <see cref="EventStreamLimits.Default"/>.</summary>
    public EventStreamLimits? Limits { get; init; }
}

/// <summary>
/// The server role of one connection: enforces the handshake and the stream-id rules of eventstream RPC exactly as
/// aws-c-event-stream does (a violation is answered with a ProtocolError and the connection is closed), answers pings,
/// and hands each new stream to the <see cref="IRpcService"/>.
/// </summary>
public sealed class RpcServerConnection : RpcConnection
{
    private const int AwaitingConnect = 0;
    private const int ConnectProcessing = 1;
    private const int Connected = 2;

    private readonly IRpcService _service;
    private readonly RpcServerOptions _options;
    private readonly Dictionary<int, RpcServerStream> _streams = [];
    private readonly Lock _streamsLock = new();
    private int _handshake;
    private int _latestStreamId;
    private int _violated;

    internal RpcServerConnection(IRpcTransport transport, IRpcService service, RpcServerOptions options, ILogger? logger)
        : base(transport, options.Limits, logger)
    {
        _service = service;
        _options = options;
    }

    /// <summary>Who connected, as returned by <see cref="IRpcService.AuthenticateAsync"/>; null before the handshake.</summary>
    public object? Identity { get; private set; }

    /// <summary>Whether the handshake completed and the connection was accepted.</summary>
    public bool IsConnected => Volatile.Read(ref _handshake) == Connected;

    /// <summary>Number of streams currently open.</summary>
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

    internal void Start()
    {
        StartReading();
        _ = ConnectTimeoutAsync();
    }

    internal void EndStream(RpcServerStream stream)
    {
        stream.MarkEnded();
        lock (_streamsLock)
        {
            if (_streams.TryGetValue(stream.StreamId, out var current) && ReferenceEquals(current, stream))
            {
                _streams.Remove(stream.StreamId);
            }
        }

        stream.SignalEnded();
        if (stream.TryMarkClosedNotified() && stream.Handler is { } handler)
        {
            try
            {
                handler.OnClosed(stream);
            }
            catch (Exception ex)
            {
                RpcLog.HandlerFailed(Logger, Description, stream.Operation, ex);
            }
        }
    }

    /// <inheritdoc />
    protected override void OnMessage(in RpcMessage message)
    {
        if (Volatile.Read(ref _violated) != 0)
        {
            // The client broke the protocol and the connection is being closed (the ProtocolError may still be
            // waiting for the write lock): nothing more it sends is acted on.
            return;
        }

        if (Volatile.Read(ref _handshake) != Connected && message.Type != MessageType.Connect)
        {
            Violation("The first message on a connection must be Connect, and no other message may come before the ConnectAck.");
            return;
        }

        if (message.StreamId != 0)
        {
            OnStreamMessage(message);
            return;
        }

        switch (message.Type)
        {
            case MessageType.Connect:
                if (Interlocked.CompareExchange(ref _handshake, ConnectProcessing, AwaitingConnect) != AwaitingConnect)
                {
                    Violation("Only one Connect message is allowed on a connection.");
                    return;
                }

                _ = HandshakeAsync(EventStreamMessage.FromFrame(message.Frame));
                break;
            case MessageType.Ping:
                _ = AnswerPingAsync(EventStreamMessage.FromFrame(message.Frame));
                break;
            case MessageType.PingResponse:
                break;
            case MessageType.ProtocolError:
            case MessageType.InternalError:
                RpcLog.PeerError(Logger, Description, message.Type, message.PayloadText);
                Abort(new RpcProtocolException($"The client sent {message.Type}: {message.PayloadText}"));
                break;
            default:
                Violation($"Message type {(int)message.Type} is not valid on stream 0 (connection-level messages are Connect, Ping and PingResponse).");
                break;
        }
    }

    /// <inheritdoc />
    protected override ValueTask OnProtocolViolationAsync(string reason, Exception? exception)
    {
        if (Interlocked.Exchange(ref _violated, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        RpcLog.ProtocolViolation(Logger, Description, reason);
        var text = exception is EventStreamFormatException ? "Malformed eventstream frame: " + reason : reason;
        return SendErrorAndCloseAsync(MessageType.ProtocolError, JsonMessage(text), new RpcProtocolException(text, exception));
    }

    /// <inheritdoc />
    protected override void OnClosed(Exception? reason)
    {
        RpcServerStream[] streams;
        lock (_streamsLock)
        {
            streams = [.. _streams.Values];
        }

        foreach (var stream in streams)
        {
            EndStream(stream);
        }

        try
        {
            _service.OnConnectionClosed(this);
        }
        catch (Exception ex)
        {
            RpcLog.HandlerFailed(Logger, Description, "connection closed", ex);
        }
    }

    private static string JsonMessage(string text) => "{\"message\":\"" + JsonEncodedText.Encode(text).ToString() + "\"}";

    private void Violation(string reason)
    {
        _ = OnProtocolViolationAsync(reason, null).AsTask();
    }

    private void OnStreamMessage(in RpcMessage message)
    {
        var id = message.StreamId;
        if (message.Type is not (MessageType.ApplicationMessage or MessageType.ApplicationError) || id < 0)
        {
            Violation("Only ApplicationMessage and ApplicationError may carry a non-zero :stream-id, and stream ids are positive int32 values.");
            return;
        }

        RpcServerStream? stream;
        if (id <= _latestStreamId)
        {
            lock (_streamsLock)
            {
                _streams.TryGetValue(id, out stream);
            }

            if (stream is null)
            {
                if (!message.IsTerminal)
                {
                    Violation($"Stream {id} is not open, and stream ids only increase: a new stream must use {_latestStreamId + 1}.");
                }

                // A terminate for a stream that just ended on this side: both sides closed at once. Nothing to do.
                return;
            }
        }
        else
        {
            if (id != _latestStreamId + 1)
            {
                Violation($"A new stream id must be one more than the last one ({_latestStreamId}); got {id}.");
                return;
            }

            if (message.OperationUtf8.IsEmpty)
            {
                Violation("The first message on a new stream must carry an operation header.");
                return;
            }

            _latestStreamId = id;
            stream = new RpcServerStream(this, id, OperationNames.Get(message.OperationUtf8));
            lock (_streamsLock)
            {
                _streams[id] = stream;
            }

            IRpcServerStreamHandler? handler;
            try
            {
                handler = _service.OpenStream(stream);
            }
            catch (Exception ex)
            {
                RpcLog.HandlerFailed(Logger, Description, stream.Operation, ex);
                handler = null;
            }

            if (handler is null)
            {
                RpcLog.UnsupportedOperation(Logger, Description, stream.Operation);
                _ = AnswerUnsupportedAsync(stream);
                return;
            }

            stream.Handler = handler;
        }

        try
        {
            stream.Handler!.OnMessage(stream, message);
        }
        catch (Exception ex)
        {
            RpcLog.HandlerFailed(Logger, Description, stream.Operation, ex);
        }

        if (message.IsTerminal)
        {
            EndStream(stream);
        }
    }

    private async Task AnswerUnsupportedAsync(RpcServerStream stream)
    {
        var payload = Encoding.UTF8.GetBytes(
            "{ \"error\": \"Unsupported Operation\", \"message\": \"" + JsonEncodedText.Encode(stream.Operation).ToString() + " is an unsupported operation.\" }");
        try
        {
            await stream.SendAsync(new RpcOutgoingMessage
            {
                Type = MessageType.ApplicationError,
                Flags = MessageFlags.TerminateStream,
                ContentType = RpcHeaders.ContentTypeJson,
                Payload = payload,
            }).ConfigureAwait(false);
        }
        catch (RpcException)
        {
        }
    }

    private async Task HandshakeAsync(EventStreamMessage connect)
    {
        RpcConnectResult result;
        var version = connect.Headers.FirstOrDefault(h => h.Name == RpcHeaders.Version && h.Type == HeaderType.String);
        if (version.Name is null || version.StringValue != RpcHeaders.ProtocolVersion)
        {
            result = RpcConnectResult.Reject($"protocol version '{(version.Name is null ? "(none)" : version.StringValue)}' is not {RpcHeaders.ProtocolVersion}");
        }
        else
        {
            try
            {
                result = await _service.AuthenticateAsync(new RpcConnectRequest(this, connect), ClosingToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                RpcLog.AuthenticationFailed(Logger, Description, ex);
                result = RpcConnectResult.Reject("the authentication handler failed");
            }
        }

        try
        {
            if (result.Accepted)
            {
                Identity = result.Identity;
                Volatile.Write(ref _handshake, Connected);
                RpcLog.ConnectionAccepted(Logger, Description, result.Identity?.ToString() ?? "(anonymous)");
                await SendAsync(0, new RpcOutgoingMessage { Type = MessageType.ConnectAck, Flags = MessageFlags.ConnectionAccepted }, null, null, ClosingToken).ConfigureAwait(false);
            }
            else
            {
                RpcLog.ConnectionRejected(Logger, Description, result.Reason ?? "rejected");
                await SendAsync(0, new RpcOutgoingMessage { Type = MessageType.ConnectAck }, null, null, ClosingToken).ConfigureAwait(false);
                await CloseAsync(new RpcConnectionRejectedException(result.Reason ?? "rejected")).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
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

    private async Task ConnectTimeoutAsync()
    {
        try
        {
            await Task.Delay(_options.ConnectTimeout, ClosingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        if (Volatile.Read(ref _handshake) == AwaitingConnect)
        {
            RpcLog.ConnectTimeout(Logger, Description, _options.ConnectTimeout);
            Abort(new RpcProtocolException($"No Connect message within {_options.ConnectTimeout}."));
        }
    }
}
