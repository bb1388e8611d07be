using Fogline.Anomaly.Detection;

namespace Fogline.Anomaly.Tests;

/// <summary>
/// The rules the detector applies around its model (refused readings, gaps, warm-up, quiet periods, the series limit,
/// range widening), with the C# reference of the shipped model.
/// </summary>
public class DetectorRulesTests
{
    private static SeriesDetector<int> Create(DetectorOptions? options = null) =>
        new(TestSeries.Reference(), options ?? new DetectorOptions(WarmUpReadings: 100));

    [Test]
    public void RefusedReadings_HaveTheirKind_AndLeaveTheSeriesAsATwinThatNeverSawThem()
    {
        using var detector = Create();
        using var twin = Create();
        var random = new Random(21);
        var detections = 0;
        for (var i = 0; i < 1200; i++)
        {
            var time = 1000.0 + (i * 60);
            var value = i == 900 ? 30 : TestSeries.Cycle(i, random);
            if (i % 37 == 5)
            {
                Assert.That(detector.Observe(1, time - 1, double.NaN).Kind, Is.EqualTo(ObservationKind.NotFinite));
                Assert.That(detector.Observe(1, time - 1, double.PositiveInfinity).Kind, Is.EqualTo(ObservationKind.NotFinite));
                Assert.That(detector.Observe(1, time - 1, double.NegativeInfinity).Kind, Is.EqualTo(ObservationKind.NotFinite));
                Assert.That(detector.Observe(1, double.NaN, 1e9).Kind, Is.EqualTo(ObservationKind.NotFinite));
                Assert.That(detector.Observe(1, double.PositiveInfinity, -1e9).Kind, Is.EqualTo(ObservationKind.NotFinite));
            }

            var accepted = detector.Observe(1, time, value);
            Assert.That(accepted, Is.EqualTo(twin.Observe(1, time, value)), $"reading {i}");
            detections += accepted.Score >= 0.9f ? 1 : 0;
            if (i % 41 == 7)
            {
                // The same time again and an earlier one, with values that would widen the range a thousandfold.
                Assert.That(detector.Observe(1, time, 1e4).Kind, Is.EqualTo(ObservationKind.OutOfOrder));
                Assert.That(detector.Observe(1, time - 30, -1e4).Kind, Is.EqualTo(ObservationKind.OutOfOrder));
            }
        }

        Assert.That(detections, Is.GreaterThan(0), "the comparison covers a detection and its quiet period");
        Assert.That(detector.SeriesCount, Is.EqualTo(1));
        Assert.That(detector.Gaps, Is.Zero);
    }

    [Test]
    public void ANonFiniteReadingOfANewSeries_CreatesNoSeries()
    {
        using var detector = Create();
        Assert.That(detector.Observe(1, 0, double.NaN).Kind, Is.EqualTo(ObservationKind.NotFinite));
        Assert.That(detector.Observe(2, double.NegativeInfinity, 1).Kind, Is.EqualTo(ObservationKind.NotFinite));
        Assert.That(detector.SeriesCount, Is.Zero);
        Assert.That(detector.Observe(1, 0, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp));
        Assert.That(detector.SeriesCount, Is.EqualTo(1));
    }

    [Test]
    public void TimestampsThatDoNotAdvance_AreOutOfOrder_PerSeries()
    {
        using var detector = Create();
        Assert.That(detector.Observe(1, 1000, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp));
        Assert.That(detector.Observe(1, 1000, 1).Kind, Is.EqualTo(ObservationKind.OutOfOrder), "the same timestamp again");
        Assert.That(detector.Observe(1, 999.999, 1).Kind, Is.EqualTo(ObservationKind.OutOfOrder), "an earlier one");
        Assert.That(detector.Observe(1, 1000.001, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp), "a later one");
        Assert.That(detector.Observe(2, 1, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp), "another series has its own clock");
        Assert.That(detector.Observe(2, 1, 1).Kind, Is.EqualTo(ObservationKind.OutOfOrder));
    }

