using Fogline.ComponentKit.Messages;

namespace Fogline.ComponentKit.Processing;

/// <summary>A threshold rule's settings.</summary>
/// <param name="Above">True: alert when the value rises to the thresholds; false: when it falls to them.</param>
/// <param name="Warning">Warning threshold (NaN for none).</param>
/// <param name="Critical">Critical threshold (NaN for none).</param>
/// <param name="Hysteresis">How far back past a threshold the value must go to leave its level (≥ 0).</param>
/// <param name="MinDuration">How long, in seconds, a level must hold before it is raised (0 = at once).</param>
/// <param name="Cooldown">After a level is raised, the least time in seconds before the same or a lower level is raised again (escalation to critical is never held back).</param>
public sealed record ThresholdSettings(bool Above, double Warning, double Critical, double Hysteresis, double MinDuration, double Cooldown)
{
    /// <summary>Checks the settings; returns what is wrong, or null.</summary>
    public string? Problem()
    {
        if (double.IsNaN(Warning) && double.IsNaN(Critical))
        {
            return "a rule needs a warning or a critical threshold";
        }

        if (!double.IsNaN(Warning) && !double.IsNaN(Critical) && (Above ? Critical < Warning : Critical > Warning))
        {
            return Above ? "critical must be at or above warning for an 'above' rule" : "critical must be at or below warning for a 'below' rule";
        }

        if (!(Hysteresis >= 0) || !(MinDuration >= 0) || !(Cooldown >= 0))
        {
            return "hysteresis, minDuration and cooldown must be numbers >= 0";
        }

        return null;
    }
}

/// <summary>
/// The alert state of one rule on one series: NORMAL, WARNING or CRITICAL, with hysteresis, a minimum duration and a
/// cooldown. Allocates nothing per reading.
/// </summary>
/// <remarks>
/// A reading's level is the highest threshold it reaches. The state moves up to that level once it has held for
/// <see cref="ThresholdSettings.MinDuration"/>; it moves down only when the value is back past the current level's
/// threshold by the hysteresis. Each change of state is reported (a return to NORMAL is the alert clearing), except
/// that a rise to a level at or below the last raised one within the cooldown is held back.
/// </remarks>
public sealed class ThresholdRule
{
    private AlertSeverity _pending;
    private double _pendingSince = double.NaN;
    private double _lastRaisedAt = double.NegativeInfinity;
    private AlertSeverity _lastRaised;

    /// <summary>Creates the state for a rule.</summary>
    public ThresholdRule(ThresholdSettings settings)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
    }

    /// <summary>The settings (replace with <see cref="Update"/>; the state is kept).</summary>
    public ThresholdSettings Settings { get; private set; }

    /// <summary>The current state.</summary>
    public AlertSeverity State { get; private set; }

    /// <summary>Replaces the settings (a live configuration update); the current state stays and is re-evaluated with the next reading.</summary>
    public void Update(ThresholdSettings settings) => Settings = settings ?? throw new ArgumentNullException(nameof(settings));

    /// <summary>
    /// Evaluates a reading. Returns true when the state changed: <paramref name="previous"/> is the old state and
    /// <paramref name="threshold"/> the threshold of the level the change is about (for a clear, the one left).
    /// </summary>
    public bool Evaluate(double time, double value, out AlertSeverity previous, out double threshold)
    {
        previous = State;
        threshold = double.NaN;
        if (!double.IsFinite(value))
        {
            return false;
        }

        var s = Settings;
        var reached = LevelOf(value, s);
        var target = State;
        if (reached > State)
        {
            target = reached;
        }
        else if (reached < State)
        {
            // Leave the current level only once past its threshold by the hysteresis.
            var current = ThresholdOf(State, s);
            var back = s.Above ? value < current - s.Hysteresis : value > current + s.Hysteresis;
            if (back || double.IsNaN(current))
            {
                target = LevelWithHysteresis(value, s);
            }
        }

        if (target == State)
        {
            _pending = State;
            _pendingSince = double.NaN;
            return false;
        }

        if (target > State)
        {
            if (_pending != target || double.IsNaN(_pendingSince))
            {
                _pending = target;
                _pendingSince = time;
            }

            if (time - _pendingSince < s.MinDuration)
            {
                return false;
            }

            if (target <= _lastRaised && time - _lastRaisedAt < s.Cooldown)
            {
                return false;
            }

            _lastRaised = target;
            _lastRaisedAt = time;
        }

        threshold = target > State ? ThresholdOf(target, s) : ThresholdOf(State, s);
        State = target;
        _pending = target;
        _pendingSince = double.NaN;
        return true;
    }

    private static AlertSeverity LevelOf(double value, ThresholdSettings s)
    {
        if (Reaches(value, s.Critical, s.Above))
        {
            return AlertSeverity.Critical;
        }

        return Reaches(value, s.Warning, s.Above) ? AlertSeverity.Warning : AlertSeverity.Normal;
    }

    /// <summary>The level to fall back to: the highest level whose threshold the value has not gone back past by the hysteresis.</summary>
    private static AlertSeverity LevelWithHysteresis(double value, ThresholdSettings s)
    {
        var warning = s.Warning;
        if (!double.IsNaN(warning) && (s.Above ? value >= warning - s.Hysteresis : value <= warning + s.Hysteresis))
        {
            return AlertSeverity.Warning;
        }

        return AlertSeverity.Normal;
    }

    private static bool Reaches(double value, double threshold, bool above) =>
        !double.IsNaN(threshold) && (above ? value >= threshold : value <= threshold);

    private static double ThresholdOf(AlertSeverity level, ThresholdSettings s) => level switch
    {
        AlertSeverity.Critical => s.Critical,
        AlertSeverity.Warning => s.Warning,
        _ => double.NaN,
    };
}
