using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Components;

/// <summary>
/// When a component becomes BROKEN: the Nucleus's rule (<c>Lifecycle.internalReportState</c>), in one place for the
/// supervisor (a lifecycle step that fails) and for components reporting ERRORED over IPC.
/// <list type="bullet">
/// <item>Errors are counted per state the component errored from (NEW, STARTING or RUNNING; errors from other states
/// are not counted).</item>
/// <item>A state's count starts again when its previous error is at least the error reset time old (one hour by
/// default): errors at 0, 50 and 100 minutes are three in a row; at 0, 70 and 140 minutes they never are.</item>
/// <item>A report of any other state from that state (RUNNING from STARTING, FINISHED from RUNNING, whether the
/// Nucleus or the component reports it) clears that state's count.</item>
/// <item>The third error in a row (<see cref="Lifecycle.LifecycleOptions.ErrorsBeforeBroken"/>) makes the component
/// BROKEN.</item>
/// </list>
/// </summary>
public sealed class ErrorHistory
{
    private readonly Dictionary<LifecycleState, List<DateTimeOffset>> _byState = [];
    private readonly Lock _lock = new();

    /// <summary>
    /// Counts an error from <paramref name="from"/> at <paramref name="now"/>; returns how many errors from that state
    /// are now in a row (0 when errors from that state are not counted).
    /// </summary>
    public int Errored(LifecycleState from, DateTimeOffset now, TimeSpan errorResetTime)
    {
        if (from != LifecycleState.New && from != LifecycleState.Starting && from != LifecycleState.Running)
        {
            return 0;
        }

        lock (_lock)
        {
            if (!_byState.TryGetValue(from, out var errors))
            {
                errors = [];
                _byState[from] = errors;
            }

            if (errors.Count > 0 && now - errors[^1] >= errorResetTime)
            {
                errors.Clear();
            }

            errors.Add(now);
            return errors.Count;
        }
    }

    /// <summary>A state other than ERRORED was reported from <paramref name="from"/>: its count starts again.</summary>
    public void Reported(LifecycleState from)
    {
        lock (_lock)
        {
            _byState.Remove(from);
        }
    }

    /// <summary>Forgets every error (a deployment or an explicit restart gives the component a new chance).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _byState.Clear();
        }
    }
}
