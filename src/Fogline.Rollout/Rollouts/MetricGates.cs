using System.Globalization;
using System.Text.Json;
using Fogline.Aws.IotData;
using Fogline.Aws;

namespace Fogline.Rollout.Rollouts;

/// <summary>
/// A metric gate: a rate computed from the counters a component sends to IoT Core (the hosting kit's
/// <c>cloudMetrics</c>: a retained message per device on <see cref="Topic"/>), compared between the stage's devices
/// on the new version and a control group still on the previous one, over the same bake (<see cref="MetricVerdicts"/>).
/// </summary>
/// <param name="Name">How verdict lines call it.</param>
/// <param name="Component">The component whose counters are read.</param>
/// <param name="Counter">The counter whose rate is judged (for example <c>rejected</c>).</param>
/// <param name="Per">The counter it is divided by (for example <c>received</c>), or null for a rate per second.</param>
/// <param name="MaxRatio">The stage fails when its rate is above the control's times this (at least 1)…</param>
/// <param name="MinDifference">…plus this absolute slack (so that near-zero rates do not fail on noise).</param>
/// <param name="Topic">Where each device's counters are, <c>{thing}</c> and <c>{component}</c> filled in.</param>
public sealed record MetricGate(string Name, string Component, string Counter, string? Per, double MaxRatio, double MinDifference, string Topic)
{
    /// <summary>The topic of <paramref name="thing"/>'s counters.</summary>
    public string TopicOf(string thing) => Topic.Replace("{thing}", thing, StringComparison.Ordinal).Replace("{component}", Component, StringComparison.Ordinal);
}

/// <summary>One retained counters message: when its process started, when it was sent, its counters.</summary>
public sealed record MetricSample(long StartedMs, double SentSeconds, IReadOnlyDictionary<string, long> Counters)
{
    /// <summary>Reads the hosting kit's cloud metrics message; null when it is not one.</summary>
    public static MetricSample? Parse(ReadOnlySpan<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("counters", out var counters) || counters.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("ts", out var ts) || !ts.TryGetDouble(out var sent))
            {
                return null;
            }

            var started = root.TryGetProperty("startedMs", out var s) && s.TryGetInt64(out var ms) ? ms : 0;
            var values = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var counter in counters.EnumerateObject())
            {
                if (counter.Value.TryGetInt64(out var value))
                {
                    values[counter.Name] = value;
                }
            }

            return new MetricSample(started, sent, values);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

/// <summary>A device's rate over a window: numerator and denominator (counter increase, or seconds).</summary>
public readonly record struct DeviceRate(string Thing, double Amount, double Base)
{
    /// <summary>The rate.</summary>
    public double Value => Amount / Base;
}

/// <summary>
/// The statistic of the metric gates, in the spirit of canary analysis (Kayenta, Argo Rollouts, Flagger): each device's
/// rate over the bake is computed from the first and last counters seen (a restart of the process starts its counters
/// again: the rate is then taken since that start); the stage's rate and the control's are pooled (sum of increases
/// over sum of bases). The stage FAILS when its pooled rate is above <c>control × maxRatio + minDifference</c> and,
/// when both groups have at least 3 devices, a one-sided Mann-Whitney U test says the stage devices' rates are higher
/// than the control's with p &lt; 0.05 (normal approximation with the tie correction); with fewer devices the ratio alone
/// decides. A problem the whole fleet shares raises the control's rate too, so it does not fail the canary. Fewer than
/// <see cref="MinimumDevices"/> stage devices or no control device with two samples: INCONCLUSIVE.
/// </summary>
public static class MetricVerdicts
{
    /// <summary>The significance level of the rank test.</summary>
    public const double Alpha = 0.05;

    /// <summary>The fewest stage devices with a rate for a verdict.</summary>
    public const int MinimumDevices = 1;

    /// <summary>A device's rate between two samples (null when the window is empty or the counters are missing).</summary>
    public static DeviceRate? Rate(MetricGate gate, string thing, MetricSample first, MetricSample last)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(last);
        if (!last.Counters.TryGetValue(gate.Counter, out var end) || (gate.Per is not null && !last.Counters.ContainsKey(gate.Per)))
        {
            return null;
        }

