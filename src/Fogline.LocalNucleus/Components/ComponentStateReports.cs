using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Components;

/// <summary>
/// States reported by components (UpdateState), applied as the Nucleus's <c>Lifecycle.reportState</c> applies them:
/// <list type="bullet">
/// <item>A report is only taken from certain states (<c>ALLOWED_STATE_TRANSITION_FOR_REPORTING</c>): from NEW only
/// ERRORED; from STARTING RUNNING, ERRORED or FINISHED; from RUNNING and STOPPING ERRORED or FINISHED. Anything else is
/// ignored (logged as an invalid reported state, but for a report of the state the component is already in, such as
/// RUNNING from a component with a Run step, which is normal and only logged at debug level); the call still
/// succeeds.</item>
/// <item>ERRORED is counted by <see cref="ErrorHistory"/> (the Nucleus's rule, shared with the supervisor); the third
/// one in a row makes the component BROKEN instead.</item>
/// </list>
/// The Nucleus compares with the last reported state, which every internal transition also sets; the registry's
/// current state is the same thing here, since states are applied at once.
/// </summary>
internal sealed class ComponentStateReports
{
    private readonly ComponentRegistry _registry;
    private readonly TimeProvider _time;
    private readonly Lifecycle.LifecycleOptions _options;
    private readonly ILogger _logger;

    public ComponentStateReports(ComponentRegistry registry, TimeProvider time, Lifecycle.LifecycleOptions options, ILogger logger)
    {
        _registry = registry;
        _time = time;
        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// Applies a reported state. <paramref name="startedWithoutSupervisor"/>: the component talks IPC, so it is running
    /// its lifecycle; with no process supervisor its NEW or INSTALLED state is taken as STARTING (where the Nucleus
    /// would have it). Returns the state the component is in afterwards.
    /// </summary>
    public LifecycleState Report(ComponentRecord component, LifecycleState reported, bool startedWithoutSupervisor)
    {
        LifecycleState target;
        LifecycleState from;
        lock (component.Errors)
        {
            from = component.State;
            if (startedWithoutSupervisor && (from == LifecycleState.New || from == LifecycleState.Installed))
            {
                from = LifecycleState.Starting;
            }

            if (!IsAllowed(from, reported))
            {
                if (reported == from)
                {
                    // RUNNING while RUNNING is how every component with a Run step starts: the Nucleus set RUNNING
                    // when it started the process, then the component says so itself. Nothing to tell anyone.
                    ComponentsLog.StateReportRedundant(_logger, component.Name, reported.Value);
                }
                else
                {
                    ComponentsLog.StateReportIgnored(_logger, component.Name, reported.Value, component.State.Value);
                }

                return component.State;
            }

            target = reported;
            if (reported == LifecycleState.Errored)
            {
                var count = component.Errors.Errored(from, _time.GetUtcNow(), _options.ErrorResetTime);
                if (count >= _options.ErrorsBeforeBroken)
                {
                    target = LifecycleState.Broken;
                    ComponentsLog.ComponentBroken(_logger, component.Name, count);
                }
            }
            else
            {
                component.Errors.Reported(from);
            }

            if (startedWithoutSupervisor && from == LifecycleState.Starting && component.State != LifecycleState.Starting)
            {
                _registry.SetState(component, LifecycleState.Starting);
            }

            _registry.SetState(component, target);
        }

        ComponentsLog.StateReported(_logger, component.Name, reported.Value, target.Value);
        return target;
    }

    private static bool IsAllowed(LifecycleState from, LifecycleState reported)
    {
        if (from == LifecycleState.New)
        {
            return reported == LifecycleState.Errored;
        }

        if (from == LifecycleState.Starting)
        {
            return reported == LifecycleState.Running || reported == LifecycleState.Errored || reported == LifecycleState.Finished;
        }

        if (from == LifecycleState.Running || from == LifecycleState.Stopping)
        {
            return reported == LifecycleState.Errored || reported == LifecycleState.Finished;
        }

        return false;
    }
}
