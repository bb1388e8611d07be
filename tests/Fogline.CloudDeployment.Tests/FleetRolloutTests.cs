using System.Text.Json.Nodes;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.Fleet;
using Fogline.Greengrass.Ipc;
using Fogline.LocalCloud;
using Fogline.LocalCloud.Devices;
using Fogline.LocalCloud.Http;
using Fogline.Testing;

namespace Fogline.CloudDeployment.Tests;

/// <summary>
/// Rollouts on a simulated fleet of 200 devices (<see cref="SimulatedFleet"/>, in this process, with the local cloud
/// and its Mosquitto; 2 % of them silent), the group deploying two components, one of them the fleet's stand-in
/// (FleetWorkload: synthetic payloads, counters sent to IoT Core): a version that crash-loops is stopped at the canary
/// and reverted, and no device outside the canary is ever asked for it; a version that starts fine but rejects ten
/// times more payloads fails the metric gate against the control group and is reverted, and a canary device that was
/// offline comes back on the previous version without ever running it; with a fault every device shares, a good
/// version goes canary → 25 % → 100 % (the shared fault does not fail the canary) and reaches every answering device
/// with the other component and the policies untouched; silent devices never pass a gate.
/// </summary>
[Category("Conformance")]
[Category("Fleet")]
[NonParallelizable]
[CancelAfter(900_000)]
public partial class FleetRolloutTests
{
    private const int Size = 200;
    private const string Filter = "com.example.Filter";
    private string _directory = null!;
    private LocalCloudDirectory _cloud = null!;
    private AwsClients _clients = null!;
    private AwsCli _cli = null!;
    private SimulatedFleet _fleet = null!;
    private string _standIn = null!;
    private volatile bool _credentialsExpired;

    private string Account => _cloud.Keys.Default.AccountId;

    private readonly HashSet<string> _gone = new(StringComparer.Ordinal);

    /// <summary>The devices that take deployments and are still in the group.</summary>
    private IEnumerable<SimulatedDevice> Answering => _fleet.Devices.Where(d => d.Fault == "none" && !_gone.Contains(d.Thing));

