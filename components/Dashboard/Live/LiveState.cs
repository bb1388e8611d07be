using System.Buffers;
using System.Text.Json;
using Fogline.ComponentKit.Messages;
using Fogline.Dashboard.Web;

namespace Fogline.Dashboard.Live;

/// <summary>
/// What the page shows: the latest value and trend of every device metric, active alerts (threshold, anomaly and zone)
/// with their acknowledgements, components' health from their counters, CloudUplink's link state and backlog, and zone
/// summaries. Updated from local pub/sub; turned into one snapshot per connecting browser and one shared delta per push
/// interval. Thread-safe (one lock); recording a reading of a known series allocates nothing.
/// </summary>
public sealed class LiveState
{
    /// <summary>Active alerts kept at most; beyond it the oldest acknowledged (else oldest) one is forgotten.</summary>
    public const int MaxAlerts = 1000;

    private readonly Lock _gate = new();
    private readonly Dictionary<(string Zone, string Device, string Metric), LiveSeries> _series = [];
    private readonly List<LiveSeries> _ordered = [];
    private readonly List<LiveSeries> _dirty = [];
    private readonly List<LiveSeries> _new = [];
    private readonly Dictionary<string, ActiveAlert> _alerts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _alertsChanged = new(StringComparer.Ordinal);
    private readonly HashSet<string> _alertsCleared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _health = new(StringComparer.Ordinal);
    private readonly HashSet<string> _healthChanged = new(StringComparer.Ordinal);
    private readonly Dictionary<string, byte[]> _zones = new(StringComparer.Ordinal);
    private readonly HashSet<string> _zonesChanged = new(StringComparer.Ordinal);
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _json;
    private byte[]? _uplink;
    private bool _uplinkChanged;
    private long _sequence;

    /// <summary>Creates the state.</summary>
    public LiveState(int trendSeconds, double staleSeconds, int maxSeries)
    {
        TrendSeconds = trendSeconds;
        StaleSeconds = staleSeconds;
        MaxSeries = maxSeries;
        _json = new Utf8JsonWriter(_buffer);
    }

    /// <summary>Trend points per series.</summary>
    public int TrendSeconds { get; }

    /// <summary>Seconds without a reading before a series is shown stale (changeable live).</summary>
    public double StaleSeconds { get; set; }

    /// <summary>Series kept at most (changeable live; lowering it keeps the series already shown).</summary>
    public int MaxSeries { get; set; }

    /// <summary>Readings of series beyond <see cref="MaxSeries"/>, skipped.</summary>
    public long SeriesOverLimit { get; private set; }

    /// <summary>Series shown.</summary>
    public int SeriesCount
    {
        get
        {
            lock (_gate)
            {
                return _ordered.Count;
            }
        }
    }

    /// <summary>Records a reading received at <paramref name="now"/> (epoch seconds).</summary>
    public void Record(in Reading reading, double now)
    {
        lock (_gate)
        {
            if (!_series.TryGetValue((reading.Zone, reading.Device, reading.Metric), out var series))
            {
                if (_ordered.Count >= MaxSeries)
                {
                    SeriesOverLimit++;
                    return;
                }

                series = new LiveSeries(_ordered.Count, reading.Zone, reading.Device, reading.Metric, TrendSeconds);
                _series[(reading.Zone, reading.Device, reading.Metric)] = series;
                _ordered.Add(series);
                _new.Add(series);
            }

            series.ReceivedAt = now;
            series.Timestamp = reading.Timestamp;
            if (reading.Unit is not null)
            {
                series.Unit = reading.Unit;
            }

            if (reading.Quality == ReadingQuality.Good && double.IsFinite(reading.Value))
            {
                series.Value = reading.Value;
                series.Quality = SeriesQuality.Good;
                series.AddTrend(reading.Timestamp, reading.Value);
            }
            else
            {
                series.Quality = reading.Quality == ReadingQuality.Bad ? SeriesQuality.Bad : SeriesQuality.Stale;
            }

            if (!series.Dirty)
            {
                series.Dirty = true;
                _dirty.Add(series);
            }
        }
    }

