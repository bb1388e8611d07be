using Fogline.Anomaly.Detection;
using Microsoft.ML.OnnxRuntime;

namespace Fogline.Anomaly.Tests;

/// <summary>
/// Files the ONNX scoring model refuses, each with a reason that says what is wrong and a message that names the file;
/// a model that fails at run time throws <see cref="OnnxRuntimeException"/> (how AnomalyDetector sees a candidate that
/// throws) and its session keeps working; and scoring allocates nothing on real series.
/// </summary>
public class OnnxModelFailureTests
{
    private string _temp = null!;

    [SetUp]
    public void CreateTemp()
    {
        _temp = Path.Combine(Path.GetTempPath(), "onnx-failures-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_temp);
    }

    [TearDown]
    public void DeleteTemp() => Directory.Delete(_temp, recursive: true);

    [TestCase(2, TestName = "A truncated copy (the first half of the bytes) is refused: ONNX Runtime cannot load it")]
    [TestCase(0, TestName = "An empty file is refused: ONNX Runtime cannot load it")]
    public void ATruncatedCopyOfTheShippedModel_IsRefused(int divisor)
    {
        var bytes = File.ReadAllBytes(TestSeries.ShippedModel);
        var path = Path.Combine(_temp, "truncated.onnx");
        File.WriteAllBytes(path, divisor == 0 ? [] : bytes[..(bytes.Length / divisor)]);

        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(path))!;
        Assert.That(error.Reason, Does.StartWith("is not a model ONNX Runtime can load: "));
        Assert.That(error.Message, Does.Contain(path).And.Contain(error.Reason));
        Assert.That(error.Path, Is.EqualTo(path));
        Assert.That(error.InnerException, Is.InstanceOf<OnnxRuntimeException>());
    }

