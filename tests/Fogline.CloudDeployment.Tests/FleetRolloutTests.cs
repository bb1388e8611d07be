using System.Text.Json.Nodes;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.Fleet;
using Fogline.Greengrass.Ipc;
using Fogline.LocalCloud;
using Fogline.LocalCloud.Devices;

namespace Fogline.CloudDeployment.Tests;

/// <summary>
/// Rollouts on a simulated fleet of 200 devices (<see cref="SimulatedFleet"/>, in this process, with the local cloud
/// and its Mosquitto; 2 % of them silent), the group deploying two components: a version of one that crash-loops is
/// stopped at the canary and reverted, and no device outside the canary is ever asked for it; a good version goes
/// canary → 25 % → 100 % and reaches every answering device with the other component and the policies untouched;
/// silent devices never pass a gate (the rollout pauses, naming them).
/// </summary>
[Category("Conformance")]
[Category("Fleet")]
[NonParallelizable]
[CancelAfter(900_000)]
public class FleetRolloutTests
{
    private const int Size = 200;
    private string _directory = null!;
    private LocalCloudDirectory _cloud = null!;
    private AwsClients _clients = null!;
    private AwsCli _cli = null!;
    private SimulatedFleet _fleet = null!;

    private string Account => _cloud.Keys.Default.AccountId;

    private IEnumerable<SimulatedDevice> Answering => _fleet.Devices.Where(d => d.Fault == "none");

