using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.IoTCore;

[CancelAfter(60_000)]
public class CloudConnectionTests : IoTCoreTestBase
{
    [Test]
    public async Task GoOfflineAndGoOnline_ChangeTheState_AndRaiseStateChanged()
    {
        await StartAsync();
        var changes = new List<bool>();
        Cloud.StateChanged += (_, e) => changes.Add(e.IsOnline);

        Assert.That(Cloud.IsOnline, Is.True);
        Cloud.GoOffline();
        Cloud.GoOffline();
        Assert.That(Cloud.IsOnline, Is.False);
        Cloud.GoOnline();

        Assert.That(Cloud.IsOnline, Is.True);
        Assert.That(changes, Is.EqualTo(new[] { false, true }), "only real changes are raised");
    }

    [Test]
    public async Task StartOnlineFalse_StartsOffline()
    {
        await StartAsync(new IoTCoreOptions { StartOnline = false });
        var client = await ConnectAsync("com.example.Sensor");

        await PublishAsync(client, "dt/a", "waits");

        Assert.That(Cloud.IsOnline, Is.False);
        Assert.That(Cloud.Counters.SpoolMessages, Is.EqualTo(1));
        Cloud.GoOnline();
        await JournalAsync(1);
    }

    [Test]
    public async Task OutageFor_GoesOfflineNow_AndBackAfterTheDuration()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(time: time);
        var client = await ConnectAsync("com.example.Sensor");

