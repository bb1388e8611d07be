using System.Buffers;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Messages;
using Fogline.ZoneCorrelator;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// ZoneCorrelator's zone state and rules on explicit times: conditions over several devices, the minimum duration,
/// staleness, hysteresis, cooldown, live rule changes and configuration errors.
/// </summary>
public class ZoneCorrelatorRuleTests
{
    private const double Stale = 5;

    private static ZoneRuleOptions Rule(string json)
    {
        var options = ZoneCorrelatorOptions.Parse(new ConfigNode(JsonDocument.Parse($$"""{"rules": [{{json}}]}""").RootElement));
        return options.Rules.Single();
    }

    // Press-1's temperature above 80 and press-2's vibration above 5, both for 2 s.
    private const string HotAndShaking = """
        {"name": "hot-and-shaking", "zone": "hall-a", "combine": "all", "minDurationSeconds": 2,
         "conditions": [{"metric": "temperature", "device": "press-1", "above": 80},
                        {"metric": "vibration", "device": "press-2", "above": 5}]}
        """;

    private static void Put(ZoneState zone, string device, string metric, double value, double now, ReadingQuality quality = ReadingQuality.Good)
    {
        var reading = new Reading("hall-a", device, metric, value, now) { Quality = quality };
        Assert.That(zone.Update(reading, now, 100), Is.True);
    }

    [Test]
    public void AllRule_FiresOnlyWhenBothDevicesConditionsHoldForTheMinimumDuration()
    {
        var zone = new ZoneState("hall-a");
        var state = new ZoneRuleState(Rule(HotAndShaking));

        // Only the temperature: for 10 s, nothing.
        for (var t = 0.0; t <= 10; t += 0.5)
        {
            Put(zone, "press-1", "temperature", 85, t);
            Put(zone, "press-2", "vibration", 3, t);
            Assert.That(state.Evaluate(zone, t, Stale, out _), Is.False, $"t={t}");
        }

        // Both hold from t=11, but the vibration drops at 12.5 (1.5 s < 2 s): still nothing.
        for (var t = 11.0; t <= 12; t += 0.5)
        {
            Put(zone, "press-1", "temperature", 85, t);
            Put(zone, "press-2", "vibration", 6, t);
            Assert.That(state.Evaluate(zone, t, Stale, out _), Is.False, $"t={t}");
        }

        Put(zone, "press-2", "vibration", 4, 12.5);
        Assert.That(state.Evaluate(zone, 12.5, Stale, out _), Is.False);

        // Both hold again from 13: raised at 15, not before.
        for (var t = 13.0; t < 15; t += 0.5)
        {
            Put(zone, "press-2", "vibration", 6, t);
            Put(zone, "press-1", "temperature", 85, t);
            Assert.That(state.Evaluate(zone, t, Stale, out _), Is.False, $"t={t}");
        }

        Put(zone, "press-1", "temperature", 85, 15);
        Put(zone, "press-2", "vibration", 6, 15);
        Assert.That(state.Evaluate(zone, 15, Stale, out var previous), Is.True);
        Assert.That(previous, Is.EqualTo(AlertSeverity.Normal));
        Assert.That(state.Severity, Is.EqualTo(AlertSeverity.Critical));
        Assert.That(state.Values[0].Value, Is.EqualTo(85));
        Assert.That(state.Values[1].Device, Is.EqualTo("press-2"));

        // Either condition ending clears it.
        Put(zone, "press-1", "temperature", 70, 16);
        Assert.That(state.Evaluate(zone, 16, Stale, out previous), Is.True);
        Assert.That((previous, state.Severity), Is.EqualTo((AlertSeverity.Critical, AlertSeverity.Normal)));
    }

