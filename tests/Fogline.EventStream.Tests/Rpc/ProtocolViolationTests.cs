using System.Text.Json;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Rpc;

/// <summary>
/// A raw client breaks the protocol or the framing against the real server. Each time it gets a ProtocolError (where
/// the rules send one) and then the server closes its socket; meanwhile a well-behaved client connected to the same
/// server keeps working, and the server lets go of the broken connection.
/// </summary>
[NonParallelizable]
public class ProtocolViolationTests
{
    private const int Timeout = 60_000;

    // Short, for the tests of silent clients. The well-behaved client connects at once and its Connect arrives within
    // milliseconds; the one-time warm-up below makes sure no first-time JIT work delays it.
    private static readonly TimeSpan ShortConnectTimeout = TimeSpan.FromMilliseconds(500);

    private RpcHarness _harness = null!;
    private RpcClientConnection _good = null!;
    private RpcServerConnection _goodOnTheServer = null!;

    [OneTimeSetUp]
    public async Task WarmUp()
    {
        await using var harness = RpcHarness.Start();
        await using var client = await harness.ConnectClientAsync();
        await RpcHarness.AssertEchoWorksAsync(client);
        await using var raw = await harness.ConnectRawAsync();
        await raw.HandshakeAsync();
    }

    [TearDown]
    public async Task TearDown()
    {
        var good = _good;
        var harness = _harness;
        _good = null!;
        _harness = null!;
        _goodOnTheServer = null!;
        if (good is not null)
        {
            await good.DisposeAsync();
        }

        if (harness is not null)
        {
            await harness.DisposeAsync();
        }
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task FirstMessage_WhenItIsNotConnect_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();

        await raw.SendAsync(RpcFrames.Build(MessageType.Ping, MessageFlags.None, 0));

        await AssertProtocolErrorThenClosedAsync(raw, "first message");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task FirstMessage_WhenItIsAStreamMessage_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();

        await raw.SendAsync(RpcFrames.Message(1, "echo", "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, "first message");
        Assert.That(StreamsOpenedForOthers(), Is.Empty, "no stream was opened");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task SecondConnect_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Connect());

        await AssertProtocolErrorThenClosedAsync(raw, "one Connect");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task SecondConnect_SentBeforeTheAck_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();

        await raw.SendAsync(TestFrames.Concat([RpcFrames.Connect(), RpcFrames.Connect()]));

        var frames = await raw.ReadUntilClosedAsync();
        Assert.That(frames.Where(f => RpcFrames.TypeOf(f) == MessageType.ProtocolError).ToList(), Has.Count.EqualTo(1), Describe(frames));
        await AssertServerUnharmedAsync();
    }

    [TestCase(2, TestName = "NewStreamId_WhenItSkipsFromZeroToTwo_GetsProtocolErrorAndClose")]
    [TestCase(100, TestName = "NewStreamId_WhenItJumpsAhead_GetsProtocolErrorAndClose")]
    [CancelAfter(Timeout)]
    public async Task NewStreamId_WhenItSkips_GetsProtocolErrorAndClose(int firstId)
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Message(firstId, "echo", "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, "one more than the last");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task NewStreamId_WhenItIsLatestPlusTwo_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        await raw.SendAsync(RpcFrames.Message(1, "echo", "{\"a\":1}"));
        Assert.That(RpcFrames.PayloadText(await raw.ExpectFrameAsync("the echo on stream 1")), Is.EqualTo("{\"a\":1}"));

        await raw.SendAsync(RpcFrames.Message(3, "echo", "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, "one more than the last");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task NewStream_WithoutAnOperationHeader_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Message(1, operation: null, "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, "operation");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task StreamId_ReusedAfterTheStreamEnded_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        await raw.SendAsync(RpcFrames.Message(1, "echo", "{\"a\":1}"));
        await raw.ExpectFrameAsync("the echo on stream 1");
        await raw.SendAsync(RpcFrames.Message(1, flags: MessageFlags.TerminateStream));
        await _harness.Service.Closed.Reader.ReadAsync().AsTask().Within("the server stream to end");

        await raw.SendAsync(RpcFrames.Message(1, "echo", "{\"again\":true}"));

        await AssertProtocolErrorThenClosedAsync(raw, "not open");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task TerminateStream_ForAStreamThatAlreadyEnded_IsIgnored()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        await raw.SendAsync(RpcFrames.Message(1, "echo", "{}"));
        await raw.ExpectFrameAsync("the echo on stream 1");
        await raw.SendAsync(RpcFrames.Message(1, flags: MessageFlags.TerminateStream));

        await raw.SendAsync(RpcFrames.Message(1, flags: MessageFlags.TerminateStream));
        await raw.SendAsync(RpcFrames.Build(MessageType.Ping, MessageFlags.None, 0, payload: "still there?"));

        var pong = await raw.ExpectFrameAsync("the PingResponse");
        Assert.That(RpcFrames.TypeOf(pong), Is.EqualTo(MessageType.PingResponse), RpcFrames.Describe(pong));
        await raw.SendAsync(RpcFrames.Message(2, "echo", "{\"b\":2}"));
        Assert.That(RpcFrames.PayloadText(await raw.ExpectFrameAsync("the echo on stream 2")), Is.EqualTo("{\"b\":2}"));
    }

    [TestCase(MessageType.ApplicationMessage, TestName = "ApplicationMessage_OnStreamZero_GetsProtocolErrorAndClose")]
    [TestCase(MessageType.ApplicationError, TestName = "ApplicationError_OnStreamZero_GetsProtocolErrorAndClose")]
    [TestCase(MessageType.ConnectAck, TestName = "ConnectAck_FromTheClient_GetsProtocolErrorAndClose")]
    [TestCase((MessageType)42, TestName = "UnknownMessageType_OnStreamZero_GetsProtocolErrorAndClose")]
    [CancelAfter(Timeout)]
    public async Task ConnectionLevelMessage_OfAWrongType_GetsProtocolErrorAndClose(MessageType type)
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Build(type, MessageFlags.None, 0, "echo", "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, "stream 0");
        await AssertServerUnharmedAsync();
    }

    [TestCase(MessageType.Ping, 1, TestName = "Ping_OnANonZeroStream_GetsProtocolErrorAndClose")]
    [TestCase(MessageType.Connect, 1, TestName = "Connect_OnANonZeroStream_GetsProtocolErrorAndClose")]
    [TestCase(MessageType.ApplicationMessage, -1, TestName = "ApplicationMessage_OnANegativeStreamId_GetsProtocolErrorAndClose")]
    [CancelAfter(Timeout)]
    public async Task StreamMessage_OfAWrongTypeOrId_GetsProtocolErrorAndClose(MessageType type, int streamId)
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Build(type, MessageFlags.None, streamId, "echo", "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, "non-zero :stream-id");
        await AssertServerUnharmedAsync();
    }

    [TestCase(true, false, false, TestName = "Message_WithoutMessageTypeHeader_GetsProtocolErrorAndClose")]
    [TestCase(false, true, false, TestName = "Message_WithoutMessageFlagsHeader_GetsProtocolErrorAndClose")]
    [TestCase(false, false, true, TestName = "Message_WithoutStreamIdHeader_GetsProtocolErrorAndClose")]
    [CancelAfter(Timeout)]
    public async Task Message_WithoutARequiredHeader_GetsProtocolErrorAndClose(bool dropType, bool dropFlags, bool dropStreamId)
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Build(
            dropType ? null : MessageType.ApplicationMessage,
            dropFlags ? null : MessageFlags.None,
            dropStreamId ? null : 1,
            "echo",
            "{}"));

