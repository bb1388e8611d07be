using System.Globalization;
using Fogline.Anomaly.Detection;
using Microsoft.ML.OnnxRuntime;

namespace Fogline.Anomaly.Tests;

/// <summary>The ONNX model under ONNX Runtime: what it needs, that it computes the C# reference's function, what it refuses, and that scoring allocates nothing.</summary>
public class OnnxModelTests
{
    private static string Shipped => Path.Combine(Repository.Root, "components", "AnomalyDetector", "models", "knn-novelty-v1.onnx");

    private static string TestModel(string name) => Path.Combine(Repository.Root, "tests", "Fogline.Anomaly.Tests", "Models", name);

    private static (double Time, double Value)[] NabSeries(string file) =>
        [.. File.ReadLines(Path.Combine(Repository.Shared, "data", "nab", file)).Skip(1).Select(l => l.Split(','))
            .Select(p => (DateTimeOffset.Parse(p[0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeSeconds() + 0.0, double.Parse(p[1], CultureInfo.InvariantCulture)))];

    [Test]
    public void TheShippedModel_Loads_WithItsShapeFromItsInputs()
    {
        using var model = OnnxScoringModel.Load(Shipped);
        Assert.That(model.Shape, Is.EqualTo(new ModelShape(544, 256, 3)));
        Assert.That(model.Name, Is.EqualTo("knn-novelty-v1"));
        Assert.That(model.Sha256, Does.Match("^[0-9a-f]{64}$"));
        Assert.That(model.Metadata["fogline.parameters"], Does.Contain("\"scales\": [32, 16, 4]"));
    }

    [TestCase("art_daily_jumpsup.csv")]
    [TestCase("ec2_request_latency_system_failure.csv")]
    [TestCase("ambient_temperature_system_failure.csv")]
    public void OnnxRuntime_ComputesTheReferencesFunction(string file)
    {
        // The graph sums in another order and expands |w - q|^2 (Σw² − 2Σwq + Σq²), so floats differ in the last
        // digits; scores agree to 1e-3 and a detection of one is a detection, or very nearly, of the other.
        var options = new DetectorOptions(WarmUpReadings: 100);
        using var onnx = new SeriesDetector<int>(OnnxScoringModel.Load(Shipped), options);
        using var reference = new SeriesDetector<int>(new KnnNoveltyReference(new KnnNoveltyParameters([32, 16, 4], 2), 544, 256), options);
        int scored = 0, close = 0;
        foreach (var (time, value) in NabSeries(file))
        {
            var a = onnx.Observe(1, time, value);
            var b = reference.Observe(1, time, value);
            Assert.That(a.Kind, Is.EqualTo(b.Kind));
            if (a.Kind != ObservationKind.Scored)
            {
                continue;
            }

            scored++;
            close += Math.Abs(a.Score - b.Score) <= 1e-3 ? 1 : 0;
            if (a.Score >= 0.901f || b.Score >= 0.901f)
            {
                Assert.That(Math.Min(a.Score, b.Score), Is.GreaterThanOrEqualTo(0.89f), $"at {time}: {a.Score} vs {b.Score}");
            }
        }

        Assert.That(scored, Is.GreaterThan(1000));
        Assert.That((double)close / scored, Is.GreaterThanOrEqualTo(0.995), $"{close} of {scored} within 1e-3");
    }

    [Test]
    public void ACorruptFile_IsRefused_WithTheReason()
    {
        var bytes = File.ReadAllBytes(Shipped);
        var path = Path.Combine(Path.GetTempPath(), $"corrupt-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        try
        {
            var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(path));
            Assert.That(error!.Reason, Does.StartWith("is not a model ONNX Runtime can load"));
            Assert.That(error.Message, Does.Contain(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void AModelOfTheWrongType_IsRefused_NamingTheInput()
    {
        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(TestModel("incompatible-double-history.onnx")));
        Assert.That(error!.Reason, Is.EqualTo("input 'history' is Double, not a float32 tensor"));
    }

    [Test]
    public void AMissingFile_IsRefused()
    {
        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load("/nonexistent/model.onnx"));
        Assert.That(error!.Reason, Does.StartWith("cannot be read"));
    }

    [Test]
    public void AModelThatThrows_ThrowsOnThatReading_AndScoresTheNextOne()
    {
        using var detector = new SeriesDetector<int>(OnnxScoringModel.Load(TestModel("fails-on-high-values.onnx")), new DetectorOptions(WarmUpReadings: 50));
        var random = new Random(6);
        for (var i = 0; i < 300; i++)
        {
            Assert.That(detector.Observe(1, i, random.NextDouble()).Kind, Is.Not.EqualTo(ObservationKind.NotFinite));
        }

        Assert.Throws<OnnxRuntimeException>(() => detector.Observe(1, 300, 10));
        Assert.That(detector.Observe(1, 301, 0.5).Kind, Is.EqualTo(ObservationKind.Scored));
    }

    [Test]
    public void ScoringInSteadyState_AllocatesNothing()
    {
        foreach (var model in new IScoringModel[] { OnnxScoringModel.Load(Shipped), new KnnNoveltyReference(new KnnNoveltyParameters([32, 16, 4], 2), 544, 256) })
        {
            using var detector = new SeriesDetector<int>(model, new DetectorOptions(WarmUpReadings: 100));
            var random = new Random(7);
            for (var i = 0; i < 2000; i++)
            {
                detector.Observe(1, i, random.NextDouble());
            }

            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 2000; i < 3000; i++)
            {
                detector.Observe(1, i, random.NextDouble());
            }

            Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, model.Name);
        }
    }
}
