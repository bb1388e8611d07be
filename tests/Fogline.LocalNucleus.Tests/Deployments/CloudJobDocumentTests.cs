using System.Text;
using System.Text.Json.Nodes;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Deployments;

/// <summary>
/// A cloud deployment whose job document the device cannot read: the job execution is FAILED with
/// FAILED_NO_STATE_CHANGE and a cause that says what is wrong and where, nothing is deployed, and the device goes on
/// taking jobs. The test plays IoT Jobs on Mosquitto (a privileged client answering the device's <c>$next/get</c>),
/// since no AWS API writes a malformed document.
/// </summary>
[Category("Conformance")]
[CancelAfter(120_000)]
public class CloudJobDocumentTests
{
    private const string Jobs = "$aws/things/dev1/jobs/";
    private const string Namespace = "namespace-aws-gg-deployment";

    [Test]
    public async Task AMalformedJobDocument_FailsTheJobWithTheReason_AndTheDeviceTakesTheNext()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var jobs = await MqttObserver.ConnectAsync(broker, Jobs + "#");
        await using var nucleus = await TestNucleus.StartAsync(root => new NucleusOptions
        {
            RootPath = root,
            ThingName = "dev1",
            IoTCore = new IoTCoreOptions { Broker = broker.ClientOptions("dev1") },
            // Never reached: a document that cannot be read is refused before anything is resolved.
            DataPlaneEndpoint = new Uri("https://127.0.0.1:9"),
        });
        await Eventually.UntilAsync(() => jobs.Received.Any(m => m.Topic == $"{Jobs}$next/{Namespace}/get"), "the device asks IoT Jobs for its next job");

        await jobs.PublishAsync($"{Jobs}$next/{Namespace}/get/accepted", """
            {"execution":{"jobId":"job-1","status":"QUEUED","versionNumber":1,"jobDocument":{
              "configurationArn":"arn:aws:greengrass:us-east-1:123456789012:configuration:thinggroup/farms:1",
              "deploymentId":"d-1",
              "failureHandlingPolicy":"SOMETIMES",
              "components":{
                "com.example.A":{"version":1.0},
                "com.example.B":{"version":"1.0.0","configurationUpdate":{"merge":"{not json"}},
                "com.example.C":"2.0.0"}}}}
            """);
        var update = await UpdateOfAsync(jobs, "job-1");
        Assert.That(update["status"]!.GetValue<string>(), Is.EqualTo("FAILED"));
        Assert.That(update["statusDetails"]!["detailed-deployment-status"]!.GetValue<string>(), Is.EqualTo("FAILED_NO_STATE_CHANGE"));
        var cause = update["statusDetails"]!["deployment-failure-cause"]!.GetValue<string>();
        Assert.That(cause, Does.StartWith("Unable to parse the deployment document: ")
            .And.Contain("failureHandlingPolicy must be ROLLBACK or DO_NOTHING, not \"SOMETIMES\"")
            .And.Contain("components.com.example.A.version must be a string, not Number")
            .And.Contain("components.com.example.B.configurationUpdate.merge is not JSON")
            .And.Contain("components.com.example.C must be an object, not String"));
        Assert.That(nucleus.Nucleus.Deployments.RootsOf("thinggroup/farms"), Is.Empty, "nothing deployed");

        // The device keeps serving: it asks for the next job and answers it too.
        await jobs.PublishAsync($"{Jobs}$next/{Namespace}/get/accepted", """{"execution":{"jobId":"job-2","status":"QUEUED","versionNumber":1}}""");
        var second = await UpdateOfAsync(jobs, "job-2");
        Assert.That((second["status"]!.GetValue<string>(), second["statusDetails"]!["deployment-failure-cause"]!.GetValue<string>()),
            Is.EqualTo(("FAILED", "Unable to parse the deployment document: the job has no deployment document")));
    }

    private static async Task<JsonObject> UpdateOfAsync(MqttObserver jobs, string jobId)
    {
        var topic = $"{Jobs}{jobId}/{Namespace}/update";
        JsonObject? update = null;
        await Eventually.UntilAsync(() =>
        {
            update = jobs.Received.Where(m => m.Topic == topic).Select(m => JsonNode.Parse(Encoding.UTF8.GetString(m.Payload))!.AsObject()).LastOrDefault();
            return update is not null;
        }, $"the device reports {jobId}");
        return update!;
    }
}
