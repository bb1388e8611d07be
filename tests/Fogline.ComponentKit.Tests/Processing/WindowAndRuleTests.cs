using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.ComponentKit.Tests.Processing;

public class TumblingWindowTests
{
    [Test]
    public void Statistics_MatchATwoPassComputation_AndWindowsCloseOnTheirEdge()
    {
        var window = new TumblingWindow(60);
        var random = new Random(3);
        var values = new List<double>();
        WindowStats closed = default;
        var emitted = 0;
        for (var t = 120.0; t < 180; t += 0.5)
        {
            var v = 1e6 + (random.NextDouble() * 10); // a large offset: the naive sum of squares would lose precision
            values.Add(v);
            Assert.That(window.Add(t, v, out _), Is.False);
        }

        if (window.Add(180, 5, out closed))
        {
            emitted++;
        }

        var mean = values.Average();
        var std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count);
        Assert.That(emitted, Is.EqualTo(1));
        Assert.That(closed.Start, Is.EqualTo(120));
        Assert.That(closed.End, Is.EqualTo(180));
        Assert.That(closed.Count, Is.EqualTo(values.Count));
        Assert.That(closed.Min, Is.EqualTo(values.Min()));
        Assert.That(closed.Max, Is.EqualTo(values.Max()));
        Assert.That(closed.Mean, Is.EqualTo(mean).Within(1e-6));
        Assert.That(closed.StdDev, Is.EqualTo(std).Within(1e-6));
        Assert.That(closed.Complete, Is.True);
    }

    [Test]
    public void LateReadings_AreDroppedAndCounted_NeverReopeningAPublishedWindow()
    {
        var window = new TumblingWindow(10);
        window.Add(1, 1, out _);
        window.Add(12, 2, out var first);
        Assert.That(first.Count, Is.EqualTo(1));

        Assert.That(window.Add(5, 100, out _), Is.False, "for the window already published");
        Assert.That(window.LateDropped, Is.EqualTo(1));
        window.Add(25, 3, out var second);
        Assert.That(second.Count, Is.EqualTo(1));
        Assert.That(second.Max, Is.EqualTo(2), "the late value is not in the next window either");
        Assert.That(second.Late, Is.EqualTo(1), "the summary says a late reading was dropped");
    }

    [Test]
    public void FlushIfDue_ClosesOnTheClock_AndFlushOnShutdownGivesAPartialWindow()
    {
        var window = new TumblingWindow(10);
        window.Add(3, 1, out _);
        Assert.That(window.FlushIfDue(9.9, out _), Is.False);
        Assert.That(window.FlushIfDue(10, out var due), Is.True);
        Assert.That(due.Count, Is.EqualTo(1));
        window.Add(14, 7, out _);
        Assert.That(window.Flush(out var partial), Is.True);
        Assert.That(partial.Complete, Is.False);
        Assert.That(partial.Mean, Is.EqualTo(7));
        Assert.That(window.Flush(out _), Is.False, "nothing open");
    }

    [Test]
    public void SteadyState_AllocatesNothingPerReading()
    {
        var window = new TumblingWindow(1);
        window.Add(0, 0, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1; i < 100_000; i++)
        {
            window.Add(i * 0.01, i, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}

public class ThresholdRuleTests
{
    private static ThresholdSettings Above(double hysteresis = 0, double minDuration = 0, double cooldown = 0) =>
        new(true, Warning: 70, Critical: 90, hysteresis, minDuration, cooldown);

    [Test]
    public void RaisesWarning_EscalatesToCritical_AndClearsOnlyPastTheHysteresis()
    {
        var rule = new ThresholdRule(Above(hysteresis: 5));
        Assert.That(rule.Evaluate(0, 60, out _, out _), Is.False);
        Assert.That(rule.Evaluate(1, 72, out var previous, out var threshold), Is.True);
        Assert.That((rule.State, previous, threshold), Is.EqualTo((AlertSeverity.Warning, AlertSeverity.Normal, 70.0)));
        Assert.That(rule.Evaluate(2, 95, out _, out threshold), Is.True);
        Assert.That((rule.State, threshold), Is.EqualTo((AlertSeverity.Critical, 90.0)));
        Assert.That(rule.Evaluate(3, 87, out _, out _), Is.False, "within the hysteresis of critical");
        Assert.That(rule.Evaluate(4, 84, out previous, out _), Is.True);
        Assert.That((rule.State, previous), Is.EqualTo((AlertSeverity.Warning, AlertSeverity.Critical)));
        Assert.That(rule.Evaluate(5, 66, out _, out _), Is.False, "within the hysteresis of warning");
        Assert.That(rule.Evaluate(6, 64, out _, out _), Is.True);
        Assert.That(rule.State, Is.EqualTo(AlertSeverity.Normal), "cleared");
    }

    [Test]
    public void MinDuration_RaisesOnlyWhenTheLevelHeldLongEnough()
    {
        var rule = new ThresholdRule(Above(minDuration: 10));
        Assert.That(rule.Evaluate(0, 75, out _, out _), Is.False);
        Assert.That(rule.Evaluate(5, 76, out _, out _), Is.False);
        Assert.That(rule.Evaluate(6, 50, out _, out _), Is.False, "dipped: the clock starts again");
        Assert.That(rule.Evaluate(7, 75, out _, out _), Is.False);
        Assert.That(rule.Evaluate(16, 75, out _, out _), Is.False);
        Assert.That(rule.Evaluate(17, 75, out _, out _), Is.True);
    }

    [Test]
    public void Cooldown_HoldsBackARepeat_ButNotAnEscalation()
    {
        var rule = new ThresholdRule(Above(cooldown: 60));
        Assert.That(rule.Evaluate(0, 75, out _, out _), Is.True);
        Assert.That(rule.Evaluate(1, 50, out _, out _), Is.True, "cleared");
        Assert.That(rule.Evaluate(2, 75, out _, out _), Is.False, "a repeat within the cooldown");
        Assert.That(rule.Evaluate(3, 95, out _, out _), Is.True, "escalation is never held back");
        Assert.That(rule.Evaluate(4, 50, out _, out _), Is.True);
        Assert.That(rule.Evaluate(70, 75, out _, out _), Is.True, "after the cooldown");
    }

    [Test]
    public void BelowRules_AndLiveUpdates()
    {
        var rule = new ThresholdRule(new ThresholdSettings(false, Warning: 10, Critical: 5, 1, 0, 0));
        Assert.That(rule.Evaluate(0, 9, out _, out _), Is.True);
        Assert.That(rule.State, Is.EqualTo(AlertSeverity.Warning));
        rule.Update(new ThresholdSettings(false, Warning: 8, Critical: 5, 1, 0, 0));
        Assert.That(rule.Evaluate(1, 9.5, out _, out _), Is.True, "past the new warning threshold plus hysteresis: cleared");
        Assert.That(rule.State, Is.EqualTo(AlertSeverity.Normal));
    }

    [Test]
    public void BadSettings_AreDescribed()
    {
        Assert.That(new ThresholdSettings(true, double.NaN, double.NaN, 0, 0, 0).Problem(), Does.Contain("needs a warning or a critical"));
        Assert.That(new ThresholdSettings(true, 90, 70, 0, 0, 0).Problem(), Does.Contain("critical must be at or above warning"));
        Assert.That(new ThresholdSettings(true, 70, 90, -1, 0, 0).Problem(), Does.Contain(">= 0"));
        Assert.That(Above().Problem(), Is.Null);
    }

    [Test]
    public void SteadyState_AllocatesNothingPerReading()
    {
        var rule = new ThresholdRule(Above(hysteresis: 2, minDuration: 1, cooldown: 5));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            rule.Evaluate(i, 60 + (40 * Math.Sin(i / 50.0)), out _, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }
}