    [Test]
    public void TheConditionsOfOtherDevices_DoNotCount()
    {
        var zone = new ZoneState("hall-a");
        var state = new ZoneRuleState(Rule(HotAndShaking));
        for (var t = 0.0; t <= 5; t += 0.5)
        {
            // The vibration is high on press-1 and the temperature on press-2: the wrong devices.
            Put(zone, "press-1", "vibration", 9, t);
            Put(zone, "press-2", "temperature", 95, t);
            Put(zone, "press-1", "temperature", 20, t);
            Put(zone, "press-2", "vibration", 1, t);
            Assert.That(state.Evaluate(zone, t, Stale, out _), Is.False);
        }
    }

    [Test]
    public void StaleDevices_AreLeftOut_NeverReadAsZero()
    {
        var zone = new ZoneState("hall-a");
        var rule = Rule("""{"name": "cold", "severity": "warning", "conditions": [{"metric": "temperature", "aggregate": "min", "below": 10}]}""");
        var state = new ZoneRuleState(rule);
        Put(zone, "a", "temperature", 20, 0);
        Put(zone, "b", "temperature", 21, 0);
        Assert.That(state.Evaluate(zone, 0, Stale, out _), Is.False);

        // b stops reporting: after 5 s it is stale and left out (a stale device read as 0 would fire "cold").
        for (var t = 1.0; t <= 20; t++)
        {
            Put(zone, "a", "temperature", 20, t);
            Assert.That(state.Evaluate(zone, t, Stale, out _), Is.False, $"t={t}");
        }

        var aggregate = zone.Aggregate(rule.Conditions[0], 20, Stale);
        Assert.That((aggregate.Value, aggregate.Devices), Is.EqualTo((20.0, 1)));

        // A device whose source says it is unreachable (quality stale) is left out at once.
        Put(zone, "a", "temperature", 0, 21, ReadingQuality.Stale);
        Assert.That(zone.Aggregate(rule.Conditions[0], 21, Stale).Devices, Is.Zero);
        Assert.That(state.Evaluate(zone, 21, Stale, out _), Is.False, "no fresh device: the condition does not hold");

        // The mean of three with one stale is the mean of two.
        var mean = rule.Conditions[0] with { Aggregate = ZoneAggregate.Mean };
        Put(zone, "a", "temperature", 10, 30);
        Put(zone, "b", "temperature", 30, 30);
        Put(zone, "c", "temperature", 1000, 22);
        Assert.That(zone.Aggregate(mean, 30, Stale).Value, Is.EqualTo(20));
    }

    [Test]
    public void Aggregates_OverTheZonesFreshDevices()
    {
        var zone = new ZoneState("hall-a");
        Put(zone, "a", "t", 10, 0);
        Put(zone, "b", "t", 14, 0);
        Put(zone, "c", "t", 30, 0);
        Put(zone, "c", "other", 99, 0);
        ZoneCondition C(ZoneAggregate aggregate, double countValue = double.NaN) => new("t", aggregate, true, 0, 0, countValue, null, 1);
        Assert.That(zone.Aggregate(C(ZoneAggregate.Mean), 1, Stale).Value, Is.EqualTo(18));
        Assert.That(zone.Aggregate(C(ZoneAggregate.Max), 1, Stale), Is.EqualTo(new ZoneAggregateValue(30, 3, "c")));
        Assert.That(zone.Aggregate(C(ZoneAggregate.Min), 1, Stale), Is.EqualTo(new ZoneAggregateValue(10, 3, "a")));
        Assert.That(zone.Aggregate(C(ZoneAggregate.Spread), 1, Stale).Value, Is.EqualTo(20));
        Assert.That(zone.Aggregate(C(ZoneAggregate.CountAbove, 14), 1, Stale).Value, Is.EqualTo(2));
        Assert.That(zone.Aggregate(C(ZoneAggregate.CountBelow, 14), 1, Stale).Value, Is.EqualTo(2));
        Assert.That(zone.Aggregate(C(ZoneAggregate.Count), 1, Stale).Value, Is.EqualTo(3));
        Assert.That(zone.Aggregate(C(ZoneAggregate.Mean) with { Metric = "unknown" }, 1, Stale).Devices, Is.Zero);
    }

