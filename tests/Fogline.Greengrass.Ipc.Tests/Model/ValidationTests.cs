using Fogline.Greengrass.Ipc.Tests.Infrastructure;

namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>HasAllRequiredMembers / MissingRequiredMembers: what the client checks before a request is sent.</summary>
public class ValidationTests
{
    private static PublishMessage Binary() => new() { BinaryMessage = new BinaryMessage { Message = new byte[] { 1 } } };

    [Test]
    public void CompleteRequest_HasAllRequiredMembers()
    {
        var request = new PublishToTopicRequest { Topic = "t", PublishMessage = Binary() };

        Assert.That(request.HasAllRequiredMembers(), Is.True);
        Assert.That(request.MissingRequiredMembers(), Is.Empty);
    }

    [Test]
    public void MissingRequiredMember_IsNamed()
    {
        var request = new PublishToTopicRequest { PublishMessage = Binary() };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        Assert.That(request.MissingRequiredMembers(), Is.EqualTo(new[] { "topic" }));
    }

    [Test]
    public void AllMissingRequiredMembers_AreNamed_InModelOrder()
    {
        var request = new AuthorizeClientDeviceActionRequest { Operation = "mqtt:publish" };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        Assert.That(request.MissingRequiredMembers(), Is.EqualTo(new[] { "clientDeviceAuthToken", "resource" }));
    }

    [Test]
    public void OptionalMembers_AreNotRequired()
    {
        var request = new GetSecretValueRequest { SecretId = "s" };

        Assert.That(request.HasAllRequiredMembers(), Is.True);
        Assert.That(new CreateLocalDeploymentRequest().HasAllRequiredMembers(), Is.True, "no member of CreateLocalDeploymentRequest is @required");
        Assert.That(new ListComponentsRequest().HasAllRequiredMembers(), Is.True, "empty structure");
    }

    [Test]
    public void NestedUnionWithNoMemberSet_IsIncomplete()
    {
        var request = new PublishToTopicRequest { Topic = "t", PublishMessage = new PublishMessage() };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        var missing = request.MissingRequiredMembers().ToList();
        Assert.That(missing, Has.Count.EqualTo(1));
        Assert.That(missing[0], Does.StartWith("publishMessage."));
        Assert.That(missing[0], Does.Contain("jsonMessage").And.Contain("binaryMessage").And.Contain("found 0"));
    }

    [Test]
    public void UnionWithTwoMembersSet_IsIncomplete()
    {
        var message = new PublishMessage { BinaryMessage = new BinaryMessage(), JsonMessage = new JsonMessage() };

        Assert.That(message.HasAllRequiredMembers(), Is.False);
        Assert.That(message.MissingRequiredMembers().Single(), Does.Contain("found 2"));
        Assert.That(new PublishToTopicRequest { Topic = "t", PublishMessage = message }.HasAllRequiredMembers(), Is.False);
    }

    [Test]
    public void MissingRequiredMemberOfANestedStructure_IsNamedWithItsPath()
    {
        var request = new SendConfigurationValidityReportRequest
        {
            ConfigurationValidityReport = new ConfigurationValidityReport { Status = ConfigurationValidityStatus.Rejected },
        };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        Assert.That(request.MissingRequiredMembers(), Is.EqualTo(new[] { "configurationValidityReport.deploymentId" }));
    }

    [Test]
    public void MissingRequiredMemberInsideAUnionMember_IsNamedWithItsPath()
    {
        var evt = new ComponentUpdatePolicyEvents { PreUpdateEvent = new PreComponentUpdateEvent { DeploymentId = "d" } };

        Assert.That(evt.HasAllRequiredMembers(), Is.False);
        Assert.That(evt.MissingRequiredMembers(), Is.EqualTo(new[] { "preUpdateEvent.isGgcRestarting" }));
    }

    [Test]
    public void ListElementMissingARequiredMember_IsNamedWithItsIndex()
    {
        var request = new PutComponentMetricRequest
        {
            Metrics =
            [
                new Metric { Name = "ok", Unit = MetricUnitType.Count, Value = 1 },
                new Metric { Unit = MetricUnitType.Count, Value = 2 },
            ],
        };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        Assert.That(request.MissingRequiredMembers(), Is.EqualTo(new[] { "metrics[1].name" }));
    }

    [Test]
    public void EmptyRequiredList_IsSet()
    {
        var request = new PutComponentMetricRequest { Metrics = [] };

        Assert.That(request.HasAllRequiredMembers(), Is.True);
        Assert.That(new PutComponentMetricRequest().MissingRequiredMembers(), Is.EqualTo(new[] { "metrics" }));
    }

    [Test]
    public void NullListElement_IsReportedNotThrown()
    {
        // A list deserialised from {"metrics":[null]} (or built with a null) is incomplete; describing why must not throw.
        var request = new PutComponentMetricRequest { Metrics = [null!] };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        Assert.That(() => request.MissingRequiredMembers().ToList(), Throws.Nothing);
        Assert.That(request.MissingRequiredMembers(), Is.EqualTo(new[] { "metrics[0]" }));
        var ex = Assert.Throws<ArgumentException>(() => IpcValidation.ThrowIfIncomplete(request, PutComponentMetricRequest.ModelType, "request"));
        Assert.That(ex!.Message, Does.Contain("metrics[0]"));
    }

    [Test]
    public void NullMapValue_IsReportedNotThrown()
    {
        var request = new CreateLocalDeploymentRequest
        {
            ComponentToRunWithInfo = new Dictionary<string, RunWithInfo> { ["com.example.A"] = new() { PosixUser = "u" }, ["com.example.B"] = null! },
        };

        Assert.That(request.HasAllRequiredMembers(), Is.False);
        Assert.That(request.MissingRequiredMembers(), Is.EqualTo(new[] { "componentToRunWithInfo[com.example.B]" }));
    }

    [Test]
    public void ThrowIfIncomplete_NamesTheShapeAndTheMissingMembers()
    {
        var request = new PublishToTopicRequest { PublishMessage = new PublishMessage() };

        var ex = Assert.Throws<ArgumentException>(() => IpcValidation.ThrowIfIncomplete(request, PublishToTopicRequest.ModelType, "request"));

        Assert.That(ex!.Message, Does.Contain("aws.greengrass#PublishToTopicRequest").And.Contain("topic").And.Contain("publishMessage."));
        Assert.That(ex.ParamName, Is.EqualTo("request"));
    }

    [Test]
    public async Task Client_RefusesAnIncompleteRequest_BeforeSending()
    {
        await using var server = TestServer.Start();
        await using var client = await server.ConnectAsync();

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => client.PutComponentMetricAsync(new PutComponentMetricRequest { Metrics = [new Metric { Value = 1 }] }));

        Assert.That(ex!.Message, Does.Contain("metrics[0].name").And.Contain("metrics[0].unit"));
    }
}
