using Fogline.Anomaly.Nab;
using Fogline.ComponentKit.Processing;
using Fogline.Plr;

namespace Fogline.ComponentKit.Tests.Processing;

public class OptimalPlrTests
{
    private static readonly Lazy<NabCorpus> Corpus = new(() => NabCorpus.Load(Path.Combine(Repository.Shared, "data", "nab-corpus")));

    /// <summary>Every series of the NAB corpus at 0.5, 1 and 2% of its range: the bound holds, and fewer points than swinging door overall.</summary>
    [Test]
    public void NabCorpus_NeverAboveTheBound_AndFewerPointsThanSwingingDoor([Values(0.5, 1, 2)] double percent)
    {
        long plr = 0, door = 0, floor = 0;
        Assert.That(Corpus.Value.Series, Has.Count.EqualTo(56));
        Assert.That(new OptimalPlr(0, 0).Add(new SeriesPoint(0, 1), new SeriesPoint[6]), Is.EqualTo(1), "a bound of 0 forwards each reading");
        foreach (var s in Corpus.Value.Series)
        {
            var series = SeriesFile.Points(s);
            var bound = percent / 100 * SeriesFile.Range(series);
            if (bound == 0)
            {
                // art_flatline: no range, so a bound of 0, where optimalPlr forwards every reading (exactness).
                continue;
            }

            var result = FilterComparison.Run(series, bound, 256, double.MaxValue);
            Assert.That(result.OptimalPlr.MaxError, Is.LessThanOrEqualTo(bound), $"{s.RelativePath} at {percent}%");
            Assert.That(result.OptimalPlr.Points, Is.GreaterThanOrEqualTo(result.Floor), $"{s.RelativePath}: nothing goes below the floor");
            plr += result.OptimalPlr.Points;
            door += result.SwingingDoor.Points;
            floor += result.Floor;
        }

        TestContext.Out.WriteLine($"{percent}%: floor {floor}, swinging door {door}, optimalPlr {plr}");
        Assert.That(plr, Is.LessThan(door * 0.98), "optimalPlr forwards fewer points than swinging door over the corpus");
    }

    /// <summary>
    /// How far the floor is from reach, and how close optimalPlr gets to what is reachable: on the first 300 readings
    /// of three NAB series at 1% of the range, the offline optimum with points at reading times (dynamic programming,
    /// knowing the whole window) is well above the floor, and optimalPlr, online, is within 10% of it (its joints may also
    /// fall between readings, where it can do better).
    /// </summary>
    [TestCase("artificialNoAnomaly/art_daily_small_noise.csv")]
    [TestCase("realKnownCause/ambient_temperature_system_failure.csv")]
    [TestCase("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv")]
    public void OnNoisySeries_OptimalPlrIsCloseToTheOfflineOptimum_WhichIsFarAboveTheFloor(string file)
    {
        var all = SeriesFile.Read(Path.Combine(Repository.Shared, "data", "nab-corpus", file));
        var bound = 0.01 * SeriesFile.Range(all);
        var series = all.Take(300).ToArray();
        var optimum = ReadingKnotOptimum.MinimumPoints(series, bound);
        var result = FilterComparison.Run(series, bound, 256, double.MaxValue);
        TestContext.Out.WriteLine($"{file}: floor {result.Floor}, offline optimum {optimum}, optimalPlr {result.OptimalPlr.Points}, swinging door {result.SwingingDoor.Points}");
        Assert.That(optimum, Is.GreaterThan(result.Floor * 1.5), "the floor is out of reach for points at reading times");
        Assert.That(result.OptimalPlr.Points, Is.LessThanOrEqualTo(optimum * 1.1), "optimalPlr within 10% of the offline optimum");
        Assert.That(result.OptimalPlr.Points, Is.LessThanOrEqualTo(result.SwingingDoor.Points));
    }

