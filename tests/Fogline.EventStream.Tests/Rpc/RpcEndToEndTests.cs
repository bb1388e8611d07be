using System.Text;
using System.Text.Json;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Tests.Infrastructure;
using Fogline.EventStream.Transport;

namespace Fogline.EventStream.Tests.Rpc;

/// <summary>The client and server roles talking over a real Unix socket.</summary>
public class RpcEndToEndTests
{
    private const int Timeout = 60_000;

    [Test]
    [CancelAfter(Timeout)]
    public async Task Connect_WithTheGoodToken_IsAcceptedAndTheServerKnowsTheIdentity()
    {
        await using var harness = RpcHarness.Start();

        await using var client = await harness.ConnectClientAsync();

        Assert.That(client.IsClosed, Is.False);
        var serverSide = harness.Server.Connections.Single();
        Assert.That(serverSide.IsConnected, Is.True);
        Assert.That(serverSide.Identity, Is.EqualTo(EchoService.Identity));
        Assert.That(harness.Service.AuthenticateCalls, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Connect_WithABadToken_ThrowsRpcConnectionRejectedException_AndTheServerClosesTheConnection()
    {
        await using var harness = RpcHarness.Start();

        var ex = await Assert.ThrowsAsync<RpcConnectionRejectedException>(() => harness.ConnectClientAsync("bad"));

        Assert.That(ex, Is.Not.Null);
        await Eventually.UntilAsync(() => harness.Server.Connections.Count == 0, "the server forgot the rejected connection");
        Assert.That(harness.Service.AuthenticateCalls, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Connect_WithAPayloadThatIsNotJson_IsRejected()
    {
        await using var harness = RpcHarness.Start();
        await using var raw = await harness.ConnectRawAsync();

        await raw.SendAsync(RpcFrames.Build(MessageType.Connect, MessageFlags.None, 0, payload: "not json", extra: EventStreamHeader.FromString(RpcHeaders.Version, RpcHeaders.ProtocolVersion)));

        var frames = await raw.ReadUntilClosedAsync();
        Assert.That(frames, Has.Count.EqualTo(1));
        Assert.That(RpcFrames.TypeOf(frames[0]), Is.EqualTo(MessageType.ConnectAck));
        Assert.That(RpcFrames.FlagsOf(frames[0]) & MessageFlags.ConnectionAccepted, Is.EqualTo(MessageFlags.None));
    }

    [TestCase("0.2.0")]
    [TestCase("0.1")]
    [TestCase("")]
    [TestCase(null)]
    [CancelAfter(Timeout)]
    public async Task Connect_WithoutVersion010_IsAnsweredWithAConnectAckThatDoesNotAccept_AndClosed(string? version)
    {
        await using var harness = RpcHarness.Start();
        await using var raw = await harness.ConnectRawAsync();

        await raw.SendAsync(RpcFrames.Connect(EchoService.GoodToken, version));

        var frames = await raw.ReadUntilClosedAsync();
        Assert.That(frames, Has.Count.EqualTo(1), string.Join("; ", frames.Select(RpcFrames.Describe)));
        Assert.That(RpcFrames.TypeOf(frames[0]), Is.EqualTo(MessageType.ConnectAck));
        Assert.That(RpcFrames.StreamIdOf(frames[0]), Is.Zero);
        Assert.That(RpcFrames.FlagsOf(frames[0]) & MessageFlags.ConnectionAccepted, Is.EqualTo(MessageFlags.None));
        Assert.That(harness.Service.AuthenticateCalls, Is.Zero, "the version is checked before the service is asked");
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Connect_WithVersion010AndAGoodToken_FromARawClient_IsAccepted()
    {
        await using var harness = RpcHarness.Start();
        await using var raw = await harness.ConnectRawAsync();

        await raw.HandshakeAsync();

        Assert.That(harness.Service.AuthenticateCalls, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Echo_ActivationAndFurtherMessages_AreEachAnsweredWithTheSamePayload()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        var stream = client.NewStream(handler);

        await stream.ActivateAsync("echo", new RpcOutgoingMessage { ContentType = RpcHeaders.ContentTypeJson, Payload = "{\"n\":1}"u8.ToArray() });
        var first = await handler.NextAsync();
        await stream.SendAsync(new RpcOutgoingMessage { Payload = "{\"n\":2}"u8.ToArray() });
        var second = await handler.NextAsync();

        Assert.That(stream.StreamId, Is.EqualTo(1));
        Assert.That(first.Type, Is.EqualTo(MessageType.ApplicationMessage));
        Assert.That(first.StreamId, Is.EqualTo(1));
        Assert.That(first.ContentType, Is.EqualTo(RpcHeaders.ContentTypeJson));
        Assert.That(first.Text, Is.EqualTo("{\"n\":1}"));
        Assert.That(first.IsTerminal, Is.False);
        Assert.That(second.Text, Is.EqualTo("{\"n\":2}"));
        Assert.That(stream.IsEnded, Is.False);

        await stream.CloseAsync();
        Assert.That(await handler.Closed.Task.Within("the client stream to close"), Is.Null);
        var closed = await harness.Service.Closed.Reader.ReadAsync().AsTask().Within("the server handler to be closed");
        Assert.That(closed.StreamId, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Echo_LargePayload_RoundTrips()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        var stream = client.NewStream(handler);
        var text = "\"" + new string('z', 3 * 1024 * 1024) + "\"";

        await stream.ActivateAsync("echo", new RpcOutgoingMessage { Payload = Encoding.UTF8.GetBytes(text) });

        Assert.That((await handler.NextAsync()).Text, Is.EqualTo(text));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ManyStreamsActivatedConcurrently_GetSequentialIds_AndEachGetsItsOwnAnswer()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handlers = Enumerable.Range(0, 50).Select(_ => new RecordingStreamHandler()).ToArray();
        var streams = handlers.Select(client.NewStream).ToArray();

        await Task.WhenAll(streams.Select((s, i) => s.ActivateAsync("echo", new RpcOutgoingMessage { Payload = Encoding.UTF8.GetBytes($"{{\"i\":{i}}}") }).AsTask()));

        for (var i = 0; i < handlers.Length; i++)
        {
            var answer = await handlers[i].NextAsync();
            Assert.That(answer.Text, Is.EqualTo($"{{\"i\":{i}}}"));
            Assert.That(answer.StreamId, Is.EqualTo(streams[i].StreamId));
        }

        Assert.That(streams.Select(s => s.StreamId).Order(), Is.EqualTo(Enumerable.Range(1, 50)));
        Assert.That(client.IsClosed, Is.False, "the server saw no stream id out of order");
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Stream_EventsArrive_StreamStaysOpen_UntilClientClosesIt_ThenServerHandlerIsClosed()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        var stream = client.NewStream(handler);

        await stream.ActivateAsync("stream", new RpcOutgoingMessage { Payload = "{\"count\":5}"u8.ToArray() });
        var events = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            events.Add((await handler.NextAsync()).Text);
        }

        var serverStream = await harness.Service.Opened.Reader.ReadAsync().AsTask().Within("the server stream");
        Assert.That(events, Is.EqualTo(Enumerable.Range(0, 5).Select(i => $"{{\"event\":{i}}}")));
        Assert.That(stream.IsEnded, Is.False);
        Assert.That(serverStream.IsEnded, Is.False);
        Assert.That(harness.Service.Closed.Reader.TryRead(out _), Is.False, "the server stream is still open");

        await stream.CloseAsync();

        var closed = await harness.Service.Closed.Reader.ReadAsync().AsTask().Within("the server handler to be closed");
        Assert.That(closed, Is.SameAs(serverStream));
        Assert.That(serverStream.IsEnded, Is.True);
        Assert.That(serverStream.EndedToken.IsCancellationRequested, Is.True);
        Assert.That(stream.IsEnded, Is.True);
        Assert.That(await handler.Closed.Task.Within("the client stream to close"), Is.Null);
        await Eventually.UntilAsync(() => harness.Server.Connections.Single().OpenStreamCount == 0, "the server forgot the stream");
        Assert.That(client.OpenStreamCount, Is.Zero);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ServerSideTerminateStream_EndsTheClientStream()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        var stream = client.NewStream(handler);
        await stream.ActivateAsync("stream", new RpcOutgoingMessage { Payload = "{\"count\":1}"u8.ToArray() });
        await handler.NextAsync();
        var serverStream = await harness.Service.Opened.Reader.ReadAsync().AsTask().Within("the server stream");

        await serverStream.CloseAsync();

        var terminator = await handler.NextAsync();
        Assert.That(terminator.IsTerminal, Is.True);
        Assert.That(terminator.StreamId, Is.EqualTo(stream.StreamId));
        Assert.That(await handler.Closed.Task.Within("the client stream to close"), Is.Null);
        Assert.That(stream.IsEnded, Is.True);
        Assert.That(handler.ClosedCalls, Is.EqualTo(1));
        Assert.That(client.OpenStreamCount, Is.Zero);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await stream.SendAsync(new RpcOutgoingMessage()));
        await Assert.ThrowsAsync<RpcStreamEndedException>(async () => await serverStream.SendAsync(new RpcOutgoingMessage()));

        await stream.CloseAsync();
        Assert.That(handler.ClosedCalls, Is.EqualTo(1), "closing an ended stream again does not notify again");
        await RpcHarness.AssertEchoWorksAsync(client);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Ping_FromTheClient_IsAnswered()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();

        await client.PingAsync("hello"u8.ToArray()).Within("the PingResponse");
        await client.PingAsync().Within("the second PingResponse");

        Assert.That(client.IsClosed, Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Ping_ToTheServer_IsAnsweredWithThePayloadAndTheNonProtocolHeaders()
    {
        await using var harness = RpcHarness.Start();
        await using var raw = await harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Build(MessageType.Ping, MessageFlags.None, 0, payload: "are you there", extra: EventStreamHeader.FromString("x-probe", "abc")));

        var pong = await raw.ExpectFrameAsync("the PingResponse");
        Assert.That(RpcFrames.TypeOf(pong), Is.EqualTo(MessageType.PingResponse));
        Assert.That(RpcFrames.StreamIdOf(pong), Is.Zero);
        Assert.That(RpcFrames.PayloadText(pong), Is.EqualTo("are you there"));
        Assert.That(RpcFrames.StringHeader(pong, "x-probe"), Is.EqualTo("abc"));
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Ping_FromTheServer_IsAnsweredByTheClientWithThePayloadAndHeaders()
    {
        using var directory = new TempDirectory();
        var path = directory.File("s.sock");
        using var listener = UnixDomainSocket.Listen(path);
        var accept = listener.AcceptAsync();
        var connecting = RpcClientConnection.ConnectAsync(await UnixDomainSocket.ConnectAsync(path), new RpcClientConnectionOptions { ConnectPayload = Encoding.UTF8.GetBytes(RpcFrames.AuthPayload("t")) });
        await using var server = new RawPeer(await accept.Within("the accept"));

        var connect = await server.ExpectFrameAsync("the Connect");
        Assert.That(RpcFrames.TypeOf(connect), Is.EqualTo(MessageType.Connect));
        Assert.That(RpcFrames.StringHeader(connect, RpcHeaders.Version), Is.EqualTo("0.1.0"));
        Assert.That(RpcFrames.PayloadText(connect), Is.EqualTo("{\"authToken\":\"t\"}"));
        await server.SendAsync(RpcFrames.Build(MessageType.ConnectAck, MessageFlags.ConnectionAccepted, 0));
        await using var client = await connecting.Within("the client handshake");

        await server.SendAsync(RpcFrames.Build(MessageType.Ping, MessageFlags.None, 0, payload: "ping from the server", extra: EventStreamHeader.FromInt64("x-seq", 77)));

        var pong = await server.ExpectFrameAsync("the PingResponse");
        Assert.That(RpcFrames.TypeOf(pong), Is.EqualTo(MessageType.PingResponse));
        Assert.That(RpcFrames.PayloadText(pong), Is.EqualTo("ping from the server"));
        Assert.That(pong.Headers.Single(h => h.Name == "x-seq").IntegerValue, Is.EqualTo(77));
        Assert.That(client.IsClosed, Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ConnectAck_NeverComing_FailsConnectAsyncWithRpcConnectionClosedException()
    {
        using var directory = new TempDirectory();
        var path = directory.File("s.sock");
        using var listener = UnixDomainSocket.Listen(path);
        var accept = listener.AcceptAsync();

        var connecting = RpcClientConnection.ConnectAsync(await UnixDomainSocket.ConnectAsync(path), new RpcClientConnectionOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) });
        await using var server = new RawPeer(await accept.Within("the accept"));

        var ex = await Assert.ThrowsAsync<RpcConnectionClosedException>(() => connecting.Within("ConnectAsync to give up"));
        Assert.That(ex!.Message, Does.Contain("ConnectAck"));
        Assert.That(await server.ReadUntilClosedAsync(), Has.Count.EqualTo(1), "the Connect, then the client closed the socket");
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ProtocolError_FromTheServer_ClosesTheClientConnection()
    {
        using var directory = new TempDirectory();
        var path = directory.File("s.sock");
        using var listener = UnixDomainSocket.Listen(path);
        var accept = listener.AcceptAsync();
        var connecting = RpcClientConnection.ConnectAsync(await UnixDomainSocket.ConnectAsync(path));
        await using var server = new RawPeer(await accept.Within("the accept"));
        await server.ExpectFrameAsync("the Connect");
        await server.SendAsync(RpcFrames.Build(MessageType.ConnectAck, MessageFlags.ConnectionAccepted, 0));
        await using var client = await connecting.Within("the client handshake");
        var handler = new RecordingStreamHandler();
        await client.NewStream(handler).ActivateAsync("op", new RpcOutgoingMessage());
        await server.ExpectFrameAsync("the activation");

        await server.SendAsync(RpcFrames.Build(MessageType.ProtocolError, MessageFlags.None, 0, payload: "{\"message\":\"no\"}", extra: EventStreamHeader.FromString(RpcHeaders.ContentType, RpcHeaders.ContentTypeJson)));

        await client.Completion.Within("the client connection to close");
        Assert.That(client.CloseReason, Is.InstanceOf<RpcProtocolException>());
        Assert.That(client.CloseReason!.Message, Does.Contain("no"));
        Assert.That(await handler.Closed.Task.Within("the stream to fail"), Is.InstanceOf<RpcConnectionClosedException>());
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task UnknownOperation_IsAnsweredWithApplicationErrorTerminateStreamAndUnsupportedOperation()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        var stream = client.NewStream(handler);

        await stream.ActivateAsync("aws.greengrass#NoSuchThing", new RpcOutgoingMessage { Payload = "{}"u8.ToArray() });

        var answer = await handler.NextAsync();
        Assert.That(answer.Type, Is.EqualTo(MessageType.ApplicationError));
        Assert.That(answer.IsTerminal, Is.True);
        Assert.That(answer.StreamId, Is.EqualTo(stream.StreamId));
        Assert.That(answer.ContentType, Is.EqualTo(RpcHeaders.ContentTypeJson));
        using var json = JsonDocument.Parse(answer.Payload);
        Assert.That(json.RootElement.GetProperty("error").GetString(), Is.EqualTo("Unsupported Operation"));
        Assert.That(json.RootElement.GetProperty("message").GetString(), Is.EqualTo("aws.greengrass#NoSuchThing is an unsupported operation."));
        Assert.That(await handler.Closed.Task.Within("the stream to end"), Is.Null);
        Assert.That(stream.IsEnded, Is.True);
        await RpcHarness.AssertEchoWorksAsync(client);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ServerClosingTheConnection_FailsOpenClientStreamsWithRpcConnectionClosedException()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handlers = new[] { new RecordingStreamHandler(), new RecordingStreamHandler() };
        var streams = handlers.Select(client.NewStream).ToArray();
        foreach (var (stream, handler) in streams.Zip(handlers))
        {
            await stream.ActivateAsync("stream", new RpcOutgoingMessage { Payload = "{\"count\":1}"u8.ToArray() });
            await handler.NextAsync();
        }

        await harness.Server.Connections.Single().DisposeAsync().AsTask().Within("the server connection to close");

        foreach (var handler in handlers)
        {
            var error = await handler.Closed.Task.Within("the client stream to fail");
            Assert.That(error, Is.InstanceOf<RpcConnectionClosedException>());
            Assert.That(handler.ClosedCalls, Is.EqualTo(1));
        }

        Assert.That(streams.All(s => s.IsEnded), Is.True);
        await client.Completion.Within("the client connection to close");
        Assert.That(client.IsClosed, Is.True);
        Assert.That(client.CloseReason, Is.InstanceOf<RpcConnectionClosedException>());
        await Assert.ThrowsAsync<RpcConnectionClosedException>(() => client.PingAsync());
        Assert.Throws<RpcConnectionClosedException>(() => client.NewStream(new RecordingStreamHandler()));
        for (var i = 0; i < 2; i++)
        {
            var closed = await harness.Service.Closed.Reader.ReadAsync().AsTask().Within("the server handlers to be closed");
            Assert.That(closed.IsEnded, Is.True);
        }
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ServerDisposal_FailsOpenClientStreams_AndRemovesTheSocketFile()
    {
        var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        await client.NewStream(handler).ActivateAsync("stream", new RpcOutgoingMessage { Payload = "{\"count\":0}"u8.ToArray() });
        await harness.Service.Opened.Reader.ReadAsync().AsTask().Within("the server stream");

        await harness.DisposeAsync();

        Assert.That(await handler.Closed.Task.Within("the client stream to fail"), Is.InstanceOf<RpcConnectionClosedException>());
        Assert.That(File.Exists(harness.SocketPath), Is.False);
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ClientDisposal_ClosesTheServerStreamsAndTheServerConnection()
    {
        await using var harness = RpcHarness.Start();
        var client = await harness.ConnectClientAsync();
        var handler = new RecordingStreamHandler();
        await client.NewStream(handler).ActivateAsync("stream", new RpcOutgoingMessage { Payload = "{\"count\":0}"u8.ToArray() });
        var serverStream = await harness.Service.Opened.Reader.ReadAsync().AsTask().Within("the server stream");
        var serverConnection = harness.Server.Connections.Single();

        await client.DisposeAsync();

        Assert.That(await harness.Service.Closed.Reader.ReadAsync().AsTask().Within("the server handler to be closed"), Is.SameAs(serverStream));
        Assert.That(await harness.Service.ClosedConnections.Reader.ReadAsync().AsTask().Within("the server connection to close"), Is.SameAs(serverConnection));
        await Eventually.UntilAsync(() => harness.Server.Connections.Count == 0, "the server forgot the connection");
        Assert.That(await handler.Closed.Task.Within("the client stream to close"), Is.InstanceOf<RpcConnectionClosedException>(), "the client stream was told");
        Assert.That(client.CloseReason, Is.Null, "an orderly close by this side");
    }
}