    /// <summary>
    /// Records an alert change (AlertEngine's, AnomalyDetector's or ZoneCorrelator's schema). A change to normal
    /// clears it; an escalation clears an acknowledgement. Returns false when the payload is not an alert.
    /// </summary>
    public bool RecordAlert(ReadOnlySpan<byte> payload, out string? error)
    {
        if (!ActiveAlert.TryParse(payload, out var alert, out error))
        {
            return false;
        }

        lock (_gate)
        {
            if (alert.Severity == "normal")
            {
                if (_alerts.Remove(alert.Key))
                {
                    _alertsChanged.Remove(alert.Key);
                    _alertsCleared.Add(alert.Key);
                }

                return true;
            }

            if (_alerts.TryGetValue(alert.Key, out var existing) && existing.AckedBy is not null && SeverityRank(alert.Severity) <= SeverityRank(existing.Severity))
            {
                alert.AckedBy = existing.AckedBy;
                alert.AckedAt = existing.AckedAt;
            }

            _alerts[alert.Key] = alert;
            _alertsCleared.Remove(alert.Key);
            _alertsChanged.Add(alert.Key);
            if (_alerts.Count > MaxAlerts)
            {
                var oldest = _alerts.Values.OrderBy(a => a.AckedBy is null ? 1 : 0).ThenBy(a => a.Timestamp).First();
                _alerts.Remove(oldest.Key);
                _alertsChanged.Remove(oldest.Key);
                _alertsCleared.Add(oldest.Key);
            }
        }

        return true;
    }

    /// <summary>Acknowledges an active alert; false when there is none by that key.</summary>
    public bool Acknowledge(string key, string user, double now)
    {
        lock (_gate)
        {
            if (!_alerts.TryGetValue(key, out var alert))
            {
                return false;
            }

            if (alert.AckedBy is null)
            {
                alert.AckedBy = user;
                alert.AckedAt = now;
                _alertsChanged.Add(key);
            }

            return true;
        }
    }

    /// <summary>Records a component's counters (<c>fogline/metrics/{component}</c>); false when the payload is not one.</summary>
    public bool RecordHealth(ReadOnlySpan<byte> payload, double now)
    {
        string component;
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("component", out var name) || name.ValueKind != JsonValueKind.String
                || !doc.RootElement.TryGetProperty("counters", out var counters) || counters.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            component = name.GetString()!;
            var buffer = new ArrayBufferWriter<byte>(payload.Length + 64);
            using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartObject();
                json.WriteString("component"u8, component);
                json.WriteNumber("receivedAt"u8, Math.Round(now, 3));
                json.WritePropertyName("counters"u8);
                counters.WriteTo(json);
                json.WriteEndObject();
            }

            lock (_gate)
            {
                _health[component] = buffer.WrittenSpan.ToArray();
                _healthChanged.Add(component);
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return true;
    }

    /// <summary>Records CloudUplink's status (<c>fogline/uplink/status</c>); false when the payload is not a JSON object.</summary>
    public bool RecordUplink(ReadOnlySpan<byte> payload) => RecordObject(payload, null, null);

    /// <summary>Records a zone summary (<c>fogline/zones/{zone}</c>); false when the payload is not one.</summary>
    public bool RecordZone(ReadOnlySpan<byte> payload) => RecordObject(payload, _zones, _zonesChanged);

