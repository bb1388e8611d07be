using System.Text;
using System.Text.Json;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Transport;
using Fogline.Greengrass.Ipc.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.Greengrass.Ipc;

/// <summary>
/// The Greengrass IPC client for .NET: one <c>XAsync(request, cancellationToken)</c> method per operation of
/// <c>aws.greengrass#GreengrassCoreIPC</c>. Connect with <see cref="ConnectAsync"/>; inside a component the defaults
/// read the socket path and token the Nucleus puts in the environment. Thread-safe: share one client per process.
/// </summary>
/// <remarks>
/// Modeled errors are thrown as their typed exceptions (<see cref="UnauthorizedException"/>, …). A lost connection
/// fails the calls in flight with <see cref="GreengrassIpcConnectionException"/>; what the next call does is the
/// <see cref="GreengrassIpcClientOptions.Reconnect"/> policy.
/// </remarks>
public sealed partial class GreengrassIpcClient : IAsyncDisposable
{
    private readonly GreengrassIpcClientOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private volatile RpcClientConnection? _connection;
    private int _disposed;

    private GreengrassIpcClient(GreengrassIpcClientOptions options)
    {
        _options = options;
        _logger = options.Logger ?? NullLogger.Instance;
    }

    /// <summary>Raised once per lost connection (not for <see cref="DisposeAsync"/>), with the cause.</summary>
    public event EventHandler<Exception>? ConnectionLost;

    /// <summary>Whether the client has a live connection now.</summary>
    public bool IsConnected => _connection is { IsClosed: false };

    /// <summary>The socket path the client connects to (for logs and diagnostics).</summary>
    public string? SocketPath => _options.SocketPath;

    /// <summary>
    /// Connects and runs the handshake. Throws <see cref="GreengrassIpcConnectionException"/> when the socket cannot be
    /// reached, the token is rejected, or the timeout passes.
    /// </summary>
    public static async Task<GreengrassIpcClient> ConnectAsync(GreengrassIpcClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        var client = new GreengrassIpcClient(options ?? new GreengrassIpcClientOptions());
        await client.GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        return client;
    }

