using Fogline.Anomaly.Detection;

namespace Fogline.Anomaly.Tests;

/// <summary>A series' state on its own: normalisation to the range seen, rescaling when it widens, and the record window's ceilings.</summary>
public class SeriesStateTests
{
    [Test]
    public void KeptReadings_AreAlwaysNormalisedToTheRangeSeenSoFar()
    {
        var state = new SeriesState(new ModelShape(16, 4, 1), 64);
        double[] values = [5, 3, 8, 4, 10, 1, 7, -2, 6];
        var history = new float[16];
        for (var n = 0; n < values.Length; n++)
        {
            // As the detector does: append normalised with the range before, then widen the range.
            state.Push(values[n]);
            state.Extend(values[n]);
            state.CopyHistory(history);
            var min = values[..(n + 1)].Min();
            var max = values[..(n + 1)].Max();
            Assert.That(history[..(16 - n - 1)], Is.All.EqualTo(SeriesState.FarAway), $"after {n + 1} readings: missing ones far away");
            for (var k = 0; k <= n; k++)
            {
                var expected = max > min ? (values[k] - min) / (max - min) : 0;
                Assert.That(history[16 - n - 1 + k], Is.EqualTo(expected).Within(1e-5), $"after {n + 1} readings, reading {k} ({values[k]} in [{min}, {max}])");
            }
        }

        Assert.That(state.HistoryCount, Is.EqualTo(values.Length));
        Assert.That(state.Min, Is.EqualTo(-2));
        Assert.That(state.Max, Is.EqualTo(10));
    }

    [Test]
    public void TheNewestReading_IsNormalisedWithTheRangeBeforeIt()
    {
        var state = new SeriesState(new ModelShape(8, 4, 1), 64);
        state.Push(0);
        state.Extend(0);
        state.Push(10);
        state.Extend(10);
        state.Push(15);
        var history = new float[8];
        state.CopyHistory(history);
        Assert.That(history[^1], Is.EqualTo(1.5f), "15 in the range [0, 10] before it");
        state.Extend(15);
        state.CopyHistory(history);
        Assert.That(history[^3..], Is.EqualTo(new[] { 0f, 10f / 15, 1f }).Within(1e-6f));
    }

    [Test]
    public void WideningTheRange_RescalesDistancesAndCeilings_UnusedSlotsStayInfinite()
    {
        var state = new SeriesState(new ModelShape(8, 4, 3), 64);
        state.Push(0);
        state.Extend(0);
        state.Push(2);
        state.Extend(2);
        var ceilings = new float[3];
        state.CopyCeilings(ceilings);
        Assert.That(ceilings, Is.All.EqualTo(float.PositiveInfinity), "no record before there is a distance");

        state.AddDistances([0.2f, 0.4f, float.PositiveInfinity]);
        state.AddDistances([0.6f, 0.1f, float.PositiveInfinity]);
        state.Push(8);
        state.Extend(8);

        // The range goes from 2 wide to 8 wide: a distance of 0.2 ranges is now 0.05.
        Assert.That(state.Calibration, Is.EqualTo(new[]
        {
            0.05f, 0.15f, float.PositiveInfinity, float.PositiveInfinity,
            0.1f, 0.025f, float.PositiveInfinity, float.PositiveInfinity,
            float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity,
        }).Within(1e-6f));
        state.CopyCeilings(ceilings);
        Assert.That(ceilings, Is.EqualTo(new[] { 0.15f, 0.1f, float.PositiveInfinity }).Within(1e-6f), "a scale without a distance has no ceiling");
    }

    [Test]
    public void TheCeiling_IsTheLargestDistanceOfTheRecordWindow()
    {
        // 160 readings of record window: 16 blocks of 10. A distance is forgotten when its block is reused: the
        // record (first of block 0) is among the window's distances for 159 more, then gone.
        var state = new SeriesState(new ModelShape(8, 4, 1), 160);
        var ceiling = new float[1];
        state.AddDistances([5f]);
        for (var n = 1; n < 159; n++)
        {
            state.AddDistances([1f]);
            state.CopyCeilings(ceiling);
            Assert.That(ceiling[0], Is.EqualTo(5f), $"{n} readings after the record");
        }

        state.AddDistances([1f]);
        state.CopyCeilings(ceiling);
        Assert.That(ceiling[0], Is.EqualTo(1f), "159 readings after: its block is reused (the window is its last 150 to 160 readings)");
        Assert.That(state.CalibrationCount, Is.EqualTo(4));
    }
}