        var outage = Cloud.OutageFor(TimeSpan.FromSeconds(30));
        Assert.That((Cloud.IsOnline, outage.IsActive), Is.EqualTo((false, true)));
        await PublishAsync(client, "dt/a", "during the outage");
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(Cloud.IsOnline, Is.False);
        Assert.That(Cloud.ReadJournal(), Is.Empty);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.That((Cloud.IsOnline, outage.IsActive), Is.EqualTo((true, false)));
        var journal = await JournalAsync(1);
        Assert.That(journal[0].PayloadUtf8, Is.EqualTo("during the outage"));
        Assert.That(journal[0].ReceivedAt, Is.EqualTo(time.GetUtcNow()), "received on the Nucleus's clock");
        Assert.That(Cloud.Outages, Is.Empty);
    }

    [Test]
    public async Task ScheduleOutage_GoesOfflineLater_ForTheDuration()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(time: time);
        var changes = new List<(bool Online, DateTimeOffset At)>();
        Cloud.StateChanged += (_, e) => changes.Add((e.IsOnline, e.At));
        var start = time.GetUtcNow();

        var outage = Cloud.ScheduleOutage(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10));
        Assert.That(Cloud.IsOnline, Is.True);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.That(Cloud.IsOnline, Is.True);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That((Cloud.IsOnline, outage.IsActive), Is.EqualTo((false, true)));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(Cloud.IsOnline, Is.True);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.That(Cloud.IsOnline, Is.True, "a one-time outage does not come back");
        Assert.That(changes, Is.EqualTo(new[] { (false, start.AddMinutes(1)), (true, start.AddSeconds(70)) }));
    }

    [Test]
    public async Task ScheduleRepeatingOutage_GoesOfflineEveryPeriod_UntilDisposed()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(time: time);
        var changes = new List<(bool Online, DateTimeOffset At)>();
        Cloud.StateChanged += (_, e) => changes.Add((e.IsOnline, e.At));
        var start = time.GetUtcNow();

        var outage = Cloud.ScheduleRepeatingOutage(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(185));
        Assert.That((Cloud.IsOnline, outage.Occurrences), Is.EqualTo((false, 3)), "the third outage is under way at 185 s");
        outage.Dispose();
        Assert.That(Cloud.IsOnline, Is.True, "disposing ends the outage under way");
        time.Advance(TimeSpan.FromMinutes(10));

        Assert.That(Cloud.IsOnline, Is.True);
        Assert.That(changes, Is.EqualTo(new[]
        {
            (false, start.AddSeconds(60)), (true, start.AddSeconds(70)),
            (false, start.AddSeconds(120)), (true, start.AddSeconds(130)),
            (false, start.AddSeconds(180)), (true, start.AddSeconds(185)),
        }));
    }

    [Test]
    public async Task GoOnline_EndsTheOutageUnderWay_ButTheScheduleGoesOn()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(time: time);
        var outage = Cloud.ScheduleRepeatingOutage(TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));

        time.Advance(TimeSpan.FromSeconds(60));
        Assert.That(Cloud.IsOnline, Is.False);
        Cloud.GoOnline();
        Assert.That(Cloud.IsOnline, Is.True);
        time.Advance(TimeSpan.FromSeconds(60));

        Assert.That((Cloud.IsOnline, outage.Occurrences), Is.EqualTo((false, 2)));
    }

    [Test]
    public async Task Latency_DelaysDeliveryToTheCloud_AndKeepsTheOrder()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(new IoTCoreOptions { MaxInFlightPublishes = 1 }, time);
        var client = await ConnectAsync("com.example.Sensor");
        Cloud.SetLatency(TimeSpan.FromSeconds(2));

        await PublishAsync(client, "dt/a", "one");
        await PublishAsync(client, "dt/a", "two");
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 1 && time.PendingTimers > 0, "first message on its way");
        Assert.That(Cloud.ReadJournal(), Is.Empty, "nothing arrives before the latency has passed");
        var sent = time.GetUtcNow();
        time.Advance(TimeSpan.FromSeconds(2));
        var first = await JournalAsync(1);
        Assert.That(first.Select(e => e.PayloadUtf8), Is.EqualTo(new[] { "one" }));
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 1 && time.PendingTimers > 0, "second message on its way");
        time.Advance(TimeSpan.FromSeconds(2));

        var journal = await JournalAsync(2);
        Assert.That(journal.Select(e => e.PayloadUtf8), Is.EqualTo(new[] { "one", "two" }));
        Assert.That(journal.Select(e => e.ReceivedAt), Is.EqualTo(new[] { sent.AddSeconds(2), sent.AddSeconds(4) }));
    }

    [Test]
    public async Task Latency_WithRealTime_MessagesStillArriveInOrder()
    {
        await StartAsync();
        var client = await ConnectAsync("com.example.Sensor");
        Cloud.SetLatency(TimeSpan.FromMilliseconds(50));
        var received = new List<string?>();
        Cloud.MessageReceived += (_, e) =>
        {
            lock (received)
            {
                received.Add(e.PayloadUtf8);
            }
        };

        for (var i = 0; i < 12; i++)
        {
            await PublishAsync(client, "dt/a", "m" + i);
        }

        var journal = await JournalAsync(12);
        Assert.That(journal.Select(e => e.PayloadUtf8), Is.EqualTo(Enumerable.Range(0, 12).Select(i => "m" + i)));
        lock (received)
        {
            Assert.That(received, Is.EqualTo(Enumerable.Range(0, 12).Select(i => "m" + i)));
        }
    }

    [Test]
    public async Task AMessageInFlightWhenTheConnectionDrops_IsRetriedFirst_AfterReconnect()
    {
        var time = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await StartAsync(new IoTCoreOptions { Latency = TimeSpan.FromSeconds(1) }, time);
        var client = await ConnectAsync("com.example.Sensor");

        await PublishAsync(client, "dt/a", "one");
        await PublishAsync(client, "dt/a", "two");
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 2 && time.PendingTimers > 0, "both messages in flight");
        Cloud.GoOffline();
        await PublishAsync(client, "dt/a", "three");
        Cloud.GoOnline();
        await Eventually.UntilAsync(() => Cloud.Counters.InFlight == 3 && time.PendingTimers > 0, "all in flight");
        time.Advance(TimeSpan.FromSeconds(1));

        var journal = await JournalAsync(3);
        Assert.That(journal.Select(e => e.PayloadUtf8), Is.EqualTo(new[] { "one", "two", "three" }));
        Assert.That(Cloud.Counters.Retried, Is.EqualTo(2));
    }

    [Test]
    public async Task TheJournal_ContinuesItsNumbering_WhenTheRootIsUsedAgain_PastALineCutShort()
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-iotcore-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using (var first = await Fogline.LocalNucleus.Nucleus.StartAsync(new NucleusOptions { RootPath = root }))
            {
                first.IoTCore.Publish(CloudMessage.FromText("dt/a", "first run", MqttQos.AtLeastOnce), "com.example.Sensor");
                await Eventually.UntilAsync(() => first.IoTCore.ReadJournal().Count == 1, "first message journaled");
            }

            // As if a process had stopped while writing a line.
            File.AppendAllText(Path.Combine(root, "cloud", "journal.jsonl"), "{\"sequence\":2,\"topi");

            await using var second = await Fogline.LocalNucleus.Nucleus.StartAsync(new NucleusOptions { RootPath = root });
            second.IoTCore.Publish(CloudMessage.FromText("dt/a", "second run", MqttQos.AtLeastOnce));
            await Eventually.UntilAsync(() => second.IoTCore.ReadJournal().Count == 2, "second message journaled");

            var journal = second.IoTCore.ReadJournal();
            Assert.That(journal.Select(e => (e.Sequence, e.PayloadUtf8, e.Component)), Is.EqualTo(new[] { (1L, "first run", "com.example.Sensor"), (2L, "second run", (string?)null) }));
            Assert.That(second.IoTCore.JournalPath, Is.EqualTo(Path.Combine(Path.GetFullPath(root), "cloud", "journal.jsonl")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
