using System.Net.Sockets;
using Fogline.EventStream.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.EventStream.Rpc;

/// <summary>
/// Serves an <see cref="IRpcService"/> on a Unix domain socket: accepts connections and runs one
/// <see cref="RpcServerConnection"/> per client. A misbehaving client is closed on its own; the others go on.
/// </summary>
public sealed class RpcServer : IAsyncDisposable
{
    private readonly IRpcService _service;
    private readonly RpcServerOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly HashSet<RpcServerConnection> _connections = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private long _connectionCounter;

    /// <summary>Creates a server for <paramref name="service"/>; call <see cref="Listen"/> or <see cref="Serve"/>.</summary>
    public RpcServer(IRpcService service, RpcServerOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        _service = service ?? throw new ArgumentNullException(nameof(service));
        _options = options ?? new RpcServerOptions();
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggerFactory.CreateLogger("Fogline.EventStream.Rpc.RpcServer");
    }

    /// <summary>The socket path, once listening.</summary>
    public string? SocketPath { get; private set; }

    /// <summary>Total connections accepted so far.</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref _connectionCounter);

    /// <summary>The connections open now.</summary>
    public IReadOnlyCollection<RpcServerConnection> Connections
    {
        get
        {
            lock (_lock)
            {
                return [.. _connections];
            }
        }
    }

    /// <summary>Binds <paramref name="socketPath"/> (long paths handled) and starts accepting.</summary>
    public void Listen(string socketPath)
    {
        if (_listener is not null)
        {
            throw new InvalidOperationException("The server is already listening.");
        }

        _listener = UnixDomainSocket.Listen(socketPath);
        SocketPath = socketPath;
        _acceptLoop = AcceptLoopAsync(_listener, socketPath);
    }

    /// <summary>Serves one already-connected transport (a socket or an in-memory pipe).</summary>
    public RpcServerConnection Serve(IRpcTransport transport)
    {
        var connection = new RpcServerConnection(transport, _service, _options, _loggerFactory.CreateLogger("Fogline.EventStream.Rpc.RpcServerConnection"));
        lock (_lock)
        {
            _connections.Add(connection);
        }

        Interlocked.Increment(ref _connectionCounter);
        _ = connection.Completion.ContinueWith(
            (_, state) =>
            {
                var (server, c) = ((RpcServer, RpcServerConnection))state!;
                lock (server._lock)
                {
                    server._connections.Remove(c);
                }
            },
            (this, connection),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        connection.Start();
        return connection;
    }

    /// <summary>Stops accepting, closes every connection, and removes the socket file.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        foreach (var connection in Connections)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }

        if (SocketPath is not null)
        {
            try
            {
                File.Delete(SocketPath);
            }
            catch (IOException)
            {
            }
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync(Socket listener, string path)
    {
        await Task.Yield();
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                RpcLog.AcceptFailed(_logger, path, ex);
                await Task.Delay(10).ConfigureAwait(false);
                continue;
            }

            Serve(new SocketConnection(client, $"{path}#{ConnectionsAccepted + 1}"));
        }
    }
}
