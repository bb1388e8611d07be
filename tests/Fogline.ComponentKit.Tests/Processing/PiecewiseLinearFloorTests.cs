using Fogline.ComponentKit.Processing;
using Fogline.Plr;

namespace Fogline.ComponentKit.Tests.Processing;

public class PiecewiseLinearFloorTests
{
    /// <summary>
    /// The greedy run count with the exact polygon against an independent brute force: the fewest runs by dynamic
    /// programming over every split, a run feasible when some line through two band corners at different times (a
    /// vertex of the feasible polygon) passes every band, or when all readings share one time and their bands overlap.
    /// </summary>
    [Test]
    public void MinimumRuns_MatchesBruteForce_OnSmallSeries([Values(1, 2, 3, 4)] int seed)
    {
        var random = new Random(seed);
        var exact = 0;
        for (var trial = 0; trial < 600; trial++)
        {
            var n = 1 + random.Next(9);
            var bound = 0.25 + random.Next(4);
            var series = new SeriesPoint[n];
            var t = 0.0;
            for (var i = 0; i < n; i++)
            {
                t += random.Next(4) == 0 ? 0 : 0.5 + random.Next(3);
                series[i] = new SeriesPoint(t, random.Next(-6, 7) + (random.NextDouble() < 0.3 ? random.NextDouble() : 0));
            }

            // Integer data meets the bound exactly at times (a feasible set of a single line): floating point cannot
            // tell such a tie, so the greedy count must lie between the brute force just above and just below the bound.
            var runs = PiecewiseLinearFloor.MinimumRuns(series, bound);
            var what = $"seed {seed} trial {trial}, bound {bound}: {string.Join(" ", series.Select(p => $"({p.Time},{p.Value})"))}";
            Assert.That(runs, Is.InRange(BruteForceRuns(series, bound + 1e-7), BruteForceRuns(series, bound - 1e-7)), what);
            exact += BruteForceRuns(series, bound + 1e-7) == BruteForceRuns(series, bound - 1e-7) ? 1 : 0;
        }

        Assert.That(exact, Is.GreaterThan(500), "most cases are not ties, so the range pins the count");
    }

    [Test]
    public void FeasibleLines_RefusesABandWithoutChangingTheSet_AndKnowsItsRangesAndChords()
    {
        var set = new FeasibleLines();
        set.Reset(10, -1, 1);
        Assert.That(set.ValueRange(10), Is.EqualTo((-1.0, 1.0)), "only the value at the origin is bounded yet");
        Assert.That(set.Add(12, 3, 5), Is.True);
        Assert.That(set.ValueRange(12), Is.EqualTo((3.0, 5.0)));
        Assert.That(set.ValueRange(14), Is.EqualTo((5.0, 11.0)), "v(14) = 2 v(12) - v(10)");
        Assert.That(set.Add(14, 100, 101), Is.False, "no line reaches the band");
        Assert.That(set.ValueRange(14), Is.EqualTo((5.0, 11.0)), "a refused band changes nothing");
        var (p, q) = set.Chord(12, 4);
        Assert.That(new[] { p.A, q.A }.Order(), Is.EqualTo(new[] { -1.0, 1.0 }), "the lines through (12, 4) start anywhere in [-1, 1]");
        Assert.That(p.A + (p.B * 2), Is.EqualTo(4).Within(1e-12));
        var (a, b) = set.Center();
        Assert.That(a + (b * 2), Is.InRange(3.0, 5.0), "the centre is a line of the set");
        Assert.That(set.Add(13, 4.5, 4.5), Is.True, "a band that is a point");
        Assert.That(set.ValueRange(13).Min, Is.EqualTo(4.5).Within(1e-12));
        Assert.Throws<ArgumentException>(() => set.Reset(0, 1, 0));
    }