    [Test]
    public void OnlyAStepBeyondGapFactorMeanIntervals_IsAGap_AndWhatWasLearntStays()
    {
        // Readings a minute apart, every 50th one 500 s after the last (8 intervals: not a gap at GapFactor 10), and
        // one step of 1,500 s (25 intervals: a gap). A twin sees the same values a minute apart throughout.
        var options = new DetectorOptions(WarmUpReadings: 100, MinHistory: 8, GapFactor: 10);
        using var detector = Create(options);
        using var twin = Create(options);
        var random = new Random(22);
        var time = 0.0;
        var afterGap = new List<ObservationKind>();
        for (var i = 0; i < 1500; i++)
        {
            time += i == 1000 ? 1500 : i % 50 == 0 ? 500 : 60;
            var value = TestSeries.Cycle(i, random);
            var observation = detector.Observe(1, time, value);
            var twinObservation = twin.Observe(1, i * 60.0, value);
            Assert.That(observation.ModelScore, Is.EqualTo(twinObservation.ModelScore), $"reading {i}: the model sees the same history and calibration");
            if (i >= 1000 && i < 1012)
            {
                afterGap.Add(observation.Kind);
            }
            else if (i > 100)
            {
                Assert.That(observation.Kind, Is.EqualTo(ObservationKind.Scored), $"reading {i}");
            }
        }

        Assert.That(detector.Gaps, Is.EqualTo(1));
        Assert.That(twin.Gaps, Is.Zero);
        Assert.That(afterGap, Is.EqualTo(Enumerable.Repeat(ObservationKind.WarmingUp, 8).Concat(Enumerable.Repeat(ObservationKind.Scored, 4))),
            "the reading after the gap and the next MinHistory - 1 are taken in unscored, then scoring resumes");
    }

    [TestCase(0.0, -1.0)]
    [TestCase(-5.0, -4.99)]
    [TestCase(1e6, 1e6 + 1)]
    [TestCase(42.0, 42.5)]
    public void AConstantSeries_ScoresZero_UntilItMoves(double level, double jump)
    {
        using var detector = Create();
        var scores = new List<float>();
        for (var i = 0; i < 600; i++)
        {
            var observation = detector.Observe(1, i * 60, level);
            if (observation.Kind == ObservationKind.Scored)
            {
                scores.Add(observation.ModelScore);
            }
        }

        Assert.That(scores, Has.Count.EqualTo(500));
        Assert.That(scores, Is.All.EqualTo(0f));
        var moved = detector.Observe(1, 600 * 60, jump);
        Assert.That(moved.Kind, Is.EqualTo(ObservationKind.Scored));
        Assert.That(moved.Score, Is.GreaterThanOrEqualTo(0.95f).And.LessThanOrEqualTo(1f), "a value outside a range of one value: spatial novelty");
    }

    [Test]
    public void ASpikeWithinTheRange_OfANoisyCycle_IsATemporalDetection()
    {
        // A jump from the trough to the crest: no value outside the range seen, but a shape never seen (a record
        // distance at the short scale).
        using var detector = Create(new DetectorOptions(WarmUpReadings: 300));
        var random = new Random(23);
        var ordinary = new List<float>();
        var min = double.MaxValue;
        var max = double.MinValue;
        var i = 0;
        for (; i < 1537; i++)
        {
            var value = TestSeries.Cycle(i, random);
            min = Math.Min(min, value);
            max = Math.Max(max, value);
            var observation = detector.Observe(1, i * 60, value);
            if (observation.Kind == ObservationKind.Scored)
            {
                ordinary.Add(observation.Score);
            }
        }

        Assert.That(i % 50, Is.EqualTo(37), "at the trough of the cycle (period 50, minimum at 37.5)");
        Assert.That(ordinary, Has.Count.EqualTo(1537 - 300));
        Assert.That(ordinary.Count(s => s >= 0.9f), Is.LessThanOrEqualTo(ordinary.Count / 100), "at most 1 % of ordinary readings at 0.9 or above");
        const double Spike = 12.9;
        Assert.That((Spike - min) / (max - min), Is.InRange(0.5, 1.0), "the spike is inside the range seen");
        var spike = detector.Observe(1, i * 60, Spike);
        Assert.That(spike.Score, Is.GreaterThanOrEqualTo(0.9f));
    }

