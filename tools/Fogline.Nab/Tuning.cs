using System.Globalization;
using Fogline.Anomaly.Detection;
using Fogline.Anomaly.Nab;

namespace Fogline.Nab;

/// <summary>
/// The parameter sweep behind the shipped model: every combination of the given lists, each scored on the corpus with
/// the C# reference of the model (the same function as the ONNX graph, faster to vary). Printed best first with the
/// three profile scores, so the choice and how much it was tuned on the corpus itself are on record.
/// </summary>
public static class Tuning
{
    private static readonly Dictionary<string, string[]> Defaults = new(StringComparer.Ordinal)
    {
        ["scales"] = ["32/16/4"], ["history"] = ["544"], ["calibration"] = ["256"], ["k"] = ["2"], ["calibrationStart"] = ["256"], ["tolerance"] = ["0.02"], ["rankTop"] = ["0.89"], ["recordReadings"] = ["4096"],
        ["floor"] = ["0.95"], ["quiet"] = ["30"], ["quietLevel"] = ["0.9"], ["minHistory"] = ["16"],
    };

    private static void Explain(NabCorpus corpus, Dictionary<string, double[]> scores, double threshold)
    {
        foreach (var series in corpus.Series)
        {
            var s = scores[series.RelativePath];
            var detections = Enumerable.Range(series.ProbationaryLength, s.Length - series.ProbationaryLength).Where(i => s[i] >= threshold).ToList();
            var parts = series.Windows.Select(w =>
            {
                var first = detections.FirstOrDefault(i => i >= w.Start && i <= w.End, -1);
                return first < 0 ? $"[{w.Start}-{w.End}: MISS]" : $"[{w.Start}-{w.End}: {(double)(first - w.Start) / (w.End - w.Start + 1):F2}]";
            });
            var fps = detections.Where(i => !series.Windows.Any(w => i >= w.Start && i <= w.End)).ToList();
            Console.WriteLine($"  {series.RelativePath,-60} n={s.Length} {string.Join(" ", parts)} fp={fps.Count} {string.Join(",", fps.Take(12))}");
        }
    }

    /// <summary>Runs the sweep and prints it.</summary>
    public static void Sweep(NabCorpus corpus, string grid)
    {
        var lists = Defaults.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var part in grid.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length != 2 || !lists.ContainsKey(pair[0]))
            {
                throw new ArgumentException($"--grid: '{part}' is not name=v1,v2 with a name among {string.Join(", ", lists.Keys)}");
            }

            lists[pair[0]] = pair[1].Split(',');
        }

        IEnumerable<Dictionary<string, string>> combinations = [new Dictionary<string, string>(StringComparer.Ordinal)];
        foreach (var (name, values) in lists)
        {
            combinations = combinations.SelectMany(c => values.Select(v => new Dictionary<string, string>(c, StringComparer.Ordinal) { [name] = v })).ToList();
        }

        var rows = new List<(double Standard, string Line)>();
        var gate = new object();
        Parallel.ForEach(combinations, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, p =>
        {
            double D(string name) => double.Parse(p[name], CultureInfo.InvariantCulture);
            var parameters = new KnnNoveltyParameters([.. p["scales"].Split('/').Select(int.Parse)], (int)D("k"), (float)D("tolerance"), (float)D("rankTop"), (float)D("floor"));
            var options = new DetectorOptions(MinHistory: (int)D("minHistory"), CalibrationStart: (int)D("calibrationStart"), RecordReadings: (int)D("recordReadings"), QuietReadings: (int)D("quiet"), QuietLevel: D("quietLevel"));
            var (scores, _, _) = NabRun.Run(corpus, () => new KnnNoveltyReference(parameters, (int)D("history"), (int)D("calibration")), options);
            var standard = NabScorer.Score(corpus, scores, NabProfile.Standard);
            var lowFp = NabScorer.Score(corpus, scores, NabProfile.LowFp);
            var lowFn = NabScorer.Score(corpus, scores, NabProfile.LowFn);
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{standard.NormalizedScore,6:F1} {lowFp.NormalizedScore,6:F1} {lowFn.NormalizedScore,6:F1}  threshold {standard.Threshold:F4} windows {standard.DetectedWindows}/{corpus.WindowCount} fp {standard.Fp}  {string.Join(" ", p.Select(x => $"{x.Key}={x.Value}"))}");
            lock (gate)
            {
                rows.Add((standard.NormalizedScore, line));
                Console.WriteLine(line);
                if (Environment.GetEnvironmentVariable("FOGLINE_NAB_EXPLAIN") == "1")
                {
                    Explain(corpus, scores, standard.Threshold);
                }
            }
        });

        Console.WriteLine("best first (standard, reward_low_FP_rate, reward_low_FN_rate):");
        foreach (var row in rows.OrderByDescending(r => r.Standard))
        {
            Console.WriteLine(row.Line);
        }
    }
}