    [Test]
    public void Floor_OfSimpleShapes()
    {
        SeriesPoint[] line = [.. Enumerable.Range(0, 100).Select(i => new SeriesPoint(i, 3 + (0.5 * i)))];
        Assert.That(PiecewiseLinearFloor.MinimumRuns(line, 0), Is.EqualTo(1), "an exact line is one run even at a bound of 0");
        Assert.That(PiecewiseLinearFloor.MinimumPoints(line, 0.1), Is.EqualTo(2));

        SeriesPoint[] zigzag = [.. Enumerable.Range(0, 10).Select(i => new SeriesPoint(i, i % 2 == 0 ? 0 : 10))];
        Assert.That(PiecewiseLinearFloor.MinimumRuns(zigzag, 1), Is.EqualTo(5), "each pair of a zigzag far beyond the bound is a run");
        Assert.That(PiecewiseLinearFloor.MinimumRuns(zigzag, 5), Is.EqualTo(1), "at half its height it is a flat line");

        SeriesPoint[] huge = [new(1.7e9, 1e12), new(1.7e9 + 1, 1e12 + 1), new(1.7e9 + 2, 1e12 + 2), new(1.7e9 + 3, 1e12 + 2.5)];
        Assert.That(PiecewiseLinearFloor.MinimumRuns(huge, 0.1), Is.EqualTo(2), "epoch times and large values stay exact (times are taken from the run's start)");
        Assert.That(PiecewiseLinearFloor.MinimumPoints([], 1), Is.Zero);
        Assert.That(PiecewiseLinearFloor.MinimumPoints([new SeriesPoint(0, 1)], 1), Is.EqualTo(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => PiecewiseLinearFloor.MinimumRuns(line, -1));
        Assert.Throws<ArgumentException>(() => PiecewiseLinearFloor.MinimumRuns([new(0, 1), new(1, double.NaN)], 1));
    }

    [Test]
    public void SeriesFile_ReadsDatesOrEpochSeconds_AndNamesTheBadLine()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "timestamp,value\n2014-04-01 00:00:00,1.5\n1396310700,2.5\n");
            var series = SeriesFile.Read(path);
            Assert.That(series, Is.EqualTo(new[] { new SeriesPoint(1396310400, 1.5), new SeriesPoint(1396310700, 2.5) }));
            File.WriteAllText(path, "timestamp,value\n2014-04-01 00:00:00,1.5\n2014-04-01 00:05:00,oops\n");
            var error = Assert.Throws<FormatException>(() => SeriesFile.Read(path))!;
            Assert.That(error.Message, Does.Contain(path + ":3").And.Contain("oops"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int BruteForceRuns(SeriesPoint[] series, double bound)
    {
        var n = series.Length;
        var best = new int[n + 1];
        Array.Fill(best, int.MaxValue);
        best[0] = 0;
        for (var end = 1; end <= n; end++)
        {
            for (var start = 0; start < end; start++)
            {
                if (best[start] != int.MaxValue && Fits(series.AsSpan(start, end - start), bound))
                {
                    best[end] = Math.Min(best[end], best[start] + 1);
                }
            }
        }

        return best[n];
    }

    private static bool Fits(ReadOnlySpan<SeriesPoint> span, double bound)
    {
        const double Slack = 1e-12;
        var run = span.ToArray();
        if (run.All(p => p.Time == run[0].Time))
        {
            return run.Max(p => p.Value) - run.Min(p => p.Value) <= (2 * bound) + Slack;
        }

        foreach (var p in run)
        {
            foreach (var q in run)
            {
                if (q.Time <= p.Time)
                {
                    continue;
                }

                foreach (var dp in new[] { -bound, bound })
                {
                    foreach (var dq in new[] { -bound, bound })
                    {
                        var slope = (q.Value + dq - (p.Value + dp)) / (q.Time - p.Time);
                        var ok = true;
                        foreach (var r in run)
                        {
                            ok &= Math.Abs(p.Value + dp + (slope * (r.Time - p.Time)) - r.Value) <= bound + Slack;
                        }

                        if (ok)
                        {
                            return true;
                        }
                    }
                }
            }
        }

        return false;
    }
}