    private bool RecordObject(ReadOnlySpan<byte> payload, Dictionary<string, byte[]>? into, HashSet<string>? changed)
    {
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            string? zone = null;
            if (into is not null && (!doc.RootElement.TryGetProperty("zone", out var z) || z.ValueKind != JsonValueKind.String || !Topics.IsValidSegment(zone = z.GetString())))
            {
                return false;
            }

            var copy = Compact(doc.RootElement);
            lock (_gate)
            {
                if (into is null)
                {
                    _uplink = copy;
                    _uplinkChanged = true;
                }
                else
                {
                    into[zone!] = copy;
                    changed!.Add(zone!);
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }

        return true;
    }

    /// <summary>
    /// Connects a browser: under the lock that orders pushes, builds its snapshot (an SSE frame) and adds it to
    /// <paramref name="hub"/>, so the next delta it receives is the one after this snapshot. Null when the hub is full.
    /// </summary>
    public byte[]? Connect(ClientHub hub, DashboardClient client, int maxClients, string user, double now)
    {
        ArgumentNullException.ThrowIfNull(hub);
        lock (_gate)
        {
            if (!hub.TryAdd(client, maxClients))
            {
                return null;
            }

            Begin();
            _json.WriteStartObject();
            _json.WriteString("type"u8, "snapshot"u8);
            _json.WriteNumber("seq"u8, _sequence);
            _json.WriteNumber("now"u8, Math.Round(now, 3));
            _json.WriteString("user"u8, user);
            _json.WriteNumber("trendSeconds"u8, TrendSeconds);
            _json.WriteNumber("staleSeconds"u8, StaleSeconds);
            WriteDefinitions(_ordered);
            _json.WriteStartArray("values"u8);
            foreach (var s in _ordered)
            {
                WriteValue(s);
            }

            _json.WriteEndArray();
            _json.WriteStartArray("trends"u8);
            foreach (var s in _ordered)
            {
                _json.WriteStartArray();
                _json.WriteNumberValue(s.Id);
                for (var i = 0; i < s.TrendCount; i++)
                {
                    var (t, v) = s.TrendAt(i);
                    _json.WriteNumberValue(t);
                    _json.WriteNumberValue(v);
                }

                _json.WriteEndArray();
            }

            _json.WriteEndArray();
            WriteAlerts(_alerts.Keys, []);
            WriteObjects("health"u8, _health, _health.Keys);
            WriteObjects("zones"u8, _zones, _zones.Keys);
            if (_uplink is not null)
            {
                _json.WritePropertyName("uplink"u8);
                _json.WriteRawValue(_uplink, skipInputValidation: true);
            }

            _json.WriteEndObject();
            return Frame();
        }
    }

    /// <summary>
    /// Builds the delta since the last one (new series, changed values, series gone stale, alert changes, health,
    /// uplink, zones) and queues it for every browser in <paramref name="hub"/>. Returns its size in bytes (0: nothing changed).
    /// </summary>
    public int PushDelta(ClientHub hub, double now)
    {
        ArgumentNullException.ThrowIfNull(hub);
        lock (_gate)
        {
            foreach (var s in _ordered)
            {
                if (s.Quality == SeriesQuality.Good && now - s.ReceivedAt > StaleSeconds)
                {
                    s.Quality = SeriesQuality.Stale;
                    if (!s.Dirty)
                    {
                        s.Dirty = true;
                        _dirty.Add(s);
                    }
                }
            }

            if (_dirty.Count == 0 && _new.Count == 0 && _alertsChanged.Count == 0 && _alertsCleared.Count == 0
                && _healthChanged.Count == 0 && _zonesChanged.Count == 0 && !_uplinkChanged)
            {
                return 0;
            }

            _sequence++;
            Begin();
            _json.WriteStartObject();
            _json.WriteString("type"u8, "delta"u8);
            _json.WriteNumber("seq"u8, _sequence);
            _json.WriteNumber("now"u8, Math.Round(now, 3));
            if (_new.Count > 0)
            {
                WriteDefinitions(_new);
                _new.Clear();
            }

            if (_dirty.Count > 0)
            {
                _json.WriteStartArray("values"u8);
                foreach (var s in _dirty)
                {
                    WriteValue(s);
                    s.Dirty = false;
                }

                _json.WriteEndArray();
                _dirty.Clear();
            }

            if (_alertsChanged.Count > 0 || _alertsCleared.Count > 0)
            {
                WriteAlerts(_alertsChanged, _alertsCleared);
                _alertsChanged.Clear();
                _alertsCleared.Clear();
            }

            if (_healthChanged.Count > 0)
            {
                WriteObjects("health"u8, _health, _healthChanged);
                _healthChanged.Clear();
            }

            if (_zonesChanged.Count > 0)
            {
                WriteObjects("zones"u8, _zones, _zonesChanged);
                _zonesChanged.Clear();
            }

            if (_uplinkChanged && _uplink is not null)
            {
                _json.WritePropertyName("uplink"u8);
                _json.WriteRawValue(_uplink, skipInputValidation: true);
                _uplinkChanged = false;
            }

            _json.WriteEndObject();
            var frame = Frame();
            hub.Broadcast(frame);
            return frame.Length;
        }
    }

    /// <summary>The current state as JSON (GET /api/state), the snapshot without its SSE framing.</summary>
    public byte[] SnapshotJson(string user, double now)
    {
        var frame = Connect(new ClientHub(), new DashboardClient("api", 1), 1, user, now)!;
        return frame.AsSpan(Data.Length, frame.Length - Data.Length - 2).ToArray();
    }

    private static ReadOnlySpan<byte> Data => "data: "u8;

    private void Begin()
    {
        _buffer.Clear();
        _json.Reset(_buffer);
        _buffer.Write(Data);
    }

    /// <summary>The written JSON as one SSE event: <c>data: {json}\n\n</c> (the JSON has no line breaks).</summary>
    private byte[] Frame()
    {
        _json.Flush();
        _buffer.Write("\n\n"u8);
        return _buffer.WrittenSpan.ToArray();
    }

    private void WriteDefinitions(List<LiveSeries> series)
    {
        _json.WriteStartArray("series"u8);
        foreach (var s in series)
        {
            _json.WriteStartArray();
            _json.WriteNumberValue(s.Id);
            _json.WriteStringValue(s.Zone);
            _json.WriteStringValue(s.Device);
            _json.WriteStringValue(s.Metric);
            if (s.Unit is null)
            {
                _json.WriteNullValue();
            }
            else
            {
                _json.WriteStringValue(s.Unit);
            }

            _json.WriteEndArray();
        }

        _json.WriteEndArray();
    }

    /// <summary>A value: <c>[id, value|null, ts, quality, unit?]</c>.</summary>
    private void WriteValue(LiveSeries s)
    {
        _json.WriteStartArray();
        _json.WriteNumberValue(s.Id);
        if (double.IsFinite(s.Value))
        {
            _json.WriteNumberValue(s.Value);
        }
        else
        {
            _json.WriteNullValue();
        }

        _json.WriteNumberValue(Math.Round(s.Timestamp, 3));
        _json.WriteNumberValue((int)s.Quality);
        _json.WriteEndArray();
    }

    private void WriteAlerts(IEnumerable<string> changed, IEnumerable<string> cleared)
    {
        _json.WriteStartArray("alerts"u8);
        foreach (var key in changed)
        {
            _alerts[key].Write(_json);
        }

        _json.WriteEndArray();
        _json.WriteStartArray("cleared"u8);
        foreach (var key in cleared)
        {
            _json.WriteStringValue(key);
        }

        _json.WriteEndArray();
    }

    private void WriteObjects(ReadOnlySpan<byte> name, Dictionary<string, byte[]> objects, IEnumerable<string> keys)
    {
        _json.WriteStartArray(name);
        foreach (var key in keys)
        {
            _json.WriteRawValue(objects[key], skipInputValidation: true);
        }

        _json.WriteEndArray();
    }

    /// <summary>A JSON value written without line breaks or indentation (what an SSE data line needs).</summary>
    internal static byte[] Compact(JsonElement element)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            element.WriteTo(json);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static int SeverityRank(string severity) => severity switch
    {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    };
}

/// <summary>An active (raised, not yet cleared) alert as the page shows it.</summary>
public sealed class ActiveAlert
{
    /// <summary>What identifies the alert across its changes: <c>zone|{zone}|{rule}</c> for a zone rule, <c>{rule}|{zone}|{device}|{metric}</c> otherwise.</summary>
    public required string Key { get; init; }