    [Test]
    public void AFileOfOtherBytes_IsRefused_ONNXRuntimeCannotLoadIt()
    {
        var path = Path.Combine(_temp, "notes.onnx");
        File.WriteAllText(path, "this is not a protobuf, let alone a model\n");
        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(path))!;
        Assert.That(error.Reason, Does.StartWith("is not a model ONNX Runtime can load"));
        Assert.That(error.Message, Does.Contain(path));
    }

    [Test]
    public void AModelWithAFloat64History_IsRefused_NamingTheInputAndTheFile()
    {
        var path = TestSeries.TestModel("incompatible-double-history.onnx");
        Assert.That(File.Exists(path), path);
        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(path))!;
        Assert.That(error.Reason, Does.Contain("input 'history'").And.EndsWith("not a float32 tensor"));
        Assert.That(error.Message, Does.Contain(path));
    }

    [Test]
    public void AMissingFile_CannotBeRead_AndTheMessageNamesIt()
    {
        var path = Path.Combine(_temp, "no-such-model.onnx");
        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(path))!;
        Assert.That(error.Reason, Does.StartWith("cannot be read"));
        Assert.That(error.Message, Does.Contain(path));
        Assert.That(error.InnerException, Is.InstanceOf<IOException>());
    }

    [Test]
    public void AFolder_CannotBeRead()
    {
        var error = Assert.Throws<ModelLoadException>(() => OnnxScoringModel.Load(_temp))!;
        Assert.That(error.Reason, Does.StartWith("cannot be read"));
        Assert.That(error.Message, Does.Contain(_temp));
    }

    [Test]
    public void AModelThatFailsOnHighValues_ScoresInRangeValuesAsTheShippedModelDoes()
    {
        // fails-on-high-values.onnx is the shipped graph with a Gather on its score that is out of range only when the
        // newest normalised value exceeds 1.5: below that it is the same function.
        var options = new DetectorOptions(WarmUpReadings: 50);
        using var failing = new SeriesDetector<int>(OnnxScoringModel.Load(TestSeries.TestModel("fails-on-high-values.onnx")), options);
        using var shipped = new SeriesDetector<int>(OnnxScoringModel.Load(TestSeries.ShippedModel), options);
        var random = new Random(11);
        var scored = 0;
        for (var i = 0; i < 600; i++)
        {
            var value = 100 + (50 * random.NextDouble());
            var a = failing.Observe(1, i, value);
            Assert.That(a, Is.EqualTo(shipped.Observe(1, i, value)), $"reading {i}");
            scored += a.Kind == ObservationKind.Scored ? 1 : 0;
        }

        Assert.That(scored, Is.EqualTo(550));

        // 40 % of the range above its top: a spatial anomaly, still under the failing model's limit.
        var high = failing.Observe(1, 600, 100 + (1.4 * 50));
        Assert.That(high.Kind, Is.EqualTo(ObservationKind.Scored));
        Assert.That(high.ModelScore, Is.GreaterThanOrEqualTo(0.95f));
    }

    [Test]
    public void AModelThatFailsOnHighValues_ThrowsOnnxRuntimeException_AndItsSessionScoresTheNextReading()
    {
        using var model = OnnxScoringModel.Load(TestSeries.TestModel("fails-on-high-values.onnx"));
        var shape = model.Shape;
        var random = new Random(12);
        var history = new float[shape.History];
        for (var i = 0; i < history.Length; i++)
        {
            history[i] = (float)random.NextDouble();
        }

        var calibration = new float[shape.Scales * shape.Calibration];
        for (var i = 0; i < calibration.Length; i++)
        {
            calibration[i] = (float)(0.5 * random.NextDouble());
        }

        float[] ceilings = [1f, 1f, 1f];
        var distances = new float[shape.Scales];
        var before = model.Evaluate(history, calibration, ceilings, distances);
        var distancesBefore = distances.ToArray();
        Assert.That(before, Is.InRange(0f, 1f));
        Assert.That(distancesBefore, Is.All.Matches<float>(float.IsFinite));

        // The newest value 2.5 range-widths from the bottom: 1.5 ranges beyond the top. The model fails on it.
        var normal = history[^1];
        history[^1] = 2.5f;
        var error = Assert.Throws<OnnxRuntimeException>(() => model.Evaluate(history, calibration, ceilings, distances))!;
        TestContext.Out.WriteLine(error.Message);

        // The session survives: the same inputs as before give the same results as before.
        history[^1] = normal;
        distances.AsSpan().Clear();
        Assert.That(model.Evaluate(history, calibration, ceilings, distances), Is.EqualTo(before));
        Assert.That(distances, Is.EqualTo(distancesBefore));
    }

    [Test]
    public void AModelThatFailsOnHighValues_InADetector_ThrowsOnTheHighReading_AndScoresTheNextNormalOne()
    {
        using var detector = new SeriesDetector<int>(OnnxScoringModel.Load(TestSeries.TestModel("fails-on-high-values.onnx")), new DetectorOptions(WarmUpReadings: 50));
        var random = new Random(13);
        var i = 0;
        for (; i < 400; i++)
        {
            detector.Observe(1, i, random.NextDouble());
        }

        Assert.Throws<OnnxRuntimeException>(() => detector.Observe(1, i++, 2.5));
        for (var n = 0; n < 5; n++, i++)
        {
            var next = detector.Observe(1, i, random.NextDouble());
            Assert.That(next.Kind, Is.EqualTo(ObservationKind.Scored), $"reading {i}");
            Assert.That(next.Score, Is.InRange(0f, 1f));
        }
    }

    [TestCase("onnx")]
    [TestCase("reference")]
    public void ScoringRealSeriesInSteadyState_AllocatesNothing(string which)
    {
        // Four NAB series interleaved, each warmed on 2,000 readings, then 1,000 more each (with refused readings among them).
        string[] files = ["art_daily_jumpsup.csv", "ec2_request_latency_system_failure.csv", "ambient_temperature_system_failure.csv", "cpu_utilization_asg_misconfiguration.csv"];
        var series = files.Select(TestSeries.Nab).ToArray();
        IScoringModel model = which == "onnx" ? OnnxScoringModel.Load(TestSeries.ShippedModel) : TestSeries.Reference();
        using var detector = new SeriesDetector<int>(model, new DetectorOptions(WarmUpReadings: 100));
        for (var i = 0; i < 2000; i++)
        {
            for (var s = 0; s < series.Length; s++)
            {
                detector.Observe(s, series[s][i].Time, series[s][i].Value);
            }
        }

        var scored = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 2000; i < 3000; i++)
        {
            for (var s = 0; s < series.Length; s++)
            {
                var observation = detector.Observe(s, series[s][i].Time, series[s][i].Value);
                scored += observation.Kind == ObservationKind.Scored ? 1 : 0;
                if (i % 100 == 0)
                {
                    detector.Observe(s, series[s][i].Time, double.NaN);
                    detector.Observe(s, series[s][i].Time, series[s][i].Value);
                }
            }
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero, $"{model.Name}: bytes allocated over 4,000 readings");
        Assert.That(scored, Is.GreaterThan(3900));
    }
}
