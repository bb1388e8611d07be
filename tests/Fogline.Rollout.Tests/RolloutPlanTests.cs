using Fogline.Aws.GreengrassV2;
using Fogline.Rollout.Deployments;
using Fogline.Rollout.Rollouts;

namespace Fogline.Rollout.Tests;

/// <summary>Rollout plans read from YAML and JSON, every mistake reported with its place; the stages' device order.</summary>
public class RolloutPlanTests
{
    [Test]
    public void APlan_IsReadWithItsStagesGatesAndDefaults()
    {
        var plan = RolloutPlan.Parse("""
            group: fleet
            components:
              com.fogline.EdgeFilter: 1.1.0
            spreadBy: site
            stages:
              - devices: 2
                bake: 10m
              - name: quarter
                percent: 25%
                bake: 90s
                gates: { minHealthy: 95 }
              - percent: 100
            gates:
              deploymentTimeout: 5m
            iotJobConfiguration:
              jobExecutionsRolloutConfig: { maximumPerMinute: 50 }
            """, "plan.yaml");
        Assert.Multiple(() =>
        {
            Assert.That(plan.Group, Is.EqualTo("fleet"));
            Assert.That(plan.Components, Is.EqualTo(new Dictionary<string, string> { ["com.fogline.EdgeFilter"] = "1.1.0" }));
            Assert.That(plan.Stages.Select(s => s.Name), Is.EqualTo(new[] { "canary", "quarter", "stage-3" }));
            Assert.That(plan.Stages.Select(s => s.Reach(200)), Is.EqualTo(new[] { 2, 50, 200 }));
            Assert.That(plan.Stages[0].Bake, Is.EqualTo(TimeSpan.FromMinutes(10)));
            Assert.That((plan.Stages[1].Gates.DeploymentTimeout, plan.Stages[1].Gates.MinimumHealthy, plan.Stages[1].Gates.HealthyCore, plan.Stages[1].Gates.Metrics.Count), Is.EqualTo((TimeSpan.FromMinutes(5), 0.95, true, 0)));
            Assert.That((plan.Stages[2].Gates.DeploymentTimeout, plan.Stages[2].Gates.MinimumHealthy, plan.Stages[2].Gates.HealthyCore, plan.Stages[2].Gates.Metrics.Count), Is.EqualTo((TimeSpan.FromMinutes(5), 1.0, true, 0)));
            Assert.That(plan.OnFailure, Is.EqualTo("revert"));
            Assert.That(plan.IotJobConfiguration!.ToJsonString(), Is.EqualTo("""{"jobExecutionsRolloutConfig":{"maximumPerMinute":50}}"""));
            Assert.That(plan.Stages[^1].IsWholeGroup, Is.True);
        });
        Assert.That(plan.Fingerprint(), Is.EqualTo(RolloutPlan.Parse(System.Text.Json.JsonSerializer.Serialize(new
        {
            group = "fleet",
            components = new Dictionary<string, string> { ["com.fogline.EdgeFilter"] = "1.1.0" },
            spreadBy = "site",
            stages = new object[] { new { devices = 2, bake = "10m" }, new { name = "quarter", percent = 25, bake = "90s" }, new { percent = 100 } },
        }), "plan.json").Fingerprint()), "the same plan in JSON is the same rollout");
    }

    [Test]
    public void EveryMistake_IsReportedWithItsPlace()
    {
        var refused = Assert.Throws<RolloutPlanException>(() => RolloutPlan.Parse("""
            group: "bad group!"
            components:
              com.fogline.EdgeFilter: latest
            stages:
              - devices: 0
              - percent: 150
                bake: soon
                gates: { deploymentTimeout: 0s, minHealthy: 0, what: 1 }
              - percent: 50
                gates:
                  metrics:
                    - { component: com.fogline.EdgeFilter, counter: rejected, per: rejected, maxRatio: 0.5, topic: fogline/metrics, colour: red }
                    - { counter: rejected }
            onFailure: shrug
            colour: blue
            """, "plan.yaml"));
        Assert.That(refused!.Problems, Is.EquivalentTo(new[]
        {
            "colour: not a plan setting (group, components, stages, spreadBy, gates, onFailure, iotJobConfiguration)",
            "group: 'bad group!' is not a thing group name ([a-zA-Z0-9:_-], 1 to 128 characters)",
            "components.com.fogline.EdgeFilter: the version must be a semantic version like 1.2.0, not \"latest\"",
            "stages[0].devices: a whole number of at least 1, not 0",
            "stages[1].percent: more than 0 and at most 100, not 150",
            "stages[1].bake: a duration like 30s, 5m or 1h, not \"soon\"",
            "stages[1].gates.what: not a gate (deploymentTimeout, minHealthy, healthyCore, metrics)",
            "stages[2].gates.metrics[0].colour: not a metric gate setting (name, component, counter, per, maxRatio, minDifference, topic)",
            "stages[2].gates.metrics[0].maxRatio: at least 1, not 0.5: below 1 a canary exactly as good as its control fails, so the gate can never pass",
            "stages[2].gates.metrics[0].topic: 'fogline/metrics' must name {thing}: each device's figures are read from its own topic",
            "stages[2].gates.metrics[0].per: 'rejected' is the counter itself (the rate would always be 1)",
            "stages[2].gates.metrics[1].component: required",
            "stages[1].gates.deploymentTimeout: longer than 0, or no device can pass",
            "stages[1].gates.minHealthy: more than 0 % and at most 100 %, not 0 %",
            "stages[2]: the last stage must reach the whole group (percent: 100): it is the group's own revision",
            "stages[2].percent: stages overlap: 50 % does not go beyond the 150 % of stages[1]",
            "onFailure: revert or pause, not 'shrug'",
        }));
    }

