using System.Globalization;
using Fogline.ComponentKit.Processing;
using Fogline.Plr;

namespace Fogline.ComponentKit.Tests.Processing;

public class SwingingDoorTests
{
    private static readonly string[] NabFiles =
    [
        "ambient_temperature_system_failure.csv",
        "art_daily_jumpsup.csv",
        "art_daily_small_noise.csv",
        "cpu_utilization_asg_misconfiguration.csv",
        "ec2_request_latency_system_failure.csv",
    ];

    public static IEnumerable<string> Files => NabFiles;

    [TestCaseSource(nameof(Files))]
    public void Nab_AtHalfAPercentOfTheRange_ReconstructionNeverExceedsTheBound(string file)
    {
        var series = ReadNab(file);
        var range = series.Max(p => p.Value) - series.Min(p => p.Value);
        var bound = 0.005 * range;

        var (forwarded, maxError) = Compress(series, new SwingingDoor(CompressionMode.SwingingDoor, bound, 0), linear: true);
        var (deadbandForwarded, deadbandError) = Compress(series, new SwingingDoor(CompressionMode.Deadband, bound, 0), linear: false);

        var suppressed = 1.0 - ((double)forwarded / series.Count);
        var deadbandSuppressed = 1.0 - ((double)deadbandForwarded / series.Count);
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {file} | {series.Count} | {bound:G4} | {suppressed:P1} | {maxError / bound:P1} | {deadbandSuppressed:P1} | {deadbandError / bound:P1} |"));
        Assert.That(maxError, Is.LessThanOrEqualTo(bound * (1 + 1e-9)), "swinging door: interpolation between forwarded points stays within the bound");
        Assert.That(deadbandError, Is.LessThanOrEqualTo(bound * (1 + 1e-9)), "deadband: holding the last forwarded value stays within the bound");
        Assert.That(forwarded, Is.LessThan(series.Count), "something is suppressed");
    }

    [Test]
    public void AdversarialSeries_NeverExceedTheBound([Values(1, 2, 3, 4, 5)] int seed)
    {
        var random = new Random(seed);
        var series = new List<SeriesPoint>();
        var t = 0.0;
        var v = 0.0;
        for (var i = 0; i < 20_000; i++)
        {
            t += 0.001 + (random.NextDouble() * 2);
            v += random.Next(50) == 0 ? (random.NextDouble() - 0.5) * 100 : (random.NextDouble() - 0.5) * 2;
            series.Add(new SeriesPoint(t, v));
        }

        foreach (var silence in new[] { 0.0, 5.0 })
        {
            var (_, maxError) = Compress(series, new SwingingDoor(CompressionMode.SwingingDoor, 0.7, silence), linear: true);
            Assert.That(maxError, Is.LessThanOrEqualTo(0.7 * (1 + 1e-9)), $"seed {seed}, max silence {silence}");
        }
    }

    [Test]
    public void RepeatedTimestamps_FarFromThePivot_OrOlderOnes_AreForwarded()
    {
        var door = new SwingingDoor(CompressionMode.SwingingDoor, 10, 0);
        Span<SeriesPoint> output = stackalloc SeriesPoint[2];
        door.Add(new SeriesPoint(10, 1), output);
        Assert.That(door.Add(new SeriesPoint(10, 5), output), Is.Zero, "same time as the pivot, within the bound: accounted for");
        Assert.That(door.Add(new SeriesPoint(10, 50), output), Is.EqualTo(1), "same time as the pivot, beyond the bound");
        Assert.That(output[0], Is.EqualTo(new SeriesPoint(10, 50)));
        Assert.That(door.Add(new SeriesPoint(5, 3), output), Is.EqualTo(1), "older than the pivot");
    }

    /// <summary>
    /// Why the pipeline test's count varied from run to run (issue 11): it stamped readings with the wall clock in
    /// milliseconds while publishing several per millisecond, and every reading that shared the pivot's timestamp was
    /// forwarded. The same ramp must compress the same whether its readings come one per timestamp or in bursts that
    /// share one, and a ramp on a fixed clock always gives the same count.
    /// </summary>
    [Test]
    public void ARamp_CompressesTheSame_WhetherOrNotReadingsShareTimestamps()
    {
        static List<SeriesPoint> Ramp(int perTimestamp)
        {
            var ramp = new List<SeriesPoint>();
            for (var i = 0; i <= 250; i++)
            {
                var t = 1_000_000 + ((i / perTimestamp) * 0.001 * perTimestamp);
                ramp.Add(new SeriesPoint(t, 60 + (i * 0.1) + (i % 2 == 0 ? 0.05 : -0.05)));
            }

            return ramp;
        }

        var (steady, steadyError) = Compress(Ramp(1), new SwingingDoor(CompressionMode.SwingingDoor, 0.5, 0), linear: true);
        Assert.That(steady, Is.LessThan(251 / 4), "a straight ramp with ±0.05 noise needs few points at a bound of 0.5");
        Assert.That(Compress(Ramp(1), new SwingingDoor(CompressionMode.SwingingDoor, 0.5, 0), linear: true).Forwarded, Is.EqualTo(steady), "deterministic");
        Assert.That(steadyError, Is.LessThanOrEqualTo(0.5 * (1 + 1e-9)));
        foreach (var burst in new[] { 2, 3, 5 })
        {
            var (forwarded, maxError) = Compress(Ramp(burst), new SwingingDoor(CompressionMode.SwingingDoor, 0.5, 0), linear: true);
            Assert.That(maxError, Is.LessThanOrEqualTo(0.5 * (1 + 1e-9)), $"{burst} readings per timestamp");
            Assert.That(forwarded, Is.LessThan(251 / 4), $"{burst} readings per timestamp: a burst within the bound costs nothing more");
        }
    }