        // Restarted since the first sample (or never seen before this process): count from the process's start.
        var restarted = last.StartedMs != first.StartedMs;
        var begin = restarted ? 0 : first.Counters.GetValueOrDefault(gate.Counter);
        double amount = end - begin;
        double basis = gate.Per is { } per
            ? last.Counters[per] - (restarted ? 0 : first.Counters.GetValueOrDefault(per))
            : last.SentSeconds - (restarted ? last.StartedMs / 1000.0 : first.SentSeconds);
        return basis > 0 && amount >= 0 ? new DeviceRate(thing, amount, basis) : null;
    }

    /// <summary>The verdict of a metric gate: (kind, line).</summary>
    public static (string Kind, string Line) Judge(MetricGate gate, IReadOnlyList<DeviceRate> stage, IReadOnlyList<DeviceRate> control)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(control);
        if (stage.Count < MinimumDevices || control.Count == 0)
        {
            return ("inconclusive", $"metric {gate.Name} of {gate.Component}: INCONCLUSIVE: counters over the bake from {stage.Count} stage device(s) and {control.Count} control device(s) (each needs its counters sent to IoT Core twice during the bake, or once since its restart)");
        }

        var canary = stage.Sum(r => r.Amount) / stage.Sum(r => r.Base);
        var baseline = control.Sum(r => r.Amount) / control.Sum(r => r.Base);
        var threshold = baseline * gate.MaxRatio + gate.MinDifference;
        var ratio = baseline > 0 ? string.Create(CultureInfo.InvariantCulture, $"{canary / baseline:0.0}x the control") : canary > 0 ? "above a control of 0" : "0 like the control";
        var figures = string.Create(CultureInfo.InvariantCulture, $"stage {canary:0.####} ({stage.Count} device(s)) vs control {baseline:0.####} ({control.Count} device(s)): {ratio}, limit {threshold:0.####} (control x {gate.MaxRatio:0.##} + {gate.MinDifference:0.####})");
        if (canary <= threshold)
        {
            return ("pass", $"metric {gate.Name} of {gate.Component}: pass: {figures}");
        }

        if (stage.Count < 3 || control.Count < 3)
        {
            return ("fail", $"metric {gate.Name} of {gate.Component}: FAIL: {figures} (too few devices for the rank test: the ratio decides)");
        }

        var p = MannWhitneyGreater([.. stage.Select(r => r.Value)], [.. control.Select(r => r.Value)]);
        return p < Alpha
            ? ("fail", string.Create(CultureInfo.InvariantCulture, $"metric {gate.Name} of {gate.Component}: FAIL: {figures}; Mann-Whitney p = {p:0.####} < {Alpha}"))
            : ("pass", string.Create(CultureInfo.InvariantCulture, $"metric {gate.Name} of {gate.Component}: pass: {figures}, but not significantly (Mann-Whitney p = {p:0.####} >= {Alpha})"));
    }

    /// <summary>
    /// The one-sided p-value of the Mann-Whitney U test that the values of <paramref name="a"/> tend to be greater than
    /// those of <paramref name="b"/> (normal approximation, ties given mid-ranks and the variance's tie correction,
    /// continuity correction).
    /// </summary>
    public static double MannWhitneyGreater(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var all = a.Select(v => (Value: v, FromA: true)).Concat(b.Select(v => (Value: v, FromA: false))).OrderBy(x => x.Value).ToList();
        double n1 = a.Count, n2 = b.Count, n = all.Count;
        double rankSumA = 0, ties = 0;
        for (var i = 0; i < all.Count;)
        {
            var j = i;
            while (j + 1 < all.Count && all[j + 1].Value == all[i].Value)
            {
                j++;
            }

            var midRank = (i + j) / 2.0 + 1;
            var t = j - i + 1.0;
            ties += t * t * t - t;
            for (var k = i; k <= j; k++)
            {
                if (all[k].FromA)
                {
                    rankSumA += midRank;
                }
            }

            i = j + 1;
        }

        var u = rankSumA - n1 * (n1 + 1) / 2;
        var variance = n1 * n2 / 12 * (n + 1 - ties / (n * (n - 1)));
        if (variance <= 0)
        {
            return 1;
        }

        var z = (u - n1 * n2 / 2 - 0.5) / Math.Sqrt(variance);
        return 1 - NormalCdf(z);
    }

    /// <summary>The standard normal distribution function (Abramowitz and Stegun 26.2.17, error below 7.5e-8).</summary>
    public static double NormalCdf(double z)
    {
        var x = Math.Abs(z);
        var t = 1 / (1 + 0.2316419 * x);
        var density = Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
        var tail = density * t * (0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
        return z >= 0 ? 1 - tail : tail;
    }
}

