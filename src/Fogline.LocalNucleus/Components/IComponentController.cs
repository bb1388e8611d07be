namespace Fogline.LocalNucleus.Components;

/// <summary>
/// What acts on components when they are restarted, stopped, paused or resumed: the CLI's RestartComponent and
/// StopComponent and the Nucleus's PauseComponent and ResumeComponent call it after authorization and validation.
/// The process supervisor implements it for components with processes; <see cref="DefaultComponentController"/> is
/// used until one is set on <see cref="Nucleus.Controller"/>.
/// </summary>
/// <remarks>
/// As in the Nucleus, these are requests: <see cref="RestartAsync"/> and <see cref="StopAsync"/> return once the
/// request has been accepted, not when the component has reached its new state. Implementations move the component
/// through its lifecycle states with <see cref="ComponentRegistry.SetState"/>.
/// </remarks>
public interface IComponentController
{
    /// <summary>
    /// Requests a restart (the Nucleus's <c>GreengrassService.requestRestart</c>). Returns false when the restart
    /// will not happen (the Nucleus refuses to restart a component that is NEW and was never asked to start); the CLI
    /// then answers <c>restartStatus: FAILED</c>.
    /// </summary>
    ValueTask<bool> RestartAsync(ComponentRecord component, CancellationToken cancellationToken = default);

    /// <summary>Requests a stop (the Nucleus's <c>GreengrassService.requestStop</c>).</summary>
    ValueTask StopAsync(ComponentRecord component, CancellationToken cancellationToken = default);

    /// <summary>
    /// Pauses a RUNNING component's processes (the Nucleus freezes its cgroup) and marks it
    /// <see cref="ComponentRecord.IsPaused"/>. Throws <see cref="ComponentControlException"/> when that fails.
    /// </summary>
    ValueTask PauseAsync(ComponentRecord component, CancellationToken cancellationToken = default);

    /// <summary>Resumes a paused component and clears <see cref="ComponentRecord.IsPaused"/>. Throws <see cref="ComponentControlException"/> when that fails.</summary>
    ValueTask ResumeAsync(ComponentRecord component, CancellationToken cancellationToken = default);
}

/// <summary>A controller could not do what was asked (answered as the Nucleus's ServiceError "Failed to pause component … due to : …").</summary>
public sealed class ComponentControlException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ComponentControlException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ComponentControlException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ComponentControlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
