using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// Greengrass V2's deployment APIs and the IoT jobs behind them, driven by Debian's AWS CLI v2: a deployment per
/// target with revisions, the job document the Nucleus reads, executions that follow the thing group.
/// </summary>
[Category("Conformance")]
public class DeploymentsWithTheAwsCliTests
{
    private LocalCloudFixture _cloud = null!;

    [SetUp]
    public async Task Start()
    {
        _cloud = await LocalCloudFixture.StartAsync();
        foreach (var thing in new[] { "gw-1", "gw-2", "gw-3" })
        {
            await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", thing);
        }

        await _cloud.Cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms");
        await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gw-1", "--thing-group-name", "farms");
        await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gw-2", "--thing-group-name", "farms");
    }

    [TearDown]
    public async Task Stop() => await _cloud.DisposeAsync();

    private string GroupArn => $"arn:aws:iot:us-east-1:{_cloud.Account}:thinggroup/farms";

    [Test]
    public async Task ADeploymentToAGroup_MakesAJobForItsThings_WithTheDocumentTheNucleusReads()
    {
        var created = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", GroupArn, "--deployment-name", "pipeline",
            "--components", """{"com.fogline.Pipeline":{"componentVersion":"1.0.0","configurationUpdate":{"merge":"{\"rate\":5}"}}}""");
        var deploymentId = created!["deploymentId"]!.GetValue<string>();
        var jobId = created["iotJobId"]!.GetValue<string>();
        Assert.That(created["iotJobArn"]!.GetValue<string>(), Is.EqualTo($"arn:aws:iot:us-east-1:{_cloud.Account}:job/{jobId}"));

        var deployment = await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", deploymentId);
        Assert.Multiple(() =>
        {
            Assert.That(deployment!["deploymentStatus"]!.GetValue<string>(), Is.EqualTo("ACTIVE"));
            Assert.That(deployment["revisionId"]!.GetValue<string>(), Is.EqualTo("1"));
            Assert.That(deployment["isLatestForTarget"]!.GetValue<bool>(), Is.True);
            Assert.That(deployment["targetArn"]!.GetValue<string>(), Is.EqualTo(GroupArn));
            Assert.That(deployment["deploymentPolicies"]!.ToJsonString(), Is.EqualTo("""{"failureHandlingPolicy":"ROLLBACK","componentUpdatePolicy":{"timeoutInSeconds":60,"action":"NOTIFY_COMPONENTS"},"configurationValidationPolicy":{"timeoutInSeconds":30}}"""));
            Assert.That(deployment["components"]!["com.fogline.Pipeline"]!["componentVersion"]!.GetValue<string>(), Is.EqualTo("1.0.0"));
        });

        var job = (await _cloud.Cli.SucceedAsync("iot", "describe-job", "--job-id", jobId))!["job"]!;
        Assert.That((job["status"]!.GetValue<string>(), job["targetSelection"]!.GetValue<string>(), job["targets"]![0]!.GetValue<string>()), Is.EqualTo(("IN_PROGRESS", "CONTINUOUS", GroupArn)));
        Assert.That(job["jobProcessDetails"]!["numberOfQueuedThings"]!.GetValue<int>(), Is.EqualTo(2));

        var documentText = (await _cloud.Cli.SucceedAsync("iot", "get-job-document", "--job-id", jobId))!["document"]!.GetValue<string>();
        var document = JsonNode.Parse(documentText)!;
        Assert.Multiple(() =>
        {
            Assert.That(document["deploymentId"]!.GetValue<string>(), Is.EqualTo(deploymentId));
            Assert.That(document["configurationArn"]!.GetValue<string>(), Is.EqualTo($"arn:aws:greengrass:us-east-1:{_cloud.Account}:configuration:thinggroup/farms:1"));
            Assert.That(documentText, Does.Contain("""
                "components":{"com.fogline.Pipeline":{"version":"1.0.0","configurationUpdate":{"merge":"{\"rate\":5}"}}}
                """));
            Assert.That(document["failureHandlingPolicy"]!.GetValue<string>(), Is.EqualTo("ROLLBACK"));
            Assert.That(document["componentUpdatePolicy"]!.ToJsonString(), Is.EqualTo("""{"timeout":60,"action":"NOTIFY_COMPONENTS"}"""));
            Assert.That(document["onBehalfOf"]!.GetValue<string>(), Is.EqualTo(GroupArn));
        });

