using System.Runtime.CompilerServices;
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
/// <item>ERRORED reported from NEW, STARTING or RUNNING is counted per state; the third one in a row (the count is
/// cleared when the previous error is older than the error reset time, one hour by default, or when a non-ERRORED
/// state is reported from that state) makes the component BROKEN instead.</item>
/// </list>
/// The Nucleus compares with the last reported state, which every internal transition also sets; the registry's
/// current state is the same thing here, since states are applied at once.
/// </summary>
internal sealed class ComponentStateReports
{
    /// <summary>The Nucleus's <c>MAXIMUM_CONTINUAL_ERROR</c>.</summary>
    public const int MaximumContinualErrors = 3;

    /// <summary>The Nucleus's default <c>errorResetTime</c>.</summary>
    public static readonly TimeSpan DefaultErrorResetTime = TimeSpan.FromHours(1);

    private readonly ComponentRegistry _registry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConditionalWeakTable<ComponentRecord, ErrorCounts> _errors = [];

    public ComponentStateReports(ComponentRegistry registry, TimeProvider time, ILogger logger)
    {
        _registry = registry;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Applies a reported state. <paramref name="startedWithoutSupervisor"/>: the component talks IPC, so it is running
    /// its lifecycle; with no process supervisor its NEW or INSTALLED state is taken as STARTING (where the Nucleus
    /// would have it). Returns the state the component is in afterwards.
    /// </summary>
    public LifecycleState Report(ComponentRecord component, LifecycleState reported, bool startedWithoutSupervisor)
    {
        var counts = _errors.GetValue(component, static _ => new ErrorCounts());
        LifecycleState target;
        LifecycleState from;
        lock (counts)
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
            if (reported == LifecycleState.Errored && (from == LifecycleState.New || from == LifecycleState.Starting || from == LifecycleState.Running))
            {
                var now = _time.GetUtcNow();
                var list = counts.For(from);
                if (list.Count > 0 && now - list[^1] >= DefaultErrorResetTime)
                {
                    list.Clear();
                }

                list.Add(now);
                if (list.Count >= MaximumContinualErrors)
                {
                    target = LifecycleState.Broken;
                    ComponentsLog.ComponentBroken(_logger, component.Name, list.Count);
                }
            }
            else
            {
                counts.For(from).Clear();
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

    private sealed class ErrorCounts
    {
        private readonly Dictionary<LifecycleState, List<DateTimeOffset>> _byState = [];

        public List<DateTimeOffset> For(LifecycleState state)
        {
            if (!_byState.TryGetValue(state, out var list))
            {
                list = [];
                _byState[state] = list;
            }

            return list;
        }
    }
}
