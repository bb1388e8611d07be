using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Components;

/// <summary>
/// The controller used while no process supervisor is set: components have no processes, so restarting, stopping,
/// pausing and resuming only walk the component through the lifecycle states the Nucleus's <c>Lifecycle</c> would
/// take it through, raising <see cref="ComponentRegistry.StateChanged"/> for each step:
/// <list type="bullet">
/// <item>Restart (desired states INSTALLED, RUNNING): NEW is refused (returns false, as <c>requestRestart</c> does);
/// BROKEN stays BROKEN (the Nucleus logs "service is broken. Deployment is needed" and waits for a deployment);
/// RUNNING, STARTING and ERRORED go STOPPING → INSTALLED → STARTING → RUNNING; STOPPING and FINISHED go
/// INSTALLED → STARTING → RUNNING; INSTALLED goes STARTING → RUNNING. A component without processes is taken to
/// RUNNING, as one with a <c>run</c> script would be once its process starts.</item>
/// <item>Stop (desired state FINISHED): RUNNING, STARTING and ERRORED go STOPPING → FINISHED; STOPPING and INSTALLED go
/// FINISHED; NEW goes INSTALLED → FINISHED (the Nucleus installs before it can finish); FINISHED and BROKEN stay.</item>
/// <item>Restart and stop clear a pause first (the Nucleus resumes a paused component when it shuts it down).</item>
/// <item>Pause and resume set <see cref="ComponentRecord.IsPaused"/>; the state stays RUNNING, as in the Nucleus.</item>
/// </list>
/// Error recovery (what the Nucleus does after a component reports ERRORED) needs processes and is the process
/// supervisor's; without it an ERRORED component stays ERRORED until restarted.
/// </summary>
public sealed class DefaultComponentController : IComponentController
{
    private readonly ComponentRegistry _registry;

    internal DefaultComponentController(ComponentRegistry registry)
    {
        _registry = registry;
    }

    /// <inheritdoc />
    public ValueTask<bool> RestartAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        var state = component.State;
        if (state == LifecycleState.New)
        {
            return ValueTask.FromResult(false);
        }

        if (state == LifecycleState.Broken)
        {
            return ValueTask.FromResult(true);
        }

        component.IsPaused = false;
        if (state == LifecycleState.Running || state == LifecycleState.Starting || state == LifecycleState.Errored)
        {
            _registry.SetState(component, LifecycleState.Stopping);
        }

        if (state != LifecycleState.Installed)
        {
            _registry.SetState(component, LifecycleState.Installed);
        }

        _registry.SetState(component, LifecycleState.Starting);
        _registry.SetState(component, LifecycleState.Running);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    public ValueTask StopAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        var state = component.State;
        if (state == LifecycleState.Finished || state == LifecycleState.Broken)
        {
            return ValueTask.CompletedTask;
        }

        component.IsPaused = false;
        if (state == LifecycleState.Running || state == LifecycleState.Starting || state == LifecycleState.Errored)
        {
            _registry.SetState(component, LifecycleState.Stopping);
        }
        else if (state == LifecycleState.New)
        {
            _registry.SetState(component, LifecycleState.Installed);
        }

        _registry.SetState(component, LifecycleState.Finished);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask PauseAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        component.IsPaused = true;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ResumeAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        component.IsPaused = false;
        return ValueTask.CompletedTask;
    }
}
