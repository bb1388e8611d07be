using System.Diagnostics;
using Fogline.ComponentKit.Processing;

namespace Fogline.Anomaly.Tests;

/// <summary>The latency histogram shadow trials judge candidates with: its percentiles against exact ones on known distributions.</summary>
public class LatencyHistogramTests
{
    private static readonly double[] Percentiles = [1, 10, 25, 50, 75, 90, 95, 99, 99.9];

    /// <summary>Stopwatch ticks of a duration in microseconds.</summary>
    private static long Ticks(double microseconds) => (long)Math.Round(microseconds * Stopwatch.Frequency / 1e6);

    /// <summary>The exact percentile (nearest rank, as the histogram ranks) in microseconds of what it was given.</summary>
    private static double Exact(long[] ticks, double p)
    {
        var sorted = ticks.Order().ToArray();
        var rank = Math.Max(1, (long)Math.Ceiling(p / 100.0 * sorted.Length));
        return sorted[rank - 1] * (1e6 / Stopwatch.Frequency);
    }

    private static void AssertWithin6Percent(long[] ticks)
    {
        var histogram = new LatencyHistogram();
        foreach (var t in ticks)
        {
            histogram.RecordTicks(t);
        }

        Assert.That(histogram.Count, Is.EqualTo(ticks.Length));
        Assert.Multiple(() =>
        {
            foreach (var p in Percentiles)
            {
                var exact = Exact(ticks, p);
                Assert.That(histogram.PercentileMicroseconds(p), Is.EqualTo(exact).Within(exact * 0.06), $"p{p}");
            }
        });
    }

    [Test]
    public void Percentiles_OfAUniformDistribution_AreWithin6PercentOfExact()
    {
        var random = new Random(41);
        long[] ticks = [.. Enumerable.Range(1, 10_000).Select(us => Ticks(us))];
        random.Shuffle(ticks);
        AssertWithin6Percent(ticks);
    }

    [Test]
    public void Percentiles_OfALogNormalDistribution_AreWithin6PercentOfExact()
    {
        // Median 30 µs, a long tail into milliseconds, and some readings under a microsecond.
        var random = new Random(42);
        var ticks = new long[50_000];
        for (var i = 0; i < ticks.Length; i++)
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            ticks[i] = Math.Max(1, Ticks(30 * Math.Exp(1.2 * gaussian)));
        }

        AssertWithin6Percent(ticks);
    }

    [Test]
    public void TenSlowReadingsInAThousand_AreAboveThe99thPercentile_AndAtThe99Point1st()
    {
        var histogram = new LatencyHistogram();
        for (var i = 0; i < 1000; i++)
        {
            histogram.RecordTicks(Ticks(i < 990 ? 20 : 5000));
        }

        Assert.That(histogram.PercentileMicroseconds(99), Is.EqualTo(20).Within(20 * 0.06));
        Assert.That(histogram.PercentileMicroseconds(99.1), Is.EqualTo(5000).Within(5000 * 0.06));
        Assert.That(histogram.TotalNanoseconds, Is.EqualTo((990 * 20_000L) + (10 * 5_000_000L)).Within(1000));
    }

    [Test]
    public void MergedHistograms_HaveThePercentilesOfAllTheirValues()
    {
        var random = new Random(43);
        long[] ticks = [.. Enumerable.Range(0, 20_000).Select(_ => Ticks(5 + (random.NextDouble() * 995)))];
        var whole = new LatencyHistogram();
        var first = new LatencyHistogram();
        var second = new LatencyHistogram();
        for (var i = 0; i < ticks.Length; i++)
        {
            whole.RecordTicks(ticks[i]);
            (i % 3 == 0 ? first : second).RecordTicks(ticks[i]);
        }

        first.Add(second);
        Assert.That(first.Count, Is.EqualTo(whole.Count));
        Assert.That(first.TotalNanoseconds, Is.EqualTo(whole.TotalNanoseconds));
        foreach (var p in Percentiles)
        {
            Assert.That(first.PercentileMicroseconds(p), Is.EqualTo(whole.PercentileMicroseconds(p)), $"p{p}");
            Assert.That(first.PercentileMicroseconds(p), Is.EqualTo(Exact(ticks, p)).Within(Exact(ticks, p) * 0.06), $"p{p}");
        }
    }
}
