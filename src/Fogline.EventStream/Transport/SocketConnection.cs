using System.IO.Pipelines;
using System.Net.Sockets;

namespace Fogline.EventStream.Transport;

/// <summary>
/// A connected stream socket exposed as a pair of pipes. Reads fill <see cref="Input"/> as bytes arrive. Writes go
/// into an in-memory pipe that a send loop drains to the socket: a frame after a quiet spell at once, on the writer's
/// thread; frames that come fast, together in one system call (writers never wait for the socket unless more than
/// <see cref="PauseWriterThreshold"/> bytes are pending, which is the backpressure). Socket errors surface as
/// <see cref="IOException"/> (reads) or as a completed output (writes) and are translated by the RPC layer.
/// </summary>
public sealed class SocketConnection : IRpcTransport
{
    /// <summary>Pending output above which writers wait: 1 MiB.</summary>
    public const int PauseWriterThreshold = 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly Pipe _output;
    private readonly Task _sendLoop;
    private int _disposed;

    /// <summary>Wraps a connected socket; the connection owns it.</summary>
    public SocketConnection(Socket socket, string description)
    {
        _socket = socket ?? throw new ArgumentNullException(nameof(socket));
        Description = description;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        // The send loop resumes on the flushing thread when the connection was quiet, so a lone frame leaves in that
        // thread's own system call, and on the thread pool when frames come fast, so the frames written while it
        // waits to run leave together in one system call (see IdleInlineScheduler).
        _output = new Pipe(new PipeOptions(
            readerScheduler: new IdleInlineScheduler(),
            pauseWriterThreshold: PauseWriterThreshold,
            resumeWriterThreshold: PauseWriterThreshold / 2,
            minimumSegmentSize: 16 * 1024,
            useSynchronizationContext: false));
        _sendLoop = SendLoopAsync();
    }

    /// <summary>What this connection is, for logs (socket path, peer).</summary>
    public string Description { get; }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output => _output.Writer;

    /// <summary>The underlying socket.</summary>
    public Socket Socket => _socket;

    /// <summary>Closes both directions at once, without waiting for pending writes (an abrupt close).</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _output.Reader.CancelPendingRead();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Orderly: what was written is sent (bounded by a short wait), then both directions close.
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await Task.WhenAny(_sendLoop, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
        Abort();
        await Input.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    break;
                }

                foreach (var segment in buffer)
                {
                    var remaining = segment;
                    while (!remaining.IsEmpty)
                    {
                        var sent = await _socket.SendAsync(remaining, SocketFlags.None).ConfigureAwait(false);
                        remaining = remaining[sent..];
                    }
                }

                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            error = new IOException($"Sending on {Description} failed: {ex.Message}", ex);
        }

        // Writers see a completed pipe (their flush reports IsCompleted) and the RPC layer closes the connection.
        await reader.CompleteAsync(error).ConfigureAwait(false);
    }
}
