using System.IO.Pipelines;
using System.Net.Sockets;

namespace Fogline.EventStream.Transport;

/// <summary>
/// A connected stream socket exposed as a pair of pipes. Reads fill <see cref="Input"/> as bytes arrive; writes to
/// <see cref="Output"/> go to the socket when flushed. Socket errors surface as <see cref="IOException"/> from the
/// pipes and are translated by the RPC layer, at one place.
/// </summary>
public sealed class SocketConnection : IRpcTransport
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private int _disposed;

    /// <summary>Wraps a connected socket; the connection owns it.</summary>
    public SocketConnection(Socket socket, string description)
    {
        _socket = socket ?? throw new ArgumentNullException(nameof(socket));
        Description = description;
        _stream = new NetworkStream(socket, ownsSocket: true);
        Input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        Output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>What this connection is, for logs (socket path, peer).</summary>
    public string Description { get; }

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

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
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Abort();
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
