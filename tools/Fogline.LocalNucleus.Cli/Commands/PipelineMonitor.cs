using System.Globalization;
using System.Text.Json;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// What the foreground view shows of a Fogline pipeline running on the Nucleus: each component's counters (published
/// every few seconds on <c>fogline/metrics/{component}</c> by the hosting kit), the rates between two snapshots, and
/// the latest alerts (<c>fogline/alerts/#</c>). Listens in-process on local pub/sub.
/// </summary>
internal sealed class PipelineMonitor : IDisposable
{
    private const int RecentAlerts = 6;
    private readonly object _lock = new();
    private readonly Dictionary<string, Snapshot> _components = new(StringComparer.Ordinal);
    private readonly LinkedList<string> _alerts = new();
    private readonly IDisposable _metrics;
    private readonly IDisposable _alertSubscription;
    private long _alertCount;

    public PipelineMonitor(Nucleus nucleus)
    {
        _metrics = nucleus.PubSub.Subscribe("fogline/metrics/#", OnMetrics);
        _alertSubscription = nucleus.PubSub.Subscribe("fogline/alerts/#", OnAlert);
    }

    /// <summary>Whether any component has reported yet.</summary>
    public bool HasData
    {
        get
        {
            lock (_lock)
            {
                return _components.Count > 0;
            }
        }
    }

    public long AlertCount => Interlocked.Read(ref _alertCount);

    /// <summary>(component, counters, per-second rates of the counters) by component name.</summary>
    public List<(string Component, IReadOnlyDictionary<string, long> Counters, IReadOnlyDictionary<string, double> Rates)> Components()
    {
        lock (_lock)
        {
            return [.. _components.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (c.Key, (IReadOnlyDictionary<string, long>)c.Value.Counters, (IReadOnlyDictionary<string, double>)c.Value.Rates))];
        }
    }

    public List<string> Alerts()
    {
        lock (_lock)
        {
            return [.. _alerts];
        }
    }

    /// <summary>One line: readings/s in, share forwarded by the filter, windows, alerts.</summary>
    public string Summary()
    {
        lock (_lock)
        {
            var readings = Rate("com.fogline.SensorGateway", "readings");
            var filterIn = Count("com.fogline.EdgeFilter", "received");
            var forwarded = Count("com.fogline.EdgeFilter", "forwarded");
            var share = filterIn > 0 ? (double)forwarded / filterIn : double.NaN;
            return string.Create(CultureInfo.InvariantCulture,
                $"pipeline: {readings:0} readings/s, EdgeFilter forwards {(double.IsNaN(share) ? "-" : share.ToString("P1", CultureInfo.InvariantCulture))}, {Count("com.fogline.Aggregator", "windows")} windows, {AlertCount} alerts");
        }
    }

    public void Dispose()
    {
        _metrics.Dispose();
        _alertSubscription.Dispose();
    }

    private long Count(string component, string counter) =>
        _components.TryGetValue(component, out var s) && s.Counters.TryGetValue(counter, out var v) ? v : 0;

    private double Rate(string component, string counter) =>
        _components.TryGetValue(component, out var s) && s.Rates.TryGetValue(counter, out var v) ? v : 0;

    private void OnMetrics(string topic, ReadOnlyMemory<byte> payload)
    {
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            var component = root.GetProperty("component").GetString() ?? topic;
            var ts = root.GetProperty("ts").GetDouble();
            var counters = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var c in root.GetProperty("counters").EnumerateObject())
            {
                counters[c.Name] = c.Value.GetInt64();
            }

            lock (_lock)
            {
                var rates = new Dictionary<string, double>(StringComparer.Ordinal);
                if (_components.TryGetValue(component, out var previous) && ts > previous.Time)
                {
                    foreach (var (name, value) in counters)
                    {
                        previous.Counters.TryGetValue(name, out var before);
                        rates[name] = (value - before) / (ts - previous.Time);
                    }
                }

                _components[component] = new Snapshot(ts, counters, rates);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            // Not the hosting kit's shape: not shown.
        }
    }

    private void OnAlert(string topic, ReadOnlyMemory<byte> payload)
    {
        Interlocked.Increment(ref _alertCount);
        try
        {
            using var document = JsonDocument.Parse(payload);
            var a = document.RootElement;
            if (a.TryGetProperty("kind", out var kind) && kind.ValueEquals("zone"u8))
            {
                // ZoneCorrelator's: a zone rule over its devices, each condition's aggregate as it was decided.
                var conditions = string.Join(a.GetProperty("combine").ValueEquals("any"u8) ? " or " : " and ", a.GetProperty("conditions").EnumerateArray().Select(c =>
                    string.Create(CultureInfo.InvariantCulture, $"{c.GetProperty("aggregate").GetString()} {c.GetProperty("metric").GetString()} {(c.GetProperty("value").ValueKind == JsonValueKind.Number ? c.GetProperty("value").GetDouble().ToString("0.##", CultureInfo.InvariantCulture) : "-")}")));
                Remember(string.Create(CultureInfo.InvariantCulture,
                    $"{DateTime.Now:HH:mm:ss} {a.GetProperty("severity").GetString()!.ToUpperInvariant(),-8} {a.GetProperty("rule").GetString()} zone {a.GetProperty("zone").GetString()}: {conditions}"));
                return;
            }

            var reading = a.GetProperty("reading");
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{DateTime.Now:HH:mm:ss} {a.GetProperty("severity").GetString()!.ToUpperInvariant(),-8} {a.GetProperty("rule").GetString()} {a.GetProperty("zone").GetString()}/{a.GetProperty("device").GetString()}/{a.GetProperty("metric").GetString()} = {(reading.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("0.##", CultureInfo.InvariantCulture) : "?")} (threshold {a.GetProperty("threshold").GetDouble().ToString("0.##", CultureInfo.InvariantCulture)})");
            Remember(line);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
        }
    }

    private void Remember(string line)
    {
        lock (_lock)
        {
            _alerts.AddFirst(line);
            while (_alerts.Count > RecentAlerts)
            {
                _alerts.RemoveLast();
            }
        }
    }

    private sealed record Snapshot(double Time, Dictionary<string, long> Counters, Dictionary<string, double> Rates);
}
