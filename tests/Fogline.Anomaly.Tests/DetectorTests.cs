using Fogline.Anomaly.Detection;

namespace Fogline.Anomaly.Tests;

/// <summary>The detector around a model: bad values, time, warm-up, quiet periods, series limits (with the C# reference of the model).</summary>
public class DetectorTests
{
    private static readonly KnnNoveltyParameters Parameters = new([32, 16, 4], 2);

    private static SeriesDetector<int> Create(DetectorOptions? options = null) =>
        new(new KnnNoveltyReference(Parameters, 544, 256), options ?? new DetectorOptions(WarmUpReadings: 100));

    private static double Cycle(int i, Random random) => 10 + (3 * Math.Sin(i * 2 * Math.PI / 50)) + (0.2 * random.NextDouble());

    [Test]
    public void NaNAndInfinity_AreRefused_AndChangeNothing()
    {
        using var detector = Create();
        using var twin = Create();
        var random = new Random(1);
        for (var i = 0; i < 600; i++)
        {
            var value = Cycle(i, random);
            if (i % 97 == 0)
            {
                Assert.That(detector.Observe(1, (i * 60) + 30, double.NaN).Kind, Is.EqualTo(ObservationKind.NotFinite));
                Assert.That(detector.Observe(1, (i * 60) + 31, double.PositiveInfinity).Kind, Is.EqualTo(ObservationKind.NotFinite));
                Assert.That(detector.Observe(1, (i * 60) + 32, double.NegativeInfinity).Kind, Is.EqualTo(ObservationKind.NotFinite));
            }

            Assert.That(detector.Observe(1, i * 60, value), Is.EqualTo(twin.Observe(1, i * 60, value)), $"reading {i}");
        }
    }

    [Test]
    public void RepeatedAndEarlierTimestamps_AreOutOfOrder()
    {
        using var detector = Create();
        Assert.That(detector.Observe(1, 100, 1).Kind, Is.EqualTo(ObservationKind.WarmingUp));
        Assert.That(detector.Observe(1, 100, 2).Kind, Is.EqualTo(ObservationKind.OutOfOrder));
        Assert.That(detector.Observe(1, 50, 2).Kind, Is.EqualTo(ObservationKind.OutOfOrder));
        Assert.That(detector.Observe(1, 101, 2).Kind, Is.EqualTo(ObservationKind.WarmingUp));
        Assert.That(detector.Observe(2, 50, 2).Kind, Is.EqualTo(ObservationKind.WarmingUp), "each series has its own clock");
    }

    [Test]
    public void AGap_IsCounted_AndScoringResumesAfterMinHistoryReadings()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 50, MinHistory: 16, GapFactor: 10));
        var random = new Random(2);
        var t = 0.0;
        for (var i = 0; i < 400; i++, t += 60)
        {
            detector.Observe(1, t, Cycle(i, random));
        }

        Assert.That(detector.Observe(1, t, Cycle(400, random)).Kind, Is.EqualTo(ObservationKind.Scored));
        t += 3600 * 5;
        var after = Enumerable.Range(0, 20).Select(i => detector.Observe(1, t + (i * 60), Cycle(401 + i, random)).Kind).ToList();
        Assert.That(detector.Gaps, Is.EqualTo(1));
        Assert.That(after.Take(16), Is.All.EqualTo(ObservationKind.WarmingUp));
        Assert.That(after.Skip(16), Is.All.EqualTo(ObservationKind.Scored));
    }

    [Test]
    public void ASeriesThatNeverVaried_ScoresZero_AndItsFirstChangeIsASpatialAnomaly()
    {
        using var detector = Create();
        var scores = Enumerable.Range(0, 400).Select(i => detector.Observe(1, i, 42.0)).Where(o => o.Kind == ObservationKind.Scored).Select(o => o.Score).ToList();
        Assert.That(scores, Is.Not.Empty.And.All.EqualTo(0f));
        Assert.That(detector.Observe(1, 400, 42.5).Score, Is.GreaterThanOrEqualTo(0.95f));
    }

    [Test]
    public void ASpikeInANoisyCycle_Scores09OrMore_TheOrdinaryReadingsMostlyDoNot()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 300));
        var random = new Random(3);
        var ordinary = new List<float>();
        for (var i = 0; i < 1500; i++)
        {
            var observation = detector.Observe(1, i * 60, Cycle(i, random));
            if (observation.Kind == ObservationKind.Scored)
            {
                ordinary.Add(observation.Score);
            }
        }

        Assert.That(ordinary.Count(s => s >= 0.9f), Is.LessThan(ordinary.Count / 100), "fewer than 1 % of ordinary readings at 0.9 or above");
        Assert.That(detector.Observe(1, 1500 * 60, 25).Score, Is.GreaterThanOrEqualTo(0.9f));
    }

    [Test]
    public void AfterADetection_TheNextQuietReadingsStayUnderTheQuietLevel()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 300, QuietReadings: 30, QuietLevel: 0.9));
        var random = new Random(4);
        var i = 0;
        for (; i < 800; i++)
        {
            detector.Observe(1, i * 60, Cycle(i, random));
        }

        Assert.That(detector.Observe(1, i++ * 60, 40).Score, Is.GreaterThanOrEqualTo(0.9f));
        var quiet = Enumerable.Range(0, 30).Select(_ => detector.Observe(1, i++ * 60, 40 + (i % 7))).ToList();
        Assert.That(quiet.Select(o => o.Score), Is.All.LessThan(0.9f));
        Assert.That(quiet.Select(o => o.ModelScore), Has.Some.GreaterThanOrEqualTo(0.9f), "the model still saw them as anomalies");
    }

    [Test]
    public void ThousandsOfSeries_StayWithinMaxSeries_TheLeastRecentlySeenAreForgotten()
    {
        using var detector = Create(new DetectorOptions(WarmUpReadings: 0, MaxSeries: 1000));
        for (var round = 0; round < 3; round++)
        {
            detector.Observe(-1, round, 1.0);
            for (var s = 0; s < 5000; s++)
            {
                detector.Observe(s, round, s % 10);
            }
        }

        Assert.That(detector.SeriesCount, Is.EqualTo(1000));
        Assert.That(detector.Evicted, Is.EqualTo((3 * 5001) - 1000), "every series is created anew each round: 5,000 more than fit");
        Assert.That(detector.Observe(4999, 3, 1).Kind, Is.Not.EqualTo(ObservationKind.OutOfOrder), "the most recent series kept its state and its clock");
        Assert.That(detector.Observe(4999, 2, 1).Kind, Is.EqualTo(ObservationKind.OutOfOrder), "…which is how we know it was kept");
        Assert.That(detector.Observe(0, 0, 1).Kind, Is.Not.EqualTo(ObservationKind.OutOfOrder), "series 0 was forgotten: it starts afresh");
        Assert.That(detector.StateBytes, Is.LessThan(1000 * 8 * 1024));
    }

    [Test]
    public void AValueFarOutsideTheRange_RescalesWhatIsKept_NothingBecomesNaN()
    {
        using var detector = Create();
        var random = new Random(5);
        var scores = new List<float>();
        for (var i = 0; i < 900; i++)
        {
            var value = i == 450 ? 1e6 : random.NextDouble();
            scores.Add(detector.Observe(1, i, value).Score);
        }

        Assert.That(scores, Is.All.Matches<float>(float.IsFinite));
        Assert.That(scores[450], Is.EqualTo(1f));
    }
}
