namespace Fogline.Anomaly.Nab;

/// <summary>
/// NAB's scoring rules: the sweep score of every row, the corpus-wide threshold sweep and its optimum, the files' scores
/// at that threshold, and the normalisation between NAB's null detector and a perfect one.
/// </summary>
/// <remarks>
/// Rows of the probationary period are left out. A window without a detection costs the profile's fn weight; the first
/// detection in a window earns the tp weight scaled by the sigmoid of its position (the window's first row earns it
/// all, its last row about half of the way down to 0); only a window's best detection counts. A detection outside the
/// windows costs the fp weight, scaled down right after a window. The optimiser sweeps every distinct anomaly score of
/// the corpus as a threshold, from 1.1 (nothing detected) down, and keeps the best (the highest threshold among equals).
/// </remarks>
public static class NabScorer
{
    /// <summary>The threshold NAB's sweep starts from: above every anomaly score, so nothing is detected.</summary>
    public const double NoDetectionThreshold = 1.1;

    /// <summary>The sweep score of a window's first row before weighting, 2σ(5) − 1 ≈ 0.98661: weights are relative to it.</summary>
    public static readonly double MaxTruePositive = ScaledSigmoid(-1.0);

    /// <summary>
    /// NAB's scaled sigmoid of a position relative to a window's right edge: 2 / (1 + e^(5x)) − 1, and −1 beyond 3.
    /// Window rows lie in [−1, 0), rows after a window at their distance in window widths.
    /// </summary>
    public static double ScaledSigmoid(double relativePosition) =>
        relativePosition > 3.0 ? -1.0 : (2.0 * (1.0 / (1.0 + Math.Exp(5.0 * relativePosition)))) - 1.0;

    /// <summary>
    /// The weighted sweep score of every row of a file (NAB's <c>S(t)</c> column): what a detection there would add,
    /// probationary rows included. Inside a window the scaled sigmoid of the position × tp weight / <see cref="MaxTruePositive"/>;
    /// outside, the scaled sigmoid of the distance past the previous window × fp weight (−fp weight before any window).
    /// </summary>
    public static double[] SweepScores(NabSeries series, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(profile);
        var result = new double[series.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = Weigh(series.RelativeSweep[i], series.WindowOfRow[i] >= 0, profile);
        }

        return result;
    }

    /// <summary>Scores a detector on a corpus under one profile at the optimised threshold, normalised against the null detector.</summary>
    /// <param name="corpus">The corpus.</param>
    /// <param name="anomalyScoresByRelativePath">Every file's anomaly scores (one per row, between 0 and 1) by <see cref="NabSeries.RelativePath"/>.</param>
    /// <param name="profile">The profile.</param>
    /// <exception cref="ArgumentException">A file has no scores, or not one per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A score is not a number between 0 and 1.</exception>
    public static NabScore Score(NabCorpus corpus, IReadOnlyDictionary<string, double[]> anomalyScoresByRelativePath, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return ScoreAll(corpus, anomalyScoresByRelativePath, [profile])[0];
    }

    /// <summary>Scores a detector under several profiles (NAB's three by default), ranking the rows once.</summary>
    /// <param name="corpus">The corpus.</param>
    /// <param name="anomalyScoresByRelativePath">Every file's anomaly scores (one per row, between 0 and 1) by <see cref="NabSeries.RelativePath"/>.</param>
    /// <param name="profiles">The profiles; <see cref="NabProfile.All"/> when null.</param>
    /// <returns>One score per profile, in the profiles' order.</returns>
    /// <exception cref="ArgumentException">A file has no scores, or not one per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A score is not a number between 0 and 1.</exception>
    public static IReadOnlyList<NabScore> ScoreAll(NabCorpus corpus, IReadOnlyDictionary<string, double[]> anomalyScoresByRelativePath, IReadOnlyList<NabProfile>? profiles = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        profiles ??= NabProfile.All;
        var ranking = NabRanking.Build(corpus, anomalyScoresByRelativePath);
        var results = new NabScore[profiles.Count];
        for (var p = 0; p < results.Length; p++)
        {
            var profile = profiles[p] ?? throw new ArgumentException("A profile is null.", nameof(profiles));
            var raw = Evaluate(corpus, ranking, profile, null);
            var nullScore = corpus.NullBaseline(profile);
            var perfect = corpus.WindowCount * profile.TpWeight;
            results[p] = raw with
            {
                NullScore = nullScore,
                PerfectScore = perfect,
                NormalizedScore = 100.0 * (raw.RawScore - nullScore) / (perfect - nullScore),
            };
        }

        return results;
    }

