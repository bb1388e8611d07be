namespace Fogline.ComponentKit.Messages;

/// <summary>
/// The pipeline's local pub/sub topic scheme. Every topic carries the zone and the device, so a subscriber can pick a
/// zone (<c>fogline/raw/zone-a/#</c>), a device or a metric with MQTT-style wildcards.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term><c>fogline/raw/{zone}/{device}/{metric}</c></term><description>SensorGateway: one <see cref="Reading"/> per device and metric.</description></item>
/// <item><term><c>fogline/filtered/{zone}/{device}/{metric}</c></term><description>EdgeFilter: the readings the cloud needs (compressed).</description></item>
/// <item><term><c>fogline/summary/{zone}/{device}/{metric}</c></term><description>Aggregator: one <see cref="WindowSummary"/> per window.</description></item>
/// <item><term><c>fogline/alerts/{zone}/{device}/{metric}</c></term><description>AlertEngine: raised and cleared <see cref="Alert"/>s (uplink, critical priority).</description></item>
/// <item><term><c>fogline/actuate/{zone}/{device}</c></term><description>AlertEngine: an <see cref="Actuation"/> for the local actuator.</description></item>
/// <item><term><c>fogline/alerts/zone/{zone}/{rule}</c></term><description>ZoneCorrelator: raised and cleared zone alerts (schema in components/ZoneCorrelator/README.md).</description></item>
/// <item><term><c>fogline/zones/{zone}</c></term><description>ZoneCorrelator: a zone summary every few seconds (devices seen, stale devices, per-metric aggregates).</description></item>
/// <item><term><c>fogline/metrics/{component}</c></term><description>Every component: its counters, every few seconds.</description></item>
/// </list>
/// Zone, device and metric names are limited to <see cref="IsValidSegment"/> so they never contain MQTT wildcards or
/// separators.
/// </remarks>
public static class Topics
{
    /// <summary>The root of every pipeline topic.</summary>
    public const string Root = "fogline";

    /// <summary>Raw readings.</summary>
    public static string Raw(string zone, string device, string metric) => $"{Root}/raw/{zone}/{device}/{metric}";

    /// <summary>Filtered readings.</summary>
    public static string Filtered(string zone, string device, string metric) => $"{Root}/filtered/{zone}/{device}/{metric}";

    /// <summary>Window summaries.</summary>
    public static string Summary(string zone, string device, string metric) => $"{Root}/summary/{zone}/{device}/{metric}";

    /// <summary>Alerts.</summary>
    public static string Alerts(string zone, string device, string metric) => $"{Root}/alerts/{zone}/{device}/{metric}";

    /// <summary>Actuation commands.</summary>
    public static string Actuate(string zone, string device) => $"{Root}/actuate/{zone}/{device}";

    /// <summary>AnomalyDetector's anomaly scores.</summary>
    public static string Anomaly(string zone, string device, string metric) => $"{Root}/anomaly/{zone}/{device}/{metric}";

    /// <summary>ZoneCorrelator's alerts of a zone rule.</summary>
    public static string ZoneAlerts(string zone, string rule) => $"{Root}/alerts/zone/{zone}/{rule}";

    /// <summary>ZoneCorrelator's summaries of a zone.</summary>
    public static string ZoneSummary(string zone) => $"{Root}/zones/{zone}";

    /// <summary>All zone summaries.</summary>
    public const string AllZoneSummaries = Root + "/zones/#";

    /// <summary>A component's counters.</summary>
    public static string Metrics(string component) => $"{Root}/metrics/{component}";

    /// <summary>All anomaly scores.</summary>
    public const string AllAnomaly = Root + "/anomaly/#";

    /// <summary>All raw readings.</summary>
    public const string AllRaw = Root + "/raw/#";

    /// <summary>All filtered readings.</summary>
    public const string AllFiltered = Root + "/filtered/#";

    /// <summary>All summaries.</summary>
    public const string AllSummaries = Root + "/summary/#";

    /// <summary>All alerts.</summary>
    public const string AllAlerts = Root + "/alerts/#";

    /// <summary>All actuation commands.</summary>
    public const string AllActuations = Root + "/actuate/#";

    /// <summary>All component counters.</summary>
    public const string AllMetrics = Root + "/metrics/#";

    /// <summary>
    /// Whether <paramref name="segment"/> can be a zone, device or metric name: 1 to 64 characters of letters, digits,
    /// <c>-</c>, <c>_</c> and <c>.</c>.
    /// </summary>
    public static bool IsValidSegment(ReadOnlySpan<char> segment)
    {
        if (segment.IsEmpty || segment.Length > 64)
        {
            return false;
        }

        foreach (var c in segment)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }
}