    [OneTimeSetUp]
    public async Task StartFleet()
    {
        _standIn = StandInComponents.BinaryIn(Repository.Root);
        Assert.That(File.Exists(_standIn), Is.True, $"the fleet's stand-in component is built: {_standIn} (dotnet cake --target=FleetWorkload; the test command builds it)");
        _directory = Directory.CreateTempSubdirectory("fogline-fleet-rollout-").FullName;
        _cloud = await LocalCloudDirectory.OpenAsync(Path.Combine(_directory, "cloud"), reuseRunning: false, configure: o => o with { ComponentProcessingDelay = TimeSpan.Zero, CapturedRequests = 200_000, Fault = (_, _) => _credentialsExpired ? new AwsServiceException("ExpiredTokenException", 403, "The security token included in the request is expired") : null },
            devices: new DeviceNetworkOptions { MqttPort = 0, DataPlanePort = 0 });
        var key = _cloud.Keys.Default;
        _clients = new AwsClients(AwsSettings.Resolve("us-east-1", endpointUrl: _cloud.Endpoint.ToString(), credentials: new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey)));
        _cli = new AwsCli(_cloud.Endpoint, key.AccessKeyId, key.SecretAccessKey);
        _fleet = await SimulatedFleet.StartAsync(new FleetOptions { CloudDirectory = Path.Combine(_directory, "cloud"), Group = "fleet", Devices = Size, SilentShare = 0.02 }, _clients.Iot);
        await Eventually.UntilAsync(() => _fleet.Devices.All(d => d.Nucleus is null or { IoTCore.IsOnline: true }), "every device connected", TimeSpan.FromSeconds(60));
        await PublishStandInAsync("1.0.0", new StandInBehaviour());
        await PublishAsync("com.example.Uplink", "1.0.0", "exec sleep 3600");
    }

    [OneTimeTearDown]
    public async Task StopFleet()
    {
        await _fleet.DisposeAsync();
        _clients.Dispose();
        await _cloud.DisposeAsync();
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            // Kept for the post-mortem: the broker's log, the cloud's data, every device's root.
            await TestContext.Out.WriteLineAsync($"the fleet's files are kept in {_directory}");
            return;
        }

        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>
    /// One rehearsal, in the order a team lives it (each step starts from where the previous one left the fleet): a
    /// version that crash-loops, stopped at the canary; a degraded version failing its metric gate while a canary
    /// device is offline; a good version through canary, a quarter and everyone during a fleet-wide fault; a rollout
    /// that meets silent devices.
    /// </summary>
    [Test]
    public async Task ARehearsalOn200Devices()
    {
        await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/fleet",
            "--components", """{"com.example.Filter":{"componentVersion":"1.0.0"},"com.example.Uplink":{"componentVersion":"1.0.0","configurationUpdate":{"merge":"{\"batch\":10}"}}}""",
            "--deployment-policies", """{"failureHandlingPolicy":"ROLLBACK","componentUpdatePolicy":{"timeoutInSeconds":30,"action":"NOTIFY_COMPONENTS"}}""");
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, Filter) == "1.0.0" && Version(d, "com.example.Uplink") == "1.0.0"),
            "the answering devices run the group's deployment", TimeSpan.FromSeconds(300));

        // A version that crash-loops: stopped at the canary, reverted; nobody else is asked for it.
        await PublishStandInAsync("1.0.1", new StandInBehaviour { CrashLoop = true });
        var (exit, outcome, output) = await RolloutAsync("1.0.1", canary: 4, timeout: "180s");
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "reverted")), output);
        var asked = await DevicesAskedForAsync("1.0.1");
        Assert.That(asked, Has.Count.LessThanOrEqualTo(4), "only the canary was asked for 1.0.1: " + string.Join(", ", asked));
        Assert.That(output, Does.Contain("stage device(s) that took it run the previous version again"), output);
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, Filter) == "1.0.0"), "every device on 1.0.0", TimeSpan.FromSeconds(300));

        // A version that starts fine but rejects ten times more payloads than 1.0.0: the metric gate fails against the
        // control group and the canary is reverted. One canary device is offline through all of it: when it comes
        // back it runs 1.0.0, and never had 1.0.2.
        await PublishStandInAsync("1.0.2", new StandInBehaviour { RejectedShare = 0.10 });
        var (_, _, planned) = await RolloutAsync("1.0.2", canary: 8, minHealthy: "75%", timeout: "120s", metricGate: true, dryRun: true);
        var offline = _fleet.Devices.First(d => d.Fault == "none" && CanaryOf(planned).Contains(d.Thing));
        await _fleet.StopDeviceAsync(offline);
        _cloud.Server!.ClearRequests();
        (exit, outcome, output) = await RolloutAsync("1.0.2", canary: 8, minHealthy: "75%", timeout: "120s", metricGate: true);
        await TheAwsCliSendsTheSameAsync(CreateDeployments(), "the stage's subdeployment (parentTargetArn) and the revert");
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "reverted")), output);
        var reason = outcome["reason"]!.GetValue<string>();
        Assert.That(reason, Does.Contain("metric rejected per received of com.example.Filter: FAIL").And.Contain("Mann-Whitney"), output);
        Assert.That(output, Does.Contain("never started the stage's deployment").And.Contain(offline.Thing), output);
        asked = await DevicesAskedForAsync("1.0.2");
        Assert.That(asked, Has.Count.LessThanOrEqualTo(8), "only the canary was asked for 1.0.2: " + string.Join(", ", asked));
        await _fleet.StartDeviceAsync(offline);
        await Eventually.UntilAsync(() => Version(offline, Filter) == "1.0.0", $"{offline.Thing}, back online, runs 1.0.0", TimeSpan.FromSeconds(120));
        Assert.That(Directory.GetFiles(Path.Combine(offline.Root, "packages", "recipes")).Where(f => f.Contains("1.0.2", StringComparison.Ordinal)), Is.Empty, $"{offline.Thing} never had 1.0.2");
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, Filter) == "1.0.0"), "every device on 1.0.0", TimeSpan.FromSeconds(300));

        // A good version while every device's input is bad (the control group rejects as much as the canary): the
        // shared problem does not fail the canary; canary, a quarter, everyone; the other component, its
        // configuration and the policies kept.
        await _fleet.SetInputFaultAsync(0.10);
        await Task.Delay(TimeSpan.FromSeconds(8));
        // The credentials expire during the second stage: the rollout pauses, saying why; renewed, the same plan resumes.
        await PublishStandInAsync("1.1.0", new StandInBehaviour());
        var joiner = Answering.Last();
        await _cli.SucceedAsync("iot", "remove-thing-from-thing-group", "--thing-group-name", "fleet", "--thing-name", joiner.Thing);
        var states = Path.Combine(_directory, "rollouts");
        var running = RolloutAsync("1.1.0", canary: 8, minHealthy: "85%", timeout: "180s", metricGate: true);
        await Eventually.UntilAsync(() => running.IsCompleted || Directory.EnumerateFiles(states, "*.json").Any(f => File.ReadAllText(f) is var state && SecondStageStarted().IsMatch(state) && state.Contains("\"stageJobId\"", StringComparison.Ordinal)), "the second stage started", TimeSpan.FromSeconds(300));
        _credentialsExpired = true;
        (exit, outcome, output) = await running;
        _credentialsExpired = false;
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "paused")), output);
        Assert.That(outcome["reason"]!.GetValue<string>(), Does.Contain("ExpiredTokenException").And.Contain("run the same plan again to resume"), output);
        var paused = output;

        // Meanwhile a device of the second stage leaves the group, and one that was not in it when the rollout started
        // joins: the first is skipped, the second is reached and judged by the last stage, the group's revision.
        var order = JsonNode.Parse(File.ReadAllText(Directory.EnumerateFiles(states, "*.json").Single(f => File.ReadAllText(f) is var state && SecondStageStarted().IsMatch(state) && state.Contains("\"stageJobId\"", StringComparison.Ordinal))))!["order"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        var leaver = _fleet.Devices.First(d => d.Fault == "none" && order.IndexOf(d.Thing) is >= 8 and < 50);
        _gone.Add(leaver.Thing);
        await _cli.SucceedAsync("iot", "remove-thing-from-thing-group", "--thing-group-name", "fleet", "--thing-name", leaver.Thing);
        await _cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-group-name", "fleet", "--thing-name", joiner.Thing);
        (exit, outcome, output) = await RolloutAsync("1.1.0", canary: 8, minHealthy: "85%", timeout: "180s", metricGate: true);
        await _fleet.SetInputFaultAsync(0);
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((0, "completed")), output);
        Assert.That(output, Does.Contain("resuming rollout"));
        Assert.That(output, Does.Contain("1 device(s) left thing group fleet since the rollout started and are skipped: " + leaver.Thing), output);
        Assert.That(output, Does.Contain("1 device(s) joined thing group fleet since the rollout started: this stage, the group's revision, reaches and judges them: " + joiner.Thing), output);
        output = paused + output;
        Assert.That(output, Does.Contain("stage 2/3 quarter: 50 device(s)"));
        Assert.That(output, Does.Contain("gate metric rejected per received of com.example.Filter: pass"), output);
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, Filter) == "1.1.0" && Version(d, "com.example.Uplink") == "1.0.0"),
            "every answering device runs Filter 1.1.0 and still Uplink 1.0.0", TimeSpan.FromSeconds(300));
        var deployment = (await LatestAsync())!;
        var sample = Answering.First();
        var effective = (await _cli.SucceedAsync("greengrassv2", "list-effective-deployments", "--core-device-thing-name", sample.Thing))!["effectiveDeployments"]!.AsArray();
        Assert.That(effective.Any(e => e!["deploymentId"]!.GetValue<string>() == deployment["deploymentId"]!.GetValue<string>() && e["coreDeviceExecutionStatus"]!.GetValue<string>() == "SUCCEEDED"), Is.True,
            $"the AWS CLI sees the group's revision SUCCEEDED on {sample.Thing}: {effective.ToJsonString()}");
        var installed = (await _cli.SucceedAsync("greengrassv2", "list-installed-components", "--core-device-thing-name", sample.Thing))!["installedComponents"]!.AsArray();
        Assert.That(installed.Any(c => c!["componentName"]!.GetValue<string>() == Filter && c["componentVersion"]!.GetValue<string>() == "1.1.0" && c["lifecycleState"]!.GetValue<string>() == "RUNNING"), Is.True, installed.ToJsonString());
        Assert.That(deployment["components"]!["com.example.Uplink"]!["configurationUpdate"]!["merge"]!.GetValue<string>(), Is.EqualTo("""{"batch":10}"""));
        Assert.That(deployment["deploymentPolicies"]!["componentUpdatePolicy"]!["timeoutInSeconds"]!.GetValue<int>(), Is.EqualTo(30));

        // Silent devices never pass a gate: every device must pass here, so the rollout pauses, naming them.
        await PublishStandInAsync("1.2.0", new StandInBehaviour());
        (exit, outcome, output) = await RolloutAsync("1.2.0", canary: 2, timeout: "90s", quarter: false);
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "paused")), output);
        var silent = _fleet.Devices.Where(d => d.Fault == "silent").Select(d => d.Thing).ToList();
        Assert.That(silent, Has.Count.EqualTo(4));
        reason = outcome["reason"]!.GetValue<string>();
        Assert.That(reason, Does.Contain("INCONCLUSIVE").And.Contain("did not report"), output);
        Assert.That(silent.All(reason.Contains), Is.True, $"the reason names every silent device ({string.Join(", ", silent)}): {reason}");
    }

    private List<CapturedRequest> CreateDeployments() =>
        [.. _cloud.Server!.Requests.Where(r => r.Service == CloudService.GreengrassV2 && r.Method == "POST" && r.Path == "/greengrass/v2/deployments")];

    /// <summary>
    /// Parity: each CreateDeployment fogline sent, given to the AWS CLI as its input (<c>--cli-input-json</c>), is sent
    /// by the AWS CLI as the same JSON (compared parsed, as the local cloud captured both), and with the same client
    /// token it is the same deployment, not a second one.
    /// </summary>
    private async Task TheAwsCliSendsTheSameAsync(List<CapturedRequest> ours, string what)
    {
        Assert.That(ours, Has.Count.EqualTo(2), what);
        Assert.That(JsonNode.Parse(ours[0].Body)!["parentTargetArn"]!.GetValue<string>(), Does.EndWith(":thinggroup/fleet"), "the stage is a subdeployment of the group's deployment");
        Assert.That(JsonNode.Parse(ours[1].Body)!["parentTargetArn"], Is.Null, "the revert is the group's own revision");
        var history = await AllDeploymentsAsync();
        foreach (var request in ours)
        {
            var input = Path.Combine(_directory, "replay.json");
            await File.WriteAllBytesAsync(input, request.Body);
            _cloud.Server!.ClearRequests();
            var answer = await _cli.SucceedAsync("greengrassv2", "create-deployment", "--cli-input-json", "file://" + input);
            var theirs = CreateDeployments().Single();
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(request.Body), JsonNode.Parse(theirs.Body)), Is.True,
                $"fogline sent {System.Text.Encoding.UTF8.GetString(request.Body)}\nthe AWS CLI sent {System.Text.Encoding.UTF8.GetString(theirs.Body)}");
            Assert.That(JsonNode.Parse(request.Body)!["clientToken"]!.GetValue<string>(), Does.Match("^[a-zA-Z0-9-]{1,64}$"));
            Assert.That(answer!["deploymentId"], Is.Not.Null);
        }

        Assert.That(await AllDeploymentsAsync(), Is.EqualTo(history), "the same client tokens made no new deployment");
    }

    private async Task<List<string>> AllDeploymentsAsync() =>
        [.. (await _cli.SucceedAsync("greengrassv2", "list-deployments", "--history-filter", "ALL"))!["deployments"]!.AsArray().Select(d => d!["deploymentId"]!.GetValue<string>()).Order(StringComparer.Ordinal)];

    [System.Text.RegularExpressions.GeneratedRegex(@"""stage"":\s*1\b")]
    private static partial System.Text.RegularExpressions.Regex SecondStageStarted();

    /// <summary>The canary's devices as a dry run lists them.</summary>
    private static List<string> CanaryOf(string dryRun)
    {
        var line = dryRun.Split('\n').FirstOrDefault(l => l.Contains(" stage canary: ", StringComparison.Ordinal)) ?? throw new AssertionException("the dry run lists no canary: " + dryRun);
        return [.. line[(line.LastIndexOf(": ", StringComparison.Ordinal) + 2)..].Split(", ").Select(t => t.Trim())];
    }

    private Task PublishStandInAsync(string version, StandInBehaviour behaviour) =>
        PublishRecipeAsync(Filter, version, StandInComponents.Recipe(Filter, version, _standIn, behaviour with { CloudMetricsInterval = TimeSpan.FromSeconds(4) }, _fleet?.InputFaultFile));

    private async Task<(int Exit, JsonObject Outcome, string Output)> RolloutAsync(string version, int canary, string minHealthy = "100%", string timeout = "120s", bool quarter = true, bool metricGate = false, bool dryRun = false)
    {
        var plan = Path.Combine(_directory, $"plan-{version}.yaml");
        await File.WriteAllTextAsync(plan, $"""
            group: fleet
            components:
              com.example.Filter: {version}
            spreadBy: site
            stages:
              - name: canary
                devices: {canary}
                bake: {(metricGate ? "12s" : "3s")}
            {(quarter ? $"  - name: quarter\n    percent: 25\n    bake: {(metricGate ? "10s" : "2s")}" : string.Empty)}
              - name: all
                percent: 100
                bake: 1s
            gates:
              deploymentTimeout: {timeout}
              minHealthy: {minHealthy}
            {(metricGate ? "  metrics:\n    - { component: com.example.Filter, counter: rejected, per: received, maxRatio: 2, minDifference: 0.005 }" : string.Empty)}
            """);
        var output = new StringWriter();
        string[] arguments = ["rollout", "run", "--plan", plan, "--json", "--poll", "1s", "--state-dir", Path.Combine(_directory, "rollouts"), "--target", "local", "--cloud-dir", Path.Combine(_directory, "cloud")];
        var exit = await Fogline.Cli.Cli.RunAsync(dryRun ? [.. arguments, "--dry-run"] : arguments, TextWriter.Synchronized(output), TextWriter.Synchronized(output));
        await TestContext.Out.WriteLineAsync(output.ToString());
        var last = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.That(last, Is.Not.Null, output.ToString());
        return (exit, JsonNode.Parse(last!)!.AsObject(), output.ToString());
    }

    private Task PublishAsync(string component, string version, string run) =>
        PublishRecipeAsync(component, version, $"RecipeFormatVersion: '2020-01-25'\nComponentName: {component}\nComponentVersion: '{version}'\nManifests:\n  - Lifecycle:\n      Run: {run}\n");

    private async Task PublishRecipeAsync(string component, string version, string text)
    {
        var recipe = Path.Combine(_directory, $"{component}-{version}.yaml");
        await File.WriteAllTextAsync(recipe, text);
        await _cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
    }

    private async Task<JsonObject?> LatestAsync()
    {
        var listed = (await _cli.SucceedAsync("greengrassv2", "list-deployments", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/fleet"))!["deployments"]!.AsArray();
        return listed.Count == 0 ? null : (await _cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", listed[0]!["deploymentId"]!.GetValue<string>()))!.AsObject();
    }

    /// <summary>The devices with a job whose document asked for com.example.Filter at <paramref name="version"/>.</summary>
    private async Task<List<string>> DevicesAskedForAsync(string version)
    {
        var jobs = (await _cli.SucceedAsync("iot", "list-jobs"))!["jobs"]!.AsArray().Select(j => j!["jobId"]!.GetValue<string>()).ToList();
        var asked = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            var document = JsonNode.Parse((await _cli.SucceedAsync("iot", "get-job-document", "--job-id", job))!["document"]!.GetValue<string>())!;
            if (document["components"]?["com.example.Filter"]?["version"]?.GetValue<string>() != version)
            {
                continue;
            }

            var executions = (await _cli.SucceedAsync("iot", "list-job-executions-for-job", "--job-id", job))!["executionSummaries"]!.AsArray();
            asked.UnionWith(executions.Select(e => e!["thingArn"]!.GetValue<string>().Split('/')[^1]));
        }

        return [.. asked];
    }

    private static string? Version(SimulatedDevice device, string component) =>
        device.Nucleus is { } nucleus && nucleus.Components.TryGet(component, out var record) && record.State == LifecycleState.Running ? record.Version : null;
}
