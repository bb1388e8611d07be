using Fogline.Greengrass.Ipc;

namespace Fogline.ComponentKit.Hosting;

/// <summary>How <see cref="ComponentHost"/> runs a component. Every default is stated on its property.</summary>
public sealed class ComponentHostOptions
{
    /// <summary>The IPC connection. Default: null, meaning the environment the Nucleus gives a component
    /// (<c>AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT</c>, <c>SVCUID</c>).</summary>
    public GreengrassIpcClientOptions? Ipc { get; init; }

    /// <summary>How long the shutdown may take in all: queued messages, <see cref="FoglineComponent{T}.DrainAsync"/>
    /// and in-flight publishes. Default 10 s, below the Nucleus's default Shutdown timeout of 15 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Messages received and not yet handled that the host holds; beyond it new ones are dropped and counted
    /// (<c>dropped</c>). Default 8,192.</summary>
    public int InboundCapacity { get; init; } = 8192;

    /// <summary>Publishes in flight at once before <see cref="ComponentContext{T}.PublishAsync"/> waits. Default 64.</summary>
    public int MaxPublishesInFlight { get; init; } = 64;

    /// <summary>How often the counters are published on <c>fogline/metrics/{component}</c>. Default 5 s; zero turns it off.</summary>
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a component update is deferred at a time while a critical section is open. Default 5 s.</summary>
    public TimeSpan DeferUpdateBy { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The clock. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where structured log lines go. Default: standard output.</summary>
    public Stream? LogOutput { get; init; }

    /// <summary>Whether the process runs socket continuations on the socket event thread (see
    /// <see cref="Fogline.EventStream.Transport.SocketCompletions"/>): messages are then handled on the thread that
    /// received them, without a thread-pool wake-up each. It only takes effect before the process's first socket, so
    /// the host sets it first thing; handlers must not block. Default true.</summary>
    public bool InlineSocketCompletions { get; init; } = true;

    /// <summary>Whether the host handles SIGTERM and SIGINT (turn off when hosting several components in one process, as tests do). Default true.</summary>
    public bool HandleSignals { get; init; } = true;
}
