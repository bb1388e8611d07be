using System.Globalization;
using Fogline.Anomaly.Nab;

namespace Fogline.Nab;

/// <summary>Prints NAB's three profile scores of a detector's results.</summary>
public static class Report
{
    /// <summary>Scores and prints.</summary>
    public static void Print(NabCorpus corpus, IReadOnlyDictionary<string, double[]> scores, string detector)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{detector} on {corpus.Series.Count} files, {corpus.WindowCount} anomaly windows:"));
        Console.WriteLine("profile               score   threshold      raw     null  perfect  windows found  FP rows");
        foreach (var profile in new[] { NabProfile.Standard, NabProfile.LowFp, NabProfile.LowFn })
        {
            var s = NabScorer.Score(corpus, scores, profile);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{profile.Name,-20} {s.NormalizedScore,6:F1}  {s.Threshold,10:F6} {s.RawScore,8:F2} {s.NullScore,8:F2} {s.PerfectScore,8:F2}  {s.DetectedWindows,6}/{corpus.WindowCount,-6} {s.Fp,7}"));
        }
    }
}
