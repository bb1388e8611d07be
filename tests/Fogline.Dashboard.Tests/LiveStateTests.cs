using System.Text;
using System.Text.Json.Nodes;
using Fogline.ComponentKit.Messages;
using Fogline.Dashboard.Live;
using Fogline.Dashboard.Web;

namespace Fogline.Dashboard.Tests;

/// <summary>The page's state: snapshots, deltas, staleness, alerts and acknowledgements, bounded browsers.</summary>
public class LiveStateTests
{
    private static JsonNode Json(ReadOnlyMemory<byte> frame)
    {
        var text = Encoding.UTF8.GetString(frame.Span);
        Assert.That(text, Does.StartWith("data: ").And.EndWith("\n\n"));
        Assert.That(text.TrimEnd('\n'), Does.Not.Contain('\n'), "one SSE data line");
        return JsonNode.Parse(text["data: ".Length..])!;
    }

    private static JsonNode Connect(LiveState state, ClientHub hub, DashboardClient client, double now = 100) =>
        Json(state.Connect(hub, client, 10, "op", now)!);

    private static JsonNode NextDelta(DashboardClient client)
    {
        Assert.That(client.Queue.Reader.TryRead(out var frame), Is.True, "a delta was pushed");
        return Json(frame);
    }

    [Test]
    public void ASnapshotThenDeltas_CarryNewSeriesValuesAndTrends()
    {
        var state = new LiveState(trendSeconds: 10, staleSeconds: 5, maxSeries: 100);
        var hub = new ClientHub();
        state.Record(new Reading("hall-a", "press-1", "temperature", 20, 90.2, "C"), 90.3);
        state.Record(new Reading("hall-a", "press-1", "temperature", 21, 90.7, "C"), 90.8);
        state.Record(new Reading("hall-a", "press-1", "temperature", 22, 91.1, "C"), 91.2);
        using var early = new DashboardClient("early", 8);
        Connect(state, hub, early, 91.25);
        state.PushDelta(hub, 91.25);
        Assert.That(NextDelta(early)["values"]!.ToJsonString(), Is.EqualTo("[[0,22,91.1,0]]"), "what changed before a push reaches the browsers connected before it");
        using var client = new DashboardClient("t", 8);
        var snapshot = Connect(state, hub, client, 91.3);
        Assert.That(snapshot["type"]!.GetValue<string>(), Is.EqualTo("snapshot"));
        Assert.That(snapshot["series"]!.ToJsonString(), Is.EqualTo("""[[0,"hall-a","press-1","temperature","C"]]"""));
        Assert.That(snapshot["values"]!.ToJsonString(), Is.EqualTo("[[0,22,91.1,0]]"));
        Assert.That(snapshot["trends"]!.ToJsonString(), Is.EqualTo("[[0,90,21,91,22]]"), "the last value of each second");

        state.PushDelta(hub, 91.4);
        Assert.That(client.Queue.Reader.TryRead(out _), Is.False, "nothing changed since the snapshot");

        state.Record(new Reading("hall-a", "press-2", "vibration", 3, 91.5, "mm/s"), 91.5);
        state.Record(new Reading("hall-a", "press-1", "temperature", 23, 91.5, "C"), 91.5);
        state.PushDelta(hub, 91.6);
        var delta = NextDelta(client);
        Assert.That(delta["type"]!.GetValue<string>(), Is.EqualTo("delta"));
        Assert.That(delta["series"]!.ToJsonString(), Is.EqualTo("""[[1,"hall-a","press-2","vibration","mm/s"]]"""));
        Assert.That(delta["values"]!.AsArray().Select(v => v![0]!.GetValue<int>()), Is.EquivalentTo(new[] { 0, 1 }));
        Assert.That(delta["seq"]!.GetValue<long>(), Is.EqualTo(snapshot["seq"]!.GetValue<long>() + 1));
    }

    [Test]
    public void ADeviceThatStopsReporting_IsPushedStale_WithItsLastValue_NotZero()
    {
        var state = new LiveState(10, staleSeconds: 5, maxSeries: 100);
        var hub = new ClientHub();
        state.Record(new Reading("z", "d", "t", 42, 100), 100);
        state.PushDelta(hub, 100);
        using var client = new DashboardClient("t", 8);
        Connect(state, hub, client, 100);
        state.PushDelta(hub, 104);
        Assert.That(client.Queue.Reader.TryRead(out _), Is.False);
        state.PushDelta(hub, 106);
        Assert.That(NextDelta(client)["values"]!.ToJsonString(), Is.EqualTo("[[0,42,100,1]]"), "stale (1), last value kept");
        state.PushDelta(hub, 107);
        Assert.That(client.Queue.Reader.TryRead(out _), Is.False, "pushed once");

        // A source that says the device is unreachable: stale at once; a bad conversion: bad.
        state.Record(new Reading("z", "d", "t", 43, 108), 108);
        state.Record(new Reading("z", "d", "t", double.NaN, 109) { Quality = ReadingQuality.Stale }, 109);
        state.Record(new Reading("z", "e", "t", double.NaN, 109) { Quality = ReadingQuality.Bad }, 109);
        state.PushDelta(hub, 109.1);
        var values = NextDelta(client)["values"]!.ToJsonString();
        Assert.That(values, Is.EqualTo("[[0,43,109,1],[1,null,109,2]]"));
    }

