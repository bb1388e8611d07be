namespace Fogline.Anomaly.Nab;

/// <summary>
/// The scorable rows of a corpus (every file's rows after its probationary period), laid end to end in file order:
/// what the scorer needs of them whatever the detector and the profile.
/// </summary>
internal sealed class NabLayout
{
    public NabLayout(NabSeries[] series)
    {
        FileStart = new int[series.Length + 1];
        WindowStart = new int[series.Length + 1];
        for (var f = 0; f < series.Length; f++)
        {
            FileStart[f + 1] = FileStart[f] + series[f].Length - series[f].ProbationaryLength;
            WindowStart[f + 1] = WindowStart[f] + series[f].Windows.Count;
        }

        Count = FileStart[series.Length];
        RelativeSweep = new double[Count];
        Window = new int[Count];
        FileOfRow = new int[Count];
        WindowFile = new int[WindowStart[series.Length]];
        InsideRows = new int[series.Length];
        OutsideRows = new int[series.Length];
        for (var f = 0; f < series.Length; f++)
        {
            var s = series[f];
            for (var w = 0; w < s.Windows.Count; w++)
            {
                WindowFile[WindowStart[f] + w] = f;
            }

            for (var i = s.ProbationaryLength; i < s.Length; i++)
            {
                var g = FileStart[f] + i - s.ProbationaryLength;
                RelativeSweep[g] = s.RelativeSweep[i];
                FileOfRow[g] = f;
                var window = s.WindowOfRow[i];
                Window[g] = window < 0 ? -1 : WindowStart[f] + window;
                if (window < 0)
                {
                    OutsideRows[f]++;
                }
                else
                {
                    InsideRows[f]++;
                }
            }
        }

        TotalInsideRows = InsideRows.Sum();
        TotalOutsideRows = OutsideRows.Sum();
    }

    /// <summary>The number of scorable rows.</summary>
    public int Count { get; }

    /// <summary>Where each file's scorable rows start (one more entry than files: the last is <see cref="Count"/>).</summary>
    public int[] FileStart { get; }

    /// <summary>Where each file's windows start in the corpus-wide window numbering (one more entry than files).</summary>
    public int[] WindowStart { get; }

    /// <summary>The unweighted sweep score of each scorable row.</summary>
    public double[] RelativeSweep { get; }

    /// <summary>The corpus-wide number of the window each scorable row lies in, or -1.</summary>
    public int[] Window { get; }

    /// <summary>The file of each scorable row.</summary>
    public int[] FileOfRow { get; }

    /// <summary>The file of each window.</summary>
    public int[] WindowFile { get; }

    /// <summary>Each file's number of scorable rows inside windows.</summary>
    public int[] InsideRows { get; }

    /// <summary>Each file's number of scorable rows outside windows.</summary>
    public int[] OutsideRows { get; }

    /// <summary>The number of scorable rows inside windows.</summary>
    public int TotalInsideRows { get; }

    /// <summary>The number of scorable rows outside windows.</summary>
    public int TotalOutsideRows { get; }
}
