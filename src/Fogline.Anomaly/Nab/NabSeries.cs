namespace Fogline.Anomaly.Nab;

/// <summary>
/// One data file of a NAB corpus: its rows, its labelled anomaly windows and what NAB's scoring derives from them (the
/// probationary period, the row labels, the position of every row relative to the windows).
/// </summary>
public sealed class NabSeries
{
    /// <summary>The share of a file's rows, at most <see cref="ProbationaryCap"/> of them, that NAB leaves out of scoring.</summary>
    public const double ProbationaryPercent = 0.15;

    /// <summary>The row count whose <see cref="ProbationaryPercent"/> caps the probationary period (so at most 750 rows).</summary>
    public const int ProbationaryCap = 5000;

    private readonly (int Start, int End)[] _windows;

    internal NabSeries(string relativePath, string[] timestampTexts, DateTime[] timestamps, double[] values, (int Start, int End)[] windows)
    {
        RelativePath = relativePath;
        var slash = relativePath.LastIndexOf('/');
        Category = slash < 0 ? string.Empty : relativePath[..slash];
        FileName = relativePath[(slash + 1)..];
        TimestampTexts = timestampTexts;
        Timestamps = timestamps;
        Values = values;
        _windows = windows;
        ProbationaryLength = ProbationaryLengthOf(values.Length);
        Labels = LabelRows(timestamps, windows);
        (RelativeSweep, WindowOfRow) = Sweep(windows, values.Length);
    }

    /// <summary>The file's path in the corpus with '/' separators, for instance <c>realKnownCause/nyc_taxi.csv</c>: the key of its windows and of its scores.</summary>
    public string RelativePath { get; }

    /// <summary>The folder part of <see cref="RelativePath"/>, for instance <c>realKnownCause</c>.</summary>
    public string Category { get; }

    /// <summary>The file name, for instance <c>nyc_taxi.csv</c>.</summary>
    public string FileName { get; }

    /// <summary>The number of rows.</summary>
    public int Length => Values.Length;

    /// <summary>The rows' timestamps.</summary>
    public DateTime[] Timestamps { get; }

    /// <summary>The rows' values.</summary>
    public double[] Values { get; }

    /// <summary>The rows' timestamps as written in the file (result files repeat them unchanged).</summary>
    public string[] TimestampTexts { get; }

    /// <summary>The anomaly windows as inclusive row ranges, in time order.</summary>
    public IReadOnlyList<(int Start, int End)> Windows => _windows;

    /// <summary>For every row, whether its timestamp lies within a window (NAB's <c>label</c> column).</summary>
    public bool[] Labels { get; }

    /// <summary>The number of leading rows NAB leaves out of scoring: min(floor(0.15 n), 0.15 × 5000).</summary>
    public int ProbationaryLength { get; }

    /// <summary>
    /// The unweighted sweep score of every row: inside a window the scaled sigmoid of its position relative to the
    /// window's right edge, outside the scaled sigmoid of its distance past the previous window (-1 before any window).
    /// </summary>
    internal double[] RelativeSweep { get; }

    /// <summary>For every row, the index in <see cref="Windows"/> of the window it lies in, or -1.</summary>
    internal int[] WindowOfRow { get; }

    /// <summary>NAB's probationary period for a file of <paramref name="rows"/> rows.</summary>
    public static int ProbationaryLengthOf(int rows) =>
        (int)Math.Min(Math.Floor(ProbationaryPercent * rows), ProbationaryPercent * ProbationaryCap);

    /// <inheritdoc />
    public override string ToString() => RelativePath;

    private static bool[] LabelRows(DateTime[] timestamps, (int Start, int End)[] windows)
    {
        var labels = new bool[timestamps.Length];
        foreach (var (start, end) in windows)
        {
            var from = timestamps[start];
            var to = timestamps[end];
            for (var i = 0; i < timestamps.Length; i++)
            {
                if (timestamps[i] >= from && timestamps[i] <= to)
                {
                    labels[i] = true;
                }
            }
        }

        return labels;
    }

    private static (double[] Sweep, int[] WindowOfRow) Sweep((int Start, int End)[] windows, int rows)
    {
        var sweep = new double[rows];
        var windowOfRow = new int[rows];
        var next = 0;
        var current = -1;
        var previousRight = -1;
        var previousWidth = 0.0;
        for (var i = 0; i < rows; i++)
        {
            if (current < 0 && next < windows.Length && i == windows[next].Start)
            {
                current = next++;
            }

            windowOfRow[i] = current;
            if (current >= 0)
            {
                var (start, end) = windows[current];
                var width = (double)(end - start + 1);
                sweep[i] = NabScorer.ScaledSigmoid(-(end - i + 1) / width);
                if (i == end)
                {
                    previousRight = end;
                    previousWidth = width;
                    current = -1;
                }
            }
            else if (previousRight < 0)
            {
                sweep[i] = -1.0;
            }
            else
            {
                // A one-row window makes the divisor 0: the distance is infinite and the sigmoid -1 (NAB itself fails there).
                sweep[i] = NabScorer.ScaledSigmoid(Math.Abs(previousRight - i) / (previousWidth - 1));
            }
        }

        return (sweep, windowOfRow);
    }
}
