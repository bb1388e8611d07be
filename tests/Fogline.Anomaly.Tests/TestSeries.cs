using System.Globalization;
using Fogline.Anomaly.Detection;

namespace Fogline.Anomaly.Tests;

/// <summary>Series and models the detector and ONNX tests share: NAB files from the shared data folder, synthetic series, the shipped model's paths.</summary>
internal static class TestSeries
{
    /// <summary>The parameters of the shipped model (tools/models/models.json), written out in full.</summary>
    public static readonly KnnNoveltyParameters ShippedParameters = new([32, 16, 4], 2, 0.02f, 0.89f, 0.95f);

    /// <summary>The shipped model, read from the repository (the test project copies no model).</summary>
    public static string ShippedModel => Path.Combine(Repository.Root, "components", "AnomalyDetector", "models", "knn-novelty-v1.onnx");

    /// <summary>A test model of tests/Fogline.Anomaly.Tests/Models, read from the repository.</summary>
    public static string TestModel(string name) => Path.Combine(Repository.Root, "tests", "Fogline.Anomaly.Tests", "Models", name);

    /// <summary>The C# reference of the shipped model.</summary>
    public static KnnNoveltyReference Reference() => new(ShippedParameters, 544, 256);

    /// <summary>A NAB series (timestamp in Unix seconds, value) of /work/shared/data/nab.</summary>
    public static (double Time, double Value)[] Nab(string file) =>
        [.. File.ReadLines(Path.Combine(Repository.Shared, "data", "nab", file)).Skip(1).Where(l => l.Length > 0).Select(l => l.Split(','))
            .Select(p => (DateTimeOffset.Parse(p[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeSeconds() + 0.0, double.Parse(p[1], CultureInfo.InvariantCulture)))];

    /// <summary>A sine of period 100 readings and amplitude 5 around 20 with Gaussian noise (σ <paramref name="noise"/>), a reading a minute, stepping up by <paramref name="step"/> at reading <paramref name="stepAt"/>.</summary>
    public static (double Time, double Value)[] NoisySineWithStep(int length, int stepAt, double step, double noise, int seed)
    {
        var random = new Random(seed);
        var series = new (double Time, double Value)[length];
        for (var i = 0; i < length; i++)
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            series[i] = (1_600_000_000 + (i * 60.0), 20 + (5 * Math.Sin(i * 2 * Math.PI / 100)) + (noise * gaussian) + (i >= stepAt ? step : 0));
        }

        return series;
    }

    /// <summary>A noisy cycle (period 50, amplitude 3 around 10, uniform noise of 0.2).</summary>
    public static double Cycle(int i, Random random) => 10 + (3 * Math.Sin(i * 2 * Math.PI / 50)) + (0.2 * random.NextDouble());
}
