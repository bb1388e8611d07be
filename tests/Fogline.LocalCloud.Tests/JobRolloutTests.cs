using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// The IoT job configuration a Greengrass deployment passes through, applied as IoT Jobs applies it, on a clock the
/// test moves: a rollout rate (constant, or exponential on notified things) reaches the group's things a few per
/// minute, in order; an execution left IN_PROGRESS past the in-progress timeout is TIMED_OUT, which an abort
/// criterion counts, and the aborted job's deployment is CANCELED. Driven by Debian's AWS CLI v2.
/// </summary>
[Category("Conformance")]
public class JobRolloutTests
{
    private static readonly string[] Things = ["gw-01", "gw-02", "gw-03", "gw-04", "gw-05", "gw-06", "gw-07"];
    private ManualClock _clock = null!;
    private LocalCloudFixture _cloud = null!;

    [SetUp]
    public async Task Start()
    {
        // SigV4 allows 15 minutes between the CLI's clock and the cloud's: the tests move a few minutes at most.
        _clock = new ManualClock(DateTimeOffset.UtcNow);
        _cloud = await LocalCloudFixture.StartAsync(_clock);
        await _cloud.Cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "fleet");
        foreach (var thing in Things)
        {
            await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", thing);
            await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", thing, "--thing-group-name", "fleet");
        }
    }

    [TearDown]
    public async Task Stop() => await _cloud.DisposeAsync();

    [Test]
    public async Task MaximumPerMinute_ReachesTwoThingsAMinute_InOrder()
    {
        var job = await DeployAsync("""{"jobExecutionsRolloutConfig":{"maximumPerMinute":2}}""");
        Assert.That(await ReachedAsync(job), Is.EqualTo(Things[..2]));
        var described = (await _cloud.Cli.SucceedAsync("iot", "describe-job", "--job-id", job))!["job"]!;
        Assert.That(described["jobExecutionsRolloutConfig"]!["maximumPerMinute"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(described["jobProcessDetails"]!["numberOfQueuedThings"]!.GetValue<int>(), Is.EqualTo(2), "the others are not notified yet");

        _clock.Advance(TimeSpan.FromSeconds(58));
        Assert.That(await ReachedAsync(job), Has.Count.EqualTo(2), "still within the first minute");
        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.That(await ReachedAsync(job), Is.EqualTo(Things[..4]));
        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.That(await ReachedAsync(job), Is.EqualTo(Things[..6]));
        _clock.Advance(TimeSpan.FromSeconds(61));
        Assert.That(await ReachedAsync(job), Is.EqualTo(Things));
    }

    [Test]
    public async Task ExponentialRate_DoublesEachTimeAThingWasNotified_UpToTheMaximum()
    {
        var job = await DeployAsync("""{"jobExecutionsRolloutConfig":{"maximumPerMinute":3,"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":2.0,"rateIncreaseCriteria":{"numberOfNotifiedThings":1}}}}""");
        var reached = new List<int> { (await ReachedAsync(job)).Count };
        for (var minute = 0; minute < 3; minute++)
        {
            _clock.Advance(TimeSpan.FromSeconds(61));
            reached.Add((await ReachedAsync(job)).Count);
        }

        // 1 a minute, then 2, then 4 capped at the maximum of 3.
        Assert.That(reached, Is.EqualTo(new[] { 1, 3, 6, 7 }));
    }

    [Test]
    public async Task AnExecutionPastItsInProgressTimeout_TimesOut_AndTheAbortCriterionCancelsTheDeployment()
    {
        var created = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Account}:thinggroup/fleet",
            "--components", """{"com.example.A":{"componentVersion":"1.0.0"}}""",
            "--iot-job-configuration", """{"timeoutConfig":{"inProgressTimeoutInMinutes":1},"abortConfig":{"criteriaList":[{"failureType":"TIMED_OUT","action":"CANCEL","thresholdPercentage":100,"minNumberOfExecutedThings":1}]}}""");
        var job = created!["iotJobId"]!.GetValue<string>();
        // gw-01 starts the deployment (as its Nucleus reports IN_PROGRESS over MQTT) and is never heard of again.
        Assert.That(_cloud.Server.Jobs.Update(_cloud.Account, "us-east-1", "gw-01", job, "IN_PROGRESS", null, null, out var rejection, out _), Is.Not.Null, rejection);

        _clock.Advance(TimeSpan.FromSeconds(50));
        Assert.That(await StatusAsync(job, "gw-01"), Is.EqualTo("IN_PROGRESS"));
        _clock.Advance(TimeSpan.FromSeconds(11));
        Assert.That(await StatusAsync(job, "gw-01"), Is.EqualTo("TIMED_OUT"));
        var described = (await _cloud.Cli.SucceedAsync("iot", "describe-job", "--job-id", job))!["job"]!;
        Assert.That((described["status"]!.GetValue<string>(), described["reasonCode"]!.GetValue<string>()), Is.EqualTo(("CANCELED", "ABORTED")));
        Assert.That(described["jobProcessDetails"]!["numberOfTimedOutThings"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(await StatusAsync(job, "gw-02"), Is.EqualTo("CANCELED"), "the things that had not started get nothing");
        var deployment = await _cloud.Cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", created["deploymentId"]!.GetValue<string>());
        Assert.That(deployment!["deploymentStatus"]!.GetValue<string>(), Is.EqualTo("CANCELED"));
    }

    private async Task<string> DeployAsync(string jobConfiguration)
    {
        var created = await _cloud.Cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Account}:thinggroup/fleet",
            "--components", """{"com.example.A":{"componentVersion":"1.0.0"}}""", "--iot-job-configuration", jobConfiguration);
        return created!["iotJobId"]!.GetValue<string>();
    }

    /// <summary>The things the job's rollout reached (those with an execution), in the order it reached them.</summary>
    private async Task<List<string>> ReachedAsync(string job)
    {
        var listed = (await _cloud.Cli.SucceedAsync("iot", "list-job-executions-for-job", "--job-id", job))!["executionSummaries"]!.AsArray();
        return [.. listed.OrderBy(e => e!["jobExecutionSummary"]!["executionNumber"]!.GetValue<long>()).Select(e => e!["thingArn"]!.GetValue<string>().Split('/')[^1])];
    }

    private async Task<string> StatusAsync(string job, string thing) =>
        (await _cloud.Cli.SucceedAsync("iot", "describe-job-execution", "--job-id", job, "--thing-name", thing))!["execution"]!["status"]!.GetValue<string>();
}
