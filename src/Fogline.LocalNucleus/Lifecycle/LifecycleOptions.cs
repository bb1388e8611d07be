namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>How the supervisor runs component processes. Every default is the Nucleus's.</summary>
public sealed class LifecycleOptions
{
    /// <summary>The Nucleus's <c>errorResetTime</c>: an error at least this long after the previous one from the same
    /// state starts the count again (see <see cref="Components.ErrorHistory"/>). Default 1 hour.</summary>
    public TimeSpan ErrorResetTime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Errors in a row (see <see cref="Components.ErrorHistory"/>) that make a component BROKEN: the Nucleus's
    /// <c>MAXIMUM_CONTINUAL_ERROR</c>, 3.</summary>
    public int ErrorsBeforeBroken { get; init; } = 3;

    /// <summary>After Shutdown (or when there is none), how long the process group has between SIGTERM and SIGKILL. Default 5 s.</summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long every component of an applied set must stay RUNNING or FINISHED before the set counts as applied, so
    /// that a component that crashes right after it starts fails the deployment (and is rolled back) instead of passing
    /// as RUNNING. Default 1 s.
    /// </summary>
    public TimeSpan StableTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The shell that runs lifecycle scripts (<c>sh -c script</c>, as the Nucleus on Linux). Default <c>sh</c>.</summary>
    public string Shell { get; init; } = "sh";
}
