using System.Globalization;
using Fogline.ComponentKit.Configuration;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Linux Industrial I/O through sysfs: for each channel (<c>in_temp</c>, <c>in_voltage0</c>, …) reads
/// <c>{channel}_raw</c> and applies <c>{channel}_offset</c> and <c>{channel}_scale</c> when present (or the
/// device-wide <c>in_{type}_scale</c>/<c>_offset</c>), as the kernel documents: value = (raw + offset) × scale. A
/// channel that cannot be read gives a bad reading; a missing device gives stale readings.
/// </summary>
public sealed class IioSource : ISensorSource
{
    private readonly string _path;
    private readonly List<Channel> _channels = [];

    /// <summary>Reads the device's <c>path</c> and <c>channels</c>.</summary>
    public IioSource(ConfigNode device)
    {
        _path = device["path"].String();
        foreach (var c in device["channels"].Items())
        {
            var channel = c["channel"].String();
            if (channel.Contains('/', StringComparison.Ordinal) || channel.Contains("..", StringComparison.Ordinal))
            {
                throw c["channel"].Error($"'{channel}' is not a channel name");
            }

            _channels.Add(new Channel(c["metric"].String(), c["unit"].StringOrNull(), channel, c["scale"].Double(double.NaN), c["offset"].Double(double.NaN)));
        }

        if (_channels.Count == 0)
        {
            throw device["channels"].Error("an IIO device needs at least one channel");
        }
    }

    /// <inheritdoc />
    public string Describe() => $"iio {_path}";

    /// <inheritdoc />
    public async ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        values.Clear();
        var present = Directory.Exists(_path);
        foreach (var c in _channels)
        {
            if (!present)
            {
                values.Add(new SourceValue(c.Metric, c.Unit, c.Last, 1));
                continue;
            }

            var raw = await ReadNumberAsync(Path.Combine(_path, c.Name + "_raw"), cancellationToken).ConfigureAwait(false);
            if (double.IsNaN(raw))
            {
                values.Add(new SourceValue(c.Metric, c.Unit, double.NaN, 2));
                continue;
            }

            var type = TypePrefix(c.Name);
            var offset = !double.IsNaN(c.Offset) ? c.Offset : await FirstNumberAsync(0, cancellationToken, c.Name + "_offset", type + "_offset").ConfigureAwait(false);
            var scale = !double.IsNaN(c.Scale) ? c.Scale : await FirstNumberAsync(1, cancellationToken, c.Name + "_scale", type + "_scale").ConfigureAwait(false);
            c.Last = (raw + offset) * scale;
            values.Add(new SourceValue(c.Metric, c.Unit, c.Last, 0));
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>"in_voltage0" → "in_voltage"; "in_temp" stays.</summary>
    private static string TypePrefix(string channel) => channel.TrimEnd('0', '1', '2', '3', '4', '5', '6', '7', '8', '9');

    private async ValueTask<double> FirstNumberAsync(double fallback, CancellationToken cancellationToken, params string[] files)
    {
        foreach (var file in files)
        {
            var path = Path.Combine(_path, file);
            if (File.Exists(path))
            {
                var value = await ReadNumberAsync(path, cancellationToken).ConfigureAwait(false);
                if (!double.IsNaN(value))
                {
                    return value;
                }
            }
        }

        return fallback;
    }

    private static async ValueTask<double> ReadNumberAsync(string file, CancellationToken cancellationToken)
    {
        try
        {
            var text = await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
            return double.TryParse(text.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    private sealed class Channel(string metric, string? unit, string name, double scale, double offset)
    {
        public string Metric { get; } = metric;

        public string? Unit { get; } = unit;

        public string Name { get; } = name;

        public double Scale { get; } = scale;

        public double Offset { get; } = offset;

        public double Last { get; set; } = double.NaN;
    }
}