    /// <summary>
    /// NAB's threshold sweep over the whole corpus: the raw score and counts at 1.1 (nothing detected), then at every
    /// distinct anomaly score from the highest down (detecting the rows scored at least that).
    /// </summary>
    /// <exception cref="ArgumentException">A file has no scores, or not one per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A score is not a number between 0 and 1.</exception>
    public static IReadOnlyList<NabThresholdScore> SweepThresholds(NabCorpus corpus, IReadOnlyDictionary<string, double[]> anomalyScoresByRelativePath, NabProfile profile)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(profile);
        var records = new List<NabThresholdScore>();
        Evaluate(corpus, NabRanking.Build(corpus, anomalyScoresByRelativePath), profile, records);
        return records;
    }

    /// <summary>
    /// Sweeps the thresholds (recording them when <paramref name="records"/> is given), picks the best, and scores every
    /// file there. The result's normalisation fields are left 0.
    /// </summary>
    internal static NabScore Evaluate(NabCorpus corpus, NabRanking ranking, NabProfile profile, List<NabThresholdScore>? records)
    {
        var layout = corpus.Layout;
        var scores = ranking.Scores;
        var rows = ranking.Rows;
        var parts = new double[layout.WindowFile.Length];
        foreach (var window in ranking.WindowOrder)
        {
            parts[window] = -profile.FnWeight;
        }

        var windowSum = SumParts(parts, ranking.WindowOrder);
        var partsChanged = false;
        var falsePositiveSum = 0.0;
        int tp = 0, fp = 0, fn = layout.TotalInsideRows, tn = layout.TotalOutsideRows;
        var threshold = NoDetectionThreshold;
        var best = (Score: double.NegativeInfinity, Threshold: threshold, Detected: 0);

        void Record(int detected)
        {
            if (partsChanged)
            {
                windowSum = SumParts(parts, ranking.WindowOrder);
                partsChanged = false;
            }

            var score = falsePositiveSum + windowSum;
            records?.Add(new NabThresholdScore(threshold, score, tp, tn, fp, fn));
            if (score > best.Score)
            {
                best = (score, threshold, detected);
            }
        }

        for (var k = 0; k < scores.Length; k++)
        {
            if (scores[k] != threshold)
            {
                Record(k);
                threshold = scores[k];
            }

            var row = rows[k];
            var window = layout.Window[row];
            if (window >= 0)
            {
                tp++;
                fn--;
                var value = Weigh(layout.RelativeSweep[row], true, profile);
                if (value > parts[window])
                {
                    parts[window] = value;
                    partsChanged = true;
                }
            }
            else
            {
                fp++;
                tn--;
                falsePositiveSum += Weigh(layout.RelativeSweep[row], false, profile);
            }
        }

        Record(scores.Length);
        return ScoreFiles(corpus, ranking, profile, best.Threshold, best.Detected);
    }

    /// <summary>
    /// Every file's score when the first <paramref name="detected"/> rows of the ranking (those scored at least
    /// <paramref name="threshold"/>) are detections, as NAB scores each file on its own at the optimised threshold.
    /// </summary>
    private static NabScore ScoreFiles(NabCorpus corpus, NabRanking ranking, NabProfile profile, double threshold, int detected)
    {
        var layout = corpus.Layout;
        var files = corpus.Series.Count;
        var falsePositiveSum = new double[files];
        var tp = new int[files];
        var fp = new int[files];
        var parts = new double[layout.WindowFile.Length];
        var hit = new bool[parts.Length];
        foreach (var window in ranking.WindowOrder)
        {
            parts[window] = -profile.FnWeight;
        }

        for (var k = 0; k < detected; k++)
        {
            var row = ranking.Rows[k];
            var file = layout.FileOfRow[row];
            var window = layout.Window[row];
            if (window >= 0)
            {
                tp[file]++;
                hit[window] = true;
                parts[window] = Math.Max(parts[window], Weigh(layout.RelativeSweep[row], true, profile));
            }
            else
            {
                fp[file]++;
                falsePositiveSum[file] += Weigh(layout.RelativeSweep[row], false, profile);
            }
        }

        // Each file's score adds its windows' parts to its false positives in the order the windows first appear in the ranking.
        var fileScores = falsePositiveSum;
        var detectedWindows = new int[files];
        foreach (var window in ranking.WindowOrder)
        {
            var file = layout.WindowFile[window];
            fileScores[file] += parts[window];
            if (hit[window])
            {
                detectedWindows[file]++;
            }
        }

        var results = new NabFileScore[files];
        var raw = 0.0;
        for (var f = 0; f < files; f++)
        {
            var series = corpus.Series[f];
            results[f] = new NabFileScore(
                series.RelativePath,
                fileScores[f],
                tp[f],
                layout.OutsideRows[f] - fp[f],
                fp[f],
                layout.InsideRows[f] - tp[f],
                series.Windows.Count,
                detectedWindows[f]);
            raw += fileScores[f];
        }

        return new NabScore(
            profile,
            threshold,
            raw,
            NormalizedScore: 0,
            NullScore: 0,
            PerfectScore: 0,
            tp.Sum(),
            results.Sum(r => r.Tn),
            fp.Sum(),
            results.Sum(r => r.Fn),
            detectedWindows.Sum(),
            results);
    }

    private static double Weigh(double relativeSweep, bool inWindow, NabProfile profile) =>
        inWindow ? relativeSweep * profile.TpWeight / MaxTruePositive : relativeSweep * profile.FpWeight;

    private static double SumParts(double[] parts, int[] order)
    {
        var sum = 0.0;
        foreach (var window in order)
        {
            sum += parts[window];
        }

        return sum;
    }
}
