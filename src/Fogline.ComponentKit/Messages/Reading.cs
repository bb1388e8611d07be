namespace Fogline.ComponentKit.Messages;

/// <summary>Whether a reading's value can be trusted.</summary>
public enum ReadingQuality
{
    /// <summary>A fresh value read from the device.</summary>
    Good = 0,

    /// <summary>The device is unreachable; the value is the last one read (or NaN if there never was one).</summary>
    Stale = 1,

    /// <summary>The device answered with a value the source could not convert.</summary>
    Bad = 2,
}

/// <summary>
/// One sample of one metric of one device: the message SensorGateway publishes and every pipeline stage consumes.
/// A value type whose strings come from a <see cref="Utf8StringPool"/>, so reading a stream of them allocates nothing
/// once the names have been seen.
/// </summary>
/// <remarks>
/// Wire form (schema version 1, UTF-8 JSON):
/// <c>{"v":1,"zone":"hall-a","device":"press-1","metric":"temperature","value":21.5,"unit":"C","ts":1763812345.125,"seq":42,"quality":"good"}</c>.
/// <c>ts</c> is epoch seconds with a fraction (as Greengrass IPC writes timestamps); <c>unit</c> may be absent;
/// <c>quality</c> is absent for good readings; <c>seq</c> counts readings per device and metric from the start of the
/// publisher.
/// </remarks>
public struct Reading
{
    /// <summary>Schema version of the payload.</summary>
    public int SchemaVersion;

    /// <summary>Zone (site area) of the device.</summary>
    public string Zone;

    /// <summary>Device name, unique within the zone.</summary>
    public string Device;

    /// <summary>Metric name (temperature, pressure, ...).</summary>
    public string Metric;

    /// <summary>Unit, or null.</summary>
    public string? Unit;

    /// <summary>The value in engineering units (after scale and offset).</summary>
    public double Value;

    /// <summary>Sample time, Unix epoch seconds with fraction.</summary>
    public double Timestamp;

    /// <summary>Sequence number per device and metric.</summary>
    public long Sequence;

    /// <summary>Quality of the value.</summary>
    public ReadingQuality Quality;

    /// <summary>Creates a good reading of the current schema version.</summary>
    public Reading(string zone, string device, string metric, double value, double timestamp, string? unit = null, long sequence = 0)
    {
        SchemaVersion = ReadingCodec.CurrentVersion;
        Zone = zone;
        Device = device;
        Metric = metric;
        Unit = unit;
        Value = value;
        Timestamp = timestamp;
        Sequence = sequence;
        Quality = ReadingQuality.Good;
    }

    /// <summary>The sample time as a <see cref="DateTimeOffset"/>.</summary>
    public readonly DateTimeOffset Time => DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(Timestamp * 1000));

    /// <summary>Epoch seconds with fraction of <paramref name="time"/>.</summary>
    public static double ToEpochSeconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds() / 1000.0;
}