    [Test]
    public void TheStagesOrder_IsDeterministic_AndSpreadAcrossTheAttribute()
    {
        var things = Enumerable.Range(1, 12).Select(i => $"sim-{i:00}").ToList();
        string Site(string thing) => (int.Parse(thing[4..], System.Globalization.CultureInfo.InvariantCulture) % 3) switch { 0 => "east", 1 => "north", _ => "south" };
        var order = StageOrder.Of(things, Site, "abc");
        Assert.That(StageOrder.Of(things.AsEnumerable().Reverse(), Site, "abc"), Is.EqualTo(order), "the order depends on the plan, not on how the group lists its things");
        Assert.That(order.Take(3).Select(Site), Is.EquivalentTo(new[] { "east", "north", "south" }), "any first three cover the three sites");
        Assert.That(order, Is.EquivalentTo(things));
        Assert.That(StageOrder.Of(things, Site, "other"), Is.Not.EqualTo(order), "another plan draws another canary");
    }

    [Test]
    public void ADeploymentEdit_KeepsWhatItDoesNotName_AndRefusesWhatCannotApply()
    {
        var target = DeploymentTarget.Group("fleet", "123456789012", "us-east-1");
        var current = new GetDeploymentResponse
        {
            DeploymentId = "d-1",
            RevisionId = "3",
            DeploymentName = "pipeline",
            Components = new Dictionary<string, ComponentDeploymentSpecification>
            {
                ["com.a"] = new() { ComponentVersion = "1.0.0", ConfigurationUpdate = new ComponentConfigurationUpdate { Merge = "{\"x\":1}" } },
                ["com.b"] = new() { ComponentVersion = "2.0.0" },
            },
            DeploymentPolicies = new DeploymentPolicies { FailureHandlingPolicy = "DO_NOTHING" },
            Tags = new Dictionary<string, string> { ["site"] = "north" },
        };
        var (request, changes) = TargetDeployments.Plan(target, current, new DeploymentEdit { Versions = new Dictionary<string, string> { ["com.a"] = "1.1.0", ["com.c"] = "0.1.0" }, Remove = ["com.b"] });
        Assert.That(changes, Is.EqualTo(new[] { "- com.b 2.0.0", "~ com.a 1.0.0 -> 1.1.0", "+ com.c 0.1.0" }));
        Assert.That(request.Components!["com.a"].ConfigurationUpdate!.Merge, Is.EqualTo("{\"x\":1}"));
        Assert.That((request.DeploymentName, request.DeploymentPolicies!.FailureHandlingPolicy, request.Tags!["site"], request.TargetArn), Is.EqualTo(("pipeline", "DO_NOTHING", "north", "arn:aws:iot:us-east-1:123456789012:thinggroup/fleet")));
        Assert.That(current.Components["com.a"].ComponentVersion, Is.EqualTo("1.0.0"), "the deployment read is not changed");
        Assert.That(TargetDeployments.Plan(target, current, new DeploymentEdit { Versions = new Dictionary<string, string> { ["com.a"] = "1.1.0", ["com.c"] = "0.1.0" }, Remove = ["com.b"] }).Request.ClientToken,
            Is.EqualTo(request.ClientToken).And.Match("^[a-zA-Z0-9-]{1,64}$"), "the same edit on the same deployment is the same token");

        var refused = Assert.Throws<DeploymentEditException>(() => TargetDeployments.Plan(target, current, new DeploymentEdit { Remove = ["com.zzz"], FailureHandlingPolicy = "MAYBE" }));
        Assert.That(refused!.Problems, Is.EqualTo(new[] { "com.zzz is not in the deployment of thing group fleet, so it cannot be removed", "the failure handling policy must be ROLLBACK or DO_NOTHING, not 'MAYBE'" }));
    }
}