    [Test]
    public void AnyRule_CountAboveWithMinDevices_HysteresisAndCooldown()
    {
        var rule = Rule("""
            {"name": "two-hot", "combine": "any", "cooldownSeconds": 10,
             "conditions": [{"metric": "t", "aggregate": "countAbove", "value": 50, "above": 2, "minDevices": 3, "hysteresis": 1},
                            {"metric": "smoke", "aggregate": "max", "above": 1}]}
            """);
        var zone = new ZoneState("z");
        var state = new ZoneRuleState(rule);
        void All(double t, double a, double b, double c)
        {
            Put(zone, "a", "t", a, t);
            Put(zone, "b", "t", b, t);
            Put(zone, "c", "t", c, t);
        }

        // Two of two devices hot, but minDevices is 3: nothing.
        Put(zone, "a", "t", 60, 0);
        Put(zone, "b", "t", 60, 0);
        Assert.That(state.Evaluate(zone, 0, Stale, out _), Is.False);

        All(1, 60, 60, 20);
        Assert.That(state.Evaluate(zone, 1, Stale, out _), Is.True, "two of three hot");

        // Hysteresis 1: one hot device (count 1 = 2 − 1) keeps it raised; none clears it.
        All(2, 60, 20, 20);
        Assert.That(state.Evaluate(zone, 2, Stale, out _), Is.False);
        All(3, 20, 20, 20);
        Assert.That(state.Evaluate(zone, 3, Stale, out _), Is.True);
        Assert.That(state.Severity, Is.EqualTo(AlertSeverity.Normal));

        // Within the cooldown (10 s after the raise at 1) it is not raised again; after it, it is.
        All(4, 60, 60, 60);
        Assert.That(state.Evaluate(zone, 4, Stale, out _), Is.False);
        All(11.5, 60, 60, 60);
        Assert.That(state.Evaluate(zone, 11.5, Stale, out _), Is.True);

        // The other condition alone (any) also holds.
        var other = new ZoneRuleState(rule);
        var smoky = new ZoneState("z");
        Put(smoky, "d", "smoke", 3, 0);
        Assert.That(other.Evaluate(smoky, 0, Stale, out _), Is.True);
    }

    [Test]
    public void ALiveRuleChange_KeepsTheStateAndJudgesByTheNewRule()
    {
        var zone = new ZoneState("hall-a");
        var state = new ZoneRuleState(Rule("""{"name": "hot", "conditions": [{"metric": "t", "above": 80}]}"""));
        Put(zone, "a", "t", 85, 0);
        Assert.That(state.Evaluate(zone, 0, Stale, out _), Is.True);

        // Raised; the threshold moves to 90: the alert clears at the next evaluation with the same value.
        state.Update(Rule("""{"name": "hot", "conditions": [{"metric": "t", "above": 90}]}"""));
        Assert.That(state.Evaluate(zone, 1, Stale, out var previous), Is.True);
        Assert.That((previous, state.Severity), Is.EqualTo((AlertSeverity.Critical, AlertSeverity.Normal)));

        // A second condition added live.
        state.Update(Rule("""{"name": "hot", "conditions": [{"metric": "t", "above": 80}, {"metric": "p", "above": 1}]}"""));
        Assert.That(state.Evaluate(zone, 2, Stale, out _), Is.False, "p has no reading");
        Put(zone, "a", "p", 2, 3);
        Assert.That(state.Evaluate(zone, 3, Stale, out _), Is.True);
        Assert.That(state.Values.Length, Is.EqualTo(2));
    }

