using System.Net.Sockets;
using System.Text;

namespace Fogline.EventStream.Transport;

/// <summary>
/// Unix domain sockets with the path-length limit handled. A <c>sockaddr_un</c> path holds at most 107 bytes plus a
/// terminating zero. The Greengrass Nucleus works around longer root paths with a short symbolic link to its root
/// directory; we do the same, with a link under the temporary directory that exists only while the socket is bound or
/// connecting, so the socket file itself still lives at the long path.
/// </summary>
public static class UnixDomainSocket
{
    /// <summary>Size of <c>sun_path</c> on Linux, terminating zero included.</summary>
    public const int MaxPathBytes = 108;

    /// <summary>Whether <paramref name="path"/> is too long to be used as a socket address directly.</summary>
    public static bool IsPathTooLong(string path) => Encoding.UTF8.GetByteCount(path) >= MaxPathBytes;

    /// <summary>Connects to the socket at <paramref name="path"/> (absolute, or relative to the working directory).</summary>
    public static async Task<SocketConnection> ConnectAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using var alias = ShortAlias.For(path);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(alias.Path), cancellationToken).ConfigureAwait(false);
            return new SocketConnection(socket, path);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Binds and listens at <paramref name="path"/>, replacing a stale socket file left by a previous run (as the
    /// Nucleus does). The caller owns the returned socket.
    /// </summary>
    public static Socket Listen(string path, int backlog = 512)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        if (File.Exists(path))
        {
            File.Delete(path);
        }

        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            using (var alias = ShortAlias.For(path))
            {
                socket.Bind(new UnixDomainSocketEndPoint(alias.Path));
            }

            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A path short enough for <c>sockaddr_un</c> that reaches the same file.</summary>
    private readonly struct ShortAlias : IDisposable
    {
        private readonly string? _link;

        private ShortAlias(string path, string? link)
        {
            Path = path;
            _link = link;
        }

        public string Path { get; }

        public static ShortAlias For(string path)
        {
            if (!IsPathTooLong(path))
            {
                return new ShortAlias(path, null);
            }

            var full = System.IO.Path.GetFullPath(path);
            var directory = System.IO.Path.GetDirectoryName(full)!;
            var fileName = System.IO.Path.GetFileName(full);
            var link = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "fogline-sock-" + Guid.NewGuid().ToString("N")[..12]);
            File.CreateSymbolicLink(link, directory);
            var shortPath = System.IO.Path.Combine(link, fileName);
            if (IsPathTooLong(shortPath))
            {
                File.Delete(link);
                throw new IOException($"The socket file name '{fileName}' alone is too long for a Unix domain socket address ({MaxPathBytes - 1} bytes at most).");
            }

            return new ShortAlias(shortPath, link);
        }

        public void Dispose()
        {
            if (_link is not null)
            {
                try
                {
                    File.Delete(_link);
                }
                catch (IOException)
                {
                }
            }
        }
    }
}
