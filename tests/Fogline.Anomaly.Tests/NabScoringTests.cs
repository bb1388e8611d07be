using System.Globalization;
using System.Text;
using Fogline.Anomaly.Nab;

namespace Fogline.Anomaly.Tests;

/// <summary>
/// NAB's corpus, result files and scoring rules. Expected scores are derived here from the rules (the scaled sigmoid is
/// written out again below, not taken from the code under test).
/// </summary>
public sealed class NabScoringTests
{
    private static readonly string CorpusDirectory = Path.Combine(Repository.Shared, "data", "nab-corpus");

    private NabCorpus _corpus = null!;
    private string _temp = null!;

    [OneTimeSetUp]
    public void LoadCorpus() => _corpus = NabCorpus.Load(CorpusDirectory);

    [SetUp]
    public void CreateTemp()
    {
        _temp = Path.Combine(Path.GetTempPath(), "nab-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_temp);
    }

    [TearDown]
    public void DeleteTemp() => Directory.Delete(_temp, recursive: true);

    /// <summary>2σ(−5x) − 1 and −1 beyond 3, as NAB defines it.</summary>
    private static double Sigmoid(double x) => x > 3 ? -1 : (2 / (1 + Math.Exp(5 * x))) - 1;

    [Test]
    public void Corpus_Loads56FilesAnd110Windows()
    {
        Assert.That(_corpus.Series, Has.Count.EqualTo(56));
        Assert.That(_corpus.WindowCount, Is.EqualTo(110));
        Assert.That(_corpus.Series.Sum(s => s.Windows.Count), Is.EqualTo(110));
        Assert.That(_corpus.Series.Select(s => s.RelativePath), Is.Ordered.Using((IComparer<string>)StringComparer.Ordinal));

        var taxi = _corpus.Series.Single(s => s.RelativePath == "realKnownCause/nyc_taxi.csv");
        Assert.Multiple(() =>
        {
            Assert.That(taxi.Category, Is.EqualTo("realKnownCause"));
            Assert.That(taxi.FileName, Is.EqualTo("nyc_taxi.csv"));
            Assert.That(taxi.Length, Is.EqualTo(10320));
            Assert.That(taxi.Timestamps, Has.Length.EqualTo(10320));
            Assert.That(taxi.TimestampTexts[0], Is.EqualTo("2014-07-01 00:00:00"));
            Assert.That(taxi.Timestamps[1], Is.EqualTo(new DateTime(2014, 7, 1, 0, 30, 0)));
            Assert.That(taxi.Values[0], Is.EqualTo(10844));
            Assert.That(taxi.ProbationaryLength, Is.EqualTo(750), "min(floor(0.15 × 10320), 750)");
            Assert.That(taxi.Windows, Has.Count.EqualTo(5));
        });

        var short1 = _corpus.Series.Single(s => s.RelativePath == "realAdExchange/exchange-2_cpc_results.csv");
        Assert.That(short1.ProbationaryLength, Is.EqualTo((int)Math.Floor(0.15 * short1.Length)));

        foreach (var series in _corpus.Series)
        {
            var inWindow = new bool[series.Length];
            foreach (var (start, end) in series.Windows)
            {
                Assert.That(end, Is.GreaterThanOrEqualTo(start), series.RelativePath);
                for (var i = start; i <= end; i++)
                {
                    inWindow[i] = true;
                }
            }

            Assert.That(series.Labels, Is.EqualTo(inWindow), series.RelativePath);
        }

        var profiles = NabProfile.Load(Path.Combine(CorpusDirectory, "profiles.json"));
        Assert.That(profiles, Is.EqualTo(new[] { NabProfile.Standard, NabProfile.LowFp, NabProfile.LowFn }));
    }

    [Test]
    public void DetectorAtEveryWindowsFirstRow_IsPerfect_AndAtTheLastRow_ScoresTheSigmoidOfItsPosition()
    {
        foreach (var series in _corpus.Series)
        {
            Assert.That(series.Windows.All(w => w.Start >= series.ProbationaryLength), series.RelativePath + ": a window starts in the probationary period; the expectations below assume none does");
        }

        var first = Detector(s => s.Windows.Select(w => w.Start));
        var last = Detector(s => s.Windows.Select(w => w.End));
        foreach (var profile in NabProfile.All)
        {
            var perfect = 110 * profile.TpWeight;
            var nullScore = -110 * profile.FnWeight; // the null detector detects nothing at its best (see the null test)

            // The first row of a window earns σ(−1) · tp / σ(−1) = tp: 110 windows make NAB's perfect score.
            var firstScore = NabScorer.Score(_corpus, first, profile);
            Assert.Multiple(() =>
            {
                Assert.That(firstScore.Threshold, Is.EqualTo(1.0));
                Assert.That(firstScore.RawScore, Is.EqualTo(perfect).Within(1e-9));
                Assert.That(firstScore.PerfectScore, Is.EqualTo(perfect));
                Assert.That(firstScore.NormalizedScore, Is.EqualTo(100).Within(1e-9), profile.Name);
                Assert.That(firstScore.Tp, Is.EqualTo(110));
                Assert.That(firstScore.Fp, Is.Zero);
                Assert.That(firstScore.DetectedWindows, Is.EqualTo(110));
            });

            // The last row of a window of w rows sits at −1/w: it earns σ(−1/w) · tp / σ(−1).
            var expectedRaw = _corpus.Series.SelectMany(s => s.Windows)
                .Sum(w => Sigmoid(-1.0 / (w.End - w.Start + 1)) * profile.TpWeight / Sigmoid(-1));
            var lastScore = NabScorer.Score(_corpus, last, profile);
            Assert.Multiple(() =>
            {
                Assert.That(lastScore.Threshold, Is.EqualTo(1.0));
                Assert.That(lastScore.RawScore, Is.EqualTo(expectedRaw).Within(1e-9));
                Assert.That(lastScore.NullScore, Is.EqualTo(nullScore).Within(1e-9));
                Assert.That(lastScore.NormalizedScore, Is.EqualTo(100 * (expectedRaw - nullScore) / (perfect - nullScore)).Within(1e-9), profile.Name);
                Assert.That(lastScore.RawScore, Is.InRange(0, 0.05 * perfect), "a window's right edge is the sigmoid's zero: a last-row detection earns little");
            });
        }
    }

    [Test]
    public void NullDetector_NormalisesToZero_InEveryProfile()
    {
        var nullDetector = Detector(_ => []);
        foreach (var series in _corpus.Series)
        {
            Array.Fill(nullDetector[series.RelativePath], 0.5);
        }

        var scores = NabScorer.ScoreAll(_corpus, nullDetector);
        Assert.That(scores.Select(s => s.Profile), Is.EqualTo(NabProfile.All));
        foreach (var score in scores)
        {
            // One threshold group: 1.1 (nothing detected: every window is missed) or 0.5 (every row detected: all
            // the false positives of the corpus). Missing every window is the better of the two here.
            var sweep = NabScorer.SweepThresholds(_corpus, nullDetector, score.Profile);
            Assert.That(sweep.Select(r => r.Threshold), Is.EqualTo(new[] { 1.1, 0.5 }));
            Assert.That(sweep[0].Score, Is.EqualTo(-110 * score.Profile.FnWeight));
            Assert.That(sweep[1].Score, Is.LessThan(sweep[0].Score));
            Assert.That(sweep[1].Tp + sweep[1].Fp, Is.EqualTo(_corpus.Series.Sum(s => s.Length - s.ProbationaryLength)));

            Assert.Multiple(() =>
            {
                Assert.That(score.Threshold, Is.EqualTo(1.1));
                Assert.That(score.RawScore, Is.EqualTo(-110 * score.Profile.FnWeight));
                Assert.That(score.NullScore, Is.EqualTo(score.RawScore));
                Assert.That(score.NormalizedScore, Is.Zero, score.Profile.Name);
                Assert.That(score.Tp + score.Fp, Is.Zero);
            });
        }
    }

    [Test]
    public void SyntheticSeries_ScoresAsDerivedByHand()
    {
        // one.csv: 40 rows, probationary floor(0.15 × 40) = 6 rows, one window on rows 20..24 (5 rows).
        // quiet.csv: 20 rows, no window, every score 0.
        var corpus = WriteSyntheticCorpus(_temp, "2000-01-01 00:20:00.000000");
        var one = corpus.Series.Single(s => s.FileName == "one.csv");
        Assert.That(one.ProbationaryLength, Is.EqualTo(6));
        Assert.That(one.Windows, Is.EqualTo(new[] { (20, 24) }));

        var scores = new double[40];
        scores[2] = 0.9;   // probationary: ignored (no threshold 0.9 appears)
        scores[8] = 0.8;   // false positive before any window: −1 · fp
        scores[22] = 0.8;  // in the window, 3 rows from its right edge: σ(−3/5) · tp / σ(−1)
        scores[23] = 0.8;  // later in the window: only the best detection of a window counts
        scores[25] = 0.8;  // right after the window: σ(1/4) · fp
        scores[39] = 0.3;  // 15 rows after the window: σ(15/4) = −1, so −1 · fp
        var detector = new Dictionary<string, double[]>
        {
            ["synthetic/one.csv"] = scores,
            ["synthetic/quiet.csv"] = new double[20],
        };

        var profile = NabProfile.Standard;
        var atEightTenths = (Sigmoid(-0.6) * 1.0 / Sigmoid(-1)) + (-1 * 0.11) + (Sigmoid(0.25) * 0.11);
        var sweep = NabScorer.SweepThresholds(corpus, detector, profile);
        Assert.That(sweep.Select(r => r.Threshold).Take(3), Is.EqualTo(new[] { 1.1, 0.8, 0.3 }), "0.8 is one threshold group, 0.9 is probationary");
        Assert.Multiple(() =>
        {
            // 34 + 17 scorable rows, 5 of them in the window.
            Assert.That(sweep[0], Is.EqualTo(new NabThresholdScore(1.1, -1.0, 0, 46, 0, 5)));
            Assert.That(sweep[1].Score, Is.EqualTo(atEightTenths).Within(1e-12));
            Assert.That((sweep[1].Tp, sweep[1].Tn, sweep[1].Fp, sweep[1].Fn), Is.EqualTo((2, 44, 2, 3)));
            Assert.That(sweep[2].Score, Is.EqualTo(atEightTenths - 0.11).Within(1e-12));
            Assert.That(sweep[^1].Threshold, Is.EqualTo(0.0));
            Assert.That(sweep[^1].Tp + sweep[^1].Fp, Is.EqualTo(51));
        });

        var score = NabScorer.Score(corpus, detector, profile);
        var windowlessFile = corpus.Series.Single(s => s.FileName == "quiet.csv");
        Assert.That(windowlessFile.ProbationaryLength, Is.EqualTo(3));

        // The null detector detects everything or nothing; nothing (−1) beats the window's best row (+1) plus every
        // scorable row outside it as a false positive.
        var everythingOutside = Enumerable.Range(6, 14).Sum(_ => -1.0)
            + Enumerable.Range(25, 15).Sum(i => Sigmoid((i - 24) / 4.0))
            + Enumerable.Range(3, 17).Sum(_ => -1.0);
        var nullEverything = 1.0 + (0.11 * everythingOutside);
        Assert.That(nullEverything, Is.LessThan(-1.0));
        Assert.Multiple(() =>
        {
            Assert.That(score.Threshold, Is.EqualTo(0.8));
            Assert.That(score.RawScore, Is.EqualTo(atEightTenths).Within(1e-12));
            Assert.That((score.Tp, score.Tn, score.Fp, score.Fn), Is.EqualTo((2, 44, 2, 3)));
            Assert.That(score.DetectedWindows, Is.EqualTo(1));
            Assert.That(score.PerfectScore, Is.EqualTo(1.0));
            Assert.That(score.NullScore, Is.EqualTo(-1.0));
            Assert.That(score.NormalizedScore, Is.EqualTo(100 * (atEightTenths + 1) / 2).Within(1e-10));
            Assert.That(score.Files.Select(f => f.RelativePath), Is.EqualTo(new[] { "synthetic/one.csv", "synthetic/quiet.csv" }));
            Assert.That(score.Files[0], Is.EqualTo(new NabFileScore("synthetic/one.csv", score.Files[0].Score, 2, 27, 2, 3, 1, 1)));
            Assert.That(score.Files[0].Score, Is.EqualTo(atEightTenths).Within(1e-12));
            Assert.That(score.Files[1], Is.EqualTo(new NabFileScore("synthetic/quiet.csv", 0.0, 0, 17, 0, 0, 0, 0)));
        });

        // The profile weights scale the parts: low FN rate only changes the cost of a missed window.
        var lowFn = NabScorer.Score(corpus, detector, NabProfile.LowFn);
        Assert.That(lowFn.RawScore, Is.EqualTo(atEightTenths).Within(1e-12));
        Assert.That(lowFn.NullScore, Is.EqualTo(-2.0));

        // The per-row sweep scores NAB writes as S(t), probationary rows included.
        var sweepScores = NabScorer.SweepScores(one, profile);
        Assert.Multiple(() =>
        {
            Assert.That(sweepScores[0], Is.EqualTo(-0.11));
            Assert.That(sweepScores[20], Is.EqualTo(1.0).Within(1e-15));
            Assert.That(sweepScores[24], Is.EqualTo(Sigmoid(-0.2) / Sigmoid(-1)).Within(1e-12));
            Assert.That(sweepScores[25], Is.EqualTo(Sigmoid(0.25) * 0.11).Within(1e-12));
            Assert.That(sweepScores[36], Is.EqualTo(Sigmoid(3.0) * 0.11).Within(1e-12));
            Assert.That(sweepScores[37], Is.EqualTo(-0.11));
        });
    }

    [Test]
    public void Scores_AreChecked()
    {
        var corpus = WriteSyntheticCorpus(_temp, "2000-01-01 00:20:00.000000");
        var scores = new Dictionary<string, double[]> { ["synthetic/one.csv"] = new double[40] };
        var missing = Assert.Throws<ArgumentException>(() => NabScorer.Score(corpus, scores, NabProfile.Standard));
        Assert.That(missing!.Message, Does.Contain("synthetic/quiet.csv"));

        scores["synthetic/quiet.csv"] = new double[19];
        var shortScores = Assert.Throws<ArgumentException>(() => NabScorer.Score(corpus, scores, NabProfile.Standard));
        Assert.That(shortScores!.Message, Does.Contain("synthetic/quiet.csv").And.Contain("20 rows"));

        scores["synthetic/quiet.csv"] = new double[20];
        scores["synthetic/quiet.csv"][7] = double.NaN;
        Assert.Throws<ArgumentOutOfRangeException>(() => NabScorer.Score(corpus, scores, NabProfile.Standard));
    }

    [Test]
    public void Results_WriteThenRead_RoundTrips()
    {
        var corpus = WriteSyntheticCorpus(Path.Combine(_temp, "corpus"), "2000-01-01 00:20:00.000000");
        var results = Path.Combine(_temp, "results");
        var rng = new Random(7);
        var scores = corpus.Series.ToDictionary(s => s.RelativePath, s => Enumerable.Range(0, s.Length).Select(_ => rng.NextDouble()).ToArray());
        scores["synthetic/one.csv"][0] = 0;
        scores["synthetic/one.csv"][1] = 1;
        scores["synthetic/one.csv"][2] = 0.1 + 0.2;
        foreach (var series in corpus.Series)
        {
            NabResults.Write(results, "mydet", series, scores[series.RelativePath]);
        }

        var file = Path.Combine(results, "mydet", "synthetic", "mydet_one.csv");
        var lines = File.ReadAllLines(file);
        Assert.Multiple(() =>
        {
            Assert.That(lines, Has.Length.EqualTo(41));
            Assert.That(lines[0], Is.EqualTo("timestamp,value,anomaly_score,label"));
            Assert.That(lines[1], Is.EqualTo("2000-01-01 00:00:00,0.5,0,0"));
            Assert.That(lines[2], Is.EqualTo("2000-01-01 00:01:00,1,1,0"));
            Assert.That(lines[21], Does.StartWith("2000-01-01 00:20:00,20,").And.EndWith(",1"));
            Assert.That(lines[25], Does.EndWith(",1"));
            Assert.That(lines[26], Does.EndWith(",0"));
        });

        var read = NabResults.Read(results, "mydet", corpus);
        Assert.That(read.Keys, Is.EquivalentTo(scores.Keys));
        foreach (var (path, expected) in scores)
        {
            Assert.That(read[path], Is.EqualTo(expected), path);
        }

        Assert.That(NabScorer.Score(corpus, read, NabProfile.Standard), Is.Not.Null);

        // A file with a row less, then a missing file.
        File.WriteAllLines(file, lines[..^1]);
        var mismatch = Assert.Throws<InvalidDataException>(() => NabResults.Read(results, "mydet", corpus));
        Assert.That(mismatch!.Message, Does.Contain(file).And.Contain("39 rows").And.Contain("40"));

        File.Delete(file);
        var missing = Assert.Throws<FileNotFoundException>(() => NabResults.Read(results, "mydet", corpus));
        Assert.That(missing!.Message, Does.Contain(file));

        Assert.Throws<ArgumentException>(() => NabResults.Write(results, "mydet", corpus.Series[0], new double[3]));
    }

    [Test]
    public void Corpus_WindowTimestampNotAmongRows_IsAnErrorNamingTheFile()
    {
        // 00:20:30 lies between two rows of one.csv.
        var error = Assert.Throws<InvalidDataException>(() => WriteSyntheticCorpus(_temp, "2000-01-01 00:20:30.000000"));
        Assert.That(error!.Message, Does.Contain("synthetic/one.csv").And.Contain("2000-01-01 00:20:30.000000"));
    }

    [Test]
    public void Corpus_MalformedLine_IsAnErrorNamingTheFileAndLine()
    {
        var corpus = Path.Combine(_temp, "corpus");
        WriteSyntheticCorpus(corpus, "2000-01-01 00:20:00.000000");
        var one = Path.Combine(corpus, "synthetic", "one.csv");
        var lines = File.ReadAllLines(one);
        lines[4] = "2000-01-01 00:03:00,not-a-number";
        File.WriteAllLines(one, lines);
        var error = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(corpus));
        Assert.That(error!.Message, Does.Contain(one + ":5:").And.Contain("not-a-number"));

        lines[4] = "2000-01-01 00:03:00";
        File.WriteAllLines(one, lines);
        error = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(corpus));
        Assert.That(error!.Message, Does.Contain(one + ":5:"));

