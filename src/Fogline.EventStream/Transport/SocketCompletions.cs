namespace Fogline.EventStream.Transport;

/// <summary>
/// Where .NET runs the continuation of a socket operation that had to wait: by default it hands it from the epoll
/// event thread to a thread-pool thread, one more wake-up per message received; on a busy 2-core gateway that wake-up
/// is most of a message's latency, and its tail is milliseconds. Inline completions run it on the event thread itself.
/// </summary>
/// <remarks>
/// The runtime reads its setting (<c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS</c>) once, when the process creates
/// its first socket, so <see cref="PreferInline"/> must run before that: first thing in <c>Main</c>. With it, code that
/// runs on a socket continuation must not block (no synchronous waits or long computations): it would hold up every
/// other socket served by the same event thread. The local Nucleus and components hosted by Fogline.ComponentKit
/// turn it on; their handlers are asynchronous.
/// </remarks>
public static class SocketCompletions
{
    /// <summary>The runtime's environment variable.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Asks for inline socket completions in this process, unless the environment already decides (set to anything).
    /// Returns whether they are asked for. Has no effect once the process has created a socket.
    /// </summary>
    public static bool PreferInline()
    {
        var current = Environment.GetEnvironmentVariable(InlineCompletionsVariable);
        if (current is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
            return true;
        }

        return current == "1";
    }
}