    [OneTimeSetUp]
    public async Task StartFleet()
    {
        _directory = Directory.CreateTempSubdirectory("fogline-fleet-rollout-").FullName;
        _cloud = await LocalCloudDirectory.OpenAsync(Path.Combine(_directory, "cloud"), reuseRunning: false, configure: o => o with { ComponentProcessingDelay = TimeSpan.Zero },
            devices: new DeviceNetworkOptions { MqttPort = 0, DataPlanePort = 0 });
        var key = _cloud.Keys.Default;
        _clients = new AwsClients(AwsSettings.Resolve("us-east-1", endpointUrl: _cloud.Endpoint.ToString(), credentials: new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey)));
        _cli = new AwsCli(_cloud.Endpoint, key.AccessKeyId, key.SecretAccessKey);
        _fleet = await SimulatedFleet.StartAsync(new FleetOptions { CloudDirectory = Path.Combine(_directory, "cloud"), Group = "fleet", Devices = Size, SilentShare = 0.02 }, _clients.Iot);
        await Eventually.UntilAsync(() => _fleet.Devices.All(d => d.Nucleus is null or { IoTCore.IsOnline: true }), "every device connected", TimeSpan.FromSeconds(60));
        await PublishAsync("com.example.Filter", "1.0.0", "exec sleep 3600");
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
    /// version that crash-loops, stopped at the canary; a good version through canary, a quarter and everyone; a rollout
    /// that meets silent devices.
    /// </summary>
    [Test]
    public async Task ARehearsalOn200Devices_BadVersionStoppedAtTheCanary_GoodVersionEverywhere_SilentDevicesPause()
    {
        await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/fleet",
            "--components", """{"com.example.Filter":{"componentVersion":"1.0.0"},"com.example.Uplink":{"componentVersion":"1.0.0","configurationUpdate":{"merge":"{\"batch\":10}"}}}""",
            "--deployment-policies", """{"failureHandlingPolicy":"ROLLBACK","componentUpdatePolicy":{"timeoutInSeconds":30,"action":"NOTIFY_COMPONENTS"}}""");
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, "com.example.Filter") == "1.0.0" && Version(d, "com.example.Uplink") == "1.0.0"),
            "the answering devices run the group's deployment", TimeSpan.FromSeconds(300));

        // A version that crash-loops: stopped at the canary, reverted; nobody else is asked for it.
        await PublishAsync("com.example.Filter", "1.0.1", "echo broken; exit 1");
        var (exit, outcome, output) = await RolloutAsync("1.0.1", canary: 4, timeout: "180s");
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "reverted")), output);
        var asked = await DevicesAskedForAsync("1.0.1");
        Assert.That(asked, Has.Count.LessThanOrEqualTo(4), "only the canary was asked for 1.0.1: " + string.Join(", ", asked));
        Assert.That(output, Does.Contain("revert: all 4 stage device(s) run the previous version again"), output);
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, "com.example.Filter") == "1.0.0"), "every device on 1.0.0", TimeSpan.FromSeconds(300));

        // A good version: canary, a quarter, everyone; the other component, its configuration and the policies kept.
        // 97 %: the 2 % silent devices are in the last stage.
        await PublishAsync("com.example.Filter", "1.1.0", "exec sleep 3600");
        (exit, outcome, output) = await RolloutAsync("1.1.0", canary: 2, minHealthy: "97%", timeout: "180s");
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((0, "completed")), output);
        Assert.That(output, Does.Contain("stage 2/3 quarter: 50 device(s)"));
        await Eventually.UntilAsync(() => Answering.All(d => Version(d, "com.example.Filter") == "1.1.0" && Version(d, "com.example.Uplink") == "1.0.0"),
            "every answering device runs Filter 1.1.0 and still Uplink 1.0.0", TimeSpan.FromSeconds(300));
        var deployment = (await LatestAsync())!;
        Assert.That(deployment["components"]!["com.example.Uplink"]!["configurationUpdate"]!["merge"]!.GetValue<string>(), Is.EqualTo("""{"batch":10}"""));
        Assert.That(deployment["deploymentPolicies"]!["componentUpdatePolicy"]!["timeoutInSeconds"]!.GetValue<int>(), Is.EqualTo(30));

        // Silent devices never pass a gate: every device must pass here, so the rollout pauses, naming them.
        await PublishAsync("com.example.Filter", "1.2.0", "exec sleep 3600");
        (exit, outcome, output) = await RolloutAsync("1.2.0", canary: 2, timeout: "90s", quarter: false);
        Assert.That((exit, outcome["status"]!.GetValue<string>()), Is.EqualTo((1, "paused")), output);
        var silent = _fleet.Devices.Where(d => d.Fault == "silent").Select(d => d.Thing).ToList();
        Assert.That(silent, Has.Count.EqualTo(4));
        var reason = outcome["reason"]!.GetValue<string>();
        Assert.That(reason, Does.Contain("INCONCLUSIVE").And.Contain("did not report"), output);
        Assert.That(silent.All(reason.Contains), Is.True, $"the reason names every silent device ({string.Join(", ", silent)}): {reason}");
    }

    private async Task<(int Exit, JsonObject Outcome, string Output)> RolloutAsync(string version, int canary, string minHealthy = "100%", string timeout = "120s", bool quarter = true)
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
                bake: 3s
            {(quarter ? "  - name: quarter\n    percent: 25\n    bake: 2s" : string.Empty)}
              - name: all
                percent: 100
                bake: 1s
            gates:
              deploymentTimeout: {timeout}
              minHealthy: {minHealthy}
            """);
        var output = new StringWriter();
        var exit = await Fogline.Cli.Cli.RunAsync(["rollout", "run", "--plan", plan, "--json", "--poll", "1s", "--state-dir", Path.Combine(_directory, "rollouts"), "--target", "local", "--cloud-dir", Path.Combine(_directory, "cloud")],
            TextWriter.Synchronized(output), TextWriter.Synchronized(output));
        var last = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'));
        Assert.That(last, Is.Not.Null, output.ToString());
        return (exit, JsonNode.Parse(last!)!.AsObject(), output.ToString());
    }

    private async Task PublishAsync(string component, string version, string run)
    {
        var recipe = Path.Combine(_directory, $"{component}-{version}.yaml");
        await File.WriteAllTextAsync(recipe, $"RecipeFormatVersion: '2020-01-25'\nComponentName: {component}\nComponentVersion: '{version}'\nManifests:\n  - Lifecycle:\n      Run: {run}\n");
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
