using System.Buffers;
using System.Net.Sockets;
using System.Text;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Tests.Infrastructure;
using Fogline.EventStream.Transport;

namespace Fogline.EventStream.Tests.Transport;

/// <summary>Unix socket paths beyond the sockaddr_un limit, relative paths, stale files, and the socket transport.</summary>
public class UnixDomainSocketTests
{
    private const int Timeout = 60_000;

    [Test]
    [CancelAfter(Timeout)]
    public async Task ListenAndConnect_WithAPathLongerThan108Bytes_Work()
    {
        using var directory = new TempDirectory();
        var path = DeepSocketPath(directory, 160);
        Assert.That(Encoding.UTF8.GetByteCount(path), Is.GreaterThan(UnixDomainSocket.MaxPathBytes));
        Assert.That(UnixDomainSocket.IsPathTooLong(path), Is.True);
        var service = new EchoService();
        await using var server = new RpcServer(service);

        server.Listen(path);
        await using var client = await RpcClientConnection.ConnectAsync(
            await UnixDomainSocket.ConnectAsync(path),
            new RpcClientConnectionOptions { ConnectPayload = Encoding.UTF8.GetBytes(RpcFrames.AuthPayload(EchoService.GoodToken)) }).Within("the handshake");

        Assert.That(File.Exists(path), Is.True, "the socket file lives at the long path itself");
        await RpcHarness.AssertEchoWorksAsync(client);
        Assert.That(LinksInto(Path.GetDirectoryName(path)!), Is.Empty, "the short alias links are removed after use");
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ConnectAsync_WithARelativePath_Works()
    {
        using var directory = new TempDirectory();
        var path = directory.File("rel.sock");
        using var listener = UnixDomainSocket.Listen(path);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        Assert.That(Path.IsPathRooted(relative), Is.False, relative);

        await AssertConnectsAsync(listener, relative);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ConnectAsync_WithARelativePathLongerThan108Bytes_Works()
    {
        using var directory = new TempDirectory();
        var path = DeepSocketPath(directory, 200);
        using var listener = UnixDomainSocket.Listen(path);
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, path);
        Assert.That(Path.IsPathRooted(relative), Is.False, relative);
        Assert.That(UnixDomainSocket.IsPathTooLong(relative), Is.True, relative);

        await AssertConnectsAsync(listener, relative);
        Assert.That(LinksInto(Path.GetDirectoryName(path)!), Is.Empty);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Listen_CreatesMissingDirectories()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "a", "b", "c.sock");

        using var listener = UnixDomainSocket.Listen(path);

        Assert.That(File.Exists(path), Is.True);
        await AssertConnectsAsync(listener, path);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Listen_WhenAStaleSocketFileIsLeftBehindAtALongPath_ReplacesIt()
    {
        using var directory = new TempDirectory();
        var path = DeepSocketPath(directory, 150);
        using (UnixDomainSocket.Listen(path))
        {
            // .NET removes the file of a disposed listener only by the (short alias) path it was bound to, which is
            // gone by then: the socket file stays behind at the long path, as after a crash.
        }

        Assert.That(File.Exists(path), Is.True, "a stale socket file is left");

        using var listener = UnixDomainSocket.Listen(path);

        await AssertConnectsAsync(listener, path);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Listen_WhenAFileIsLeftAtThePath_ReplacesIt()
    {
        using var directory = new TempDirectory();
        var path = directory.File("left.sock");
        await File.WriteAllTextAsync(path, "left over");

        using var listener = UnixDomainSocket.Listen(path);

        await AssertConnectsAsync(listener, path);
    }

    [Test]
    public void Listen_WhenTheFileNameAloneIsTooLong_ThrowsIOException_AndLeavesNoLink()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, new string('f', 120) + ".sock");

        var ex = Assert.Throws<IOException>(() => UnixDomainSocket.Listen(path).Dispose())!;

        Assert.That(ex.Message, Does.Contain("too long"));
        Assert.That(LinksInto(directory.Path), Is.Empty);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ConnectAsync_WhenNothingListens_ThrowsSocketException_AndLeavesNoLink()
    {
        using var directory = new TempDirectory();
        var path = DeepSocketPath(directory, 150);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);

        await Assert.ThrowsAsync<SocketException>(async () => await UnixDomainSocket.ConnectAsync(path));

        Assert.That(LinksInto(Path.GetDirectoryName(path)!), Is.Empty);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task RpcServerDisposal_RemovesTheSocketFileAtALongPath()
    {
        using var directory = new TempDirectory();
        var path = DeepSocketPath(directory, 150);
        var server = new RpcServer(new EchoService());
        server.Listen(path);
        Assert.That(File.Exists(path), Is.True);

        await server.DisposeAsync().AsTask().Within("the server to stop");

        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task SocketConnection_CarriesBytesBothWays_AndDisposeSendsWhatWasWrittenBeforeClosing()
    {
        using var directory = new TempDirectory();
        var path = directory.File("t.sock");
        using var listener = UnixDomainSocket.Listen(path);
        var accept = listener.AcceptAsync();
        var connection = await UnixDomainSocket.ConnectAsync(path);
        await using var peer = new RawPeer(await accept.Within("the accept"));
        var data = Enumerable.Range(0, 3 * 1024 * 1024).Select(i => (byte)(i * 13)).ToArray();

        // Peer to connection.
        await peer.SendAsync("hello"u8.ToArray());
        var read = await connection.Input.ReadAtLeastAsync(5).AsTask().Within("bytes from the peer");
        Assert.That(Encoding.ASCII.GetString(read.Buffer.Slice(0, 5).ToArray()), Is.EqualTo("hello"));
        connection.Input.AdvanceTo(read.Buffer.GetPosition(5));

        // Connection to peer: more than the socket buffers hold, then an orderly close.
        var receiving = ReceiveAllAsync(peer.Socket);
        await connection.Output.WriteAsync(data);
        await connection.DisposeAsync().AsTask().Within("the orderly close");

        var received = await receiving.Within("every byte, then the end of the stream");
        Assert.That(received, Has.Length.EqualTo(data.Length));
        Assert.That(received.AsSpan().SequenceEqual(data), Is.True, "the bytes arrived unchanged");
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task SocketConnection_Abort_EndsThePeersStream()
    {
        using var directory = new TempDirectory();
        var path = directory.File("a.sock");
        using var listener = UnixDomainSocket.Listen(path);
        var accept = listener.AcceptAsync();
        var connection = await UnixDomainSocket.ConnectAsync(path);
        await using var peer = new RawPeer(await accept.Within("the accept"));

        connection.Abort();

        Assert.That(await peer.ReadFrameAsync(), Is.Null, "the peer sees the end of the stream");
        await connection.DisposeAsync();
    }

    private static async Task<byte[]> ReceiveAllAsync(Socket socket)
    {
        using var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None);
            if (n == 0)
            {
                return received.ToArray();
            }

            received.Write(buffer, 0, n);
        }
    }

    /// <summary>A socket path of at least <paramref name="minimumBytes"/> bytes, through nested directories (each name well under 255).</summary>
    private static string DeepSocketPath(TempDirectory directory, int minimumBytes)
    {
        var path = directory.Path;
        var level = 0;
        while (Encoding.UTF8.GetByteCount(path) + 10 < minimumBytes)
        {
            path = Path.Combine(path, $"level{level++}-" + new string('d', 40));
        }

        return Path.Combine(path, "ipc.sock");
    }

    /// <summary>The short-alias links under the temporary directory that still point at <paramref name="target"/>.</summary>
    private static List<string> LinksInto(string target)
    {
        var full = Path.GetFullPath(target).TrimEnd('/');
        var links = new List<string>();
        foreach (var entry in Directory.EnumerateFileSystemEntries(Path.GetTempPath(), "fogline-sock-*"))
        {
            var linkTarget = new FileInfo(entry).LinkTarget;
            if (linkTarget is not null && Path.GetFullPath(linkTarget).TrimEnd('/') == full)
            {
                links.Add(entry);
            }
        }

        return links;
    }

    private static async Task AssertConnectsAsync(Socket listener, string path)
    {
        var accept = listener.AcceptAsync();
        await using var client = await UnixDomainSocket.ConnectAsync(path).Within($"connecting to {path}");
        using var accepted = await accept.Within("the accept");
        await client.Output.WriteAsync("ping"u8.ToArray());
        var buffer = new byte[4];
        var received = 0;
        while (received < 4)
        {
            var n = await accepted.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None).AsTask().Within("bytes through the socket");
            Assert.That(n, Is.GreaterThan(0));
            received += n;
        }

        Assert.That(Encoding.ASCII.GetString(buffer), Is.EqualTo("ping"));
    }
}
