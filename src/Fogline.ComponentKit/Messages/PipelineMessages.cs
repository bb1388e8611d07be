using System.Text.Json;

namespace Fogline.ComponentKit.Messages;

/// <summary>
/// Statistics of one tumbling window of one metric of one device (Aggregator's output).
/// Wire form (schema version 1): <c>{"v":1,"zone","device","metric","unit"?,"start","end","count","min","max","mean","stddev","late"}</c>
/// with <c>start</c>/<c>end</c> in epoch seconds (end exclusive), <c>stddev</c> the population standard deviation and
/// <c>late</c> the readings that arrived after their window had been flushed (counted, not included).
/// </summary>
public struct WindowSummary
{
    /// <summary>Zone.</summary>
    public string Zone;

    /// <summary>Device.</summary>
    public string Device;

    /// <summary>Metric.</summary>
    public string Metric;

    /// <summary>Unit, or null.</summary>
    public string? Unit;

    /// <summary>Window start, epoch seconds (inclusive).</summary>
    public double Start;

    /// <summary>Window end, epoch seconds (exclusive).</summary>
    public double End;

    /// <summary>Readings in the window.</summary>
    public long Count;

    /// <summary>Smallest value.</summary>
    public double Min;

    /// <summary>Largest value.</summary>
    public double Max;

    /// <summary>Mean.</summary>
    public double Mean;

    /// <summary>Population standard deviation.</summary>
    public double StdDev;

    /// <summary>Late readings for this window, dropped.</summary>
    public long Late;

    /// <summary>Writes the summary as one JSON object and flushes.</summary>
    public readonly void Write(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        writer.WriteString("zone"u8, Zone);
        writer.WriteString("device"u8, Device);
        writer.WriteString("metric"u8, Metric);
        if (Unit is not null)
        {
            writer.WriteString("unit"u8, Unit);
        }

        writer.WriteNumber("start"u8, Math.Round(Start, 6));
        writer.WriteNumber("end"u8, Math.Round(End, 6));
        writer.WriteNumber("count"u8, Count);
        writer.WriteNumber("min"u8, Min);
        writer.WriteNumber("max"u8, Max);
        writer.WriteNumber("mean"u8, Mean);
        writer.WriteNumber("stddev"u8, StdDev);
        writer.WriteNumber("late"u8, Late);
        writer.WriteEndObject();
        writer.Flush();
    }
}

/// <summary>Severity of an alert.</summary>
public enum AlertSeverity
{
    /// <summary>Back within limits (an alert cleared).</summary>
    Normal = 0,

    /// <summary>Warning threshold crossed.</summary>
    Warning = 1,

    /// <summary>Critical threshold crossed.</summary>
    Critical = 2,
}

/// <summary>
/// An alert state change raised by a rule (AlertEngine's output).
/// Wire form (schema version 1): <c>{"v":1,"id","rule","zone","device","metric","severity":"warning|critical|normal","previous","threshold","direction":"above|below","ts","reading":{...Reading...}}</c>.
/// <c>id</c> is unique per alert (the uplink uses it to drop duplicates); <c>severity</c> "normal" means cleared.
/// An anomaly alert (AnomalyDetector's) adds <c>"anomaly":{"score","model"}</c>: the anomaly score that crossed the
/// threshold and the model that gave it; the other fields keep their meaning (the threshold is a score threshold).
/// </summary>
public struct Alert
{
    /// <summary>Unique id.</summary>
    public string Id;

    /// <summary>Rule name.</summary>
    public string Rule;

    /// <summary>New severity.</summary>
    public AlertSeverity Severity;

    /// <summary>Severity before this change.</summary>
    public AlertSeverity Previous;

    /// <summary>The threshold crossed (for a clear, the one that was active).</summary>
    public double Threshold;

    /// <summary>True when the rule fires above its thresholds, false when below.</summary>
    public bool Above;

    /// <summary>When the change was decided, epoch seconds.</summary>
    public double Timestamp;

    /// <summary>The reading that triggered it.</summary>
    public Reading Reading;

