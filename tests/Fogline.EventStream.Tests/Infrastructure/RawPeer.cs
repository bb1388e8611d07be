using System.Net.Sockets;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>
/// One end of a Unix socket driven by hand: writes arbitrary bytes and reads back whole frames. Plays a misbehaving
/// client against the real server, or a scripted server against the real client.
/// </summary>
internal sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly FrameDecoder _decoder = new();
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public RawPeer(Socket socket)
    {
        _socket = socket;
    }

    public Socket Socket => _socket;

    public static async Task<RawPeer> ConnectAsync(string path)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return new RawPeer(socket);
    }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None);
            bytes = bytes[sent..];
        }
    }

    /// <summary>The next whole frame, or null when the peer closed the connection. Fails the test after the deadline.</summary>
    public async Task<EventStreamMessage?> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Eventually.TestToken);
        cts.CancelAfter(timeout ?? Eventually.Deadline);
        while (true)
        {
            var consumed = _decoder.TryDecode(_buffer.AsSpan(_start, _end - _start), out var frame);
            if (consumed > 0)
            {
                var message = EventStreamMessage.FromFrame(frame);
                _start += consumed;
                return message;
            }

            if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }
                else
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }
            }

            int read;
            try
            {
                read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out waiting for a frame or the end of the connection ({_end - _start} bytes of a partial frame buffered).");
                throw;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.Shutdown)
            {
                // Linux reports a reset instead of end-of-stream when the peer closed with our bytes still unread.
                read = 0;
            }

            if (read == 0)
            {
                if (_end > _start)
                {
                    Assert.Fail($"The connection ended inside a frame ({_end - _start} bytes).");
                }

                return null;
            }

            _end += read;
        }
    }

    /// <summary>Reads frames until the peer closes the connection; returns them all.</summary>
    public async Task<List<EventStreamMessage>> ReadUntilClosedAsync(TimeSpan? timeout = null)
    {
        var frames = new List<EventStreamMessage>();
        while (await ReadFrameAsync(timeout) is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>Reads the next frame and fails the test unless there is one.</summary>
    public async Task<EventStreamMessage> ExpectFrameAsync(string what)
    {
        var frame = await ReadFrameAsync();
        Assert.That(frame, Is.Not.Null, $"the connection closed while waiting for {what}");
        return frame!;
    }

    /// <summary>Sends a good Connect and checks the ConnectAck accepts it.</summary>
    public async Task HandshakeAsync()
    {
        await SendAsync(RpcFrames.Connect());
        var ack = await ExpectFrameAsync("the ConnectAck");
        Assert.That(RpcFrames.TypeOf(ack), Is.EqualTo(MessageType.ConnectAck));
        Assert.That(RpcFrames.FlagsOf(ack) & MessageFlags.ConnectionAccepted, Is.EqualTo(MessageFlags.ConnectionAccepted));
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _decoder.Dispose();
        return ValueTask.CompletedTask;
    }
}
