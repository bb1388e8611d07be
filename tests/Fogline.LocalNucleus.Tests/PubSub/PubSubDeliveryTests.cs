using System.Buffers.Binary;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.PubSub;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.PubSub;

/// <summary>
/// Delivery: per-subscriber order, bounded queues that drop the oldest message for a subscriber that does not keep up
/// without holding up anyone else, and release of everything a subscription held when its stream or connection ends.
/// </summary>
public class PubSubDeliveryTests
{
    private const string PubSubService = "aws.greengrass.ipc.pubsub";
    private const string Publish = "aws.greengrass#PublishToTopic";
    private const string Subscribe = "aws.greengrass#SubscribeToTopic";

    private TestNucleus _nucleus = null!;

    private LocalPubSub PubSub => _nucleus.Nucleus.PubSub;

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    [CancelAfter(60_000)]
    public async Task EverySubscriberGetsEachPublishersMessagesInOrder()
    {
        const int PerPublisher = 1000;

        // Queues large enough that nothing can be dropped: order is all this test looks at.
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, PubSub = new PubSubOptions { SubscriberQueueCapacity = 10 * PerPublisher } });
        var publishers = new[]
        {
            await ConnectAsync("com.example.P0", [Publish], ["order/a"]),
            await ConnectAsync("com.example.P1", [Publish], ["order/b"]),
        };
        var subscribers = new[]
        {
            await ConnectAsync("com.example.S0", [Subscribe], ["order/+"]),
            await ConnectAsync("com.example.S1", [Subscribe], ["order/#"]),
        };
        var streamOptions = new IpcStreamOptions { Capacity = 10 * PerPublisher };
        var streams = new[]
        {
            await subscribers[0].SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "order/+" }, streamOptions),
            await subscribers[1].SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "order/#" }, streamOptions),
        };
        var inProcess = new List<(int Publisher, int Sequence)>();
        using var hostSubscription = PubSub.Subscribe("order/#", (_, payload) => inProcess.Add(Decode(payload.Span)));

        // Two publishers at once, each publishing its sequence one message after the other.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < PerPublisher; i++)
            {
                await publishers[p].PublishToTopicAsync(new PublishToTopicRequest
                {
                    Topic = p == 0 ? "order/a" : "order/b",
                    PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encode(p, i) } },
                });
            }
        })));

        foreach (var stream in streams)
        {
            var received = new List<(int Publisher, int Sequence)>();
            await foreach (var evt in stream)
            {
                received.Add(Decode(evt.BinaryMessage!.Message!.Value.Span));
                if (received.Count == 2 * PerPublisher)
                {
                    break;
                }
            }

            AssertInOrder(received, PerPublisher);
            await stream.DisposeAsync();
        }

        await Eventually.UntilAsync(() => hostSubscription.DeliveredMessages == 2 * PerPublisher, "the in-process subscriber");
        AssertInOrder(inProcess, PerPublisher);
        Assert.That(PubSub.DroppedMessages, Is.Zero);
    }

    [Test]
    [CancelAfter(120_000)]
    public async Task ASlowSubscriber_DropsItsOldestMessages_WithoutHoldingUpThePublisherOrAFastSubscriber()
    {
        const int Capacity = 16;
        const int Messages = 1000;
        var payload = new byte[32 * 1024];
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, PubSub = new PubSubOptions { SubscriberQueueCapacity = Capacity } });
        var publisher = await ConnectAsync("com.example.Publisher", [Publish], ["bulk"]);
        var fastClient = await ConnectAsync("com.example.Fast", [Subscribe], ["bulk"]);
        var slowClient = await ConnectAsync("com.example.Slow", [Subscribe], ["bulk"]);

        // The slow client takes one event and then stops reading its connection (Wait mode, capacity 1, never read):
        // the Nucleus can no longer write to it.
        var slow = await slowClient.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "bulk" }, new IpcStreamOptions { FullMode = IpcStreamFullMode.Wait, Capacity = 1 });
        var fast = await fastClient.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "bulk" });
        var slowSubscription = PubSub.GetSubscribers().Single(s => s.Component == "com.example.Slow");
        var fastSubscription = PubSub.GetSubscribers().Single(s => s.Component == "com.example.Fast");

        // The publisher sends the next message only once the fast subscriber has the previous one: the fast
        // subscriber never has more than one message queued, whatever the machine's speed, and must get them all.
        await using var fastEvents = fast.GetAsyncEnumerator();
        for (var i = 0; i < Messages; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(payload, i);
            await publisher.PublishToTopicAsync(new PublishToTopicRequest
            {
                Topic = "bulk",
                PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = payload } },
            });
            Assert.That(await fastEvents.MoveNextAsync(), Is.True);
            Assert.That(BinaryPrimitives.ReadInt32LittleEndian(fastEvents.Current.BinaryMessage!.Message!.Value.Span), Is.EqualTo(i), "the fast subscriber's messages, in order");
        }

        Assert.That(fastSubscription.DroppedMessages, Is.Zero);
        Assert.That(slowSubscription.MatchedMessages, Is.EqualTo(Messages));
        Assert.That(slowSubscription.DroppedMessages, Is.GreaterThan(Messages / 2), "far more than the socket buffers hold was published");
        Assert.That(slowSubscription.QueuedMessages, Is.LessThanOrEqualTo(Capacity));
        var accounted = slowSubscription.DeliveredMessages + slowSubscription.DroppedMessages + slowSubscription.QueuedMessages;
        Assert.That(accounted, Is.InRange(Messages - 1, Messages), "delivered, dropped or queued (one may be in the pump's hands)");
        Assert.That(PubSub.DroppedMessages, Is.EqualTo(slowSubscription.DroppedMessages));
        Assert.That(slowSubscription.IsPumping, Is.True, "its pump waits on the connection");

        // Dropping the slow client's connection ends its subscription and stops its pump.
        await slowClient.DisposeAsync();
        await Eventually.UntilAsync(() => slowSubscription.IsClosed && !slowSubscription.IsPumping, "the slow subscription released", TimeSpan.FromMilliseconds(30_000));
        Assert.That(PubSub.GetSubscribers(), Is.EqualTo(new[] { fastSubscription }));
        Assert.That(slowSubscription.QueuedMessages, Is.Zero);
        await fast.DisposeAsync();
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task ClosingTheStream_ReleasesTheSubscription()
    {
        _nucleus = await TestNucleus.StartAsync();
        var client = await ConnectAsync("com.example.Sub", [Subscribe], ["*"]);
        var stream = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "release/+/deep/#" });
        var subscription = PubSub.GetSubscribers().Single();
        Assert.That((PubSub.SubscriberCount, PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((1, 1, 4)));
        PubSub.Publish("release/x/deep/y", "1"u8.ToArray());
        await Eventually.UntilAsync(() => subscription.DeliveredMessages == 1 && !subscription.IsPumping, "the message delivered");

        await stream.DisposeAsync();

        await Eventually.UntilAsync(() => PubSub.SubscriberCount == 0, "the subscription released");
        Assert.That((PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((0, 0)));
        Assert.That(subscription.IsClosed, Is.True);
        await Eventually.UntilAsync(() => OpenStreams() == 0, "the server stream gone");
        PubSub.Publish("release/x/deep/y", "2"u8.ToArray());
        Assert.That(subscription.MatchedMessages, Is.EqualTo(1));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task LosingTheConnection_ReleasesItsSubscriptions()
    {
        _nucleus = await TestNucleus.StartAsync();
        var client = await ConnectAsync("com.example.Sub", [Subscribe], ["*"]);
        for (var i = 0; i < 5; i++)
        {
            await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = $"conn/{i}" });
        }

        Assert.That(PubSub.SubscriberCount, Is.EqualTo(5));

        await client.DisposeAsync();

        await Eventually.UntilAsync(() => PubSub.SubscriberCount == 0, "the subscriptions released");
        Assert.That((PubSub.TopicCount, PubSub.TrieNodeCount), Is.EqualTo((0, 0)));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task DisposingASubscriptionOnTheHost_ClosesItsStream()
    {
        _nucleus = await TestNucleus.StartAsync();
        var client = await ConnectAsync("com.example.Sub", [Subscribe], ["*"]);
        var stream = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "host/closes" });

        PubSub.GetSubscribers().Single().Dispose();

        await stream.Completion.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.That(PubSub.SubscriberCount, Is.Zero);
        await Eventually.UntilAsync(() => OpenStreams() == 0, "the server stream gone");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task AnInProcessSubscriberThatThrows_KeepsGettingMessages()
    {
        _nucleus = await TestNucleus.StartAsync();
        var seen = 0;
        using var subscription = PubSub.Subscribe("throws", (_, _) =>
        {
            Interlocked.Increment(ref seen);
            throw new InvalidOperationException("subscriber bug");
        });

        PubSub.Publish("throws", "1"u8.ToArray());
        PubSub.Publish("throws", "2"u8.ToArray());

        await Eventually.UntilAsync(() => subscription.DeliveredMessages == 2, "both messages handed over");
        Assert.That(Volatile.Read(ref seen), Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task AFullInProcessQueue_DropsTheOldestMessage_AndCountsIt()
    {
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, PubSub = new PubSubOptions { SubscriberQueueCapacity = 3 } });
        using var gate = new ManualResetEventSlim(false);
        var received = new List<int>();
        using var subscription = PubSub.Subscribe("q", (_, payload) =>
        {
            gate.Wait();
            lock (received)
            {
                received.Add(payload.Span[0]);
            }
        });

        // The first message is taken by the pump, which then blocks in the callback; of the next six, only the
        // newest three stay queued.
        PubSub.Publish("q", new byte[] { 0 });
        await Eventually.UntilAsync(() => subscription.QueuedMessages == 0, "the pump holds message 0");
        for (byte i = 1; i <= 6; i++)
        {
            PubSub.Publish("q", new[] { i });
        }

        Assert.That((subscription.QueuedMessages, subscription.DroppedMessages, PubSub.DroppedMessages), Is.EqualTo((3, 3L, 3L)));
        gate.Set();
        await Eventually.UntilAsync(() => subscription.DeliveredMessages == 4 && !subscription.IsPumping, "the queue drained");
        lock (received)
        {
            Assert.That(received, Is.EqualTo(new[] { 0, 4, 5, 6 }));
        }
    }

    /// <summary>
    /// The leak test: 100,000 SubscribeToTopic streams opened and closed through a real IPC client leave the memory
    /// where it was after the first 10,000, with no subscriber, trie node or server stream left.
    /// </summary>
    [Test]
    [CancelAfter(180_000)]
    public async Task HundredThousandSubscribeCloseCycles_LeaveMemoryFlat()
    {
        const int Warmup = 10_000;
        const int Total = 100_000;
        const int Workers = 8;
        _nucleus = await TestNucleus.StartAsync();
        var component = _nucleus.Add("com.example.Churn", TestNucleus.Policy(PubSubService, "churn", [Subscribe], ["*"]));
        var clients = new GreengrassIpcClient[Workers / 2];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = await _nucleus.ConnectAsync(component);
        }

        await CyclesAsync(0, Warmup);
        await Eventually.UntilAsync(Released, "everything released after the first cycles", TimeSpan.FromMilliseconds(30_000));
        var baseline = MeasureMemory();

        await CyclesAsync(Warmup, Total);
        await Eventually.UntilAsync(Released, "everything released after all cycles", TimeSpan.FromMilliseconds(30_000));
        var after = MeasureMemory();

        TestContext.Out.WriteLine($"managed memory after {Warmup:N0} cycles: {baseline:N0} bytes; after {Total:N0}: {after:N0} bytes");
        Assert.That(after - baseline, Is.LessThan(4 * 1024 * 1024), "memory grew by more than 4 MB over 90,000 cycles");
        Assert.That((PubSub.SubscriberCount, PubSub.TopicCount, PubSub.TrieNodeCount, OpenStreams()), Is.EqualTo((0, 0, 0, 0)));
        Assert.That(_nucleus.Nucleus.IpcServer.Connections, Has.Count.EqualTo(clients.Length));

        async Task CyclesAsync(int from, int to)
        {
            var next = from - 1;
            await Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(async () =>
            {
                var client = clients[w % clients.Length];
                for (var i = Interlocked.Increment(ref next); i < to; i = Interlocked.Increment(ref next))
                {
                    await using var stream = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = $"churn/{i % 97}/+/x{i % 13}" });
                }
            })));
        }

        bool Released() => PubSub.SubscriberCount == 0 && OpenStreams() == 0;
    }

    private static long MeasureMemory()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static byte[] Encode(int publisher, int sequence)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, publisher);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), sequence);
        return bytes;
    }

    private static (int Publisher, int Sequence) Decode(ReadOnlySpan<byte> bytes) =>
        (BinaryPrimitives.ReadInt32LittleEndian(bytes), BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]));

    private static void AssertInOrder(List<(int Publisher, int Sequence)> received, int perPublisher)
    {
        Assert.That(received, Has.Count.EqualTo(2 * perPublisher));
        for (var p = 0; p < 2; p++)
        {
            Assert.That(received.Where(r => r.Publisher == p).Select(r => r.Sequence), Is.EqualTo(Enumerable.Range(0, perPublisher)), $"publisher {p}'s messages in order");
        }
    }

    private int OpenStreams() => _nucleus.Nucleus.IpcServer.Connections.Sum(c => c.OpenStreamCount);

    private async Task<GreengrassIpcClient> ConnectAsync(string name, string[] operations, string[] resources) =>
        await _nucleus.ConnectAsync(_nucleus.Add(name, TestNucleus.Policy(PubSubService, name, operations, resources)));
}