    /// <summary>For an anomaly alert: the anomaly score that crossed the threshold (null for a threshold rule's alert).</summary>
    public double? AnomalyScore;

    /// <summary>For an anomaly alert: the model that gave the score.</summary>
    public string? Model;

    /// <summary>Wire name of a severity.</summary>
    public static ReadOnlySpan<byte> SeverityName(AlertSeverity severity) => severity switch
    {
        AlertSeverity.Warning => "warning"u8,
        AlertSeverity.Critical => "critical"u8,
        _ => "normal"u8,
    };

    /// <summary>Writes the alert as one JSON object and flushes.</summary>
    public readonly void Write(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        writer.WriteString("id"u8, Id);
        writer.WriteString("rule"u8, Rule);
        writer.WriteString("zone"u8, Reading.Zone);
        writer.WriteString("device"u8, Reading.Device);
        writer.WriteString("metric"u8, Reading.Metric);
        writer.WriteString("severity"u8, SeverityName(Severity));
        writer.WriteString("previous"u8, SeverityName(Previous));
        writer.WriteNumber("threshold"u8, Threshold);
        writer.WriteString("direction"u8, Above ? "above"u8 : "below"u8);
        writer.WriteNumber("ts"u8, Math.Round(Timestamp, 6));
        writer.WritePropertyName("reading"u8);
        writer.WriteStartObject();
        ReadingCodec.WriteBody(writer, Reading);
        writer.WriteEndObject();
        if (AnomalyScore is { } score)
        {
            writer.WritePropertyName("anomaly"u8);
            writer.WriteStartObject();
            writer.WriteNumber("score"u8, Math.Round(score, 6));
            if (Model is not null)
            {
                writer.WriteString("model"u8, Model);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
    }
}

/// <summary>
/// An anomaly score of one reading (AnomalyDetector's output on <see cref="Topics.Anomaly"/>). Wire form (schema
/// version 1): <c>{"v":1,"zone","device","metric","ts","value","score","model"}</c>: the reading's time and value,
/// its anomaly score in [0, 1] and the model that scored it.
/// </summary>
public static class AnomalyScoreMessage
{
    /// <summary>Writes the score message and flushes.</summary>
    public static void Write(Utf8JsonWriter writer, in Reading reading, double score, string model)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        writer.WriteString("zone"u8, reading.Zone);
        writer.WriteString("device"u8, reading.Device);
        writer.WriteString("metric"u8, reading.Metric);
        writer.WriteNumber("ts"u8, Math.Round(reading.Timestamp, 6));
        writer.WriteNumber("value"u8, reading.Value);
        writer.WriteNumber("score"u8, Math.Round(score, 6));
        writer.WriteString("model"u8, model);
        writer.WriteEndObject();
        writer.Flush();
    }
}

/// <summary>
/// A command for the local actuator published with every alert change (AlertEngine's output on
/// <see cref="Topics.Actuate"/>). Wire form: <c>{"v":1,"alertId","rule","zone","device","metric","command":"alarm-on|alarm-off","severity","ts"}</c>.
/// </summary>
public static class Actuation
{
    /// <summary>Writes the actuation for <paramref name="alert"/> and flushes.</summary>
    public static void Write(Utf8JsonWriter writer, in Alert alert)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        writer.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        writer.WriteString("alertId"u8, alert.Id);
        writer.WriteString("rule"u8, alert.Rule);
        writer.WriteString("zone"u8, alert.Reading.Zone);
        writer.WriteString("device"u8, alert.Reading.Device);
        writer.WriteString("metric"u8, alert.Reading.Metric);
        writer.WriteString("command"u8, alert.Severity == AlertSeverity.Normal ? "alarm-off"u8 : "alarm-on"u8);
        writer.WriteString("severity"u8, Alert.SeverityName(alert.Severity));
        writer.WriteNumber("ts"u8, Math.Round(alert.Timestamp, 6));
        writer.WriteEndObject();
        writer.Flush();
    }
}
