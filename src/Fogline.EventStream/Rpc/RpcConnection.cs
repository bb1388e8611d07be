using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.EventStream.Rpc;

/// <summary>
/// What the client and server roles share: the read loop that decodes frames and hands each one, parsed as an
/// <see cref="RpcMessage"/>, to the role; the serialised write path; and closing. Transport exceptions are translated
/// here, and only here, into <see cref="RpcConnectionClosedException"/>.
/// </summary>
public abstract class RpcConnection : IAsyncDisposable
{
    private readonly IRpcTransport _transport;
    private readonly FrameDecoder _decoder;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _closed;
    private Task? _readPause;

    /// <summary>Creates the connection; call <see cref="StartReading"/> to begin.</summary>
    protected RpcConnection(IRpcTransport transport, EventStreamLimits? limits, ILogger? logger)
    {
        _transport = transport ?? throw new ArgumentNullException(nameof(transport));
        _decoder = new FrameDecoder(limits);
        Limits = limits ?? EventStreamLimits.Default;
        Logger = logger ?? NullLogger.Instance;
    }

    /// <summary>What the connection is, for logs.</summary>
    public string Description => _transport.Description;

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Why the connection closed: null for an orderly close by this side, else the cause.</summary>
    public Exception? CloseReason { get; private set; }

    /// <summary>Whether the connection has closed or is closing.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Cancelled when the connection starts closing.</summary>
    public CancellationToken ClosingToken => _closing.Token;

    /// <summary>The frame limits in force.</summary>
    protected EventStreamLimits Limits { get; }

    /// <summary>The logger.</summary>
    protected ILogger Logger { get; }

    /// <summary>Closes the connection in an orderly way: pending writes are flushed, then the socket is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        await CloseAsync(null).ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the connection abruptly, failing everything in flight with <paramref name="reason"/>.</summary>
    public void Abort(Exception? reason = null)
    {
        if (!BeginClose(reason ?? new RpcConnectionClosedException("The connection was aborted.")))
        {
            return;
        }

        _transport.Abort();
        _ = FinishCloseAsync();
    }

    /// <summary>
    /// From inside a message callback only: stop reading from the socket until <paramref name="until"/> completes. This
    /// is how a consumer applies backpressure; everything else on the connection waits as well.
    /// </summary>
    public void PauseReadingUntil(Task until) => _readPause = until;

    /// <summary>Starts the read loop.</summary>
    protected void StartReading()
    {
        _ = ReadLoopAsync();
    }

    /// <summary>Handles one received message, on the read loop. Must not block.</summary>
    protected abstract void OnMessage(in RpcMessage message);

    /// <summary>Called once when the connection closes; fail or end everything in flight.</summary>
    protected abstract void OnClosed(Exception? reason);

    /// <summary>
    /// Called on the read loop when the peer broke the format or protocol; the default closes the connection. The
    /// server role first answers with a ProtocolError.
    /// </summary>
    protected virtual ValueTask OnProtocolViolationAsync(string reason, Exception? exception)
    {
        Abort(new RpcProtocolException(reason, exception));
        return ValueTask.CompletedTask;
    }