    [Test]
    public void Heartbeat_ForwardsAtLeastEveryMaxSilence_OnAFlatSeries()
    {
        var door = new SwingingDoor(CompressionMode.SwingingDoor, 1, maxSilence: 10);
        Span<SeriesPoint> output = stackalloc SeriesPoint[2];
        var last = 0.0;
        for (var t = 0; t <= 100; t++)
        {
            var n = door.Add(new SeriesPoint(t, 5), output);
            if (n > 0)
            {
                Assert.That(output[n - 1].Time - last, Is.LessThanOrEqualTo(10));
                last = output[n - 1].Time;
            }
        }

        Assert.That(door.Forwarded, Is.InRange(10, 12));
    }

    [Test]
    public void NotANumber_IsForwardedAsItIs_AndCompressionStartsAgainAfterIt()
    {
        var door = new SwingingDoor(CompressionMode.SwingingDoor, 1, 0);
        Span<SeriesPoint> output = stackalloc SeriesPoint[2];
        door.Add(new SeriesPoint(0, 1), output);
        door.Add(new SeriesPoint(1, 1), output);
        var n = door.Add(new SeriesPoint(2, double.NaN), output);
        Assert.That(double.IsNaN(output[n - 1].Value), Is.True);
        Assert.That(door.Add(new SeriesPoint(3, 1), output), Is.EqualTo(1), "the next reading starts a new series");
    }

    [Test]
    public void BadSettings_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SwingingDoor(CompressionMode.SwingingDoor, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SwingingDoor(CompressionMode.SwingingDoor, double.NaN, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SwingingDoor(CompressionMode.Deadband, 1, -5));
    }

    [Test]
    public void SteadyState_AllocatesNothingPerReading()
    {
        var door = new SwingingDoor(CompressionMode.SwingingDoor, 0.5, 30);
        var output = new SeriesPoint[2];
        var random = new Random(7);
        for (var i = 0; i < 1000; i++)
        {
            door.Add(new SeriesPoint(i, random.NextDouble()), output);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 1000; i < 101_000; i++)
        {
            door.Add(new SeriesPoint(i, Math.Sin(i / 100.0)), output);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    /// <summary>Runs the filter and measures the worst error of the reconstruction at every original reading.</summary>
    private static (int Forwarded, double MaxError) Compress(List<SeriesPoint> series, SwingingDoor door, bool linear)
    {
        var kept = new List<SeriesPoint>();
        var output = new SeriesPoint[2];
        var heldError = 0.0;
        foreach (var p in series)
        {
            var n = door.Add(p, output);
            kept.AddRange(output.AsSpan(0, n).ToArray());

            // Deadband's consumer holds the last value it got, as of each reading.
            heldError = Math.Max(heldError, Math.Abs(kept[^1].Value - p.Value));
        }

        if (!linear)
        {
            return (kept.Count, heldError);
        }

        var flushed = door.Flush(output);
        kept.AddRange(output.AsSpan(0, flushed).ToArray());

        for (var j = 1; j < kept.Count; j++)
        {
            Assert.That(kept[j].Time, Is.GreaterThanOrEqualTo(kept[j - 1].Time), "forwarded points are in time order");
        }

        var maxError = 0.0;
        var k = 0;
        foreach (var p in series)
        {
            while (k + 1 < kept.Count && kept[k + 1].Time <= p.Time)
            {
                k++;
            }

            var a = kept[k];
            if (linear && a.Time == p.Time)
            {
                // Readings that share a time (the source repeated a timestamp) are all forwarded: the consumer has
                // each value at that instant.
                maxError = Math.Max(maxError, kept.Where(q => q.Time == p.Time).Min(q => Math.Abs(q.Value - p.Value)));
                continue;
            }

            var reconstructed = linear && k + 1 < kept.Count && p.Time > a.Time
                ? a.Value + ((kept[k + 1].Value - a.Value) * (p.Time - a.Time) / (kept[k + 1].Time - a.Time))
                : a.Value;
            maxError = Math.Max(maxError, Math.Abs(reconstructed - p.Value));
        }

        return (kept.Count, maxError);
    }

    private static List<SeriesPoint> ReadNab(string file) => [.. SeriesFile.Read(Path.Combine(NabDirectory(), file))];

    private static string NabDirectory() => Path.Combine(Repository.Shared, "data", "nab");
}
