using System.Diagnostics;
using Fogline.Anomaly.Shadow;

namespace Fogline.Anomaly.Tests;

/// <summary>Shadow-trial verdicts against each criterion on its own (the others relaxed where they would also fail).</summary>
public class ShadowTrialVerdictTests
{
    private const double Threshold = 0.9;

    private static readonly long Microsecond = Math.Max(1, Stopwatch.Frequency / 1_000_000);

    /// <summary>An ordinary score in [0, 0.8), spread out.</summary>
    private static float Ordinary(int i) => (float)((i * 7919 % 1000) / 1000.0 * 0.8);

    private static ShadowTrial Run(Func<int, (float Active, float Candidate)> scores, int readings = 2000, ShadowCriteria? criteria = null, Func<int, long>? candidateMicroseconds = null)
    {
        var trial = new ShadowTrial(readings, Threshold, criteria ?? new ShadowCriteria());
        for (var i = 0; !trial.Finished; i++)
        {
            var (active, candidate) = scores(i);
            trial.Record(active, candidate, 20 * Microsecond, (candidateMicroseconds?.Invoke(i) ?? 25) * Microsecond);
        }

        return trial;
    }

    [Test]
    public void IdenticalScores_Pass_WithAgreementAndCorrelationOne()
    {
        var report = Run(i => (i % 100 == 3 ? 0.97f : Ordinary(i), i % 100 == 3 ? 0.97f : Ordinary(i))).Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Pass), report.ToString());
        Assert.That(report.Reasons, Is.Empty);
        Assert.That(report.Readings, Is.EqualTo(2000));
        Assert.That(report.Agreement, Is.EqualTo(1.0));
        Assert.That(report.Correlation, Is.EqualTo(1.0).Within(1e-9));
        Assert.That(report.ActiveAlertRate, Is.EqualTo(0.01));
        Assert.That(report.CandidateAlertRate, Is.EqualTo(0.01));
        Assert.That(report.Errors, Is.Zero);
    }

    [Test]
    public void IdenticalScoresThatNeverVary_Pass_ThoughTheirCorrelationIsUndefined()
    {
        var report = Run(_ => (0.25f, 0.25f)).Report();
        Assert.That(report.Correlation, Is.NaN);
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Pass), report.ToString());
    }

    [Test]
    public void BeforeItsLength_ATrialIsRunning_WithNoReasons()
    {
        var trial = new ShadowTrial(1000, Threshold, new ShadowCriteria());
        for (var i = 0; i < 999; i++)
        {
            trial.Record(Ordinary(i), 0.99f, Microsecond, Microsecond);
        }

        Assert.That(trial.Finished, Is.False);
        var report = trial.Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Running));
        Assert.That(report.Reasons, Is.Empty, "a candidate that alerts on everything is not judged before the end");
        trial.Record(0.1f, 0.99f, Microsecond, Microsecond);
        Assert.That(trial.Finished, Is.True);
        Assert.That(trial.Report().Verdict, Is.EqualTo(ShadowVerdict.Fail));
    }

    [Test]
    public void ACandidateAlertingTenTimesAsOften_Fails_NamingTheAlertRate()
    {
        var report = Run(i => (i % 200 == 0 ? 0.95f : Ordinary(i), i % 20 == 0 ? 0.95f : Ordinary(i)), criteria: new ShadowCriteria(MinAgreement: 0, MinCorrelation: -1)).Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.CandidateAlertRate, Is.EqualTo(10 * report.ActiveAlertRate).Within(1e-12));
        Assert.That(report.Reasons, Has.Count.EqualTo(1));
        Assert.That(report.Reasons[0], Does.StartWith("alert rate 5.000 % > 1.000 % allowed (active 0.500 %)"));
    }

    [TestCase(7, ShadowVerdict.Pass, TestName = "A quiet active model: a candidate alerting on 0.35 % of readings is within the slack")]
    [TestCase(13, ShadowVerdict.Fail, TestName = "A quiet active model: a candidate alerting on 0.65 % of readings is beyond the slack")]
    public void AQuietActiveModel_AllowsTheSlack(int candidateAlerts, ShadowVerdict verdict)
    {
        var report = Run(i => (Ordinary(i), i < candidateAlerts ? 0.95f : Ordinary(i))).Report();
        Assert.That(report.ActiveAlertRate, Is.Zero);
        Assert.That(report.Verdict, Is.EqualTo(verdict), report.ToString());
        Assert.That(report.Reasons.Any(r => r.StartsWith("alert rate", StringComparison.Ordinal)), Is.EqualTo(verdict == ShadowVerdict.Fail));
    }

    [Test]
    public void ACandidateWithOneError_FailsAtOnce_WhenNoErrorIsAllowed()
    {
        var trial = new ShadowTrial(1000, Threshold, new ShadowCriteria(MaxErrors: 0));
        for (var i = 0; i < 10; i++)
        {
            trial.Record(Ordinary(i), Ordinary(i), Microsecond, Microsecond);
        }

        trial.RecordError("[ErrorCode:InvalidArgument] indices element out of data bounds");
        Assert.That(trial.Finished, Is.True);
        Assert.That(trial.Errors, Is.EqualTo(1));
        var report = trial.Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Errors, Is.EqualTo(1));
        Assert.That(report.Reasons, Has.Count.EqualTo(1));
        Assert.That(report.Reasons[0], Does.Contain("inference error").And.Contain("indices element out of data bounds"));
        trial.Record(0.5f, 0.5f, Microsecond, Microsecond);
        Assert.That(trial.Readings, Is.EqualTo(10), "a finished trial takes no more readings");
    }

    [Test]
    public void ErrorsUpToMaxErrors_AreTolerated()
    {
        var trial = new ShadowTrial(1000, Threshold, new ShadowCriteria(MaxErrors: 2));
        trial.RecordError("first");
        trial.RecordError("second");
        Assert.That(trial.Finished, Is.False);
        Assert.That(trial.LastError, Is.EqualTo("second"));
        trial.RecordError("third");
        Assert.That(trial.Finished, Is.True);
        Assert.That(trial.Report().Reasons.Single(), Does.Contain("3 inference error").And.Contain("third"));
    }

    [Test]
    public void ACandidateSlowerThanTheBudget_FailsAfterOneHundredReadings_TooSlow()
    {
        var trial = new ShadowTrial(100_000, Threshold, new ShadowCriteria(MaxLatencyP99Microseconds: 1000));
        for (var i = 0; i < 100; i++)
        {
            Assert.That(trial.Finished, Is.False, $"after {i} readings");
            trial.Record(0.1f, 0.1f, 20 * Microsecond, 1500 * Microsecond);
        }

        Assert.That(trial.Finished, Is.True);
        var report = trial.Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Readings, Is.EqualTo(100));
        Assert.That(report.Reasons.Single(), Does.StartWith("too slow: p99 ").And.Contain("after 100 readings, budget 1000 µs"));
        Assert.That(report.CandidateLatencyP99, Is.EqualTo(1500).Within(1500 * 0.02));
    }

    [TestCase(1, false, TestName = "One slow reading in the first hundred: its p99 is within the budget")]
    [TestCase(2, true, TestName = "Two slow readings in the first hundred: its p99 is over the budget")]
    public void TheEarlyLatencyCheck_IsOnThe99thPercentile(int slow, bool tooSlow)
    {
        var trial = new ShadowTrial(100_000, Threshold, new ShadowCriteria(MaxLatencyP99Microseconds: 1000));
        for (var i = 0; i < 100; i++)
        {
            trial.Record(0.1f, 0.1f, 20 * Microsecond, (i < slow ? 5000 : 50) * Microsecond);
        }

        Assert.That(trial.Finished, Is.EqualTo(tooSlow));
        Assert.That(trial.Report().Verdict, Is.EqualTo(tooSlow ? ShadowVerdict.Fail : ShadowVerdict.Running));
    }

    [Test]
    public void ACandidateThatBecomesSlowAfterTheEarlyCheck_FailsAtTheEnd_OnItsP99()
    {
        var report = Run(i => (Ordinary(i), Ordinary(i)), readings: 1000, criteria: new ShadowCriteria(MaxLatencyP99Microseconds: 1000),
            candidateMicroseconds: i => i >= 500 && i % 10 == 0 ? 3000 : 50).Report();
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Reasons.Single(), Does.StartWith("p99 latency ").And.EndWith(" µs > 1000 µs"));
        Assert.That(report.CandidateLatencyP99, Is.EqualTo(3000).Within(3000 * 0.02));
    }

    [Test]
    public void UncorrelatedScores_Fail_OnCorrelation()
    {
        var random = new Random(31);
        var report = Run(i => (Ordinary(i), (float)(0.8 * random.NextDouble())), criteria: new ShadowCriteria(MinAgreement: 0)).Report();
        Assert.That(Math.Abs(report.Correlation), Is.LessThan(0.1));
        Assert.That(report.Verdict, Is.EqualTo(ShadowVerdict.Fail));
        Assert.That(report.Reasons.Single(), Does.StartWith("score correlation"));
    }

    [Test]
    public void InvertedScores_Fail_OnCorrelation()
    {
        var report = Run(i => (Ordinary(i), 0.8f - Ordinary(i)), criteria: new ShadowCriteria(MinAgreement: 0)).Report();
        Assert.That(report.Correlation, Is.EqualTo(-1).Within(1e-6));
        Assert.That(report.Reasons.Single(), Does.StartWith("score correlation -1.000 < 0.500"));
    }

    [Test]
    public void DisagreeingAlerts_Fail_OnAgreement()
    {
        // The candidate alerts on other readings than the active model, as often: 4 % disagreement.
        var report = Run(i => (i % 50 == 0 ? 0.95f : Ordinary(i), i % 50 == 25 ? 0.95f : Ordinary(i)), criteria: new ShadowCriteria(MinCorrelation: -1)).Report();
        Assert.That(report.Agreement, Is.EqualTo(0.96).Within(1e-12));
        Assert.That(report.Reasons.Single(), Does.StartWith("agreement 96.00 % < 98.00 %"));
    }
}
