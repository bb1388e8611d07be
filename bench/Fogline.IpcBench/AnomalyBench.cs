using System.Diagnostics;
using System.Globalization;
using Fogline.Anomaly.Detection;
using Fogline.ComponentKit.Processing;

namespace Fogline.IpcBench;

/// <summary>
/// <c>anomaly</c>: AnomalyDetector's scoring, per reading, as the component runs it (one thread, the shipped ONNX
/// model through ONNX Runtime): the five series of ../shared/data/nab replayed one after the other, each reading timed
/// on its own (p50/p99/p99.9) and the bytes allocated counted once every series is past its first 2,000 readings; the
/// same with a candidate model in shadow (both models score every reading: the time is for the pair); the C# reference
/// of the model as the baseline; then 1,000 series interleaved (memory held, cost per reading when states do not stay
/// in cache).
/// </summary>
internal static class AnomalyBench
{
    public static int Run(string? repoRoot)
    {
        if (repoRoot is null)
        {
            Console.Error.WriteLine("anomaly: run it inside the repository");
            return 2;
        }

        var model = Path.Combine(repoRoot, "components", "AnomalyDetector", "models", "knn-novelty-v1.onnx");
        var files = Directory.GetFiles(Path.GetFullPath(Path.Combine(repoRoot, "..", "shared", "data", "nab")), "*.csv").Order(StringComparer.Ordinal).ToList();
        var series = files.Select(Load).ToList();
        var options = new DetectorOptions(WarmUpReadings: 0);
        Console.WriteLine($"{series.Sum(s => s.Values.Length)} readings of {series.Count} NAB series; model {Path.GetFileName(model)}");
        Console.WriteLine("scoring                      p50 µs   p99 µs  p99.9 µs  mean µs  bytes/reading (steady state)");
        Report("C# reference (baseline)", series, () => new KnnNoveltyReference(new KnnNoveltyParameters([32, 16, 4], 2), 544, 256), null, options);
        Report("ONNX, active model", series, () => OnnxScoringModel.Load(model), null, options);
        Report("ONNX, active + candidate", series, () => OnnxScoringModel.Load(model), () => OnnxScoringModel.Load(model), options);
        Interleaved(model, options);
        return 0;
    }

    private static (double[] Times, double[] Values) Load(string file)
    {
        var rows = File.ReadLines(file).Skip(1).Select(l => l.Split(',')).ToList();
        return ([.. rows.Select(r => DateTimeOffset.Parse(r[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeSeconds() + 0.0)],
            [.. rows.Select(r => double.Parse(r[1], CultureInfo.InvariantCulture))]);
    }

    private static void Report(string name, List<(double[] Times, double[] Values)> series, Func<IScoringModel> active, Func<IScoringModel>? candidate, DetectorOptions options)
    {
        using var detector = new SeriesDetector<int>(active(), options);
        using var shadow = candidate is null ? null : new SeriesDetector<int>(candidate(), options);
        var histogram = new LatencyHistogram();
        long steadyBytes = 0, steadyReadings = 0;
        var sink = 0f;
        for (var s = 0; s < series.Count; s++)
        {
            var (times, values) = series[s];
            for (var i = 0; i < values.Length; i++)
            {
                var steady = i >= 2000;
                var before = steady ? GC.GetAllocatedBytesForCurrentThread() : 0;
                var start = Stopwatch.GetTimestamp();
                sink += detector.Observe(s, times[i], values[i]).Score;
                if (shadow is not null)
                {
                    sink += shadow.Observe(s, times[i], values[i]).Score;
                }

                histogram.RecordTicks(Stopwatch.GetTimestamp() - start);
                if (steady)
                {
                    steadyBytes += GC.GetAllocatedBytesForCurrentThread() - before;
                    steadyReadings++;
                }
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name,-26} {histogram.PercentileMicroseconds(50),8:F1} {histogram.PercentileMicroseconds(99),8:F1} {histogram.PercentileMicroseconds(99.9),9:F1} {histogram.TotalNanoseconds / 1000.0 / histogram.Count,8:F1}  {(double)steadyBytes / Math.Max(1, steadyReadings):F2} ({steadyReadings} readings){(sink < 0 ? "" : "")}"));
    }

    private static void Interleaved(string model, DetectorOptions options)
    {
        const int Series = 1000, PerSeries = 600;
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var detector = new SeriesDetector<int>(OnnxScoringModel.Load(model), options);
        var random = new Random(3);
        var histogram = new LatencyHistogram();
        for (var i = 0; i < PerSeries; i++)
        {
            for (var s = 0; s < Series; s++)
            {
                var value = 50 + (10 * Math.Sin((i + s) / 20.0)) + random.NextDouble();
                var start = Stopwatch.GetTimestamp();
                detector.Observe(s, 60.0 * i, value);
                histogram.RecordTicks(Stopwatch.GetTimestamp() - start);
            }
        }

        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Series} series interleaved: p50 {histogram.PercentileMicroseconds(50):F1} µs, p99 {histogram.PercentileMicroseconds(99):F1} µs per reading; state {detector.StateBytes / 1024.0 / Series:F1} KiB per series ({held / 1024.0 / 1024.0:F1} MiB managed memory held)"));
    }
}
