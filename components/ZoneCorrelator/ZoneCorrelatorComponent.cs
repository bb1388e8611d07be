using System.Globalization;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Microsoft.Extensions.Logging;

namespace Fogline.ZoneCorrelator;

/// <summary>
/// ZoneCorrelator: keeps the latest value of every device and metric of each zone, evaluates zone rules (aggregates
/// over devices combined with and/or, minimum duration, hysteresis, cooldown) at every reading and every
/// <c>evaluateSeconds</c>, publishes each change of a rule's state as a zone alert on
/// <c>fogline/alerts/zone/{zone}/{rule}</c> (the uplink's critical input) and a summary of each zone on
/// <c>fogline/zones/{zone}</c> every <c>summarySeconds</c>.
/// </summary>
public sealed class ZoneCorrelatorComponent : FoglineComponent<ZoneCorrelatorOptions>
{
    /// <summary>Zones tracked at most; readings of further zones are counted (<c>zones_over_limit</c>) and skipped.</summary>
    public const int MaxZones = 1024;

    private readonly Utf8StringPool _names = new();
    private readonly PayloadWriter _writer = new();
    private readonly ZoneBoard _board = new();
    private readonly Dictionary<(string Rule, string Zone), ZoneRuleState> _states = [];
    private readonly Dictionary<string, ZoneRuleOptions[]> _byMetric = new(StringComparer.Ordinal);
    private ComponentContext<ZoneCorrelatorOptions> _context = null!;
    private Counter _seriesOverLimit = null!;
    private Counter _zonesOverLimit = null!;
    private long _alerts;

    /// <inheritdoc />
    public override string Name => "com.fogline.ZoneCorrelator";

    /// <summary>The zones and their latest state (for tests and benchmarks; touch it only on the processing loop).</summary>
    public ZoneBoard Board => _board;

    /// <inheritdoc />
    public override ZoneCorrelatorOptions ParseOptions(ConfigNode configuration) => ZoneCorrelatorOptions.Parse(configuration);