        // Continuous: a thing that joins the group gets the deployment too.
        await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gw-3", "--thing-group-name", "farms");
        var executions = await _cloud.Cli.SucceedAsync("iot", "list-job-executions-for-job", "--job-id", jobId);
        Assert.That(executions!["executionSummaries"]!.AsArray().Select(e => (e!["thingArn"]!.GetValue<string>().Split('/')[1], e["jobExecutionSummary"]!["status"]!.GetValue<string>())),
            Is.EqualTo(new[] { ("gw-1", "QUEUED"), ("gw-2", "QUEUED"), ("gw-3", "QUEUED") }));
        var execution = (await _cloud.Cli.SucceedAsync("iot", "describe-job-execution", "--job-id", jobId, "--thing-name", "gw-3"))!["execution"]!;
        Assert.That((execution["status"]!.GetValue<string>(), execution["executionNumber"]!.GetValue<long>()), Is.EqualTo(("QUEUED", 3L)));
    }

    [Test]
    public async Task ANewDeploymentToTheSameTarget_ReplacesTheOld_AndCancelingEndsIt()
    {
        var first = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", GroupArn, "--components", """{"com.example.A":{"componentVersion":"1.0.0"}}""");
        var second = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", GroupArn, "--components", """{"com.example.A":{"componentVersion":"1.0.1"}}""",
            "--deployment-policies", """{"failureHandlingPolicy":"DO_NOTHING"}""");
        var thing = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Account}:thing/gw-3", "--components", "{}");

        var old = await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", first!["deploymentId"]!.GetValue<string>());
        var current = await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", second!["deploymentId"]!.GetValue<string>());
        Assert.That((old!["deploymentStatus"]!.GetValue<string>(), old["isLatestForTarget"]!.GetValue<bool>()), Is.EqualTo(("INACTIVE", false)));
        Assert.That((current!["revisionId"]!.GetValue<string>(), current["deploymentPolicies"]!["failureHandlingPolicy"]!.GetValue<string>()), Is.EqualTo(("2", "DO_NOTHING")));
        var oldJob = (await _cloud.Cli.SucceedAsync("iot", "describe-job", "--job-id", first["iotJobId"]!.GetValue<string>()))!["job"]!;
        Assert.That((oldJob["status"]!.GetValue<string>(), oldJob["jobProcessDetails"]!["numberOfCanceledThings"]!.GetValue<int>()), Is.EqualTo(("CANCELED", 2)));

        var latest = await _cloud.Cli.SucceedAsync("greengrassv2", "list-deployments", "--target-arn", GroupArn);
        var all = await _cloud.Cli.SucceedAsync("greengrassv2", "list-deployments", "--history-filter", "ALL");
        Assert.That(latest!["deployments"]!.AsArray().Select(d => d!["revisionId"]!.GetValue<string>()), Is.EqualTo(new[] { "2" }));
        Assert.That(all!["deployments"]!.AsArray(), Has.Count.EqualTo(3));

        await _cloud.Cli.SucceedAsync("greengrassv2", "cancel-deployment", "--deployment-id", second["deploymentId"]!.GetValue<string>());
        var canceled = await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", second["deploymentId"]!.GetValue<string>());
        Assert.That(canceled!["deploymentStatus"]!.GetValue<string>(), Is.EqualTo("CANCELED"));
        var again = await _cloud.Cli.RunAsync("greengrassv2", "cancel-deployment", "--deployment-id", second["deploymentId"]!.GetValue<string>());
        Assert.That(again.Error, Does.Contain("(ConflictException)"));
        Assert.That(thing!["deploymentId"], Is.Not.Null);

        await _cloud.RestartAsync();
        var afterRestart = await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", second["deploymentId"]!.GetValue<string>());
        Assert.That(afterRestart!["deploymentStatus"]!.GetValue<string>(), Is.EqualTo("CANCELED"), "deployments survive a restart");
    }

    [Test]
    public async Task ATargetThatDoesNotExistOrIsNoTarget_IsRefused()
    {
        var missing = await _cloud.Cli.RunAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Account}:thing/nobody", "--components", "{}");
        var malformed = await _cloud.Cli.RunAsync("greengrassv2", "create-deployment", "--target-arn", "arn:aws:s3:::bucket", "--components", "{}");
        var badVersion = await _cloud.Cli.RunAsync("greengrassv2", "create-deployment", "--target-arn", GroupArn, "--components", """{"com.example.A":{"componentVersion":"latest"}}""");

        Assert.That(missing.Error, Does.Contain("(ResourceNotFoundException)").And.Contain("nobody"));
        Assert.That(malformed.Error, Does.Contain("(ValidationException)"));
        Assert.That(badVersion.Error, Does.Contain("(ValidationException)").And.Contain("latest"));
        var none = await _cloud.Cli.SucceedAsync("greengrassv2", "list-deployments");
        Assert.That(none!["deployments"]!.AsArray(), Is.Empty, "nothing was created");
    }
}