    public static IEnumerable<TestCaseData> Adversarial()
    {
        static SeriesPoint[] Make(int n, Func<int, double> time, Func<int, double> value) => [.. Enumerable.Range(0, n).Select(i => new SeriesPoint(time(i), value(i)))];
        var random = new Random(11);
        var noise = Enumerable.Range(0, 3000).Select(_ => random.NextDouble() * 10).ToArray();
        yield return new TestCaseData(Make(2000, i => i, i => i / 100 % 2 == 0 ? 0 : 50)).SetName("Steps");
        yield return new TestCaseData(Make(2000, i => i, i => i % 97 == 0 ? 1000 : Math.Sin(i / 50.0))).SetName("Spikes");
        yield return new TestCaseData(Make(2000, i => i, _ => 42)).SetName("Constant");
        yield return new TestCaseData(Make(3000, i => i, i => noise[i])).SetName("Noise");
        yield return new TestCaseData(Make(3000, i => i / 3, i => noise[i])).SetName("RepeatedTimestamps");
        yield return new TestCaseData(Make(3000, i => (i / 7) + (i % 7 == 6 ? -3 : 0), i => noise[i] + (i / 10.0))).SetName("BackwardsTimestamps");
        yield return new TestCaseData(Make(3000, i => 1.7e9 + (i * 0.001), i => 1e6 + Math.Sin(i / 30.0) + noise[i] / 20)).SetName("EpochMillisecondsLargeValues");
        yield return new TestCaseData(Make(3000, i => i + (random.NextDouble() * 0.9), i => Math.Round(noise[i]) * (i % 500 < 250 ? 1 : -1))).SetName("JitterAndSignFlips");
    }

    [TestCaseSource(nameof(Adversarial))]
    public void AdversarialSeries_NeverAboveTheBound(SeriesPoint[] series)
    {
        foreach (var (bound, hold, holdSeconds, silence) in new[] { (0.5, 256, 1e9, 0.0), (2.0, 256, 1e9, 0), (0.5, 1, 1e9, 0), (1.0, 3, 1e9, 0), (1.0, 256, 10, 0), (1.0, 256, 1e9, 25), (0.0, 256, 1e9, 0) })
        {
            var filter = new OptimalPlr(bound, silence, hold, holdSeconds);
            var epochs = Run(series, filter);
            foreach (var (readings, points) in epochs)
            {
                var error = PiecewiseLinearReconstruction.MaxError([.. readings], [.. points]);
                Assert.That(error, Is.LessThanOrEqualTo(bound), $"bound {bound}, hold {hold}/{holdSeconds}s, silence {silence}");
                for (var i = 1; i < points.Count; i++)
                {
                    Assert.That(points[i].Time, Is.GreaterThanOrEqualTo(points[i - 1].Time), "points in time order within an epoch");
                }
            }

            Assert.That(filter.Held, Is.Zero, "everything released by Flush");
        }
    }

    [Test]
    public void HoldBack_IsCappedInReadingsAndInSeconds_AndTheHeartbeatHolds()
    {
        var series = Enumerable.Range(0, 5000).Select(i => new SeriesPoint(i * 0.5, 5 + (0.01 * Math.Sin(i / 400.0)))).ToArray();
        foreach (var (hold, seconds, silence) in new[] { (16, 1e9, 0.0), (256, 20.0, 0.0), (256, 1e9, 30.0) })
        {
            var filter = new OptimalPlr(0.5, silence, hold, seconds);
            var output = new SeriesPoint[filter.MaxOutput];
            var lastForwarded = series[0].Time;
            var covered = -1.0;
            var waitingSince = new Queue<(int Index, double Time)>();
            for (var i = 0; i < series.Length; i++)
            {
                waitingSince.Enqueue((i, series[i].Time));
                var n = filter.Add(series[i], output);
                Assert.That(filter.Held, Is.LessThan(hold), "held readings stay under the cap");
                for (var k = 0; k < n; k++)
                {
                    covered = Math.Max(covered, output[k].Time);
                    lastForwarded = Math.Max(lastForwarded, output[k].Time);
                }

                while (waitingSince.Count > 0 && waitingSince.Peek().Time <= covered)
                {
                    var (index, time) = waitingSince.Dequeue();
                    Assert.That(i - index, Is.LessThan(hold), $"reading {index} waited {i - index} readings");
                    Assert.That(series[i].Time - time, Is.LessThanOrEqualTo(seconds + 0.5), $"reading {index} waited too long");
                }

                if (silence > 0)
                {
                    Assert.That(series[i].Time - lastForwarded, Is.LessThan(silence + 0.5), "a point at least every maxSilence");
                }
            }

            Assert.That(filter.Forwarded, Is.LessThan(series.Length / 10), $"a flat series still compresses ({hold}, {seconds}, {silence})");
        }
    }

