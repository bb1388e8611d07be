using System.Text.Json.Nodes;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.Tests;
using Fogline.Rollout.Deployments;

namespace Fogline.Cli.Tests;

/// <summary>
/// <c>fogline deployment show|set|status</c> against the local cloud, checked with Debian's AWS CLI v2: one component
/// moved to a new version by read-modify-write keeps every other component, the configuration updates, the policies,
/// the IoT job configuration and the tags; the CreateDeployment it sends is the one the AWS CLI sends for the same input;
/// a retry never makes a second revision; a version that does not exist or a change made meanwhile by someone else
/// writes nothing.
/// </summary>
[Category("Conformance")]
public class DeploymentCommandTests
{
    private LocalCloudFixture _cloud = null!;
    private string _directory = null!;

    private string GroupArn => $"arn:aws:iot:us-east-1:{_cloud.Account}:thinggroup/farms";

    [SetUp]
    public async Task Start()
    {
        _cloud = await LocalCloudFixture.StartAsync();
        _directory = Directory.CreateTempSubdirectory("fogline-deployment-").FullName;
        await _cloud.Cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms");
        foreach (var thing in new[] { "gw-1", "gw-2" })
        {
            await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", thing);
            await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", thing, "--thing-group-name", "farms");
        }

        foreach (var (name, version) in new[] { ("com.example.Filter", "1.0.0"), ("com.example.Filter", "1.1.0"), ("com.example.Uplink", "2.0.0") })
        {
            var recipe = Path.Combine(_directory, $"{name}-{version}.yaml");
            await File.WriteAllTextAsync(recipe, $"RecipeFormatVersion: '2020-01-25'\nComponentName: {name}\nComponentVersion: '{version}'\nManifests:\n  - Lifecycle:\n      Run: exec sleep 600\n");
            await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        }

        await Eventually.UntilAsync(async () => (await _cloud.Cli.SucceedAsync("greengrassv2", "describe-component", "--arn", $"arn:aws:greengrass:us-east-1:{_cloud.Account}:components:com.example.Uplink:versions:2.0.0"))!["status"]!["componentState"]!.GetValue<string>() == "DEPLOYABLE",
            "the components are DEPLOYABLE");
        await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", GroupArn, "--deployment-name", "farms-pipeline",
            "--components", """{"com.example.Filter":{"componentVersion":"1.0.0","configurationUpdate":{"merge":"{\"maxError\":0.5}"}},"com.example.Uplink":{"componentVersion":"2.0.0","runWith":{"systemResourceLimits":{"memory":65536}}}}""",
            "--deployment-policies", """{"failureHandlingPolicy":"ROLLBACK","componentUpdatePolicy":{"timeoutInSeconds":120,"action":"NOTIFY_COMPONENTS"}}""",
            "--iot-job-configuration", """{"jobExecutionsRolloutConfig":{"maximumPerMinute":50},"timeoutConfig":{"inProgressTimeoutInMinutes":30}}""",
            "--tags", "site=north,owner=ops");
    }

    [TearDown]
    public async Task Stop()
    {
        await _cloud.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task Set_MovesOneComponent_KeepsTheRest_AndSendsWhatTheAwsCliSends()
    {
        var first = await DeploymentAsync();
        var planned = await FoglineAsync("deployment", "set", "--group", "farms", "--component", "com.example.Filter=1.1.0", "--dry-run", "--json");
        var request = JsonNode.Parse(planned.Output)!["request"]!.AsObject();
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(1), "a dry run writes nothing");

        _cloud.Server.ClearRequests();
        var set = await FoglineAsync("deployment", "set", "--group", "farms", "--component", "com.example.Filter=1.1.0");
        Assert.That(set.Output, Does.Contain("~ com.example.Filter 1.0.0 -> 1.1.0").And.Contain("written: revision 2"));
        var ours = CreateDeployments().Single();

        // Everything but the version is as it was.
        var second = await DeploymentAsync();
        Assert.That(second["revisionId"]!.GetValue<string>(), Is.EqualTo("2"));
        second["components"]!["com.example.Filter"]!["componentVersion"] = "1.0.0";
        foreach (var member in new[] { "components", "deploymentPolicies", "iotJobConfiguration", "tags", "deploymentName", "targetArn" })
        {
            Assert.That(JsonNode.DeepEquals(second[member], first[member]), Is.True, $"{member}: {second[member]?.ToJsonString()} was {first[member]?.ToJsonString()}");
        }

        // The AWS CLI given the same input sends the same request; the same client token makes no second revision.
        var input = Path.Combine(_directory, "request.json");
        await File.WriteAllTextAsync(input, request.ToJsonString());
        _cloud.Server.ClearRequests();
        var again = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--cli-input-json", "file://" + input);
        var theirs = CreateDeployments().Single();
        Assert.Multiple(() =>
        {
            Assert.That((ours.Method, ours.Path), Is.EqualTo((theirs.Method, theirs.Path)));
            Assert.That(ours.Headers["Content-Type"], Is.EqualTo(theirs.Headers["Content-Type"]));
            Assert.That(JsonNode.DeepEquals(JsonNode.Parse(ours.Body), JsonNode.Parse(theirs.Body)), Is.True,
                $"fogline sent {System.Text.Encoding.UTF8.GetString(ours.Body)}\nthe AWS CLI sent {System.Text.Encoding.UTF8.GetString(theirs.Body)}");
            Assert.That(JsonNode.Parse(ours.Body)!["clientToken"]!.GetValue<string>(), Does.Match("^[a-zA-Z0-9-]{1,64}$"));
        });
        Assert.That(again!["deploymentId"]!.GetValue<string>(), Is.EqualTo(second["deploymentId"]!.GetValue<string>()));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(2), "the retry made no third revision");

        var shown = await FoglineAsync("deployment", "show", "--group", "farms");
        Assert.That(shown.Output, Does.Contain("revision 2").And.Contain("com.example.Filter  1.1.0").And.Contain("merge {\"maxError\":0.5}").And.Contain("site=north"));
    }

    [Test]
    public async Task Set_AddsAndRemovesComponents_AndConfigures()
    {
        var set = await FoglineAsync("deployment", "set", "--group", "farms", "--remove", "com.example.Uplink", "--merge", """com.example.Filter={"maxError":1}""", "--reset", "com.example.Filter=/window");
        Assert.That(set.Output, Does.Contain("- com.example.Uplink 2.0.0").And.Contain("~ com.example.Filter configuration: reset /window, merge {\"maxError\":1}"));
        var deployment = await DeploymentAsync();
        Assert.That(deployment["components"]!.AsObject().Select(c => c.Key), Is.EqualTo(new[] { "com.example.Filter" }));
        var update = deployment["components"]!["com.example.Filter"]!["configurationUpdate"]!;
        Assert.That((update["merge"]!.GetValue<string>(), update["reset"]!.ToJsonString()), Is.EqualTo(("""{"maxError":1}""", """["/window"]""")));

        var added = await FoglineAsync("deployment", "set", "--group", "farms", "-c", "com.example.Uplink=2.0.0");
        Assert.That(added.Output, Does.Contain("+ com.example.Uplink 2.0.0"));
        var unchanged = await FoglineAsync("deployment", "set", "--group", "farms", "-c", "com.example.Uplink=2.0.0");
        Assert.That(unchanged.Output, Does.Contain("(no change)"));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(3), "a change to nothing is not written");
    }

    [Test]
    public async Task BadInput_WritesNothing_AndSaysWhatAndWhere()
    {
        var missing = await FoglineAsync(1, "deployment", "set", "--group", "farms", "-c", "com.example.Filter=9.9.9");
        Assert.That(missing.ErrorLines, Has.Length.EqualTo(1));
        Assert.That(missing.Error, Does.Contain("com.example.Filter 9.9.9 does not exist in us-east-1"));
        var notThere = await FoglineAsync(1, "deployment", "set", "--group", "farms", "--remove", "com.example.Nothing");
        Assert.That(notThere.Error, Does.Contain("com.example.Nothing is not in the deployment of thing group farms"));
        var notPair = await FoglineAsync(1, "deployment", "set", "--group", "farms", "-c", "com.example.Filter");
        Assert.That(notPair.Error, Does.Contain("--component takes NAME=VALUE, not 'com.example.Filter'"));
        var badMerge = await FoglineAsync(1, "deployment", "set", "--group", "farms", "--merge", "com.example.Filter=[1]");
        Assert.That(badMerge.Error, Does.Contain("must be a JSON object"));
        var noGroup = await FoglineAsync(1, "deployment", "set", "--group", "nowhere", "-c", "com.example.Filter=1.1.0");
        Assert.That(noGroup.Error, Does.Contain("ResourceNotFoundException").And.Contain("nowhere"));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(1));
    }

    [Test]
    public async Task AChangeMadeMeanwhileBySomeoneElse_StopsTheWrite_AndSaysWhatChanged()
    {
        var key = _cloud.Server.Keys.Default;
        using var clients = new AwsClients(AwsSettings.Resolve("us-east-1", endpointUrl: _cloud.Server.Endpoint.ToString(), credentials: new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey)));
        var deployments = new TargetDeployments(clients.Greengrass);
        var target = DeploymentTarget.Group("farms", _cloud.Account, "us-east-1");
        var read = await deployments.ReadAsync(target);
        var (request, _) = TargetDeployments.Plan(target, read, new DeploymentEdit { Versions = new Dictionary<string, string> { ["com.example.Filter"] = "1.1.0" } });

        // Someone else's revision lands between the read and the write.
        await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", GroupArn, "--components", """{"com.example.Uplink":{"componentVersion":"2.0.0"}}""");
        var refused = await Assert.ThrowsAsync<DeploymentChangedException>(() => deployments.WriteAsync(target, read, request));
        Assert.That(refused!.Message, Does.Contain("changed since it was read").And.Contain("com.example.Filter 1.0.0 -> (removed)").And.Contain("nothing was written"));
        Assert.That((await HistoryAsync()).Count, Is.EqualTo(2));
    }

    [Test]
    public async Task Status_ListsEveryDeviceOfTheGroup_ASilentOneAsNeverReported()
    {
        var status = await FoglineAsync("deployment", "status", "--group", "farms", "--json");
        var devices = JsonNode.Parse(status.Output)!.AsArray();
        Assert.That(devices.Select(d => d!["thing"]!.GetValue<string>()), Is.EqualTo(new[] { "gw-1", "gw-2" }));
        Assert.That(devices.Select(d => d!["coreDevice"]), Has.All.Null, "no device has reported");
        var text = await FoglineAsync("deployment", "status", "--group", "farms");
        Assert.That(text.Output, Does.Contain("gw-1").And.Contain("never reported"));
    }

    private Task<FoglineResult> FoglineAsync(params string[] args) => FoglineAsync(0, args);

    private async Task<FoglineResult> FoglineAsync(int exitCode, params string[] args)
    {
        var result = await FoglineProcess.RunAsync(_directory, FoglineProcess.For(_cloud.Server), args);
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
        return result;
    }

    private async Task<JsonObject> DeploymentAsync()
    {
        var latest = (await _cloud.Cli.SucceedAsync("greengrassv2", "list-deployments", "--target-arn", GroupArn))!["deployments"]![0]!["deploymentId"]!.GetValue<string>();
        var deployment = (await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", latest))!.AsObject();
        return deployment;
    }

    private async Task<JsonArray> HistoryAsync() =>
        (await _cloud.Cli.SucceedAsync("greengrassv2", "list-deployments", "--target-arn", GroupArn, "--history-filter", "ALL"))!["deployments"]!.AsArray();

    private List<CapturedRequest> CreateDeployments() =>
        [.. _cloud.Server.Requests.Where(r => r.Service == CloudService.GreengrassV2 && r.Method == "POST" && r.Path == "/greengrass/v2/deployments")];
}
