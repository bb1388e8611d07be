using Fogline.ComponentKit.Configuration;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// A Greengrass component run by <see cref="ComponentHost"/>. The host connects over IPC, reads and validates the
/// configuration with <see cref="ParseOptions"/>, calls <see cref="StartAsync"/>, reports RUNNING, applies live
/// configuration changes through <see cref="OnOptionsChangedAsync"/>, and on SIGTERM stops taking messages, lets the
/// queued ones through and calls <see cref="DrainAsync"/>.
/// </summary>
/// <remarks>
/// Every callback (subscription handlers, timers, option changes, drain) runs on the host's single processing loop,
/// one at a time, so component code needs no locks.
/// </remarks>
/// <typeparam name="TOptions">The component's parsed, immutable options.</typeparam>
public abstract class FoglineComponent<TOptions>
    where TOptions : class
{
    /// <summary>The component's name as in its recipe (e.g. <c>com.fogline.EdgeFilter</c>).</summary>
    public abstract string Name { get; }

    /// <summary>
    /// Parses and validates the component's whole configuration. Throw <see cref="ConfigurationException"/> (the
    /// <see cref="ConfigNode"/> readers do) for a bad value: at start the component then reports ERRORED and exits; for a
    /// live update the change is rejected and the previous options stay.
    /// </summary>
    public abstract TOptions ParseOptions(ConfigNode configuration);

    /// <summary>Subscribes and starts the component's work. Called once, before RUNNING is reported.</summary>
    public abstract Task StartAsync(ComponentContext<TOptions> context, CancellationToken cancellationToken);

    /// <summary>Applies options changed at run time (already validated). The default does nothing.</summary>
    public virtual ValueTask OnOptionsChangedAsync(TOptions previous, TOptions current, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Flushes what the component holds (open windows, held points) on shutdown. The default does nothing.</summary>
    public virtual ValueTask DrainAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
