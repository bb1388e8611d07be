using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;

namespace Fogline.CloudDeployment.Tests;

/// <summary>
/// <c>fogline rollout run</c> on the two-device fleet (<see cref="CliFleetTests"/>), in this process against the
/// running local cloud: a good version goes canary then the whole group and becomes the group's revision; a version
/// that crash-loops is stopped at the canary and reverted, and the other device never runs it; a version that crashes
/// after its deployment SUCCEEDED is caught during the bake and reverted; a rollout interrupted mid-stage resumes
/// without a second revision; a device in a second group deploying another version blocks the preflight.
/// </summary>
public class RolloutTests : CliFleetTests
{
    private readonly ConcurrentDictionary<string, ConcurrentBag<string>> _ran = new();

    private string Group => $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms";

    [SetUp]
    public async Task DeployTheBasis()
    {
        _ran.Clear();
        foreach (var nucleus in _nuclei)
        {
            var seen = _ran.GetOrAdd(nucleus.Options.ThingName, _ => []);
            nucleus.Components.StateChanged += (_, change) =>
            {
                if (change.Current == LifecycleState.Running)
                {
                    seen.Add($"{change.Component.Name} {change.Component.Version}");
                }
            };
        }

        var first = await DeployAsync("com.example.Hello", "1.0.0");
        await ExecutionsAsync(first, "SUCCEEDED", "SUCCESSFUL");
    }

    [Test]
    public async Task AGoodVersion_GoesCanaryThenTheWholeGroup_AndBecomesTheGroupsRevision()
    {
        await PublishAsync("1.1.0", "echo the new version; exec sleep 600");
        var (exit, outcome, output) = await RolloutAsync(Plan("1.1.0", bake: "3s"));
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((0, "completed")), output);
        Assert.That(outcome["verdicts"]!.AsArray().Select(v => v!.GetValue<string>()).ToList(), Has.Count.EqualTo(2).And.All.Contain("pass"), output);
        foreach (var nucleus in _nuclei)
        {
            await Eventually.UntilAsync(() => State(nucleus, "com.example.Hello") == (LifecycleState.Running, "1.1.0"), nucleus.Options.ThingName + " runs 1.1.0");
        }

        var latest = await LatestAsync();
        Assert.That((latest["revisionId"]!.GetValue<string>(), latest["components"]!["com.example.Hello"]!["componentVersion"]!.GetValue<string>()), Is.EqualTo(("2", "1.1.0")));
        var stageGroup = await _cli.RunAsync("iot", "describe-thing-group", "--thing-group-name", $"farms-rollout-{outcome["rolloutId"]!.GetValue<string>()}");
        Assert.That(stageGroup.ExitCode, Is.Not.Zero, "the stage group is removed once the group's revision carries the version");

