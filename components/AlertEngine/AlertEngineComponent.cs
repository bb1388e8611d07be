using System.Globalization;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.AlertEngine;

/// <summary>A rule: which readings it watches and its thresholds.</summary>
/// <param name="Name">Rule name (unique).</param>
/// <param name="Metric">The metric it watches.</param>
/// <param name="Zone">Only this zone, or null for every zone.</param>
/// <param name="Device">Only this device, or null for every device.</param>
/// <param name="Settings">Direction, thresholds, hysteresis, minimum duration, cooldown.</param>
public sealed record AlertRuleOptions(string Name, string Metric, string? Zone, string? Device, ThresholdSettings Settings)
{
    /// <summary>Whether the rule watches this reading's series.</summary>
    public bool Matches(in Reading reading) =>
        reading.Metric == Metric && (Zone is null || reading.Zone == Zone) && (Device is null || reading.Device == Device);
}

/// <summary>AlertEngine's configuration.</summary>
/// <param name="InputTopic">Where readings come from (default fogline/raw/#).</param>
/// <param name="Rules">The rules.</param>
public sealed record AlertEngineOptions(string InputTopic, IReadOnlyList<AlertRuleOptions> Rules);

/// <summary>
/// AlertEngine: threshold rules from configuration (updated live) on every reading; each state change (raised,
/// escalated, cleared) is published at once as an alert on <c>fogline/alerts/{zone}/{device}/{metric}</c> (the uplink's
/// input) and as an actuation on <c>fogline/actuate/{zone}/{device}</c>. Alerts carry the reading that triggered them.
/// </summary>
public sealed class AlertEngineComponent : FoglineComponent<AlertEngineOptions>
{
    private readonly Utf8StringPool _names = new();
    private readonly PayloadWriter _writer = new();
    private readonly Dictionary<(string Rule, string Zone, string Device), ThresholdRule> _states = [];
    private readonly Dictionary<string, AlertRuleOptions[]> _byMetric = new(StringComparer.Ordinal);
    private ComponentContext<AlertEngineOptions> _context = null!;
    private long _alerts;

    /// <inheritdoc />
    public override string Name => "com.fogline.AlertEngine";

    /// <inheritdoc />
    public override AlertEngineOptions ParseOptions(ConfigNode configuration)
    {
        var rules = new List<AlertRuleOptions>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in configuration["rules"].Items())
        {
            var name = node["name"].String();
            if (!names.Add(name))
            {
                throw node["name"].Error($"rule name '{name}' is used twice");
            }

            var direction = node["direction"].OneOf("above", "above", "below");
            var settings = new ThresholdSettings(
                direction == "above",
                node["warning"].Double(double.NaN),
                node["critical"].Double(double.NaN),
                node["hysteresis"].Double(0, 0, double.MaxValue),
                node["minDurationSeconds"].Double(0, 0, 86_400),
                node["cooldownSeconds"].Double(0, 0, 86_400));
            if (settings.Problem() is { } problem)
            {
                throw node.Error(problem);
            }

            rules.Add(new AlertRuleOptions(name, node["metric"].String(), node["zone"].StringOrNull(), node["device"].StringOrNull(), settings));
        }

        return new AlertEngineOptions(configuration["inputTopic"].String(Topics.AllRaw), rules);
    }

    /// <inheritdoc />
    public override Task StartAsync(ComponentContext<AlertEngineOptions> context, CancellationToken cancellationToken)
    {
        _context = context;
        Index(context.Options);
        return context.SubscribeAsync(context.Options.InputTopic, OnReadingAsync, cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask OnOptionsChangedAsync(AlertEngineOptions previous, AlertEngineOptions current, CancellationToken cancellationToken)
    {
        // Rules that stay keep their state with the new settings; removed rules are forgotten.
        Index(current);
        foreach (var key in _states.Keys.ToList())
        {
            var rule = current.Rules.FirstOrDefault(r => r.Name == key.Rule);
            if (rule is null)
            {
                _states.Remove(key);
            }
            else
            {
                _states[key].Update(rule.Settings);
            }
        }

        return ValueTask.CompletedTask;
    }

    private void Index(AlertEngineOptions options)
    {
        _byMetric.Clear();
        foreach (var group in options.Rules.GroupBy(r => r.Metric, StringComparer.Ordinal))
        {
            _byMetric[group.Key] = [.. group];
        }
    }

    private async ValueTask OnReadingAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        var status = ReadingCodec.TryRead(payload.Span, _names, out var reading, out var error);
        if (status != DecodeStatus.Ok)
        {
            _context.Counters.Rejected.Increment();
            if (status == DecodeStatus.UnsupportedVersion)
            {
                _context.Counters.Get("unsupported_version").Increment();
            }

            AlertLog.Rejected(_context.Logger, topic, error ?? status.ToString());
            return;
        }

        if (reading.Quality != ReadingQuality.Good || !_byMetric.TryGetValue(reading.Metric, out var rules))
        {
            return;
        }

        foreach (var rule in rules)
        {
            if (!rule.Matches(reading))
            {
                continue;
            }

            var key = (rule.Name, reading.Zone, reading.Device);
            if (!_states.TryGetValue(key, out var state))
            {
                state = new ThresholdRule(rule.Settings);
                _states[key] = state;
            }

            if (state.Evaluate(reading.Timestamp, reading.Value, out var previous, out var threshold))
            {
                var alert = new Alert
                {
                    Id = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId:x}-{++_alerts:x}-{(long)(reading.Timestamp * 1000):x}"),
                    Rule = rule.Name,
                    Severity = state.State,
                    Previous = previous,
                    Threshold = threshold,
                    Above = rule.Settings.Above,
                    Timestamp = _context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
                    Reading = reading,
                };

                // The actuator first: it is local and acts on it; the uplink takes the alert to the cloud.
                Actuation.Write(_writer.Begin(), alert);
                await _context.PublishAsync(Topics.Actuate(reading.Zone, reading.Device), _writer.WrittenMemory).ConfigureAwait(false);
                alert.Write(_writer.Begin());
                await _context.PublishAsync(Topics.Alerts(reading.Zone, reading.Device, reading.Metric), _writer.WrittenMemory).ConfigureAwait(false);
                _context.Counters.Get(state.State == AlertSeverity.Normal ? "cleared" : "raised").Increment();
                AlertLog.Changed(_context.Logger, rule.Name, reading.Zone, reading.Device, reading.Metric, previous.ToString(), state.State.ToString(), reading.Value);
            }
        }
    }
}

internal static partial class AlertLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(3200, Microsoft.Extensions.Logging.LogLevel.Warning, "Skipped a reading on {Topic}: {Error}")]
    public static partial void Rejected(Microsoft.Extensions.Logging.ILogger logger, string topic, string error);

    [Microsoft.Extensions.Logging.LoggerMessage(3201, Microsoft.Extensions.Logging.LogLevel.Information, "Rule {Rule} on {Zone}/{Device}/{Metric}: {Previous} -> {Severity} at {Value}")]
    public static partial void Changed(Microsoft.Extensions.Logging.ILogger logger, string rule, string zone, string device, string metric, string previous, string severity, double value);
}