    /// <summary>Sends a connection-level error message and then closes the connection.</summary>
    protected async ValueTask SendErrorAndCloseAsync(MessageType type, string jsonPayload, Exception reason)
    {
        try
        {
            var message = new RpcOutgoingMessage
            {
                Type = type,
                ContentType = RpcHeaders.ContentTypeJson,
                Payload = Encoding.UTF8.GetBytes(jsonPayload),
            };
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await SendAsync(0, message, null, null, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            // Best effort: the peer may be gone already.
        }

        await CloseAsync(reason).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one message. When <paramref name="allocation"/> is given, the stream id is allocated under the write
    /// lock through <see cref="AllocateStreamId"/>, so new ids reach the wire in increasing order without gaps.
    /// </summary>
    internal async ValueTask<int> SendAsync(int streamId, RpcOutgoingMessage message, string? operation, object? allocation, CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfClosed();
            if (allocation is not null)
            {
                streamId = AllocateStreamId(allocation);
            }

            WriteFrame(_transport.Output, streamId, message, operation);
            var flush = _transport.Output.FlushAsync(_closing.Token);
            var result = flush.IsCompletedSuccessfully ? flush.Result : await flush.ConfigureAwait(false);
            if (result.IsCanceled || result.IsCompleted)
            {
                throw Closed(null);
            }

            return streamId;
        }
        catch (OperationCanceledException ex)
        {
            // Flushes observe only the closing token: this is the connection going away, not the caller cancelling.
            throw Closed(ex);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
            var closed = Closed(ex);
            Abort(closed);
            throw closed;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Allocates a stream id for a new client stream; called under the write lock.</summary>
    internal virtual int AllocateStreamId(object allocation) => throw new NotSupportedException("Only the client role opens streams.");

    /// <summary>Throws <see cref="RpcConnectionClosedException"/> when the connection is closed.</summary>
    protected void ThrowIfClosed()
    {
        if (IsClosed)
        {
            throw Closed(null);
        }
    }

    /// <summary>The exception that calls on a closed connection fail with.</summary>
    protected RpcConnectionClosedException Closed(Exception? cause)
    {
        var reason = cause ?? CloseReason;
        return reason switch
        {
            RpcConnectionClosedException closed => closed,
            null => new RpcConnectionClosedException($"The eventstream RPC connection {Description} is closed."),
            _ => new RpcConnectionClosedException($"The eventstream RPC connection {Description} is closed: {reason.Message}", reason),
        };
    }

    /// <summary>Closes the connection; pending writes are flushed first unless it is already broken.</summary>
    protected async ValueTask CloseAsync(Exception? reason)
    {
        if (!BeginClose(reason))
        {
            await Completion.ConfigureAwait(false);
            return;
        }

        await FinishCloseAsync().ConfigureAwait(false);
    }

    private static bool IsTransportFailure(Exception ex) =>
        ex is IOException or SocketException or ObjectDisposedException
        || (ex is InvalidOperationException && ex.Source == "System.IO.Pipelines");

    private bool BeginClose(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return false;
        }

        CloseReason = reason;
        RpcLog.Closed(Logger, Description, reason?.Message ?? "closed by this side");
        try
        {
            _closing.Cancel();
        }
        catch (AggregateException)
        {
        }

        try
        {
            OnClosed(reason);
        }
        catch (Exception ex)
        {
            RpcLog.HandlerFailed(Logger, Description, "close", ex);
        }

        return true;
    }

    private async Task FinishCloseAsync()
    {
        // The read loop is not awaited here: it may be the one closing (after a protocol violation), and it ends by
        // itself once the transport is gone. It owns the decoder and disposes it.
        try
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransportFailure(ex))
        {
        }
        finally
        {
            _completion.TrySetResult();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            await ReadFramesAsync().ConfigureAwait(false);
        }
        finally
        {
            _decoder.Dispose();
        }
    }

    private async Task ReadFramesAsync()
    {
        await Task.Yield();
        var input = _transport.Input;
        string? violation = null;
        Exception? violationException = null;
        try
        {
            while (!IsClosed)
            {
                var result = await input.ReadAsync(_closing.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    violation = ProcessFrames(ref buffer);
                }
                catch (EventStreamFormatException ex)
                {
                    RpcLog.MalformedFrame(Logger, Description, ex.Message);
                    violation = ex.Message;
                    violationException = ex;
                }
                finally
                {
                    if (!IsClosed)
                    {
                        input.AdvanceTo(buffer.Start, buffer.End);
                    }
                }

                if (violation is not null)
                {
                    break;
                }

                if (_readPause is { } pause)
                {
                    _readPause = null;
                    try
                    {
                        await pause.ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OutOfMemoryException)
                    {
                        // The consumer gave up waiting; reading resumes.
                    }

                    continue;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        RpcLog.TruncatedAtClose(Logger, Description, buffer.Length);
                    }

                    Abort(new RpcConnectionClosedException($"The peer closed the connection {Description}."));
                    return;
                }
            }
        }
        catch (Exception ex) when (IsTransportFailure(ex) || ex is OperationCanceledException)
        {
            if (!IsClosed)
            {
                Abort(Closed(ex));
            }

            return;
        }

        if (violation is not null && !IsClosed)
        {
            // Not awaited: the read loop ends here, and answering the violation (which may wait for the write lock
            // behind a slow write) closes the connection by itself.
            _ = OnProtocolViolationAsync(violation, violationException).AsTask();
        }
    }

    private string? ProcessFrames(ref ReadOnlySequence<byte> buffer)
    {
        while (!IsClosed && _decoder.TryDecode(ref buffer, out var frame))
        {
            if (!RpcMessage.TryParse(frame, out var message, out var error))
            {
                return error;
            }

            OnMessage(in message);
            if (_readPause is not null)
            {
                break;
            }
        }

        return null;
    }

    private static void WriteFrame(PipeWriter output, int streamId, in RpcOutgoingMessage message, string? operation)
    {
        var headers = new HeaderBuffer();
        var count = 0;
        headers[count++] = EventStreamHeader.FromInt32(RpcHeaders.MessageType, (int)message.Type);
        headers[count++] = EventStreamHeader.FromInt32(RpcHeaders.MessageFlags, (int)message.Flags);
        headers[count++] = EventStreamHeader.FromInt32(RpcHeaders.StreamId, streamId);
        if (operation is not null)
        {
            headers[count++] = EventStreamHeader.FromString(RpcHeaders.Operation, operation);
        }

        if (message.ServiceModelType is not null)
        {
            headers[count++] = EventStreamHeader.FromString(RpcHeaders.ServiceModelType, message.ServiceModelType);
        }

        if (message.ContentType is not null)
        {
            headers[count++] = EventStreamHeader.FromString(RpcHeaders.ContentType, message.ContentType);
        }

        var extra = message.Headers;
        if (extra is null || extra.Count == 0)
        {
            FrameEncoder.Write(output, ((ReadOnlySpan<EventStreamHeader>)headers)[..count], message.Payload.Span);
            return;
        }

        var all = new EventStreamHeader[count + extra.Count];
        ((ReadOnlySpan<EventStreamHeader>)headers)[..count].CopyTo(all);
        for (var i = 0; i < extra.Count; i++)
        {
            all[count + i] = extra[i];
        }

        FrameEncoder.Write(output, all, message.Payload.Span);
    }

    [InlineArray(6)]
    private struct HeaderBuffer
    {
        private EventStreamHeader _element;
    }
}
