using System.Text;
using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// IoT Jobs' MQTT API served by the local cloud through a real broker (Mosquitto with mutual TLS and per-device ACLs):
/// a device (an MQTT client with its own certificate) is told of a deployment, reads the job document on the
/// Greengrass namespace's topics and reports its status, which the AWS CLI then reads.
/// </summary>
[Category("Conformance")]
[CancelAfter(120_000)]
public class DeviceGatewayTests
{
    private MosquittoBroker _broker = null!;
    private LocalCloudServer _cloud = null!;
    private AwsCli _cli = null!;
    private string _directory = null!;

    [SetUp]
    public async Task Start()
    {
        _broker = await MosquittoBroker.StartAsync();
        _directory = Directory.CreateTempSubdirectory("fogline-cloud-").FullName;
        _cloud = await LocalCloudServer.StartAsync(new LocalCloudOptions { DataDirectory = _directory, Broker = _broker.ClientOptions(MosquittoBroker.Cloud) });
        _cli = new AwsCli(_cloud.Endpoint, _cloud.Keys.Default.AccessKeyId, _cloud.Keys.Default.SecretAccessKey);
        await _cloud.BrokerConnected.WaitAsync(TimeSpan.FromSeconds(20));
        foreach (var thing in new[] { "gw-1", "gw-2" })
        {
            await _cli.SucceedAsync("iot", "create-thing", "--thing-name", thing);
        }

        await _cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms");
        await _cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gw-1", "--thing-group-name", "farms");
    }

    [TearDown]
    public async Task Stop()
    {
        await _cloud.DisposeAsync();
        await _broker.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task ADevice_IsToldOfItsDeployment_ReadsTheDocument_AndReportsItsStatus()
    {
        const string Jobs = "$aws/things/gw-1/jobs/";
        await using var device = await MqttObserver.ConnectAsAsync(_broker, "gw-1", Jobs + "#");
        var created = await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Keys.Default.AccountId}:thinggroup/farms",
            "--components", """{"com.example.A":{"componentVersion":"1.0.0"}}""");
        var jobId = created!["iotJobId"]!.GetValue<string>();

        var notified = await NextAsync(device, Jobs + "notify-next-namespace-aws-gg-deployment");
        Assert.That(notified["execution"]!["jobId"]!.GetValue<string>(), Is.EqualTo(jobId));
        var listed = await NextAsync(device, Jobs + "notify-namespace-aws-gg-deployment");
        Assert.That(listed["jobs"]!["QUEUED"]![0]!["jobId"]!.GetValue<string>(), Is.EqualTo(jobId));

        await device.PublishAsync(Jobs + "$next/namespace-aws-gg-deployment/get", """{"clientToken":"next-1"}""");
        var next = await NextAsync(device, Jobs + "$next/namespace-aws-gg-deployment/get/accepted");
        Assert.That(next["clientToken"]!.GetValue<string>(), Is.EqualTo("next-1"));
        Assert.That(next["execution"]!["jobDocument"]!["deploymentId"]!.GetValue<string>(), Is.EqualTo(created["deploymentId"]!.GetValue<string>()));
        Assert.That(next["execution"]!["jobDocument"]!["components"]!["com.example.A"]!["version"]!.GetValue<string>(), Is.EqualTo("1.0.0"));

        var update = $"{Jobs}{jobId}/namespace-aws-gg-deployment/update";
        await device.PublishAsync(update, """{"status":"IN_PROGRESS","expectedVersion":1,"clientToken":"u1"}""");
        await NextAsync(device, update + "/accepted");
        await device.PublishAsync(update, """{"status":"SUCCEEDED","statusDetails":{"detailed-deployment-status":"SUCCESSFUL"},"includeJobExecutionState":true,"clientToken":"u2"}""");
        var succeeded = await NextAsync(device, update + "/accepted", m => m["clientToken"]?.GetValue<string>() == "u2");
        Assert.That(succeeded["executionState"]!["status"]!.GetValue<string>(), Is.EqualTo("SUCCEEDED"));
        await device.PublishAsync(update, """{"status":"IN_PROGRESS","clientToken":"u3"}""");
        var rejected = await NextAsync(device, update + "/rejected");
        Assert.That((rejected["code"]!.GetValue<string>(), rejected["clientToken"]!.GetValue<string>()), Is.EqualTo(("InvalidStateTransition", "u3")));

