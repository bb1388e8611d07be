namespace Fogline.EventStream.Rpc;

/// <summary>Receives what arrives on a client stream. Called on the connection's read loop: do not block.</summary>
public interface IRpcClientStreamHandler
{
    /// <summary>A message arrived on the stream (a response, an event, or an error).</summary>
    void OnMessage(RpcClientStream stream, in RpcMessage message);

    /// <summary>
    /// The stream ended: <paramref name="error"/> is null when the server terminated it or this side closed it, and the
    /// cause (a <see cref="RpcConnectionClosedException"/>) when the connection went away.
    /// </summary>
    void OnClosed(RpcClientStream stream, Exception? error);
}

/// <summary>
/// A client-side stream (a "continuation"): activated with the operation's first message, then carries further
/// messages either way until one side sends TerminateStream or the connection closes.
/// </summary>
public sealed class RpcClientStream : IAsyncDisposable
{
    private const int StateNew = 0;
    private const int StateActivating = 1;
    private const int StateActive = 2;
    private const int StateEnded = 3;

    private readonly RpcClientConnection _connection;
    private readonly IRpcClientStreamHandler _handler;
    private int _state;
    private int _closedNotified;

    internal RpcClientStream(RpcClientConnection connection, IRpcClientStreamHandler handler)
    {
        _connection = connection;
        _handler = handler ?? throw new ArgumentNullException(nameof(handler));
    }

    /// <summary>The stream id, assigned at activation; 0 before.</summary>
    public int StreamId { get; internal set; }

    /// <summary>The connection.</summary>
    public RpcClientConnection Connection => _connection;

    /// <summary>Whether the stream has ended (either side) or the connection closed.</summary>
    public bool IsEnded => Volatile.Read(ref _state) == StateEnded;

    /// <summary>Sends the first message, with the <c>operation</c> header. Allowed once.</summary>
    public async ValueTask ActivateAsync(string operation, RpcOutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(operation);
        if (Interlocked.CompareExchange(ref _state, StateActivating, StateNew) != StateNew)
        {
            throw new InvalidOperationException("A stream can be activated only once.");
        }

        try
        {
            await _connection.SendOnStreamAsync(this, message, operation, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            Volatile.Write(ref _state, StateEnded);
            _connection.Forget(this);
            throw;
        }

        Interlocked.CompareExchange(ref _state, StateActive, StateActivating);
        if (message.Flags.HasFlag(MessageFlags.TerminateStream))
        {
            End(null);
        }
    }

    /// <summary>Sends a further message on an active stream.</summary>
    public async ValueTask SendAsync(RpcOutgoingMessage message, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _state) != StateActive)
        {
            throw new InvalidOperationException(IsEnded ? "The stream has ended." : "The stream is not activated.");
        }

        await _connection.SendOnStreamAsync(this, message, null, cancellationToken).ConfigureAwait(false);
        if (message.Flags.HasFlag(MessageFlags.TerminateStream))
        {
            End(null);
        }
    }

    /// <summary>
    /// Closes the stream from this side: sends an empty TerminateStream message when the stream is still active (as the
    /// official clients do), then forgets it. Safe to call more than once and after the stream ended.
    /// </summary>
    public async ValueTask CloseAsync()
    {
        if (Interlocked.CompareExchange(ref _state, StateEnded, StateActive) == StateActive)
        {
            try
            {
                await _connection.SendOnStreamAsync(this, new RpcOutgoingMessage { Flags = MessageFlags.TerminateStream }, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // The connection is gone; the stream is closed either way.
            }

            _connection.Forget(this);
            NotifyClosed(null);
            return;
        }

        if (Interlocked.CompareExchange(ref _state, StateEnded, StateNew) == StateNew)
        {
            NotifyClosed(null);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => CloseAsync();

    internal void Deliver(in RpcMessage message)
    {
        _handler.OnMessage(this, message);
        if (message.IsTerminal)
        {
            End(null);
        }
    }

    internal void OnConnectionClosed(Exception error) => End(error);

    private void End(Exception? error)
    {
        Volatile.Write(ref _state, StateEnded);
        _connection.Forget(this);
        NotifyClosed(error);
    }

    private void NotifyClosed(Exception? error)
    {
        if (Interlocked.Exchange(ref _closedNotified, 1) == 0)
        {
            _handler.OnClosed(this, error);
        }
    }
}