        var again = await RolloutAsync(Plan("1.1.0", bake: "3s"));
        Assert.That((again.Exit, again.Outcome["status"]!.GetValue<string>()), Is.EqualTo((0, "completed")));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(2), "running a completed plan again deploys nothing");
    }

    [Test]
    public async Task AVersionThatCrashLoops_IsStoppedAtTheCanary_AndReverted_TheOtherDeviceNeverRunsIt()
    {
        var (exit, outcome, output) = await RolloutAsync(Plan("1.0.1", bake: "3s"));
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "reverted")), output);
        Assert.That(outcome["reason"]!.GetValue<string>(), Does.Contain("deployment: FAIL").And.Contain("FAILED"), output);
        foreach (var nucleus in _nuclei)
        {
            await Eventually.UntilAsync(() => State(nucleus, "com.example.Hello") == (LifecycleState.Running, "1.0.0"), nucleus.Options.ThingName + " runs 1.0.0");
        }

        Assert.That((await HistoryAsync()).Count, Is.EqualTo(2), "the basis and the revert");
        var executions = await ExecutionsOfVersionAsync("1.0.1");
        Assert.That(executions, Has.Count.EqualTo(1), "one device, the canary, was asked for 1.0.1: " + string.Join(", ", executions));
        var canary = executions[0].Split('/')[0];
        foreach (var other in Devices.Where(d => d != canary))
        {
            Assert.That(_ran[other], Has.None.EqualTo("com.example.Hello 1.0.1"), other + " never ran the bad version");
        }

        var latest = await LatestAsync();
        Assert.That(latest["components"]!["com.example.Hello"]!["componentVersion"]!.GetValue<string>(), Is.EqualTo("1.0.0"), "the group's revision is its deployment from before");
        Assert.That(output, Does.Contain("revert: all 1 stage device(s) that took it run the previous version again"));
    }

    [Test]
    public async Task AVersionThatCrashesAfterItsDeploymentSucceeded_IsCaughtDuringTheBake_AndReverted()
    {
        await PublishAsync("1.2.0", "echo fine for a while; sleep 4; exit 3");
        var (exit, outcome, output) = await RolloutAsync(Plan("1.2.0", bake: "20s"));
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "reverted")), output);
        Assert.That(outcome["verdicts"]![0]!.GetValue<string>(), Does.Contain("bake: FAIL").And.Contain("com.example.Hello 1.2.0"), output);
        var canary = _ran.Where(r => r.Value.Contains("com.example.Hello 1.2.0")).Select(r => r.Key).ToList();
        Assert.That(canary, Has.Count.EqualTo(1), "the canary ran it, and only the canary");
        foreach (var nucleus in _nuclei)
        {
            await Eventually.UntilAsync(() => State(nucleus, "com.example.Hello") == (LifecycleState.Running, "1.0.0"), nucleus.Options.ThingName + " runs 1.0.0 again");
        }
    }

    [Test]
    public async Task ARolloutInterruptedMidStage_Resumes_WithoutASecondRevision()
    {
        await PublishAsync("1.1.0", "echo the new version; exec sleep 600");
        var plan = Plan("1.1.0", bake: "5s");
        using var interrupt = new CancellationTokenSource();
        var states = Path.Combine(_directory, "rollouts");
        var first = RolloutAsync(plan, interrupt.Token);
        await Eventually.UntilAsync(() => Directory.Exists(states) && Directory.EnumerateFiles(states).Any(f => File.ReadAllText(f).Contains("stageJobId", StringComparison.Ordinal)), "the canary stage started");
        await interrupt.CancelAsync();
        await first;

        var (exit, outcome, output) = await RolloutAsync(plan);
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((0, "completed")), output);
        Assert.That(output, Does.Contain("resuming rollout"));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(2), "the basis and one final revision");
        Assert.That(await ExecutionsOfVersionAsync("1.1.0"), Has.Count.EqualTo(Devices.Length + 1), "the canary's subdeployment once, then the group's revision on both");
    }

    [Test]
    public async Task APauseAskedFromAnotherShell_PausesTheRollout_AndResumeCompletesIt()
    {
        await PublishAsync("1.1.0", "echo the new version; exec sleep 600");
        var plan = Plan("1.1.0", bake: "30s");
        var states = Path.Combine(_directory, "rollouts");
        var running = RolloutAsync(plan);
        await Eventually.UntilAsync(() => Directory.Exists(states) && Directory.EnumerateFiles(states, "*.json").Any(f => File.ReadAllText(f).Contains("stageJobId", StringComparison.Ordinal)), "the canary stage started");
        var pause = new StringWriter();
        Assert.That(await Fogline.Cli.Cli.RunAsync(["rollout", "pause", "--plan", plan, "--state-dir", states, "--target", "local", "--cloud-dir", CloudDirectory], pause, pause), Is.EqualTo(0), pause.ToString());
        var (exit, outcome, output) = await running;
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "paused")), output);
        Assert.That(outcome["reason"]!.GetValue<string>(), Does.Contain("paused on request"));

        var resumed = new StringWriter();
        Assert.That(await Fogline.Cli.Cli.RunAsync(["rollout", "resume", "--plan", plan, "--poll", "1s", "--state-dir", states, "--target", "local", "--cloud-dir", CloudDirectory], resumed, resumed), Is.EqualTo(0), resumed.ToString());
        Assert.That(resumed.ToString(), Does.Contain("resuming rollout").And.Contain("completed"));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(2));
    }

    [Test]
    public async Task ADeviceInASecondGroupDeployingAnotherVersion_BlocksThePreflight()
    {
        await PublishAsync("1.1.0", "echo the new version; exec sleep 600");
        await _cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "line-a");
        foreach (var thing in Devices)
        {
            await _cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", thing, "--thing-group-name", "line-a");
        }

        await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/line-a",
            "--components", """{"com.example.Hello":{"componentVersion":"1.0.0"}}""");
        var (exit, _, output) = await RolloutAsync(Plan("1.1.0", bake: "1s"), expectOutcome: false);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Contain("the rollout cannot start (nothing was deployed)").And.Contain("is also in thing group line-a, whose deployment asks for com.example.Hello 1.0.0"));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(1));
    }

    private string Plan(string version, string bake)
    {
        var file = Path.Combine(_directory, $"plan-{version}.yaml");
        File.WriteAllText(file, $"""
            group: farms
            components:
              com.example.Hello: {version}
            stages:
              - name: canary
                devices: 1
                bake: {bake}
              - name: everyone
                percent: 100
                bake: 1s
            gates:
              deploymentTimeout: 90s
            """);
        return file;
    }

    private async Task<(int Exit, JsonObject Outcome, string Output)> RolloutAsync(string plan, CancellationToken cancellationToken = default, bool expectOutcome = true)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Fogline.Cli.Cli.RunAsync(["rollout", "run", "--plan", plan, "--json", "--poll", "1s", "--state-dir", Path.Combine(_directory, "rollouts"), "--target", "local", "--cloud-dir", CloudDirectory],
            TextWriter.Synchronized(output), TextWriter.Synchronized(error), cancellationToken);
        var text = output + error.ToString();
        var last = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        if (expectOutcome && !cancellationToken.IsCancellationRequested)
        {
            Assert.That(last, Is.Not.Null, text);
        }

        return (exit, last is null ? [] : JsonNode.Parse(last)!.AsObject(), text);
    }

    private async Task<JsonObject> LatestAsync()
    {
        var id = (await _cli.SucceedAsync("greengrassv2", "list-deployments", "--target-arn", Group))!["deployments"]![0]!["deploymentId"]!.GetValue<string>();
        return (await _cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", id))!.AsObject();
    }

    private async Task<JsonArray> HistoryAsync() =>
        (await _cli.SucceedAsync("greengrassv2", "list-deployments", "--target-arn", Group, "--history-filter", "ALL"))!["deployments"]!.AsArray();

    /// <summary>The (device, job) executions whose job document asked for com.example.Hello at <paramref name="version"/>.</summary>
    private async Task<List<string>> ExecutionsOfVersionAsync(string version)
    {
        var found = new List<string>();
        foreach (var thing in Devices)
        {
            var executions = (await _cli.SucceedAsync("iot", "list-job-executions-for-thing", "--thing-name", thing))!["executionSummaries"]!.AsArray();
            foreach (var execution in executions)
            {
                var job = execution!["jobId"]!.GetValue<string>();
                var document = JsonNode.Parse((await _cli.SucceedAsync("iot", "get-job-document", "--job-id", job))!["document"]!.GetValue<string>())!;
                if (document["components"]?["com.example.Hello"]?["version"]?.GetValue<string>() == version)
                {
                    found.Add($"{thing}/{job}");
                }
            }
        }

        return found;
    }
}