    /// <inheritdoc />
    public override Task StartAsync(ComponentContext<ZoneCorrelatorOptions> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _seriesOverLimit = context.Counters.Get("series_over_limit");
        _zonesOverLimit = context.Counters.Get("zones_over_limit");
        context.Counters.Get("zone_alerts");
        Apply(context.Options);
        context.Every(context.Options.EvaluateInterval, EvaluateAllAsync);
        if (context.Options.SummaryInterval > TimeSpan.Zero)
        {
            context.Every(context.Options.SummaryInterval, PublishSummariesAsync);
        }

        return context.SubscribeAsync(context.Options.InputTopic, OnReadingAsync, cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask OnOptionsChangedAsync(ZoneCorrelatorOptions previous, ZoneCorrelatorOptions current, CancellationToken cancellationToken)
    {
        // A rule that stays keeps its state under its new settings; a removed rule is forgotten. The intervals and the
        // input topic take effect at the next start.
        Apply(current);
        foreach (var key in _states.Keys.ToList())
        {
            var rule = current.Rules.FirstOrDefault(r => r.Name == key.Rule);
            if (rule is null || !rule.AppliesTo(key.Zone))
            {
                _states.Remove(key);
            }
            else
            {
                _states[key].Update(rule);
            }
        }

        ZoneLog.RulesChanged(_context.Logger, current.Rules.Count);
        return ValueTask.CompletedTask;
    }

    /// <summary>Handles one reading (public for the benchmark; call it only on the processing loop).</summary>
    public async ValueTask OnReadingAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        var status = ReadingCodec.TryRead(payload.Span, _names, out var reading, out var error);
        if (status != DecodeStatus.Ok)
        {
            _context.Counters.Rejected.Increment();
            if (status == DecodeStatus.UnsupportedVersion)
            {
                _context.Counters.Get("unsupported_version").Increment();
            }

            ZoneLog.Rejected(_context.Logger, topic, error ?? status.ToString());
            return;
        }

        if (!_board.TryGet(reading.Zone, out var zone))
        {
            if (_board.Count >= MaxZones)
            {
                _zonesOverLimit.Increment();
                return;
            }

            zone = _board.GetOrAdd(reading.Zone);
        }

        var now = Now();
        if (!zone.Update(reading, now, _context.Options.MaxDevicesPerZone))
        {
            _seriesOverLimit.Increment();
            return;
        }

        if (!_byMetric.TryGetValue(reading.Metric, out var rules))
        {
            return;
        }

        foreach (var rule in rules)
        {
            if (rule.AppliesTo(zone.Name))
            {
                await EvaluateAsync(rule, zone, now).ConfigureAwait(false);
            }
        }
    }

    private void Apply(ZoneCorrelatorOptions options)
    {
        foreach (var zone in options.Zones)
        {
            _board.GetOrAdd(zone);
        }

        foreach (var rule in options.Rules)
        {
            if (rule.Zone is not null && _board.Count < MaxZones)
            {
                _board.GetOrAdd(rule.Zone);
            }
        }

        _byMetric.Clear();
        foreach (var rule in options.Rules)
        {
            foreach (var metric in rule.Conditions.Select(c => c.Metric).Distinct(StringComparer.Ordinal))
            {
                _byMetric[metric] = _byMetric.TryGetValue(metric, out var existing) ? [.. existing, rule] : [rule];
            }
        }
    }

    private double Now() => _context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private async ValueTask EvaluateAllAsync(CancellationToken cancellationToken)
    {
        var now = Now();
        foreach (var zone in _board.Zones)
        {
            foreach (var rule in _context.Options.Rules)
            {
                if (rule.AppliesTo(zone.Name))
                {
                    await EvaluateAsync(rule, zone, now).ConfigureAwait(false);
                }
            }
        }
    }

    private async ValueTask EvaluateAsync(ZoneRuleOptions rule, ZoneState zone, double now)
    {
        var key = (rule.Name, zone.Name);
        if (!_states.TryGetValue(key, out var state))
        {
            _states[key] = state = new ZoneRuleState(rule);
        }

        if (!state.Evaluate(zone, now, _context.Options.StaleAfter, out var previous))
        {
            return;
        }

        var id = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId:x}-z{++_alerts:x}-{(long)(now * 1000):x}");
        WriteAlert(_writer.Begin(), id, state, zone, previous, now);
        await _context.PublishAsync(Topics.ZoneAlerts(zone.Name, rule.Name), _writer.WrittenMemory).ConfigureAwait(false);
        _context.Counters.Get(state.Severity == AlertSeverity.Normal ? "cleared" : "raised").Increment();
        _context.Counters.Get("zone_alerts").Increment();
        ZoneLog.Changed(_context.Logger, rule.Name, zone.Name, previous.ToString(), state.Severity.ToString());
    }

