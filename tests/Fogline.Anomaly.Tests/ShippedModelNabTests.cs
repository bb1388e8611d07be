using Fogline.Anomaly.Detection;
using Fogline.Anomaly.Nab;

namespace Fogline.Anomaly.Tests;

/// <summary>
/// The shipped model's NAB scores, computed as `fogline-nab run` computes them: every series of the 56-file corpus
/// through AnomalyDetector's detector and the ONNX model under ONNX Runtime, NAB's probationary period as the warm-up,
/// then NAB's scoring rules. A change to the model, to the detector around it or to the scorer that moves the scores
/// fails here; the figures are the README's and the model card's.
/// </summary>
[CancelAfter(300_000)]
public class ShippedModelNabTests
{
    [Test]
    public void TheShippedModel_ScoresAsPublished_OnTheCorpus_ThroughOnnxRuntime()
    {
        var corpus = NabCorpus.Load(Path.Combine(Repository.Shared, "data", "nab-corpus"));
        var model = Path.Combine(Repository.Root, "components", "AnomalyDetector", "models", "knn-novelty-v1.onnx");
        var (scores, _, _) = NabRun.Run(corpus, () => OnnxScoringModel.Load(model), new DetectorOptions());

        var all = NabScorer.ScoreAll(corpus, scores);
        TestContext.Out.WriteLine(string.Join("; ", all.Select(s => $"{s.Profile.Name} {s.NormalizedScore:F2} at {s.Threshold:F6}, {s.DetectedWindows} windows")));
        Assert.That(all.Single(s => s.Profile.Name == "standard").NormalizedScore, Is.EqualTo(70.49).Within(0.02));
        Assert.That(all.Single(s => s.Profile.Name == "reward_low_FP_rate").NormalizedScore, Is.EqualTo(62.96).Within(0.02));
        Assert.That(all.Single(s => s.Profile.Name == "reward_low_FN_rate").NormalizedScore, Is.EqualTo(74.87).Within(0.02));
    }
}
