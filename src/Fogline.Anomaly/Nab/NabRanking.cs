namespace Fogline.Anomaly.Nab;

/// <summary>
/// A detector's scorable rows in NAB's sweep order: anomaly score descending, rows of equal score in corpus order
/// (file order, then row order), as a stable sort leaves them. Independent of the profile, so built once for all.
/// </summary>
internal sealed class NabRanking
{
    private NabRanking(double[] scores, int[] rows, int[] windowOrder)
    {
        Scores = scores;
        Rows = rows;
        WindowOrder = windowOrder;
    }

    /// <summary>The anomaly scores, descending.</summary>
    public double[] Scores { get; }

    /// <summary>The scorable row (see <see cref="NabLayout"/>) of each entry of <see cref="Scores"/>.</summary>
    public int[] Rows { get; }

    /// <summary>The windows that have scorable rows, in the order their first row appears in the ranking.</summary>
    public int[] WindowOrder { get; }

    /// <summary>Checks a detector's scores against the corpus and ranks its scorable rows.</summary>
    /// <exception cref="ArgumentException">A file has no scores, or not one per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A score is not a number between 0 and 1.</exception>
    public static NabRanking Build(NabCorpus corpus, IReadOnlyDictionary<string, double[]> anomalyScores)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(anomalyScores);
        var layout = corpus.Layout;
        var keys = new double[layout.Count];
        var rows = new int[layout.Count];
        for (var f = 0; f < corpus.Series.Count; f++)
        {
            var series = corpus.Series[f];
            if (!anomalyScores.TryGetValue(series.RelativePath, out var scores) || scores is null)
            {
                throw new ArgumentException($"There are no anomaly scores for the corpus file '{series.RelativePath}'.", nameof(anomalyScores));
            }

            if (scores.Length != series.Length)
            {
                throw new ArgumentException($"'{series.RelativePath}' has {series.Length} rows but {scores.Length} anomaly scores.", nameof(anomalyScores));
            }

            for (var i = 0; i < scores.Length; i++)
            {
                var score = scores[i];
                if (!(score >= 0.0 && score <= 1.0))
                {
                    throw new ArgumentOutOfRangeException(nameof(anomalyScores), score, $"The anomaly score of row {i} of '{series.RelativePath}' is not a number between 0 and 1.");
                }

                if (i >= series.ProbationaryLength)
                {
                    var g = layout.FileStart[f] + i - series.ProbationaryLength;
                    keys[g] = -score;
                    rows[g] = g;
                }
            }
        }

        // Sorting ascending on the negated score is fast but not stable: put each run of equal scores back in corpus order.
        Array.Sort(keys, rows);
        for (var start = 0; start < keys.Length;)
        {
            var end = start + 1;
            while (end < keys.Length && keys[end] == keys[start])
            {
                end++;
            }

            if (end - start > 1)
            {
                Array.Sort(rows, start, end - start);
            }

            start = end;
        }

        var sorted = new double[keys.Length];
        var seen = new bool[layout.WindowFile.Length];
        var order = new List<int>();
        for (var k = 0; k < keys.Length; k++)
        {
            sorted[k] = -keys[k];
            var window = layout.Window[rows[k]];
            if (window >= 0 && !seen[window])
            {
                seen[window] = true;
                order.Add(window);
            }
        }

        return new NabRanking(sorted, rows, order.ToArray());
    }
}