    [Test]
    public void SeriesBeyondTheLimit_AreRefused_AndEvaluationAllocatesNothing()
    {
        var zone = new ZoneState("hall-a");
        for (var i = 0; i < 10; i++)
        {
            Assert.That(zone.Update(new Reading("hall-a", "d" + i, "t", i, 0), 0, 10), Is.True);
        }

        Assert.That(zone.Update(new Reading("hall-a", "d10", "t", 1, 0), 0, 10), Is.False);
        Assert.That(zone.Update(new Reading("hall-a", "d3", "t", 1, 1), 1, 10), Is.True, "a known series is still updated");

        // A rule that reads the metric, with a device list and an aggregate over every device.
        var state = new ZoneRuleState(Rule("""
            {"name": "r", "conditions": [{"metric": "t", "devices": ["d1", "d2"], "above": 4}, {"metric": "t", "aggregate": "spread", "above": 100}]}
            """));
        var reading = new Reading("hall-a", "d1", "t", 5, 1);
        for (var i = 0; i < 1000; i++)
        {
            zone.Update(reading, 1 + (i * 0.001), 10);
            state.Evaluate(zone, 1 + (i * 0.001), Stale, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            zone.Update(reading, 2 + (i * 0.001), 10);
            state.Evaluate(zone, 2 + (i * 0.001), Stale, out _);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [TestCase("""{"rules": [{"name": "a", "conditions": []}]}""", "/rules/0/conditions")]
    [TestCase("""{"rules": [{"name": "a", "conditions": [{"metric": "t"}]}]}""", "/rules/0/conditions/0")]
    [TestCase("""{"rules": [{"name": "a", "conditions": [{"metric": "t", "above": 1, "below": 2}]}]}""", "/rules/0/conditions/0")]
    [TestCase("""{"rules": [{"name": "a", "conditions": [{"metric": "t", "aggregate": "countAbove", "above": 1}]}]}""", "/rules/0/conditions/0")]
    [TestCase("""{"rules": [{"name": "a", "conditions": [{"metric": "t", "aggregate": "median", "above": 1}]}]}""", "/rules/0/conditions/0/aggregate")]
    [TestCase("""{"rules": [{"name": "a b", "conditions": [{"metric": "t", "above": 1}]}]}""", "/rules/0/name")]
    [TestCase("""{"rules": [{"name": "a", "combine": "xor", "conditions": [{"metric": "t", "above": 1}]}]}""", "/rules/0/combine")]
    [TestCase("""{"rules": [{"name": "a", "conditions": [{"metric": "t", "above": 1}]}, {"name": "a", "conditions": [{"metric": "t", "above": 1}]}]}""", "/rules/1/name")]
    [TestCase("""{"rules": [{"name": "a", "conditions": [{"metric": "t", "above": 1, "devices": []}]}]}""", "/rules/0/conditions/0/devices")]
    [TestCase("""{"zones": ["hall/a"]}""", "/zones/0")]
    [TestCase("""{"staleSeconds": -1}""", "/staleSeconds")]
    public void ConfigurationErrors_NameTheirPath(string json, string path)
    {
        var e = Assert.Throws<ConfigurationException>(() => ZoneCorrelatorOptions.Parse(new ConfigNode(JsonDocument.Parse(json).RootElement)));
        Assert.That(e!.Message, Does.Contain(path));
    }

    [Test]
    public void ZoneSummary_ListsStaleDevicesAndPerMetricAggregates()
    {
        var zone = new ZoneState("hall-a");
        Put(zone, "a", "t", 10, 0);
        Put(zone, "b", "t", 20, 9);
        Put(zone, "b", "p", 2, 9);
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            ZoneCorrelatorComponent.WriteSummary(json, zone, 10, Stale);
        }

        var summary = JsonDocument.Parse(buffer.WrittenMemory).RootElement;
        Assert.That(summary.GetProperty("devices").GetInt32(), Is.EqualTo(2));
        Assert.That(summary.GetProperty("fresh").GetInt32(), Is.EqualTo(1));
        Assert.That(summary.GetProperty("stale").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "a" }));
        var t = summary.GetProperty("metrics").GetProperty("t");
        Assert.That((t.GetProperty("devices").GetInt32(), t.GetProperty("mean").GetDouble(), t.GetProperty("spread").GetDouble()), Is.EqualTo((1, 20.0, 0.0)));
    }
}