    [Test]
    public void Alerts_RaiseClearEscalateAndAcknowledge()
    {
        var state = new LiveState(10, 5, 100);
        var hub = new ClientHub();
        using var client = new DashboardClient("t", 16);
        Connect(state, hub, client);
        var threshold = """{"v":1,"id":"a1","rule":"temp-high","zone":"hall-a","device":"press-1","metric":"temperature","severity":"warning","previous":"normal","threshold":75,"direction":"above","ts":100,"reading":{"v":1,"zone":"hall-a","device":"press-1","metric":"temperature","value":76,"ts":100}}""";
        var zone = "{\n  \"v\":1,\"id\":\"z1\",\"kind\":\"zone\",\"rule\":\"hot-and-shaking\",\"zone\":\"hall-a\",\"severity\":\"critical\",\"previous\":\"normal\",\"ts\":101,\"conditions\":[]}";
        Assert.That(state.RecordAlert(Encoding.UTF8.GetBytes(threshold), out _), Is.True);
        Assert.That(state.RecordAlert(Encoding.UTF8.GetBytes(zone), out _), Is.True);
        state.PushDelta(hub, 101);
        var alerts = NextDelta(client)["alerts"]!.AsArray();
        Assert.That(alerts.Select(a => (a!["key"]!.GetValue<string>(), a["kind"]!.GetValue<string>())), Is.EquivalentTo(new[]
        {
            ("temp-high|hall-a|press-1|temperature", "threshold"),
            ("zone|hall-a|hot-and-shaking", "zone"),
        }));

        Assert.That(state.Acknowledge("zone|hall-a|hot-and-shaking", "op", 102), Is.True);
        Assert.That(state.Acknowledge("no-such-key", "op", 102), Is.False);
        state.PushDelta(hub, 102);
        var acked = NextDelta(client)["alerts"]!.AsArray().Single()!;
        Assert.That(acked["ackedBy"]!.GetValue<string>(), Is.EqualTo("op"));

        // The same severity again keeps the acknowledgement; an escalation clears it; normal clears the alert.
        Assert.That(state.RecordAlert(Encoding.UTF8.GetBytes(zone.Replace("\"z1\"", "\"z2\"", StringComparison.Ordinal)), out _), Is.True);
        state.Acknowledge("temp-high|hall-a|press-1|temperature", "op", 103);
        Assert.That(state.RecordAlert(Encoding.UTF8.GetBytes(threshold.Replace("\"severity\":\"warning\"", "\"severity\":\"critical\"", StringComparison.Ordinal)), out _), Is.True);
        state.PushDelta(hub, 104);
        var changed = NextDelta(client)["alerts"]!.AsArray().ToDictionary(a => a!["key"]!.GetValue<string>());
        Assert.That(changed["zone|hall-a|hot-and-shaking"]!["ackedBy"]?.GetValue<string>(), Is.EqualTo("op"));
        Assert.That(changed["temp-high|hall-a|press-1|temperature"]!["ackedBy"], Is.Null, "escalated: to be acknowledged again");

        Assert.That(state.RecordAlert(Encoding.UTF8.GetBytes(threshold.Replace("\"severity\":\"warning\"", "\"severity\":\"normal\"", StringComparison.Ordinal)), out _), Is.True);
        state.PushDelta(hub, 105);
        Assert.That(NextDelta(client)["cleared"]!.ToJsonString(), Is.EqualTo("""["temp-high|hall-a|press-1|temperature"]"""));

        // A new browser sees only the active one, acknowledged.
        using var late = new DashboardClient("t2", 4);
        var snapshot = Connect(state, hub, late, 106);
        Assert.That(snapshot["alerts"]!.AsArray().Single()!["ackedBy"]!.GetValue<string>(), Is.EqualTo("op"));
    }