    [Test]
    public void FiveThousandSeriesInAThousandSlots_TheLeastRecentlySeenAreForgotten()
    {
        // (GapFactor is out of the way: series 0 is seen every 2 s at first and then every 100 s or so.)
        using var detector = Create(new DetectorOptions(WarmUpReadings: 20, MinHistory: 4, GapFactor: 1e9, MaxSeries: 1000));
        var time = 1.0;

        // Series 0 and 1 learn 25 readings each; then 4,998 series come once each, series 0 being seen again after
        // every 100 of them, series 1 never.
        for (var i = 0; i < 25; i++)
        {
            detector.Observe(0, time++, i % 5);
            detector.Observe(1, time++, i % 5);
        }

        Assert.That(detector.Observe(0, time++, 2).Kind, Is.EqualTo(ObservationKind.Scored));
        Assert.That(detector.Observe(1, time++, 2).Kind, Is.EqualTo(ObservationKind.Scored));
        for (var s = 2; s < 5000; s++)
        {
            detector.Observe(s, time++, s % 7);
            if (s % 100 == 0)
            {
                detector.Observe(0, time++, s % 5);
            }
        }

        Assert.That(detector.SeriesCount, Is.EqualTo(1000));
        Assert.That(detector.Evicted, Is.EqualTo(4000));

        // Kept: series 0 and the 999 seen last (4001..4999), each with its clock (an earlier time is out of order).
        Assert.That(detector.Observe(0, 0, 1).Kind, Is.EqualTo(ObservationKind.OutOfOrder));
        for (var s = 4001; s < 5000; s++)
        {
            Assert.That(detector.Observe(s, 0, 1).Kind, Is.EqualTo(ObservationKind.OutOfOrder), $"series {s}");
        }

        Assert.That(detector.Evicted, Is.EqualTo(4000), "finding a series evicts nothing");

        // Series 0's readings continue: past its warm-up, it is scored (a new series would be warming up).
        Assert.That(detector.Observe(0, time++, 3).Kind, Is.EqualTo(ObservationKind.Scored));

        // Series 1 and 4000 were forgotten: each starts afresh (an early time is taken, and it warms up).
        Assert.That(detector.Observe(1, 0, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp));
        Assert.That(detector.Observe(4000, 0, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp));
        Assert.That(detector.SeriesCount, Is.EqualTo(1000));
        Assert.That(detector.Evicted, Is.EqualTo(4002));
    }

