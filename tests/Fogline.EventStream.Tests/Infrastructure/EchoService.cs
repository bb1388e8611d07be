using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Fogline.EventStream.Rpc;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>
/// A tiny service for RPC tests. Accepts Connect payloads <c>{"authToken":"good"}</c>. Operation <c>echo</c> answers
/// each non-terminal message with the same payload; <c>stream</c> sends <c>{"count":N}</c> events (default 3) after
/// the first message (each padded with <c>"size"</c> bytes when given) and then stays open until the client ends it. Every other operation is unsupported.
/// </summary>
internal sealed class EchoService : IRpcService
{
    public const string GoodToken = "good";
    public const string Identity = "echo-client";

    private int _authenticateCalls;

    public int AuthenticateCalls => Volatile.Read(ref _authenticateCalls);

    /// <summary>Every server stream opened for a supported operation, in order.</summary>
    public Channel<RpcServerStream> Opened { get; } = Channel.CreateUnbounded<RpcServerStream>();

    /// <summary>Every server stream whose handler was told it closed.</summary>
    public Channel<RpcServerStream> Closed { get; } = Channel.CreateUnbounded<RpcServerStream>();

    /// <summary>Every connection that closed.</summary>
    public Channel<RpcServerConnection> ClosedConnections { get; } = Channel.CreateUnbounded<RpcServerConnection>();

    public ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _authenticateCalls);
        string? token = null;
        try
        {
            using var json = JsonDocument.Parse(request.Payload);
            if (json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("authToken", out var value) && value.ValueKind == JsonValueKind.String)
            {
                token = value.GetString();
            }
        }
        catch (JsonException)
        {
        }

        return ValueTask.FromResult(token == GoodToken ? RpcConnectResult.Accept(Identity) : RpcConnectResult.Reject("bad token"));
    }

    public IRpcServerStreamHandler? OpenStream(RpcServerStream stream)
    {
        IRpcServerStreamHandler? handler = stream.Operation switch
        {
            "echo" => new EchoHandler(this),
            "stream" => new EventsHandler(this),
            _ => null,
        };
        if (handler is not null)
        {
            Opened.Writer.TryWrite(stream);
        }

        return handler;
    }

    public void OnConnectionClosed(RpcServerConnection connection) => ClosedConnections.Writer.TryWrite(connection);

    private static async Task SendQuietlyAsync(RpcServerStream stream, RpcOutgoingMessage message)
    {
        try
        {
            await stream.SendAsync(message);
        }
        catch (RpcException)
        {
            // The stream or connection ended meanwhile.
        }
    }

    private sealed class EchoHandler(EchoService service) : IRpcServerStreamHandler
    {
        public void OnMessage(RpcServerStream stream, in RpcMessage message)
        {
            if (message.IsTerminal)
            {
                return;
            }

            _ = SendQuietlyAsync(stream, new RpcOutgoingMessage
            {
                ContentType = RpcHeaders.ContentTypeJson,
                Payload = message.Payload.ToArray(),
            });
        }

        public void OnClosed(RpcServerStream stream) => service.Closed.Writer.TryWrite(stream);
    }

    private sealed class EventsHandler(EchoService service) : IRpcServerStreamHandler
    {
        private bool _started;

        public void OnMessage(RpcServerStream stream, in RpcMessage message)
        {
            if (_started)
            {
                return;
            }

            _started = true;
            var count = 3;
            var size = 0;
            if (!message.Payload.IsEmpty)
            {
                using var json = JsonDocument.Parse(message.Payload.ToArray());
                count = json.RootElement.GetProperty("count").GetInt32();
                size = json.RootElement.TryGetProperty("size", out var s) ? s.GetInt32() : 0;
            }

            _ = SendEventsAsync(stream, count, size);
        }

        public void OnClosed(RpcServerStream stream) => service.Closed.Writer.TryWrite(stream);

        private static async Task SendEventsAsync(RpcServerStream stream, int count, int size)
        {
            var pad = size > 0 ? ",\"pad\":\"" + new string('x', size) + "\"" : string.Empty;
            for (var i = 0; i < count && !stream.IsEnded; i++)
            {
                await SendQuietlyAsync(stream, new RpcOutgoingMessage
                {
                    ContentType = RpcHeaders.ContentTypeJson,
                    Payload = Encoding.UTF8.GetBytes($"{{\"event\":{i}{pad}}}"),
                });
            }
        }
    }
}
