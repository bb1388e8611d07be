namespace Fogline.EventStream.Rpc;

/// <summary>A server-side stream (a "continuation") opened by a client for one operation call.</summary>
public sealed class RpcServerStream
{
    private readonly RpcServerConnection _connection;
    private CancellationTokenSource? _closed;
    private int _ended;
    private int _closedNotified;

    internal RpcServerStream(RpcServerConnection connection, int streamId, string operation)
    {
        _connection = connection;
        StreamId = streamId;
        Operation = operation;
    }

    /// <summary>The stream id the client chose.</summary>
    public int StreamId { get; }

    /// <summary>The operation named by the first message.</summary>
    public string Operation { get; }

    /// <summary>The connection.</summary>
    public RpcServerConnection Connection => _connection;

    /// <summary>Whether the stream has ended.</summary>
    public bool IsEnded => Volatile.Read(ref _ended) != 0;

    internal IRpcServerStreamHandler? Handler { get; set; }

    /// <summary>Cancelled when the stream ends (either side) or the connection closes.</summary>
    public CancellationToken EndedToken
    {
        get
        {
            if (_closed is null)
            {
                var cts = new CancellationTokenSource();
                if (Interlocked.CompareExchange(ref _closed, cts, null) is not null)
                {
                    cts.Dispose();
                }
                else if (IsEnded)
                {
                    cts.Cancel();
                }
            }

            return _closed!.Token;
        }
    }

    /// <summary>
    /// Sends a message on the stream. A message with <see cref="MessageFlags.TerminateStream"/> ends the stream.
    /// Throws <see cref="RpcStreamEndedException"/> when the stream has already ended.
    /// </summary>
    public async ValueTask SendAsync(RpcOutgoingMessage message, CancellationToken cancellationToken = default)
    {
        var terminal = message.Flags.HasFlag(MessageFlags.TerminateStream);
        if (terminal ? Interlocked.Exchange(ref _ended, 1) != 0 : IsEnded)
        {
            throw new RpcStreamEndedException($"Stream {StreamId} ({Operation}) has ended.");
        }

        try
        {
            await _connection.SendAsync(StreamId, message, null, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (terminal)
            {
                _connection.EndStream(this);
            }
        }
    }

    /// <summary>Ends the stream from the server side with an empty TerminateStream message, if it has not ended.</summary>
    public async ValueTask CloseAsync()
    {
        if (IsEnded)
        {
            return;
        }

        try
        {
            await SendAsync(new RpcOutgoingMessage { Flags = MessageFlags.TerminateStream }).ConfigureAwait(false);
        }
        catch (RpcException)
        {
        }
    }

    /// <summary>Marks the stream ended; returns false when it already was.</summary>
    internal bool MarkEnded() => Interlocked.Exchange(ref _ended, 1) == 0;

    internal bool TryMarkClosedNotified() => Interlocked.Exchange(ref _closedNotified, 1) == 0;

    internal void SignalEnded()
    {
        var cts = Volatile.Read(ref _closed);
        if (cts is not null)
        {
            try
            {
                cts.Cancel();
            }
            catch (AggregateException)
            {
            }
        }
    }
}

/// <summary>A send on a stream that has ended.</summary>
public sealed class RpcStreamEndedException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public RpcStreamEndedException()
        : base("The stream has ended.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcStreamEndedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RpcStreamEndedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