    /// <summary>Closes the connection; calls in flight fail, streams end.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var connection = _connection;
        _connection = null;
        if (connection is not null)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _connectLock.Dispose();
    }

    /// <summary>Sends a Ping on the connection and waits for the answer.</summary>
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await connection.PingAsync(default, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw Lost("Ping", ex);
        }
    }

    /// <summary>Calls a request/response operation (the generated methods call this).</summary>
    public async Task<TResponse> InvokeAsync<TRequest, TResponse>(IpcOperation<TRequest, TResponse> operation, TRequest request, CancellationToken cancellationToken = default)
        where TRequest : class, IIpcShape
        where TResponse : class, IIpcShape
    {
        ArgumentNullException.ThrowIfNull(operation);
        IpcValidation.ThrowIfIncomplete(request, operation.RequestModelType, nameof(request));
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var call = new UnaryCall<TResponse>(operation, operation.ResponseInfo);
        var stream = connection.NewStream(call);
        try
        {
            using (var json = PooledJsonWriter.Serialize(request, operation.RequestInfo))
            {
                await stream.ActivateAsync(operation.Name, Request(operation, json.WrittenMemory), cancellationToken).ConfigureAwait(false);
            }

            return await call.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw Lost(operation.Name, ex);
        }
        finally
        {
            if (!stream.IsEnded)
            {
                await stream.CloseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Opens a streaming operation whose events are queued for <c>await foreach</c> (the generated methods call this).</summary>
    public Task<IpcStream<TResponse, TEvent>> OpenStreamAsync<TRequest, TResponse, TEvent>(IpcStreamingOperation<TRequest, TResponse, TEvent> operation, TRequest request, IpcStreamOptions? options, CancellationToken cancellationToken = default)
        where TRequest : class, IIpcShape
        where TResponse : class, IIpcShape
        where TEvent : class, IIpcShape =>
        OpenStreamCoreAsync(operation, request, options, null, cancellationToken);

    /// <summary>Opens a streaming operation whose events go to <paramref name="onEvent"/> on the read loop (the generated methods call this).</summary>
    public Task<IpcStream<TResponse, TEvent>> OpenStreamAsync<TRequest, TResponse, TEvent>(IpcStreamingOperation<TRequest, TResponse, TEvent> operation, TRequest request, Action<TEvent> onEvent, CancellationToken cancellationToken = default)
        where TRequest : class, IIpcShape
        where TResponse : class, IIpcShape
        where TEvent : class, IIpcShape
    {
        ArgumentNullException.ThrowIfNull(onEvent);
        return OpenStreamCoreAsync(operation, request, null, onEvent, cancellationToken);
    }

    private static RpcOutgoingMessage Request(IpcOperationModel operation, ReadOnlyMemory<byte> payload) => new()
    {
        ContentType = RpcHeaders.ContentTypeJson,
        ServiceModelType = operation.RequestModelType,
        Payload = payload,
    };

    private async Task<IpcStream<TResponse, TEvent>> OpenStreamCoreAsync<TRequest, TResponse, TEvent>(IpcStreamingOperation<TRequest, TResponse, TEvent> operation, TRequest request, IpcStreamOptions? options, Action<TEvent>? onEvent, CancellationToken cancellationToken)
        where TRequest : class, IIpcShape
        where TResponse : class, IIpcShape
        where TEvent : class, IIpcShape
    {
        ArgumentNullException.ThrowIfNull(operation);
        IpcValidation.ThrowIfIncomplete(request, operation.RequestModelType, nameof(request));
        var connection = await GetConnectionAsync(cancellationToken).ConfigureAwait(false);
        var responseInfo = operation.ResponseInfo;
        var eventInfo = operation.EventInfo;
        var result = new IpcStream<TResponse, TEvent>(
            operation,
            payload => JsonSerializer.Deserialize(payload, responseInfo),
            payload => JsonSerializer.Deserialize(payload, eventInfo),
            options,
            onEvent,
            _logger);
        var stream = connection.NewStream(result);
        result.Attach(stream);
        try
        {
            using (var json = PooledJsonWriter.Serialize(request, operation.RequestInfo))
            {
                await stream.ActivateAsync(operation.Name, Request(operation, json.WrittenMemory), cancellationToken).ConfigureAwait(false);
            }

            await result.ResponseTask.WaitAsync(cancellationToken).ConfigureAwait(false);
            return result;
        }
        catch (RpcException ex)
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw Lost(operation.Name, ex);
        }
        catch
        {
            await result.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private GreengrassIpcConnectionException Lost(string operation, Exception cause) => cause switch
    {
        RpcConnectionRejectedException => new GreengrassIpcConnectionException($"{operation}: the Nucleus rejected the connection: {cause.Message}", cause),
        _ => new GreengrassIpcConnectionException($"{operation}: the connection to the Greengrass IPC server at {_options.SocketPath} is gone: {cause.Message}", cause),
    };

    private async ValueTask<RpcClientConnection> GetConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        var current = _connection;
        if (current is { IsClosed: false })
        {
            return current;
        }

        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _connection;
            if (current is { IsClosed: false })
            {
                return current;
            }

            if (current is not null && !_options.Reconnect.Enabled)
            {
                throw new GreengrassIpcConnectionException(
                    $"The connection to the Greengrass IPC server at {_options.SocketPath} was lost ({current.CloseReason?.Message ?? "closed"}) and this client does not reconnect (IpcReconnectPolicy.None). Create a new client, or set GreengrassIpcClientOptions.Reconnect.",
                    current.CloseReason);
            }

            var attempts = current is null ? 1 : _options.Reconnect.MaxAttempts;
            var delay = _options.Reconnect.InitialDelay;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var connection = await ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
                    _connection = connection;
                    _ = WatchAsync(connection);
                    IpcLog.Connected(_logger, _options.SocketPath ?? "(custom transport)");
                    return connection;
                }
                catch (GreengrassIpcConnectionException) when (attempt < attempts)
                {
                    var jittered = TimeSpan.FromMilliseconds(delay.TotalMilliseconds * (0.5 + (Random.Shared.NextDouble() / 2)));
                    IpcLog.Reconnecting(_logger, attempt + 1, attempts, jittered);
                    await Task.Delay(jittered, cancellationToken).ConfigureAwait(false);
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.Reconnect.MaxDelay.Ticks));
                }
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    private async Task<RpcClientConnection> ConnectOnceAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        IRpcTransport transport;
        try
        {
            if (_options.TransportFactory is { } factory)
            {
                transport = await factory(timeout.Token).ConfigureAwait(false);
            }
            else
            {
                if (string.IsNullOrEmpty(_options.SocketPath))
                {
                    throw new GreengrassIpcConnectionException(
                        $"No IPC socket path: set GreengrassIpcClientOptions.SocketPath or run as a Greengrass component (the Nucleus sets {GreengrassIpcClientOptions.SocketPathVariable}).");
                }

                transport = await UnixDomainSocket.ConnectAsync(_options.SocketPath, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new GreengrassIpcConnectionException($"Cannot connect to the Greengrass IPC server at {_options.SocketPath}: {ex.Message}", ex);
        }

        var payload = _options.AuthToken is null
            ? ReadOnlyMemory<byte>.Empty
            : Encoding.UTF8.GetBytes("{\"authToken\":\"" + JsonEncodedText.Encode(_options.AuthToken) + "\"}");
        try
        {
            return await RpcClientConnection.ConnectAsync(
                transport,
                new RpcClientConnectionOptions { ConnectPayload = payload, ConnectTimeout = _options.ConnectTimeout },
                _logger,
                cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw Lost("Connect", ex);
        }
    }

    private async Task WatchAsync(RpcClientConnection connection)
    {
        await connection.Completion.ConfigureAwait(false);
        if (_disposed == 0 && connection.CloseReason is { } reason)
        {
            IpcLog.ConnectionLost(_logger, reason.Message);
            ConnectionLost?.Invoke(this, reason);
        }
    }

    private sealed class UnaryCall<TResponse> : IRpcClientStreamHandler
        where TResponse : class, IIpcShape
    {
        private readonly IpcOperationModel _operation;
        private readonly System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResponse> _responseInfo;
        private readonly TaskCompletionSource<TResponse> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public UnaryCall(IpcOperationModel operation, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResponse> responseInfo)
        {
            _operation = operation;
            _responseInfo = responseInfo;
        }

        public Task<TResponse> Task => _result.Task;

        public void OnMessage(RpcClientStream stream, in RpcMessage message)
        {
            if (IpcResponses.IsShape(message, _operation.ResponseModelTypeUtf8))
            {
                try
                {
                    _result.TrySetResult(JsonSerializer.Deserialize(message.Payload, _responseInfo) ?? throw new JsonException("null response"));
                }
                catch (JsonException ex)
                {
                    _result.TrySetException(new GreengrassIpcProtocolException($"{_operation.Name}: the response is not a valid {_operation.ResponseModelType}: {ex.Message}", ex));
                }
            }
            else
            {
                _result.TrySetException(IpcResponses.ToException(_operation, message, _operation.ResponseModelType));
            }
        }

        public void OnClosed(RpcClientStream stream, Exception? error)
        {
            if (_result.Task.IsCompleted)
            {
                // The usual case: the response ended the stream.
                return;
            }

            if (error is not null)
            {
                _result.TrySetException(new GreengrassIpcConnectionException($"{_operation.Name}: the connection to the Nucleus was lost before the response: {error.Message}", error));
            }
            else
            {
                _result.TrySetException(new GreengrassIpcProtocolException($"{_operation.Name}: the server ended the stream without a response."));
            }
        }
    }
}
