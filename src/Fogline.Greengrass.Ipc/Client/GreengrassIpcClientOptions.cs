using Fogline.EventStream.Transport;
using Microsoft.Extensions.Logging;

namespace Fogline.Greengrass.Ipc;

/// <summary>How a <see cref="GreengrassIpcClient"/> connects. Every default is stated on its property.</summary>
public sealed class GreengrassIpcClientOptions
{
    /// <summary>The environment variable the Nucleus sets to the IPC socket path for a component.</summary>
    public const string SocketPathVariable = "AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT";

    /// <summary>The environment variable the Nucleus sets to the component's auth token.</summary>
    public const string AuthTokenVariable = "SVCUID";

    /// <summary>
    /// Path of the Nucleus's IPC socket, absolute or relative to the working directory (the Nucleus gives a relative
    /// path when its root path is too long for a socket address). Default: the environment variable
    /// <c>AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT</c>.
    /// </summary>
    public string? SocketPath { get; init; } = Environment.GetEnvironmentVariable(SocketPathVariable);

    /// <summary>The component's auth token. Default: the environment variable <c>SVCUID</c>. Never logged.</summary>
    public string? AuthToken { get; init; } = Environment.GetEnvironmentVariable(AuthTokenVariable);

    /// <summary>How long connecting (socket and handshake) may take. Default 10 seconds.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>What happens after the connection is lost. Default <see cref="IpcReconnectPolicy.None"/>.</summary>
    public IpcReconnectPolicy Reconnect { get; init; } = IpcReconnectPolicy.None;

    /// <summary>Logger. Default none.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Opens the transport instead of connecting to <see cref="SocketPath"/> (for tests and in-process hosting).
    /// Default null: a Unix domain socket.
    /// </summary>
    public Func<CancellationToken, Task<IRpcTransport>>? TransportFactory { get; init; }
}

/// <summary>
/// What a client does once its connection is lost. It never reconnects behind your back in the middle of a call:
/// calls in flight fail with <see cref="GreengrassIpcConnectionException"/> and open streams end with it, whatever the
/// policy. The policy only decides what the <em>next</em> call does.
/// </summary>
public sealed class IpcReconnectPolicy
{
    private IpcReconnectPolicy(bool enabled, int maxAttempts, TimeSpan initialDelay, TimeSpan maxDelay)
    {
        Enabled = enabled;
        MaxAttempts = maxAttempts;
        InitialDelay = initialDelay;
        MaxDelay = maxDelay;
    }

    /// <summary>Never reconnect: every later call fails with <see cref="GreengrassIpcConnectionException"/>.</summary>
    public static IpcReconnectPolicy None { get; } = new(false, 0, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>Whether the next call reconnects.</summary>
    public bool Enabled { get; }

    /// <summary>Attempts before the call fails.</summary>
    public int MaxAttempts { get; }

    /// <summary>Delay before the second attempt; it doubles, with jitter, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan InitialDelay { get; }

    /// <summary>Largest delay between attempts.</summary>
    public TimeSpan MaxDelay { get; }

    /// <summary>
    /// The next call after a loss reconnects first: up to <paramref name="maxAttempts"/> attempts (default 10), the
    /// first at once, then after <paramref name="initialDelay"/> (default 100 ms) doubling with jitter up to
    /// <paramref name="maxDelay"/> (default 5 s). Streams are not re-opened: subscribe again.
    /// </summary>
    public static IpcReconnectPolicy OnNextCall(int maxAttempts = 10, TimeSpan? initialDelay = null, TimeSpan? maxDelay = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        return new(true, maxAttempts, initialDelay ?? TimeSpan.FromMilliseconds(100), maxDelay ?? TimeSpan.FromSeconds(5));
    }
}

/// <summary>What an <see cref="IpcStream{TResponse, TEvent}"/> does when its consumer falls behind.</summary>
public enum IpcStreamFullMode
{
    /// <summary>Drop the oldest queued event to make room, and count it (<c>EventsDropped</c>). The default.</summary>
    DropOldest,

    /// <summary>Drop the arriving event, and count it.</summary>
    DropNewest,

    /// <summary>
    /// Stop reading the connection until there is room: nothing is lost, and the server's own queue for this
    /// subscriber absorbs or drops instead. Everything else on the connection waits too, so a consumer that awaits
    /// another call on the same client while its queue is full deadlocks: use a second client for that.
    /// </summary>
    Wait,
}

/// <summary>Options of a stream's event queue. Every default is stated on its property.</summary>
public sealed class IpcStreamOptions
{
    /// <summary>Events queued for the consumer at most. Default 1024.</summary>
    public int Capacity { get; init; } = 1024;

    /// <summary>What happens when the queue is full. Default <see cref="IpcStreamFullMode.DropOldest"/>.</summary>
    public IpcStreamFullMode FullMode { get; init; } = IpcStreamFullMode.DropOldest;
}