        var execution = (await _cli.SucceedAsync("iot", "describe-job-execution", "--job-id", jobId, "--thing-name", "gw-1"))!["execution"]!;
        Assert.That((execution["status"]!.GetValue<string>(), execution["statusDetails"]!["detailsMap"]!["detailed-deployment-status"]!.GetValue<string>(), execution["versionNumber"]!.GetValue<long>()),
            Is.EqualTo(("SUCCEEDED", "SUCCESSFUL", 3L)));
        await device.PublishAsync(Jobs + "$next/namespace-aws-gg-deployment/get", """{"clientToken":"next-2"}""");
        var none = await NextAsync(device, Jobs + "$next/namespace-aws-gg-deployment/get/accepted", m => m["clientToken"]?.GetValue<string>() == "next-2");
        Assert.That(none["execution"], Is.Null, "nothing pending once it succeeded");
    }

    [Test]
    public async Task ADevice_CannotReadOrWriteAnotherDevicesJobs()
    {
        var created = await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Keys.Default.AccountId}:thing/gw-2", "--components", "{}");
        var jobId = created!["iotJobId"]!.GetValue<string>();
        await using var snoop = await MqttObserver.ConnectAsAsync(_broker, "gw-1", "$aws/things/gw-2/jobs/#", "$aws/things/gw-1/jobs/#");

        await snoop.PublishAsync($"$aws/things/gw-2/jobs/{jobId}/namespace-aws-gg-deployment/update", """{"status":"SUCCEEDED"}""");
        await snoop.PublishAsync("$aws/things/gw-2/jobs/$next/namespace-aws-gg-deployment/get", "{}");
        await snoop.PublishAsync("$aws/things/gw-1/jobs/$next/namespace-aws-gg-deployment/get", """{"clientToken":"own"}""");

        // gw-1's own request is answered, so gw-2's would have been by then.
        await NextAsync(snoop, "$aws/things/gw-1/jobs/$next/namespace-aws-gg-deployment/get/accepted");
        Assert.That(snoop.Received.Select(m => m.Topic), Has.None.StartsWith("$aws/things/gw-2/"), "gw-1 read gw-2's topics");
        var execution = (await _cli.SucceedAsync("iot", "describe-job-execution", "--job-id", jobId, "--thing-name", "gw-2"))!["execution"]!;
        Assert.That(execution["status"]!.GetValue<string>(), Is.EqualTo("QUEUED"), "gw-1 changed gw-2's execution");
    }

    [Test]
    public async Task AJobsAbortConfiguration_CancelsTheRestOnceEnoughDevicesFailed()
    {
        await _cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gw-2", "--thing-group-name", "farms");
        var created = await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{_cloud.Keys.Default.AccountId}:thinggroup/farms",
            "--components", """{"com.example.A":{"componentVersion":"1.0.0"}}""",
            "--iot-job-configuration", """{"abortConfig":{"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":50,"minNumberOfExecutedThings":1}]}}""");
        var jobId = created!["iotJobId"]!.GetValue<string>();
        await using var device = await MqttObserver.ConnectAsAsync(_broker, "gw-1", "$aws/things/gw-1/jobs/#");

        var update = $"$aws/things/gw-1/jobs/{jobId}/namespace-aws-gg-deployment/update";
        await device.PublishAsync(update, """{"status":"FAILED","statusDetails":{"detailed-deployment-status":"FAILED_ROLLBACK_COMPLETE"},"clientToken":"f1"}""");
        await NextAsync(device, update + "/accepted");

        var job = (await _cli.SucceedAsync("iot", "describe-job", "--job-id", jobId))!["job"]!;
        Assert.That((job["status"]!.GetValue<string>(), job["reasonCode"]!.GetValue<string>()), Is.EqualTo(("CANCELED", "ABORTED")));
        Assert.That(job["comment"]!.GetValue<string>(), Does.Contain("1 of 1 executed things FAILED"));
        Assert.That(job["abortConfig"]!["criteriaList"]![0]!["thresholdPercentage"]!.GetValue<double>(), Is.EqualTo(50));
        var other = (await _cli.SucceedAsync("iot", "describe-job-execution", "--job-id", jobId, "--thing-name", "gw-2"))!["execution"]!;
        Assert.That(other["status"]!.GetValue<string>(), Is.EqualTo("CANCELED"), "the device that had not started gets nothing");
        var deployment = await _cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", created["deploymentId"]!.GetValue<string>());
        Assert.That(deployment!["deploymentStatus"]!.GetValue<string>(), Is.EqualTo("CANCELED"), "the deployment is canceled with its job");
    }

    private static async Task<JsonObject> NextAsync(MqttObserver device, string topic, Func<JsonObject, bool>? where = null)
    {
        JsonObject? found = null;
        await Eventually.UntilAsync(() =>
        {
            found = device.Received.Where(m => m.Topic == topic).Select(m => JsonNode.Parse(Encoding.UTF8.GetString(m.Payload))!.AsObject()).FirstOrDefault(m => where?.Invoke(m) ?? true);
            return found is not null;
        }, "a message on " + topic);
        return found!;
    }
}
