using System.Text.Json;
using Fogline.Greengrass.Ipc.Tests.Infrastructure;

namespace Fogline.Greengrass.Ipc.Tests.Client;

[CancelAfter(30_000)]
public class ClientTests
{
    private TestServer _server = null!;

    [SetUp]
    public void SetUp() => _server = TestServer.Start();

    [TearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    [Test]
    public async Task RequestResponse_ReturnsTheTypedResponse()
    {
        await using var client = await _server.ConnectAsync();

        var response = await client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["threshold"] });

        Assert.That(response.ComponentName, Is.EqualTo(TestIpcService.ComponentName));
        Assert.That(response.Value!.Value.GetProperty("threshold").GetDouble(), Is.EqualTo(21.5));
    }

    [Test]
    public async Task ModeledError_IsThrownAsItsTypedException()
    {
        await using var client = await _server.ConnectAsync();

        var ex = (await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["missing", "x"] })))!;

        Assert.That(ex.Error.ResourceName, Is.EqualTo("missing/x"));
        Assert.That(ex.Error.ResourceType, Is.EqualTo("Configuration"));
        Assert.That(ex.ErrorCode, Is.EqualTo("ResourceNotFoundError"));
        Assert.That(ex.Error.ServiceName, Is.EqualTo("aws.greengrass#GreengrassCoreIPC"));
        Assert.That(ex.IsClientError, Is.True);
    }

    [Test]
    public async Task UnexpectedHandlerFailure_IsAnUnmodeledInternalServerError()
    {
        await using var client = await _server.ConnectAsync();

        var ex = (await Assert.ThrowsAsync<GreengrassIpcProtocolException>(() => client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["crash"] })))!;

        Assert.That(ex.Message, Does.Contain("InternalServerError"));
        // The connection survives a failed call.
        Assert.That((await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running })), Is.Not.Null);
    }

    [Test]
    public async Task OperationTheServerDoesNotServe_IsUnsupported()
    {
        await using var client = await _server.ConnectAsync();

        var ex = (await Assert.ThrowsAsync<GreengrassIpcUnsupportedOperationException>(() => client.ListComponentsAsync(new ListComponentsRequest())))!;

        Assert.That(ex.Message, Does.Contain("aws.greengrass#ListComponents is an unsupported operation"));
    }

    [Test]
    public async Task Streaming_DeliversTheResponseThenEvents_AndClosingReleasesTheSubscription()
    {
        await using var client = await _server.ConnectAsync();
        var subscription = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "t/1" });
        Assert.That(subscription.Response, Is.Not.Null);
        Assert.That(_server.Service.SubscriberCount, Is.EqualTo(1));

        for (var i = 0; i < 3; i++)
        {
            await client.PublishToTopicAsync(new PublishToTopicRequest
            {
                Topic = "t/1",
                PublishMessage = new PublishMessage { JsonMessage = new JsonMessage { Message = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["n"] = i }) } },
            });
        }

        var received = new List<int>();
        await foreach (var evt in subscription)
        {
            received.Add(evt.JsonMessage!.Message!.Value.GetProperty("n").GetInt32());
            Assert.That(evt.JsonMessage.Context!.Topic, Is.EqualTo("t/1"));
            if (received.Count == 3)
            {
                break;
            }
        }

        await subscription.DisposeAsync();
        Assert.That(received, Is.EqualTo(new[] { 0, 1, 2 }));
        await Eventually.UntilAsync(() => _server.Service.SubscriberCount == 0, "the subscription released on the server");
    }

    [Test]
    public async Task Streaming_HandlerVariant_ReceivesEventsInOrder()
    {
        await using var client = await _server.ConnectAsync();
        var seen = new List<int>();
        var done = new TaskCompletionSource();
        await using var subscription = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "burst" }, evt =>
        {
            seen.Add(evt.JsonMessage!.Message!.Value.GetInt32());
            if (seen.Count == 5)
            {
                done.SetResult();
            }
        });

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.That(seen, Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public async Task Streaming_ModeledErrorOnOpen_IsThrown()
    {
        await using var client = await _server.ConnectAsync();

        var ex = (await Assert.ThrowsAsync<UnauthorizedException>(() => client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "forbidden/x" })))!;

        Assert.That(ex.Message, Does.Contain("not authorized"));
    }

    [Test]
    public async Task BinaryPayloadsAndTimestamps_RoundTrip()
    {
        await using var client = await _server.ConnectAsync();
        var payload = Enumerable.Range(0, 300).Select(i => (byte)i).ToArray();

        await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "dt/x", Qos = QOS.AtLeastOnce, Payload = payload });
        var password = await client.CreateDebugPasswordAsync(new CreateDebugPasswordRequest());

        Assert.That(_server.Service.IoTCorePublished.Single().Payload!.Value.ToArray(), Is.EqualTo(payload));
        Assert.That(_server.Service.IoTCorePublished.Single().Qos, Is.EqualTo(QOS.AtLeastOnce));
        Assert.That(password.PasswordExpiration, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250)));
    }

    [Test]
    public async Task WrongToken_IsRejectedAtConnect()
    {
        var ex = (await Assert.ThrowsAsync<GreengrassIpcConnectionException>(() => _server.ConnectAsync("wrong-token")))!;

        Assert.That(ex.Message, Does.Contain("rejected"));
    }

    [Test]
    public async Task MissingRequiredMember_IsRefusedBeforeSending()
    {
        await using var client = await _server.ConnectAsync();

        var ex = (await Assert.ThrowsAsync<ArgumentException>(() => client.PublishToTopicAsync(new PublishToTopicRequest { Topic = "t" })))!;

        Assert.That(ex.Message, Does.Contain("publishMessage"));
    }

    [Test]
    public async Task ConnectionLostMidCall_FailsTheCall_AndTheNextCallWithoutReconnectPolicy()
    {
        await using var client = await _server.ConnectAsync();
        _server.Service.HoldGetConfiguration = new TaskCompletionSource<bool>();
        var call = client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["threshold"] });
        await Eventually.UntilAsync(() => _server.Server.Connections.Any(c => c.OpenStreamCount > 0), "a stream open on the server");

        foreach (var connection in _server.Server.Connections)
        {
            connection.Abort();
        }

        var ex = (await Assert.ThrowsAsync<GreengrassIpcConnectionException>(() => call))!;
        Assert.That(ex.Message, Does.Contain("lost").Or.Contain("gone"));
        _server.Service.HoldGetConfiguration = null;
        var next = (await Assert.ThrowsAsync<GreengrassIpcConnectionException>(() => client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running })))!;
        Assert.That(next.Message, Does.Contain("does not reconnect"));
    }

    [Test]
    public async Task ConnectionLost_WithReconnectOnNextCall_TheNextCallReconnects()
    {
        await using var client = await _server.ConnectAsync(reconnect: IpcReconnectPolicy.OnNextCall());
        foreach (var connection in _server.Server.Connections)
        {
            connection.Abort();
        }

        await Eventually.UntilAsync(() => !client.IsConnected, "the client saw the connection close");
        var response = await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });

        Assert.That(response, Is.Not.Null);
        Assert.That(client.IsConnected, Is.True);
    }

    [Test]
    public async Task Ping_IsAnswered()
    {
        await using var client = await _server.ConnectAsync();

        // PingAsync completes only when the server's PingResponse arrives; a server that does not answer fails this
        // within the deadline instead of passing.
        var ping = client.PingAsync(TestContext.CurrentContext.CancellationToken);
        await ping.Within("the server's ping response");

        Assert.That(ping.IsCompletedSuccessfully, Is.True);
        Assert.That(client.IsConnected, Is.True, "the connection goes on after a ping");
    }
}
