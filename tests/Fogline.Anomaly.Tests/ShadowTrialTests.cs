using System.Diagnostics;
using Fogline.Anomaly.Shadow;

namespace Fogline.Anomaly.Tests;

/// <summary>Shadow trials' verdicts against their criteria, and the decisions kept across restarts.</summary>
public class ShadowTrialTests
{
    private static readonly long Microsecond = Math.Max(1, Stopwatch.Frequency / 1_000_000);

    private static ShadowReport Run(Func<int, (float Active, float Candidate)> scores, int readings = 1000, ShadowCriteria? criteria = null, long candidateMicroseconds = 30)
    {
        var trial = new ShadowTrial(readings, 0.9, criteria ?? new ShadowCriteria());
        for (var i = 0; !trial.Finished; i++)
        {
            var (active, candidate) = scores(i);
            trial.Record(active, candidate, 30 * Microsecond, candidateMicroseconds * Microsecond);
        }

        return trial.Report();
    }

    private static float Noise(int i) => (float)(((i * 7919) % 1000) / 1000.0 * 0.8);

    [Test]
    public void ACandidateThatScoresAlike_Passes()
    {
        var report = Run(i => (i % 200 == 0 ? 0.95f : Noise(i), i % 200 == 0 ? 0.96f : Noise(i) + 0.01f));
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Pass), report.ToString());
        Assert.That(report.Agreement, Is.EqualTo(1.0));
        Assert.That(report.Correlation, Is.GreaterThan(0.99));
        Assert.That(report.ActiveAlertRate, Is.EqualTo(0.005));
        Assert.That(report.Readings, Is.EqualTo(1000));
    }

    [Test]
    public void ACandidateAlertingTenTimesAsOften_Fails_OnItsAlertRate()
    {
        var report = Run(i => (i % 200 == 0 ? 0.95f : Noise(i), i % 20 == 0 ? 0.95f : Noise(i)));
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Reasons, Has.Some.StartsWith("alert rate 5.000 %"));
    }

    [Test]
    public void ACandidateUnrelatedToTheSignal_Fails_OnCorrelation()
    {
        var report = Run(i => (Noise(i), Noise(i * 31 + 17)), criteria: new ShadowCriteria(MinAgreement: 0));
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Reasons, Has.Some.StartsWith("score correlation"));
    }

    [Test]
    public void OneError_EndsTheTrialAtOnce()
    {
        var trial = new ShadowTrial(1000, 0.9, new ShadowCriteria());
        trial.Record(0.1f, 0.1f, Microsecond, Microsecond);
        trial.RecordError("index out of range");
        Assert.That(trial.Finished, Is.True);
        var report = trial.Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Reasons.Single(), Does.Contain("index out of range"));
    }

    [Test]
    public void ATooSlowCandidate_FailsAfterOneHundredReadings()
    {
        var trial = new ShadowTrial(100_000, 0.9, new ShadowCriteria(MaxLatencyP99Microseconds: 1000));
        for (var i = 0; i < 100; i++)
        {
            Assert.That(trial.Finished, Is.False);
            trial.Record(0.1f, 0.1f, 30 * Microsecond, 2000 * Microsecond);
        }

        Assert.That(trial.Finished, Is.True);
        Assert.That(trial.Report().Reasons.Single(), Does.StartWith("too slow: p99 2"));
    }

    [Test]
    public void Decisions_AreKeptAcrossRestarts_AndADamagedFileIsReported()
    {
        var directory = Path.Combine(Path.GetTempPath(), "decisions-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        try
        {
            var decisions = ModelDecisions.Load(directory);
            Assert.That(decisions.All, Is.Empty);
            var decision = new ModelDecision(new string('a', 64), "v2", "promoted", DateTimeOffset.UnixEpoch.AddDays(20000), "Pass after 10 readings");
            decisions.Record(decision, new PromotedModel("v1.onnx", "/models/v2.onnx"));
            var again = ModelDecisions.Load(directory);
            Assert.That(again.Find(decision.Sha256), Is.EqualTo(decision));
            Assert.That(again.Promoted, Is.EqualTo(new PromotedModel("v1.onnx", "/models/v2.onnx")));
            again.ClearPromoted();
            Assert.That(ModelDecisions.Load(directory).Promoted, Is.Null);
            Assert.That(ModelDecisions.Load(directory).Find(decision.Sha256), Is.EqualTo(decision), "the decision stays");

            File.WriteAllText(Path.Combine(directory, ModelDecisions.FileName), "{\"decisions\": [{\"sha256\": 1}");
            var error = Assert.Throws<InvalidDataException>(() => ModelDecisions.Load(directory));
            Assert.That(error!.Message, Does.Contain(ModelDecisions.FileName).And.Contain("damaged"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