    [TestCase("not json")]
    [TestCase("[1,2]")]
    [TestCase("""{"rule":"r","zone":"z","severity":"purple","device":"d","metric":"m"}""")]
    [TestCase("""{"rule":"r","zone":"z","severity":"warning"}""")]
    public void MalformedAlerts_AreRefusedWithAReason(string payload)
    {
        var state = new LiveState(10, 5, 100);
        Assert.That(state.RecordAlert(Encoding.UTF8.GetBytes(payload), out var error), Is.False);
        Assert.That(error, Is.Not.Empty);
    }

    [Test]
    public void HealthZonesAndUplink_AreCarriedAsObjects_MalformedOnesRefused()
    {
        var state = new LiveState(10, 5, 100);
        Assert.That(state.RecordHealth("""{"v":1,"component":"com.fogline.AlertEngine","ts":1,"counters":{"received":5,"errors":0}}"""u8, 10), Is.True);
        Assert.That(state.RecordHealth("""{"component":"x"}"""u8, 10), Is.False);
        Assert.That(state.RecordHealth("garbage"u8, 10), Is.False);
        Assert.That(state.RecordZone("""{"v":1,"zone":"hall-a","devices":2,"fresh":1,"stale":["press-2"]}"""u8), Is.True);
        Assert.That(state.RecordZone("""{"zone":"a/b"}"""u8), Is.False);
        Assert.That(state.RecordUplink("{\n\"state\": \"offline\",\n\"queued\": 12}"u8), Is.True);
        Assert.That(state.RecordUplink("[]"u8), Is.False);
        var hub = new ClientHub();
        using var client = new DashboardClient("t", 4);
        var snapshot = Connect(state, hub, client);
        Assert.That(snapshot["health"]![0]!["counters"]!["received"]!.GetValue<int>(), Is.EqualTo(5));
        Assert.That(snapshot["health"]![0]!["receivedAt"]!.GetValue<double>(), Is.EqualTo(10));
        Assert.That(snapshot["zones"]![0]!["stale"]![0]!.GetValue<string>(), Is.EqualTo("press-2"));
        Assert.That(snapshot["uplink"]!["state"]!.GetValue<string>(), Is.EqualTo("offline"));
    }

    [Test]
    public void SeriesBeyondTheLimit_AreSkippedAndCounted_AndRecordingAllocatesNothing()
    {
        var state = new LiveState(120, 5, maxSeries: 3);
        for (var i = 0; i < 5; i++)
        {
            state.Record(new Reading("z", "d" + i, "t", i, 1), 1);
        }

        Assert.That((state.SeriesCount, state.SeriesOverLimit), Is.EqualTo((3, 2L)));
        var reading = new Reading("z", "d1", "t", 1, 2);
        for (var i = 0; i < 1000; i++)
        {
            reading.Timestamp = 2 + (i * 0.01);
            state.Record(reading, reading.Timestamp);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100_000; i++)
        {
            reading.Timestamp = 20 + (i * 0.01);
            reading.Value = i;
            state.Record(reading, reading.Timestamp);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void ABrowserTooFarBehind_IsDisconnected_TheOthersKeepTheirPushes()
    {
        var state = new LiveState(10, 5, 100);
        var hub = new ClientHub();
        using var slow = new DashboardClient("slow", 3);
        using var fast = new DashboardClient("fast", 3);
        Connect(state, hub, slow);
        Connect(state, hub, fast);
        for (var i = 0; i < 10; i++)
        {
            state.Record(new Reading("z", "d", "t", i, 100 + i), 100 + i);
            state.PushDelta(hub, 100 + i);
            Assert.That(fast.Queue.Reader.TryRead(out _), Is.True, $"push {i} reached the fast browser");
        }

        Assert.That(slow.Closed.IsCancellationRequested, Is.True);
        Assert.That(slow.DroppedBecause, Does.Contain("too slow"));
        Assert.That((hub.Count, hub.DroppedSlow), Is.EqualTo((1, 1L)));
        Assert.That(fast.Closed.IsCancellationRequested, Is.False);
    }

    [Test]
    public void TheHubRefusesBrowsersBeyondItsLimit()
    {
        var state = new LiveState(10, 5, 100);
        var hub = new ClientHub();
        var clients = Enumerable.Range(0, 3).Select(i => new DashboardClient("c" + i, 2)).ToList();
        Assert.That(clients.Select(c => state.Connect(hub, c, 2, "op", 1) is not null), Is.EqualTo(new[] { true, true, false }));
        hub.Remove(clients[0]);
        Assert.That(state.Connect(hub, clients[2], 2, "op", 1), Is.Not.Null);
        clients.ForEach(c => c.Dispose());
    }
}
