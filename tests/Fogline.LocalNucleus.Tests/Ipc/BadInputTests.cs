using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Ipc;

/// <summary>A misbehaving client must not crash the local Nucleus or disturb the well-behaved ones.</summary>
[NonParallelizable]
public class BadInputTests
{
    private static readonly string[] Operations =
    [
        "aws.greengrass#GetConfiguration", "aws.greengrass#UpdateConfiguration", "aws.greengrass#SubscribeToConfigurationUpdate",
        "aws.greengrass#PublishToTopic", "aws.greengrass#SubscribeToTopic", "aws.greengrass#UpdateState", "aws.greengrass#NoSuchOperation",
    ];

    private static readonly string[] Payloads =
    [
        """{"keyPath":["threshold"]}""", """{"keyPath":[],"timestamp":1.5,"valueToMerge":{"a":1}}""", """{"topic":"a/b","publishMessage":{"jsonMessage":{"message":{"x":1}}}}""",
        """{"state":"RUNNING"}""", "{}", "not json", "[1,2,3]", """{"keyPath":"wrong type"}""", "", """{"componentName":"x","keyPath":[null]}""",
    ];

    [Test]
    [CancelAfter(180_000)]
    public async Task HundredThousandMutatedFrames_DoNotCrashTheServer_NorDisturbAWellBehavedClient()
    {
        await using var nucleus = await TestNucleus.StartAsync();
        var good = nucleus.Add("com.example.Good", """{"counter":0}""");
        var bad = nucleus.Add("com.example.Bad", """{"threshold":1}""");
        var client = await nucleus.ConnectAsync(good);
        await using var updates = await client.SubscribeToConfigurationUpdateAsync(new SubscribeToConfigurationUpdateRequest { KeyPath = [] });

        using var stop = new CancellationTokenSource();
        var wellBehaved = Task.Run(async () =>
        {
            var n = 0;
            await using var events = updates.GetAsyncEnumerator();
            while (!stop.IsCancellationRequested)
            {
                n++;
                await client.UpdateConfigurationAsync(new UpdateConfigurationRequest
                {
                    KeyPath = [],
                    Timestamp = DateTimeOffset.UtcNow.AddSeconds(n),
                    ValueToMerge = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["counter"] = n }),
                });
                Assert.That(await events.MoveNextAsync(), Is.True, "an update event for every update");
                var value = await client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["counter"] });
                Assert.That(value.Value!.Value.GetProperty("counter").GetInt32(), Is.EqualTo(n));
            }

            return n;
        });

        var random = new Random(20261122);
        var sent = 0;
        var connections = 0;
        // Counted on the server's side of the wire: a mutated frame counts once the server answered it, so the
        // 100,000 frames all reached the server's RPC layer and handlers (frames sent after a connection broke do not count).
        const int total = 100_000;
        var answered = 0;
        while (answered < total)
        {
            connections++;
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(nucleus.Nucleus.SocketPath));
            var stream = new NetworkStream(socket, ownsSocket: false);
            var buffer = new MemoryStream();
            if (random.Next(10) != 0)
            {
                buffer.Write(Frame(MessageType.Connect, 0, null, $$"""{"authToken":"{{bad.Token}}"}""", [EventStreamHeader.FromString(":version", "0.1.0")]));
            }

            // A burst of frames on this connection: most are well framed but mutated (so they reach the RPC layer,
            // the JSON readers and the handlers), some are byte garbage; the connection usually dies at some point.
            var streamId = 0;
            var burst = random.Next(1, 200);
            for (var i = 0; i < burst; i++, sent++)
            {
                var payload = Payloads[random.Next(Payloads.Length)];
                var frame = Frame(MessageType.ApplicationMessage, ++streamId, Operations[random.Next(Operations.Length)], payload, []);
                Mutate(frame, Encoding.UTF8.GetByteCount(payload), random);
                buffer.Write(frame);
            }

            try
            {
                await stream.WriteAsync(buffer.ToArray());
                socket.Shutdown(SocketShutdown.Send);
                answered += await CountAnswersAsync(stream);
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                // The server closed the connection on a broken frame: expected.
            }
        }

        stop.Cancel();
        var rounds = await wellBehaved;
        TestContext.Progress.WriteLine($"{answered} mutated frames answered by the server ({sent} sent) over {connections} connections; the well-behaved client completed {rounds} update/get rounds meanwhile");
        Assert.That(rounds, Is.GreaterThan(0));

        // The server still serves new connections.
        var again = await nucleus.ConnectAsync(good);
        Assert.That((await again.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["counter"] })).Value, Is.Not.Null);
        await Eventually.UntilAsync(() => nucleus.Nucleus.IpcServer.Connections.Count <= 2, "bad connections released");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task ClientThatConnectsAndNeverSpeaks_IsClosedAfterTheConnectTimeout()
    {
        await using var nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, IpcConnectTimeout = TimeSpan.FromMilliseconds(300) });
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(nucleus.Nucleus.SocketPath));

        var read = await socket.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.That(read, Is.Zero, "the server closes the silent connection");
        await Eventually.UntilAsync(() => nucleus.Nucleus.IpcServer.Connections.Count == 0, "connection released");
    }

    /// <summary>Reads until the server closes, counting the answers on streams (responses and errors to requests).</summary>
    private static async Task<int> CountAnswersAsync(NetworkStream stream)
    {
        var received = new MemoryStream();
        var sink = new byte[8192];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        int n;
        while ((n = await stream.ReadAsync(sink, timeout.Token)) > 0)
        {
            received.Write(sink, 0, n);
        }

        var answers = 0;
        using var decoder = new FrameDecoder();
        var bytes = new System.Buffers.ReadOnlySequence<byte>(received.ToArray());
        while (decoder.TryDecode(ref bytes, out var frame))
        {
            if (RpcMessage.TryParse(frame, out var message, out _) && message.StreamId != 0)
            {
                answers++;
            }
        }

        return answers;
    }

    private static byte[] Frame(MessageType type, int streamId, string? operation, string payload, EventStreamHeader[] extra)
    {
        var headers = new List<EventStreamHeader>
        {
            EventStreamHeader.FromInt32(":message-type", (int)type),
            EventStreamHeader.FromInt32(":message-flags", 0),
            EventStreamHeader.FromInt32(":stream-id", streamId),
        };
        if (operation is not null)
        {
            headers.Add(EventStreamHeader.FromString("operation", operation));
            headers.Add(EventStreamHeader.FromString(":content-type", "application/json"));
        }

        headers.AddRange(extra);
        return FrameEncoder.Encode([.. headers], Encoding.UTF8.GetBytes(payload));
    }

    /// <summary>Flips, overwrites or truncates; most of the time recomputes both CRCs so the frame passes framing.</summary>
    private static void Mutate(byte[] frame, int payloadLength, Random random)
    {
        var mutations = random.Next(0, 4);
        var payloadStart = frame.Length - 4 - payloadLength;
        for (var m = 0; m < mutations; m++)
        {
            // Mostly the payload (the frame stays a valid request and reaches the JSON readers and the handlers),
            // sometimes the headers (protocol violations).
            var at = payloadLength > 0 && random.Next(4) != 0 ? random.Next(payloadStart, frame.Length - 4) : random.Next(12, frame.Length - 4);
            switch (random.Next(3))
            {
                case 0:
                    frame[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    frame[at] = (byte)random.Next(256);
                    break;
                default:
                    frame[at] = (byte)"{}[]\":,0#+*"[random.Next(11)];
                    break;
            }
        }

        if (random.Next(20) != 0)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(8), Crc32.Compute(frame.AsSpan(0, 8)));
            BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(frame.Length - 4), Crc32.Compute(frame.AsSpan(0, frame.Length - 4)));
        }
    }
}
