using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;

namespace Fogline.LocalNucleus.Tests.Components;

/// <summary>The Nucleus's rule for BROKEN (ErrorHistory), which the supervisor and ERRORED reports share.</summary>
public class ErrorHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Test]
    public void ErrorsAt0_50And100Minutes_AreThreeInARow()
    {
        var history = new ErrorHistory();
        var counts = new[] { 0, 50, 100 }.Select(m => history.Errored(LifecycleState.Running, T0.AddMinutes(m), Hour)).ToList();
        Assert.That(counts, Is.EqualTo(new[] { 1, 2, 3 }), "each error is less than the reset time after the previous one: a sliding one-hour window would say 2");
    }

    [Test]
    public void ErrorsAnHourOrMoreApart_StartTheCountAgain()
    {
        var history = new ErrorHistory();
        var counts = new[] { 0, 60, 130 }.Select(m => history.Errored(LifecycleState.Running, T0.AddMinutes(m), Hour)).ToList();
        Assert.That(counts, Is.EqualTo(new[] { 1, 1, 1 }));
    }

    [Test]
    public void CountsArePerState_AndAnotherReportFromAStateClearsIt()
    {
        var history = new ErrorHistory();
        Assert.That(history.Errored(LifecycleState.Running, T0, Hour), Is.EqualTo(1));
        Assert.That(history.Errored(LifecycleState.Starting, T0.AddMinutes(1), Hour), Is.EqualTo(1), "counted apart");
        Assert.That(history.Errored(LifecycleState.Running, T0.AddMinutes(2), Hour), Is.EqualTo(2));
        history.Reported(LifecycleState.Running);
        Assert.That(history.Errored(LifecycleState.Running, T0.AddMinutes(3), Hour), Is.EqualTo(1), "FINISHED reported from RUNNING cleared RUNNING's count");
        Assert.That(history.Errored(LifecycleState.Stopping, T0.AddMinutes(4), Hour), Is.Zero, "errors from STOPPING are not counted");
    }
}
