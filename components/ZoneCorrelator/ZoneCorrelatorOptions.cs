using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.ZoneCorrelator;

/// <summary>How a condition reduces the latest values of a zone's devices to one number.</summary>
public enum ZoneAggregate
{
    /// <summary>Mean of the fresh devices' values.</summary>
    Mean,

    /// <summary>Largest value.</summary>
    Max,

    /// <summary>Smallest value.</summary>
    Min,

    /// <summary>Largest minus smallest value.</summary>
    Spread,

    /// <summary>How many devices are at or above <see cref="ZoneCondition.CountValue"/>.</summary>
    CountAbove,

    /// <summary>How many devices are at or below <see cref="ZoneCondition.CountValue"/>.</summary>
    CountBelow,

    /// <summary>How many devices report the metric (fresh).</summary>
    Count,
}

/// <summary>One condition of a zone rule: an aggregate over the zone's fresh devices compared with a threshold.</summary>
/// <param name="Metric">The metric.</param>
/// <param name="Aggregate">How the devices' latest values are reduced.</param>
/// <param name="Above">True: holds when the aggregate is at or above the threshold; false: at or below.</param>
/// <param name="Threshold">The threshold.</param>
/// <param name="Hysteresis">While the rule is raised, the condition keeps holding until the aggregate is back past the threshold by this much.</param>
/// <param name="CountValue">For countAbove/countBelow: the value a device is counted at.</param>
/// <param name="Devices">Only these devices (null: every device of the zone).</param>
/// <param name="MinDevices">Fewest fresh devices the aggregate needs; with fewer the condition does not hold.</param>
public sealed record ZoneCondition(string Metric, ZoneAggregate Aggregate, bool Above, double Threshold, double Hysteresis, double CountValue, IReadOnlyList<string>? Devices, int MinDevices)
{
    /// <summary>Whether <paramref name="device"/> takes part.</summary>
    public bool Includes(string device)
    {
        if (Devices is null)
        {
            return true;
        }

        // Indexed, not foreach: enumerating an IReadOnlyList allocates an enumerator, and this runs per device per reading.
        for (var i = 0; i < Devices.Count; i++)
        {
            if (string.Equals(Devices[i], device, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A zone rule: conditions combined with and/or, a minimum duration, a cooldown and a severity.</summary>
/// <param name="Name">Unique name (a topic segment).</param>
/// <param name="Zone">Only this zone, or null for every zone.</param>
/// <param name="All">True: every condition must hold (and); false: any one (or).</param>
/// <param name="Conditions">The conditions.</param>
/// <param name="Severity">The severity raised.</param>
/// <param name="MinDuration">Seconds the combination must hold before the alert is raised.</param>
/// <param name="Cooldown">Seconds after a raise before the rule is raised again.</param>
public sealed record ZoneRuleOptions(string Name, string? Zone, bool All, IReadOnlyList<ZoneCondition> Conditions, AlertSeverity Severity, double MinDuration, double Cooldown)
{
    /// <summary>The rule's state machine settings: the combination as a 0/1 value against a threshold of 1.</summary>
    public ThresholdSettings Settings { get; } = new(
        true,
        Severity == AlertSeverity.Warning ? 1 : double.NaN,
        Severity == AlertSeverity.Critical ? 1 : double.NaN,
        0,
        MinDuration,
        Cooldown);

    /// <summary>Whether the rule watches <paramref name="zone"/>.</summary>
    public bool AppliesTo(string zone) => Zone is null || string.Equals(Zone, zone, StringComparison.Ordinal);

    /// <summary>Whether a condition reads <paramref name="metric"/>.</summary>
    public bool Reads(string metric)
    {
        for (var i = 0; i < Conditions.Count; i++)
        {
            if (string.Equals(Conditions[i].Metric, metric, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>ZoneCorrelator's configuration (see README.md).</summary>
/// <param name="InputTopic">Where readings come from.</param>
/// <param name="StaleAfter">Seconds after its last good reading a device's metric is stale (left out of aggregates).</param>
/// <param name="EvaluateInterval">How often every rule is evaluated even without readings (staleness, minimum duration).</param>
/// <param name="SummaryInterval">How often zone summaries are published (zero: never).</param>
/// <param name="Zones">Zones summarised even before (or without) readings.</param>
/// <param name="Rules">The rules.</param>
/// <param name="MaxDevicesPerZone">Device-metric series kept per zone; readings of further ones are counted and skipped.</param>
public sealed record ZoneCorrelatorOptions(string InputTopic, double StaleAfter, TimeSpan EvaluateInterval, TimeSpan SummaryInterval, IReadOnlyList<string> Zones, IReadOnlyList<ZoneRuleOptions> Rules, int MaxDevicesPerZone)
{
    /// <summary>Reads and checks the configuration; errors name their path.</summary>
    public static ZoneCorrelatorOptions Parse(ConfigNode configuration)
    {
        var rules = new List<ZoneRuleOptions>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in configuration["rules"].Items())
        {
            var name = node["name"].String();
            if (!Topics.IsValidSegment(name))
            {
                throw node["name"].Error($"'{name}' is not a valid rule name (1-64 letters, digits, '-', '_', '.')");
            }

            if (!names.Add(name))
            {
                throw node["name"].Error($"rule name '{name}' is used twice");
            }

            var zone = node["zone"].StringOrNull();
            if (zone is not null && !Topics.IsValidSegment(zone))
            {
                throw node["zone"].Error($"'{zone}' is not a valid zone name");
            }

            var conditions = new List<ZoneCondition>();
            foreach (var c in node["conditions"].Items())
            {
                conditions.Add(ParseCondition(c));
            }

            if (conditions.Count == 0)
            {
                throw node["conditions"].Error("a zone rule needs at least one condition");
            }

            var combine = node["combine"].OneOf("all", "all", "any");
            var severity = node["severity"].OneOf("critical", "warning", "critical") == "warning" ? AlertSeverity.Warning : AlertSeverity.Critical;
            rules.Add(new ZoneRuleOptions(
                name,
                zone,
                combine == "all",
                conditions,
                severity,
                node["minDurationSeconds"].Double(0, 0, 86_400),
                node["cooldownSeconds"].Double(0, 0, 86_400)));
        }

        var zones = new List<string>();
        foreach (var z in configuration["zones"].Items())
        {
            var zone = z.String();
            if (!Topics.IsValidSegment(zone))
            {
                throw z.Error($"'{zone}' is not a valid zone name");
            }

            zones.Add(zone);
        }

        var summary = configuration["summarySeconds"].Double(10, 0, 86_400);
        return new ZoneCorrelatorOptions(
            configuration["inputTopic"].String(Topics.AllRaw),
            configuration["staleSeconds"].Double(30, 0.001, 86_400),
            configuration["evaluateSeconds"].Seconds(0.25, 0.01, 60),
            TimeSpan.FromSeconds(summary),
            zones,
            rules,
            configuration["maxSeriesPerZone"].Int32(4096, 1, 1_000_000));
    }

    private static ZoneCondition ParseCondition(ConfigNode node)
    {
        var aggregate = node["aggregate"].OneOf("max", "mean", "max", "min", "spread", "countAbove", "countBelow", "count") switch
        {
            "mean" => ZoneAggregate.Mean,
            "min" => ZoneAggregate.Min,
            "spread" => ZoneAggregate.Spread,
            "countAbove" => ZoneAggregate.CountAbove,
            "countBelow" => ZoneAggregate.CountBelow,
            "count" => ZoneAggregate.Count,
            _ => ZoneAggregate.Max,
        };
        var above = node["above"];
        var below = node["below"];
        if (above.Exists == below.Exists)
        {
            throw node.Error("a condition needs exactly one of 'above' and 'below' (its threshold)");
        }

        var countValue = double.NaN;
        if (aggregate is ZoneAggregate.CountAbove or ZoneAggregate.CountBelow)
        {
            if (!node["value"].Exists)
            {
                throw node.Error($"'{(aggregate == ZoneAggregate.CountAbove ? "countAbove" : "countBelow")}' needs 'value': the value a device is counted at");
            }

            countValue = node["value"].Double();
        }

        IReadOnlyList<string>? devices = null;
        if (node["device"].Exists)
        {
            devices = [node["device"].String()];
        }
        else if (node["devices"].Exists)
        {
            devices = [.. node["devices"].Items().Select(d => d.String())];
            if (devices.Count == 0)
            {
                throw node["devices"].Error("an empty device list matches nothing; leave it out to mean every device");
            }
        }

        return new ZoneCondition(
            node["metric"].String(),
            aggregate,
            above.Exists,
            above.Exists ? above.Double() : below.Double(),
            node["hysteresis"].Double(0, 0, double.MaxValue),
            countValue,
            devices,
            node["minDevices"].Int32(1, 1, 1_000_000));
    }
}