    /// <summary><c>threshold</c>, <c>anomaly</c> or <c>zone</c>.</summary>
    public required string Kind { get; init; }

    /// <summary>Severity: warning, critical (normal clears).</summary>
    public required string Severity { get; init; }

    /// <summary>When it was decided, epoch seconds.</summary>
    public double Timestamp { get; init; }

    /// <summary>The alert as received.</summary>
    public required byte[] Body { get; init; }

    /// <summary>Who acknowledged it, or null.</summary>
    public string? AckedBy { get; set; }

    /// <summary>When it was acknowledged, epoch seconds.</summary>
    public double AckedAt { get; set; }

    /// <summary>Parses an alert; false (with the reason) when the payload is not one.</summary>
    public static bool TryParse(ReadOnlySpan<byte> payload, out ActiveAlert alert, out string? error)
    {
        alert = null!;
        try
        {
            var reader = new Utf8JsonReader(payload);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "an alert must be a JSON object";
                return false;
            }

            string? Text(string name) => root.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var rule = Text("rule");
            var zone = Text("zone");
            var severity = Text("severity");
            if (rule is null || zone is null || severity is not ("normal" or "warning" or "critical"))
            {
                error = "an alert needs string fields 'rule', 'zone' and 'severity' (normal, warning or critical)";
                return false;
            }

            string key, kind;
            if (Text("kind") == "zone")
            {
                kind = "zone";
                key = $"zone|{zone}|{rule}";
            }
            else
            {
                var device = Text("device");
                var metric = Text("metric");
                if (device is null || metric is null)
                {
                    error = "a device alert needs string fields 'device' and 'metric'";
                    return false;
                }

                kind = root.TryGetProperty("anomaly", out _) ? "anomaly" : "threshold";
                key = $"{rule}|{zone}|{device}|{metric}";
            }

            alert = new ActiveAlert
            {
                Key = key,
                Kind = kind,
                Severity = severity,
                Timestamp = root.TryGetProperty("ts", out var ts) && ts.ValueKind == JsonValueKind.Number ? ts.GetDouble() : 0,
                Body = LiveState.Compact(root),
            };
            error = null;
            return true;
        }
        catch (JsonException e)
        {
            error = "not JSON: " + e.Message;
            return false;
        }
    }

    /// <summary>Writes <c>{"key","kind","ackedBy","ackedAt","alert":{…as received…}}</c>.</summary>
    public void Write(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteString("key"u8, Key);
        json.WriteString("kind"u8, Kind);
        if (AckedBy is not null)
        {
            json.WriteString("ackedBy"u8, AckedBy);
            json.WriteNumber("ackedAt"u8, Math.Round(AckedAt, 3));
        }

        json.WritePropertyName("alert"u8);
        json.WriteRawValue(Body, skipInputValidation: true);
        json.WriteEndObject();
    }
}