        lines[4] = "2000-01-01 00:03:00,3";
        File.WriteAllLines(one, lines);
        File.WriteAllText(Path.Combine(corpus, "synthetic", "unlabelled.csv"), "timestamp,value\n2000-01-01 00:00:00,1\n");
        error = Assert.Throws<InvalidDataException>(() => NabCorpus.Load(corpus));
        Assert.That(error!.Message, Does.Contain("synthetic/unlabelled.csv"));
    }

    private Dictionary<string, double[]> Detector(Func<NabSeries, IEnumerable<int>> detectionRows)
    {
        var detector = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var series in _corpus.Series)
        {
            var scores = new double[series.Length];
            foreach (var row in detectionRows(series))
            {
                scores[row] = 1.0;
            }

            detector[series.RelativePath] = scores;
        }

        return detector;
    }

    /// <summary>
    /// synthetic/one.csv: 40 rows a minute apart from 2000-01-01 00:00 (value = row / 2 before row 1, else the row
    /// number), one window from <paramref name="windowStart"/> to 00:24; synthetic/quiet.csv: 20 rows, no window.
    /// </summary>
    private static NabCorpus WriteSyntheticCorpus(string directory, string windowStart)
    {
        var folder = Path.Combine(directory, "synthetic");
        Directory.CreateDirectory(folder);
        var start = new DateTime(2000, 1, 1);
        File.WriteAllText(Path.Combine(folder, "one.csv"), Rows(40, i => i == 0 ? 0.5 : i));
        File.WriteAllText(Path.Combine(folder, "quiet.csv"), Rows(20, i => 1.25));
        File.WriteAllText(Path.Combine(directory, "combined_windows.json"), $$"""
            {
              "synthetic/one.csv": [["{{windowStart}}", "2000-01-01 00:24:00.000000"]],
              "synthetic/quiet.csv": []
            }
            """);
        return NabCorpus.Load(directory);

        string Rows(int count, Func<int, double> value)
        {
            var text = new StringBuilder("timestamp,value\n");
            for (var i = 0; i < count; i++)
            {
                text.Append(start.AddMinutes(i).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(',')
                    .Append(value(i).ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            return text.ToString();
        }
    }
}