/// <summary>
/// Reads the devices' counters during a bake: each look lists the retained messages (ListRetainedMessages, every page)
/// and fetches (GetRetainedMessage) only those that changed since the last look, keeping per device and gate the first
/// sample seen since the stage started and the latest.
/// </summary>
internal sealed class MetricWatch(IotDataClient iotData, IReadOnlyList<MetricGate> gates, IReadOnlyCollection<string> stage, IReadOnlyCollection<string> control, DateTimeOffset stageStart)
{
    private readonly Dictionary<(int Gate, string Thing), (MetricSample First, MetricSample Last)> _samples = [];
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);

    /// <summary>Takes one look.</summary>
    public async Task LookAsync(CancellationToken cancellationToken)
    {
        var wanted = new Dictionary<string, (int Gate, string Thing)>(StringComparer.Ordinal);
        for (var g = 0; g < gates.Count; g++)
        {
            foreach (var thing in stage.Concat(control))
            {
                wanted[gates[g].TopicOf(thing)] = (g, thing);
            }
        }

        string? next = null;
        var changed = new List<string>();
        do
        {
            var page = await iotData.ListRetainedMessagesAsync(new ListRetainedMessagesRequest { NextToken = next, MaxResults = 200 }, cancellationToken).ConfigureAwait(false);
            foreach (var summary in page.RetainedTopics ?? [])
            {
                if (summary.Topic is { } topic && wanted.ContainsKey(topic) && summary.LastModifiedTime is { } modified
                    && modified >= stageStart.ToUnixTimeMilliseconds() - 1000 && _seen.GetValueOrDefault(topic) != modified)
                {
                    _seen[topic] = modified;
                    changed.Add(topic);
                }
            }

            next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (next is not null);

        foreach (var topic in changed)
        {
            GetRetainedMessageResponse message;
            try
            {
                message = await iotData.GetRetainedMessageAsync(new GetRetainedMessageRequest { Topic = topic }, cancellationToken).ConfigureAwait(false);
            }
            catch (AwsServiceException e) when (e.Code == "ResourceNotFoundException")
            {
                continue;
            }

            if (MetricSample.Parse(message.Payload) is not { } sample)
            {
                continue;
            }

            var key = wanted[topic];
            _samples[key] = _samples.TryGetValue(key, out var known) ? (known.First, sample) : (sample, sample);
        }
    }

    /// <summary>The verdict of every gate: (kind, line) each.</summary>
    public IReadOnlyList<(string Kind, string Line)> Judge()
    {
        var verdicts = new List<(string, string)>();
        for (var g = 0; g < gates.Count; g++)
        {
            verdicts.Add(MetricVerdicts.Judge(gates[g], Rates(g, stage, requireRestart: true), Rates(g, control, requireRestart: false)));
        }

        return verdicts;
    }

    /// <summary>
    /// The rates of a group. A stage device's window is its new process's life (started after the stage did, counters
    /// from zero), so the previous version's counters never count for the new one; a control device's is from the
    /// first sample seen during the stage to the latest.
    /// </summary>
    private List<DeviceRate> Rates(int gate, IEnumerable<string> things, bool requireRestart)
    {
        var rates = new List<DeviceRate>();
        foreach (var thing in things)
        {
            if (!_samples.TryGetValue((gate, thing), out var window))
            {
                continue;
            }

            var last = window.Last;
            MetricSample first;
            if (requireRestart)
            {
                if (last.StartedMs < stageStart.ToUnixTimeMilliseconds() - 1000)
                {
                    continue;
                }

                first = new MetricSample(last.StartedMs, last.StartedMs / 1000.0, new Dictionary<string, long>(StringComparer.Ordinal));
            }
            else if (ReferenceEquals(window.First, last))
            {
                continue;
            }
            else
            {
                first = window.First;
            }

            if (MetricVerdicts.Rate(gates[gate], thing, first, last) is { } rate)
            {
                rates.Add(rate);
            }
        }

        return rates;
    }
}
