using Fogline.Rollout.Rollouts;

namespace Fogline.Rollout.Tests;

/// <summary>The metric gates' statistic: device rates from counters, the pooled ratio, the Mann-Whitney test.</summary>
public class MetricVerdictTests
{
    private static readonly MetricGate Rejected = new("rejected per received", "com.example.Filter", "rejected", "received", 2, 0.001, "fogline/{thing}/metrics/{component}");

    [Test]
    public void TheRankTest_MatchesTheTextbook()
    {
        // Every value of a above every value of b, 5 and 5: U = 25, z = (25 - 12.5 - 0.5) / sqrt(22.917) = 2.5067.
        Assert.That(MetricVerdicts.MannWhitneyGreater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]), Is.EqualTo(0.00609).Within(0.0002));
        Assert.That(MetricVerdicts.MannWhitneyGreater([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]), Is.GreaterThan(0.99));
        Assert.That(MetricVerdicts.MannWhitneyGreater([3, 3, 3], [3, 3, 3]), Is.EqualTo(1), "all tied: no evidence");
        Assert.That(MetricVerdicts.NormalCdf(1.959964), Is.EqualTo(0.975).Within(1e-6));
    }

    [Test]
    public void ARate_CountsFromTheFirstSample_OrFromTheProcessStartAfterARestart()
    {
        var first = new MetricSample(1000, 10, new Dictionary<string, long> { ["received"] = 100, ["rejected"] = 1 });
        var last = new MetricSample(1000, 20, new Dictionary<string, long> { ["received"] = 200, ["rejected"] = 3 });
        Assert.That(MetricVerdicts.Rate(Rejected, "a", first, last)!.Value.Value, Is.EqualTo(0.02));
        var restarted = new MetricSample(15_000, 20, new Dictionary<string, long> { ["received"] = 50, ["rejected"] = 5 });
        Assert.That(MetricVerdicts.Rate(Rejected, "a", first, restarted)!.Value.Value, Is.EqualTo(0.1), "counters began again at the restart");
        Assert.That(MetricVerdicts.Rate(Rejected with { Per = null }, "a", first, last)!.Value.Value, Is.EqualTo(0.2), "per second");
        Assert.That(MetricVerdicts.Rate(Rejected, "a", first, first), Is.Null, "an empty window has no rate");
    }

    [Test]
    public void ACanaryTenTimesWorseThanItsControl_Fails_AFleetWideProblem_DoesNot()
    {
        var control = Enumerable.Range(0, 40).Select(i => new DeviceRate($"c{i}", 1 + i % 3, 100)).ToList();
        var bad = Enumerable.Range(0, 4).Select(i => new DeviceRate($"s{i}", 20, 100)).ToList();
        var (kind, line) = MetricVerdicts.Judge(Rejected, bad, control);
        Assert.That(kind, Is.EqualTo("fail"), line);
        Assert.That(line, Does.Contain("10.1x the control").And.Contain("Mann-Whitney p ="));

        var everyoneBad = Enumerable.Range(0, 40).Select(i => new DeviceRate($"c{i}", 19 + i % 3, 100)).ToList();
        (kind, line) = MetricVerdicts.Judge(Rejected, bad, everyoneBad);
        Assert.That(kind, Is.EqualTo("pass"), line);

        var good = Enumerable.Range(0, 4).Select(i => new DeviceRate($"s{i}", 2, 100)).ToList();
        Assert.That(MetricVerdicts.Judge(Rejected, good, control).Kind, Is.EqualTo("pass"));
        Assert.That(MetricVerdicts.Judge(Rejected, good, []).Kind, Is.EqualTo("inconclusive"), "no control: no verdict");
    }

    [Test]
    public void AHigherRateThatIsNotSignificant_Passes()
    {
        // Pooled, the stage is above twice the control, but one outlier makes it so: the ranks say it is not worse.
        var control = Enumerable.Range(0, 20).Select(i => new DeviceRate($"c{i}", 1, 100)).ToList();
        var stage = new List<DeviceRate> { new("s0", 30, 100), new("s1", 0, 100), new("s2", 0, 100), new("s3", 0, 100) };
        var (kind, line) = MetricVerdicts.Judge(Rejected, stage, control);
        Assert.That(kind, Is.EqualTo("pass"), line);
        Assert.That(line, Does.Contain("not significantly"));
    }
}
