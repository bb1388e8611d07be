using BenchmarkDotNet.Attributes;
using Fogline.Anomaly.Detection;

namespace Fogline.Benchmarks;

/// <summary>
/// AnomalyDetector's per-reading cost in steady state: one series (a noisy cycle with occasional spikes) scored by the
/// shipped ONNX model through ONNX Runtime, the same with a candidate model in shadow beside it (two models, two
/// states, every reading), and the model's C# reference (the baseline of the ratios). Each invocation scores 1,000
/// readings (OperationsPerInvoke), after 2,000 readings of warm-up, so the numbers are per reading.
/// </summary>
[MemoryDiagnoser]
public class AnomalyBenchmarks
{
    private const int Readings = 1000;
    private readonly double[] _values = new double[Readings];
    private SeriesDetector<int> _reference = null!;
    private SeriesDetector<int> _onnx = null!;
    private SeriesDetector<int> _active = null!;
    private SeriesDetector<int> _candidate = null!;
    private double _time;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < Readings; i++)
        {
            _values[i] = 50 + (30 * Math.Sin(i * 2 * Math.PI / 288)) + (random.NextDouble() - 0.5) + (i % 397 == 0 ? 40 : 0);
        }

        var model = Path.Combine(FindRepositoryRoot(), "components", "AnomalyDetector", "models", "knn-novelty-v1.onnx");
        var options = new DetectorOptions(WarmUpReadings: 0);
        _reference = new SeriesDetector<int>(new KnnNoveltyReference(new KnnNoveltyParameters([32, 16, 4], 2), 544, 256), options);
        _onnx = new SeriesDetector<int>(OnnxScoringModel.Load(model), options);
        _active = new SeriesDetector<int>(OnnxScoringModel.Load(model), options);
        _candidate = new SeriesDetector<int>(OnnxScoringModel.Load(model), options);
        for (var round = 0; round < 2; round++)
        {
            Reference();
            Onnx();
            OnnxWithCandidateInShadow();
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reference.Dispose();
        _onnx.Dispose();
        _active.Dispose();
        _candidate.Dispose();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Readings)]
    public float Reference() => Run(_reference, null);

    [Benchmark(OperationsPerInvoke = Readings)]
    public float Onnx() => Run(_onnx, null);

    [Benchmark(OperationsPerInvoke = Readings)]
    public float OnnxWithCandidateInShadow() => Run(_active, _candidate);

    private float Run(SeriesDetector<int> detector, SeriesDetector<int>? shadow)
    {
        var sum = 0f;
        foreach (var value in _values)
        {
            _time += 60;
            sum += detector.Observe(1, _time, value).Score;
            if (shadow is not null)
            {
                sum += shadow.Observe(1, _time, value).Score;
            }
        }

        return sum;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "GreengrassComponents.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("run from inside the repository (GreengrassComponents.sln not found)");
    }
}