    [Test]
    public void Flush_ReleasesAQuietSeries_ThenItGoesOnFromThere()
    {
        var filter = new OptimalPlr(1, 0);
        var output = new SeriesPoint[filter.MaxOutput];
        var points = new List<SeriesPoint>();
        for (var i = 0; i < 20; i++)
        {
            points.AddRange(output.AsSpan(0, filter.Add(new SeriesPoint(i, i * 0.1), output)));
        }

        Assert.That(filter.Held, Is.GreaterThan(0), "a straight line is held back while it goes on");
        points.AddRange(output.AsSpan(0, filter.Flush(output)));
        Assert.That(filter.Held, Is.Zero);
        Assert.That(points[^1].Time, Is.EqualTo(19), "released up to the last reading");
        Assert.That(filter.Flush(output), Is.Zero, "nothing more to release");
        for (var i = 20; i < 40; i++)
        {
            points.AddRange(output.AsSpan(0, filter.Add(new SeriesPoint(i, i * 0.1), output)));
        }

        points.AddRange(output.AsSpan(0, filter.Flush(output)));
        var readings = Enumerable.Range(0, 40).Select(i => new SeriesPoint(i, i * 0.1)).ToArray();
        Assert.That(PiecewiseLinearReconstruction.MaxError(readings, [.. points]), Is.LessThanOrEqualTo(1));
        Assert.That(points, Has.Count.EqualTo(3), "the line's start, the release and its end");
    }

    [Test]
    public void ForwardedValues_AreOnTheGrid_AndNaNPassesThrough()
    {
        var filter = new OptimalPlr(0.3, 0);
        Assert.That(filter.Grid, Is.EqualTo(0.03125), "the largest power of two at most an eighth of the deviation");
        var output = new SeriesPoint[filter.MaxOutput];
        var random = new Random(3);
        var points = new List<SeriesPoint>();
        for (var i = 0; i < 2000; i++)
        {
            points.AddRange(output.AsSpan(0, filter.Add(new SeriesPoint(i, 20 + Math.Sin(i / 40.0) + random.NextDouble()), output)));
        }

        var off = points.Count(p => Math.IEEERemainder(p.Value, filter.Grid) != 0);
        Assert.That(off, Is.LessThan(points.Count / 20), "values are multiples of the grid unless no multiple was within reach");
        var n = filter.Add(new SeriesPoint(2000, double.NaN), output);
        Assert.That(double.IsNaN(output[n - 1].Value), Is.True, "NaN is forwarded as it is, after what was held");
        Assert.That(filter.Held, Is.Zero);
    }

    [Test]
    public void BadSettings_AreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new OptimalPlr(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new OptimalPlr(double.PositiveInfinity, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new OptimalPlr(1, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new OptimalPlr(1, 0, maxHoldReadings: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new OptimalPlr(1, 0, maxHoldSeconds: 0));
        Assert.Throws<ArgumentException>(() => new OptimalPlr(1, 0).Add(new SeriesPoint(0, 1), new SeriesPoint[2]));
        Assert.Throws<ArgumentException>(() => _ = new SwingingDoor(CompressionMode.OptimalPlr, 1, 0));
    }

    [Test]
    public void SteadyState_AllocatesNothingPerReading()
    {
        var filter = new OptimalPlr(0.2, 30, 64, 20);
        var output = new SeriesPoint[filter.MaxOutput];
        var random = new Random(7);
        for (var i = 0; i < 20_000; i++)
        {
            filter.Add(new SeriesPoint(i * 0.1, Math.Sin(i / 100.0) + (random.NextDouble() * (i % 3000 < 1500 ? 0.5 : 0.01))), output);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 20_000; i < 120_000; i++)
        {
            filter.Add(new SeriesPoint(i * 0.1, Math.Sin(i / 100.0) + (random.NextDouble() * (i % 3000 < 1500 ? 0.5 : 0.01))), output);
        }

        filter.Flush(output);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    /// <summary>
    /// Runs a filter, splitting readings and points into epochs where time goes backwards (a reading older than the
    /// previous one is forwarded as it is and starts a new epoch; what was released before it belongs to the old one).
    /// </summary>
    private static List<(List<SeriesPoint> Readings, List<SeriesPoint> Points)> Run(SeriesPoint[] series, ISeriesFilter filter)
    {
        var epochs = new List<(List<SeriesPoint> Readings, List<SeriesPoint> Points)> { ([], []) };
        var output = new SeriesPoint[filter.MaxOutput];
        for (var i = 0; i < series.Length; i++)
        {
            var n = filter.Add(series[i], output);
            if (i > 0 && series[i].Time < series[i - 1].Time)
            {
                epochs[^1].Points.AddRange(output.AsSpan(0, n - 1));
                Assert.That(output[n - 1], Is.EqualTo(series[i]), "an older reading is forwarded as it is");
                epochs.Add(([series[i]], [output[n - 1]]));
                continue;
            }

            epochs[^1].Readings.Add(series[i]);
            epochs[^1].Points.AddRange(output.AsSpan(0, n));
        }

        epochs[^1].Points.AddRange(output.AsSpan(0, filter.Flush(output)));
        return epochs;
    }
}
