using System.Globalization;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources.Shared;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Maxim DS18B20 temperature sensors on a 1-Wire bus through Linux's w1 sysfs (the w1-gpio and w1-therm kernel modules):
/// <c>{sysfsRoot}/{id}/w1_slave</c>, whose first line ends in YES when the scratchpad's CRC matched and whose second
/// ends in <c>t=</c> thousandths of a degree. A NO is counted (<c>w1_crc_errors</c>) and the reading is bad; a sensor
/// missing from the bus (no file) gives stale readings; 85.000 °C, the value a DS18B20 holds before its first
/// conversion (a power glitch), and values outside −55 to 125 °C are rejected. dotnet/iot's OneWire binding reads the
/// same files but only under /sys/bus/w1/devices, so this source reads them itself, from any root (a test's tree).
/// </summary>
public sealed class Ds18b20Source : ISensorSource
{
    private readonly string _file;
    private readonly string _id;
    private readonly string _metric;
    private readonly SourceEvents _events;
    private double _last = double.NaN;

    /// <summary>Reads <c>id</c> (e.g. 28-0316a2794bff), <c>sysfsRoot</c> (/sys/bus/w1/devices) and <c>metric</c> (temperature).</summary>
    public Ds18b20Source(ConfigNode device, SourceEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _id = device["id"].String();
        if (!_id.StartsWith("28-", StringComparison.Ordinal) || _id.Contains('/', StringComparison.Ordinal))
        {
            throw device["id"].Error($"'{_id}' is not a DS18B20's w1 id (family 28: \"28-\" and 12 hex digits)");
        }

        _file = Path.Combine(device["sysfsRoot"].String("/sys/bus/w1/devices"), _id, "w1_slave");
        _metric = device["metric"].String("temperature");
        _events = events;
    }

    /// <inheritdoc />
    public string Describe() => $"DS18B20 {_id} ({_file})";

    /// <inheritdoc />
    public void CheckAtStart()
    {
        if (!File.Exists(_file))
        {
            throw new InvalidOperationException($"{_file} does not exist: the sensor is not on the 1-Wire bus, or the w1-gpio/w1-therm modules are not loaded");
        }
    }

    /// <inheritdoc />
    public async ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        values.Clear();
        string text;
        try
        {
            // The kernel runs the conversion when the file is read (up to 750 ms at 12 bits).
            text = await File.ReadAllTextAsync(_file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            values.Add(new SourceValue(_metric, "C", _last, 1));
            return;
        }

        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 2 || !lines[0].TrimEnd().EndsWith("YES", StringComparison.Ordinal))
        {
            _events.Count("w1_crc_errors");
            values.Add(new SourceValue(_metric, "C", double.NaN, 2));
            return;
        }

        var at = lines[1].LastIndexOf("t=", StringComparison.Ordinal);
        if (at < 0 || !int.TryParse(lines[1].AsSpan(at + 2).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var milli))
        {
            values.Add(new SourceValue(_metric, "C", double.NaN, 2));
            return;
        }

        var celsius = milli / 1000.0;
        if (milli == 85_000 || celsius < -55 || celsius > 125)
        {
            values.Add(new SourceValue(_metric, "C", double.NaN, 2) { OutOfRange = true });
            return;
        }

        _last = celsius;
        values.Add(new SourceValue(_metric, "C", celsius, 0));
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
