using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.ZoneCorrelator;

/// <summary>
/// One zone rule's state in one zone: the conditions' last aggregates and the alert state machine (AlertEngine's
/// <see cref="ThresholdRule"/>: minimum duration and cooldown as there, on the combination of the conditions).
/// Evaluating allocates nothing.
/// </summary>
public sealed class ZoneRuleState
{
    private ZoneAggregateValue[] _values;
    private bool[] _holds;

    /// <summary>Creates the state of <paramref name="rule"/> (normal).</summary>
    public ZoneRuleState(ZoneRuleOptions rule)
    {
        Rule = rule ?? throw new ArgumentNullException(nameof(rule));
        Machine = new ThresholdRule(rule.Settings);
        _values = new ZoneAggregateValue[rule.Conditions.Count];
        _holds = new bool[rule.Conditions.Count];
    }

    /// <summary>The rule.</summary>
    public ZoneRuleOptions Rule { get; private set; }

    /// <summary>The alert state machine.</summary>
    public ThresholdRule Machine { get; }

    /// <summary>The current severity.</summary>
    public AlertSeverity Severity => Machine.State;

    /// <summary>Each condition's aggregate at the last evaluation.</summary>
    public ReadOnlySpan<ZoneAggregateValue> Values => _values;

    /// <summary>Whether each condition held at the last evaluation.</summary>
    public ReadOnlySpan<bool> Holds => _holds;

    /// <summary>Replaces the rule (a live configuration change): the state stays and is judged by the new rule from the next evaluation.</summary>
    public void Update(ZoneRuleOptions rule)
    {
        Rule = rule ?? throw new ArgumentNullException(nameof(rule));
        Machine.Update(rule.Settings);
        if (_values.Length != rule.Conditions.Count)
        {
            _values = new ZoneAggregateValue[rule.Conditions.Count];
            _holds = new bool[rule.Conditions.Count];
        }
    }

    /// <summary>
    /// Evaluates the rule on <paramref name="zone"/> at <paramref name="now"/>; returns true when its severity changed
    /// (<paramref name="previous"/> is the one before).
    /// </summary>
    public bool Evaluate(ZoneState zone, double now, double staleAfter, out AlertSeverity previous)
    {
        ArgumentNullException.ThrowIfNull(zone);
        var rule = Rule;
        var raised = Machine.State != AlertSeverity.Normal;
        var combined = rule.All;
        for (var i = 0; i < rule.Conditions.Count; i++)
        {
            var condition = rule.Conditions[i];
            var value = zone.Aggregate(condition, now, staleAfter);
            var holds = ConditionHolds(condition, value, raised);
            _values[i] = value;
            _holds[i] = holds;
            combined = rule.All ? combined && holds : combined || holds;
        }

        return Machine.Evaluate(now, combined ? 1 : 0, out previous, out _);
    }

    /// <summary>Whether a condition holds for an aggregate; while the rule is raised the threshold is relaxed by the hysteresis.</summary>
    public static bool ConditionHolds(ZoneCondition condition, ZoneAggregateValue value, bool raised)
    {
        ArgumentNullException.ThrowIfNull(condition);
        if (value.Devices < condition.MinDevices || double.IsNaN(value.Value))
        {
            return false;
        }

        var slack = raised ? condition.Hysteresis : 0;
        return condition.Above ? value.Value >= condition.Threshold - slack : value.Value <= condition.Threshold + slack;
    }
}