    /// <summary>
    /// Writes a zone alert: <c>{"v":1,"id","kind":"zone","rule","zone","severity","previous","combine","ts",
    /// "conditions":[{"metric","aggregate","direction","threshold","value","devices","device"?,"holds"}]}</c>.
    /// </summary>
    public static void WriteAlert(Utf8JsonWriter json, string id, ZoneRuleState state, ZoneState zone, AlertSeverity previous, double now)
    {
        var rule = state.Rule;
        json.WriteStartObject();
        json.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        json.WriteString("id"u8, id);
        json.WriteString("kind"u8, "zone"u8);
        json.WriteString("rule"u8, rule.Name);
        json.WriteString("zone"u8, zone.Name);
        json.WriteString("severity"u8, Alert.SeverityName(state.Severity));
        json.WriteString("previous"u8, Alert.SeverityName(previous));
        json.WriteString("combine"u8, rule.All ? "all"u8 : "any"u8);
        json.WriteNumber("ts"u8, Math.Round(now, 3));
        json.WriteStartArray("conditions"u8);
        var values = state.Values;
        var holds = state.Holds;
        for (var i = 0; i < rule.Conditions.Count; i++)
        {
            var c = rule.Conditions[i];
            json.WriteStartObject();
            json.WriteString("metric"u8, c.Metric);
            json.WriteString("aggregate"u8, AggregateName(c.Aggregate));
            json.WriteString("direction"u8, c.Above ? "above"u8 : "below"u8);
            json.WriteNumber("threshold"u8, c.Threshold);
            if (double.IsFinite(values[i].Value))
            {
                json.WriteNumber("value"u8, values[i].Value);
            }
            else
            {
                json.WriteNull("value"u8);
            }

            json.WriteNumber("devices"u8, values[i].Devices);
            if (values[i].Device is { } device)
            {
                json.WriteString("device"u8, device);
            }

            json.WriteBoolean("holds"u8, holds[i]);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
    }

    /// <summary>The configuration's name of an aggregate.</summary>
    public static string AggregateName(ZoneAggregate aggregate) => aggregate switch
    {
        ZoneAggregate.Mean => "mean",
        ZoneAggregate.Min => "min",
        ZoneAggregate.Spread => "spread",
        ZoneAggregate.CountAbove => "countAbove",
        ZoneAggregate.CountBelow => "countBelow",
        ZoneAggregate.Count => "count",
        _ => "max",
    };

    private async ValueTask PublishSummariesAsync(CancellationToken cancellationToken)
    {
        var now = Now();
        foreach (var zone in _board.Zones)
        {
            WriteSummary(_writer.Begin(), zone, now, _context.Options.StaleAfter);
            await _context.PublishAsync(Topics.ZoneSummary(zone.Name), _writer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Writes a zone summary: <c>{"v":1,"zone","ts","devices":N,"fresh":N,"stale":["device",…],
    /// "metrics":{"name":{"devices","mean","min","max","spread"},…}}</c>; a device is stale when none of its metrics is fresh.
    /// </summary>
    public static void WriteSummary(Utf8JsonWriter json, ZoneState zone, double now, double staleAfter)
    {
        var devices = new Dictionary<string, bool>(StringComparer.Ordinal);
        for (var i = 0; i < zone.Count; i++)
        {
            ref readonly var s = ref zone[i];
            devices[s.Device] = (devices.TryGetValue(s.Device, out var fresh) && fresh) || s.IsFresh(now, staleAfter);
        }

        json.WriteStartObject();
        json.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        json.WriteString("zone"u8, zone.Name);
        json.WriteNumber("ts"u8, Math.Round(now, 3));
        json.WriteNumber("devices"u8, devices.Count);
        json.WriteNumber("fresh"u8, devices.Count(d => d.Value));
        json.WriteStartArray("stale"u8);
        foreach (var (device, fresh) in devices)
        {
            if (!fresh)
            {
                json.WriteStringValue(device);
            }
        }

        json.WriteEndArray();
        json.WriteStartObject("metrics"u8);
        foreach (var metric in zone.Metrics)
        {
            var all = new ZoneCondition(metric, ZoneAggregate.Mean, true, 0, 0, double.NaN, null, 1);
            var mean = zone.Aggregate(all, now, staleAfter);
            json.WriteStartObject(metric);
            json.WriteNumber("devices"u8, mean.Devices);
            if (mean.Devices > 0)
            {
                json.WriteNumber("mean"u8, mean.Value);
                json.WriteNumber("min"u8, zone.Aggregate(all with { Aggregate = ZoneAggregate.Min }, now, staleAfter).Value);
                json.WriteNumber("max"u8, zone.Aggregate(all with { Aggregate = ZoneAggregate.Max }, now, staleAfter).Value);
                json.WriteNumber("spread"u8, zone.Aggregate(all with { Aggregate = ZoneAggregate.Spread }, now, staleAfter).Value);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
        json.Flush();
    }
}

internal static partial class ZoneLog
{
    [LoggerMessage(3400, LogLevel.Warning, "Skipped a reading on {Topic}: {Error}")]
    public static partial void Rejected(ILogger logger, string topic, string error);

    [LoggerMessage(3401, LogLevel.Information, "Zone rule {Rule} in {Zone}: {Previous} -> {Severity}")]
    public static partial void Changed(ILogger logger, string rule, string zone, string previous, string severity);

    [LoggerMessage(3402, LogLevel.Information, "Zone rules updated: {Count} rules")]
    public static partial void RulesChanged(ILogger logger, int count);
}