    [Test]
    public void AfterADetection_TheNextQuietReadingsScoresArePublishedUnderTheQuietLevel_ThenAsTheModelGivesThem()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 300, QuietReadings: 30, QuietLevel: 0.9));
        var random = new Random(24);
        var i = 0;
        var min = double.MaxValue;
        var max = double.MinValue;
        for (; i < 800; i++)
        {
            var value = TestSeries.Cycle(i, random);
            min = Math.Min(min, value);
            max = Math.Max(max, value);
            detector.Observe(1, i * 60, value);
        }

        // Each value 10 % of the range beyond the top so far: a spatial novelty for the model every time.
        var observations = new List<Observation>();
        for (var n = 0; n < 33; n++, i++)
        {
            max += 0.1 * (max - min);
            observations.Add(detector.Observe(1, i * 60, max));
        }

        Assert.That(observations.Select(o => o.ModelScore), Is.All.GreaterThanOrEqualTo(0.95f));
        Assert.That(observations[0].Score, Is.EqualTo(observations[0].ModelScore), "the detection");
        Assert.That(observations.Skip(1).Take(30).Select(o => o.Score), Is.All.LessThan(0.9f), "its quiet period");
        Assert.That(observations[31].Score, Is.EqualTo(observations[31].ModelScore), "the next detection");
        Assert.That(observations[32].Score, Is.LessThan(0.9f), "…which starts another quiet period");
    }

    [Test]
    public void WithoutAQuietPeriod_EveryScoreIsTheModels()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 300, QuietReadings: 0));
        var random = new Random(25);
        var i = 0;
        for (; i < 800; i++)
        {
            detector.Observe(1, i * 60, TestSeries.Cycle(i, random));
        }

        var spikes = Enumerable.Range(0, 5).Select(n => detector.Observe(1, (i + n) * 60, 100 * (n + 1))).ToList();
        Assert.That(spikes.Select(o => o.Score), Is.All.GreaterThanOrEqualTo(0.95f));
        Assert.That(spikes.Select(o => o.Score), Is.EqualTo(spikes.Select(o => o.ModelScore)));
    }

    [TestCase(10.0)]
    [TestCase(-10.0)]
    public void WideningTheRange_RescalesWhatIsKept_ScoresStayFiniteAndInZeroToOne(double outlier)
    {
        using var detector = Create();
        var random = new Random(26);
        var observations = new List<Observation>();
        for (var i = 0; i < 1500; i++)
        {
            observations.Add(detector.Observe(1, i * 60, i == 700 ? outlier : random.NextDouble()));
        }

        Assert.That(observations.Select(o => o.Score), Is.All.InRange(0f, 1f));
        Assert.That(observations.Select(o => o.ModelScore), Is.All.InRange(0f, 1f));
        Assert.That(observations[700].Score, Is.GreaterThanOrEqualTo(0.95f), "the outlier");
        Assert.That(observations.Skip(1200).Select(o => o.Kind), Is.All.EqualTo(ObservationKind.Scored));
        Assert.That(observations.Skip(1200).Count(o => o.Score >= 0.9f), Is.LessThan(10), "back to ordinary once the outlier has left the history");
    }

    [Test]
    public void AChangeOfUnits_ChangesNoScore()
    {
        // Values are normalised to the series' range, and what is kept is rescaled when the range widens: a series
        // in other units (x -> 1000 + 50x) scores the same, up to float rounding.
        using var detector = Create();
        var random = new Random(27);
        int scored = 0, same = 0;
        for (var i = 0; i < 2000; i++)
        {
            // A slowly widening range, so the kept readings are rescaled again and again.
            var value = TestSeries.Cycle(i, random) * (1 + (i / 500.0)) + (i == 1500 ? 40 : 0);
            var a = detector.Observe(1, i * 60, value);
            var b = detector.Observe(2, i * 60, 1000 + (50 * value));
            Assert.That(b.Kind, Is.EqualTo(a.Kind));
            if (a.Kind == ObservationKind.Scored)
            {
                scored++;
                same += Math.Abs(a.Score - b.Score) <= 1e-3 ? 1 : 0;
            }
        }

        Assert.That(scored, Is.EqualTo(1900));
        Assert.That((double)same / scored, Is.GreaterThanOrEqualTo(0.99), $"{same} of {scored} within 1e-3");
    }

    [Test]
    public void ASeriesWhoseCadenceChangesForGood_IsOneGap_ThenScoredAtItsNewCadence()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 100, MinHistory: 16));
        var random = new Random(8);
        var t = 0.0;
        for (var i = 0; i < 500; i++, t += 1)
        {
            detector.Observe(1, t, TestSeries.Cycle(i, random));
        }

        var kinds = new List<ObservationKind>();
        for (var i = 500; i < 1500; i++)
        {
            t += 60;
            kinds.Add(detector.Observe(1, t, TestSeries.Cycle(i, random)).Kind);
        }

        Assert.That(detector.Gaps, Is.EqualTo(1));
        Assert.That(kinds.Skip(16), Is.All.EqualTo(ObservationKind.Scored));
    }

    [Test]
    public void LoweringMaxSeries_ShrinksTheDetectorAtTheNextNewSeries()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 0, MaxSeries: 100));
        for (var s = 0; s < 100; s++)
        {
            detector.Observe(s, 1, s);
        }

        detector.Options = detector.Options with { MaxSeries = 10 };
        detector.Observe(1000, 1, 1);
        Assert.That(detector.SeriesCount, Is.EqualTo(10));
        Assert.That(detector.Evicted, Is.EqualTo(91));
    }

    [Test]
    public void WhenTheModelThrows_TheReadingStillWidensTheRange()
    {
        using var detector = new SeriesDetector<int>(OnnxScoringModel.Load(TestSeries.TestModel("fails-on-high-values.onnx")), new DetectorOptions(WarmUpReadings: 50));
        var random = new Random(9);
        var t = 0;
        for (; t < 300; t++)
        {
            detector.Observe(1, t, random.NextDouble());
        }

        Assert.Throws<Microsoft.ML.OnnxRuntime.OnnxRuntimeException>(() => detector.Observe(1, t++, 2.2));
        Assert.That(detector.Observe(1, t++, 2.2).Kind, Is.EqualTo(ObservationKind.Scored), "2.2 is inside the range now: no longer 1.5 ranges beyond it");
    }
}