        await AssertProtocolErrorThenClosedAsync(raw, dropType ? RpcHeaders.MessageType : dropFlags ? RpcHeaders.MessageFlags : RpcHeaders.StreamId);
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Message_WithStreamIdAsAStringHeader_GetsProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Build(MessageType.ApplicationMessage, MessageFlags.None, null, "echo", "{}", EventStreamHeader.FromString(RpcHeaders.StreamId, "1")));

        await AssertProtocolErrorThenClosedAsync(raw, RpcHeaders.StreamId);
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task GarbageBytes_GetAProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        var garbage = new byte[256];
        new Random(4242).NextBytes(garbage);

        await raw.SendAsync(garbage);

        await AssertProtocolErrorThenClosedAsync(raw, "Malformed eventstream frame");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task GarbageBytes_AfterTheHandshake_GetAProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        var garbage = new byte[4096];
        new Random(77).NextBytes(garbage);

        await raw.SendAsync(garbage);

        await AssertProtocolErrorThenClosedAsync(raw, "Malformed eventstream frame");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Frame_WithACorruptMessageCrc_GetsAProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        var connect = RpcFrames.Connect();
        connect[^1] ^= 0xFF;

        await raw.SendAsync(connect);

        await AssertProtocolErrorThenClosedAsync(raw, "checksum");
        Assert.That(_harness.Service.AuthenticateCalls, Is.EqualTo(1), "only the good client was authenticated");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Frame_WithACorruptPreludeCrc_AfterTheHandshake_GetsAProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        var message = RpcFrames.Message(1, "echo", "{}");
        message[2] ^= 0x01;

        await raw.SendAsync(message);

        await AssertProtocolErrorThenClosedAsync(raw, "checksum");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Frame_WithAValidCrcButAMalformedHeaderBlock_GetsAProtocolErrorAndClose()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        var frame = TestFrames.WithRawHeaderBlock(new HeaderBlockBuilder().Int32(RpcHeaders.MessageType, 0).Name("x").Raw(10).ToArray());

        await raw.SendAsync(frame);

        await AssertProtocolErrorThenClosedAsync(raw, "unknown value type");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ProtocolError_FromTheClient_ClosesTheConnectionWithoutAnswer()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(RpcFrames.Build(MessageType.ProtocolError, MessageFlags.None, 0, payload: "{\"message\":\"bye\"}"));

        Assert.That(await raw.ReadUntilClosedAsync(), Is.Empty);
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Violation_FollowedByMoreFramesInTheSameWrite_IsAnsweredOnlyWithTheProtocolError()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(TestFrames.Concat(
        [
            RpcFrames.Message(2, "echo", "{}"),
            RpcFrames.Build(MessageType.Ping, MessageFlags.None, 0),
            RpcFrames.Message(1, "echo", "{}"),
        ]));

        var frames = await raw.ReadUntilClosedAsync();
        Assert.That(frames.Select(RpcFrames.TypeOf), Is.EqualTo(new[] { MessageType.ProtocolError }), Describe(frames));
        Assert.That(StreamsOpenedForOthers(), Is.Empty, "no stream was opened after the violation");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task Violation_WhileTheServerIsStuckWritingToThatClient_StopsProcessingItsLaterFrames()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        // Stream 1 floods the client with 6 MB of events that it does not read: the server's output backs up and a
        // flush waits under the connection's write lock, so the answer to the violation cannot be sent at once.
        await raw.SendAsync(RpcFrames.Message(1, "stream", "{\"count\":100,\"size\":65536}"));
        await _harness.Service.Opened.Reader.ReadAsync().AsTask().Within("stream 1 to open");
        await WaitUntilStableAsync(() => raw.Socket.Available);

        // A violation (stream 3 skips 2), then a valid new stream 2 in the same write.
        await raw.SendAsync(TestFrames.Concat([RpcFrames.Message(3, "echo", "{}"), RpcFrames.Message(2, "echo", "{}")]));
        await RpcHarness.AssertEchoWorksAsync(_good);

        var frames = await raw.ReadUntilClosedAsync();
        Assert.That(StreamsOpenedForOthers().Select(s => s.StreamId), Is.Empty, "streams opened after the violation");
        Assert.That(frames.Any(f => RpcFrames.StreamIdOf(f) == 2), Is.False, "nothing was answered on stream 2");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task SilentClient_IsClosedAfterTheConnectTimeout()
    {
        await StartAsync(connectTimeout: ShortConnectTimeout);
        await using var raw = await _harness.ConnectRawAsync();

        var frames = await raw.ReadUntilClosedAsync();

        Assert.That(frames, Is.Empty);
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task BogusLengthWithAValidPreludeCrc_ThenSilence_IsClosedByTheConnectTimeout_WithoutAllocatingTheDeclaredLength()
    {
        await StartAsync(connectTimeout: ShortConnectTimeout);
        await using var raw = await _harness.ConnectRawAsync();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        // 23 MiB: under the 24 MiB limit, so the decoder waits for it.
        await raw.SendAsync(TestFrames.Prelude(23 * 1024 * 1024, 0));

        var frames = await raw.ReadUntilClosedAsync();
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(frames, Is.Empty);
        Assert.That(allocated, Is.LessThan(8 * 1024 * 1024), "the server did not allocate the declared 23 MiB");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task BogusLengthWithAValidPreludeCrc_AfterTheHandshake_DoesNotAllocateTheDeclaredLength()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();
        var before = GC.GetTotalAllocatedBytes(precise: true);

        await raw.SendAsync(TestFrames.Concat([TestFrames.Prelude(23 * 1024 * 1024, 0), new byte[100_000]]));
        await RpcHarness.AssertEchoWorksAsync(_good);
        await _good.PingAsync().Within("a ping on the good client");

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.That(allocated, Is.LessThan(8 * 1024 * 1024), "the server did not allocate the declared 23 MiB");
        await raw.DisposeAsync();
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task PreludeOverTheLimit_GetsAProtocolErrorAtOnce()
    {
        await StartAsync();
        await using var raw = await _harness.ConnectRawAsync();
        await raw.HandshakeAsync();

        await raw.SendAsync(TestFrames.Prelude(100 * 1024 * 1024, 0));

        await AssertProtocolErrorThenClosedAsync(raw, "above the limit");
        await AssertServerUnharmedAsync();
    }

    [Test]
    [CancelAfter(Timeout)]
    public async Task ManyBadClientsInARow_LeaveTheServerServingTheGoodOne()
    {
        await StartAsync();
        var random = new Random(99);
        for (var i = 0; i < 20; i++)
        {
            await using var raw = await _harness.ConnectRawAsync();
            var bytes = (i % 4) switch
            {
                0 => RpcFrames.Message(1, "echo"),
                1 => TestFrames.Concat([RpcFrames.Connect(), RpcFrames.Connect()]),
                2 => RandomBytes(random, 64),
                _ => TestFrames.Concat([RpcFrames.Connect(), RpcFrames.Message(5, "echo")]),
            };
            await raw.SendAsync(bytes);
            var frames = await raw.ReadUntilClosedAsync();
            Assert.That(frames.Count(f => RpcFrames.TypeOf(f) == MessageType.ProtocolError), Is.EqualTo(1), $"bad client {i}: {Describe(frames)}");
            await RpcHarness.AssertEchoWorksAsync(_good, $"{{\"after\":{i}}}");
        }

        await AssertServerUnharmedAsync();
    }

    /// <summary>Polls until <paramref name="value"/> stops changing for half a second (best effort, bounded).</summary>
    private static async Task WaitUntilStableAsync(Func<int> value)
    {
        var last = -1;
        var stableSince = DateTime.UtcNow;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var now = value();
            if (now != last)
            {
                last = now;
                stableSince = DateTime.UtcNow;
            }
            else if (now > 0 && DateTime.UtcNow - stableSince > TimeSpan.FromMilliseconds(500))
            {
                return;
            }

            await Task.Delay(20);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Describe(IEnumerable<EventStreamMessage> frames) => "frames: " + string.Join("; ", frames.Select(RpcFrames.Describe));

    private async Task StartAsync(TimeSpan? connectTimeout = null)
    {
        _harness = RpcHarness.Start(connectTimeout);
        _good = await _harness.ConnectClientAsync();
        _goodOnTheServer = _harness.Server.Connections.Single();
    }

    /// <summary>The server streams opened so far for connections other than the good client's.</summary>
    private List<RpcServerStream> StreamsOpenedForOthers()
    {
        var streams = new List<RpcServerStream>();
        while (_harness.Service.Opened.Reader.TryRead(out var stream))
        {
            if (!ReferenceEquals(stream.Connection, _goodOnTheServer))
            {
                streams.Add(stream);
            }
        }

        return streams;
    }

    /// <summary>The raw client gets exactly one ProtocolError, as the last frame, and then the socket is closed.</summary>
    private static async Task AssertProtocolErrorThenClosedAsync(RawPeer raw, string expectedInMessage)
    {
        var frames = await raw.ReadUntilClosedAsync();

        var errors = frames.Where(f => RpcFrames.TypeOf(f) == MessageType.ProtocolError).ToList();
        Assert.That(errors, Has.Count.EqualTo(1), Describe(frames));
        Assert.That(frames[^1], Is.SameAs(errors[0]), "the ProtocolError is the last frame before the close");
        var error = errors[0];
        Assert.That(RpcFrames.StreamIdOf(error), Is.Zero);
        Assert.That(RpcFrames.StringHeader(error, RpcHeaders.ContentType), Is.EqualTo(RpcHeaders.ContentTypeJson));
        using var json = JsonDocument.Parse(error.Payload);
        var message = json.RootElement.GetProperty("message").GetString();
        Assert.That(message, Does.Contain(expectedInMessage).IgnoreCase);
    }

    /// <summary>The well-behaved client still works, and the server has let go of every other connection.</summary>
    private async Task AssertServerUnharmedAsync()
    {
        await RpcHarness.AssertEchoWorksAsync(_good);
        await _good.PingAsync().Within("a ping on the good client");
        Assert.That(_good.IsClosed, Is.False);
        await Eventually.UntilAsync(() => _harness.Server.Connections.Count == 1, $"the server closed every connection but the good one (it has {_harness.Server.Connections.Count})");
    }
}
