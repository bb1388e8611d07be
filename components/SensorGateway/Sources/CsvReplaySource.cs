using System.Globalization;
using Fogline.ComponentKit.Configuration;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Replays a <c>timestamp,value</c> CSV (such as the NAB series) as one metric: each poll gives the value the series
/// had at <c>speed</c> times the time elapsed since the start (speed 3600: an hour of data per second), looping at the
/// end. Readings carry the current time, so windows and alerts behave as with a live sensor.
/// </summary>
public sealed class CsvReplaySource : ISensorSource
{
    private readonly string _metric;
    private readonly string? _unit;
    private readonly double[] _times;
    private readonly double[] _values;
    private readonly double _speed;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _started;
    private readonly string _file;

    /// <summary>Reads the file named by the device's <c>file</c>.</summary>
    public CsvReplaySource(ConfigNode device, TimeProvider time)
    {
        _file = device["file"].String();
        _metric = device["metric"].String();
        _unit = device["unit"].StringOrNull();
        _speed = device["speed"].Double(1, 1e-6, 1e9);
        _time = time;
        _started = time.GetUtcNow();
        if (!File.Exists(_file))
        {
            throw device["file"].Error($"{_file} does not exist");
        }

        var times = new List<double>();
        var values = new List<double>();
        var line = 0;
        foreach (var text in File.ReadLines(_file))
        {
            line++;
            var comma = text.IndexOf(',', StringComparison.Ordinal);
            if (comma < 0 || !double.TryParse(text.AsSpan(comma + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                if (line == 1)
                {
                    continue; // the header
                }

                throw device["file"].Error($"{_file}:{line}: expected 'timestamp,value'");
            }

            if (!DateTimeOffset.TryParse(text.AsSpan(0, comma), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
            {
                throw device["file"].Error($"{_file}:{line}: '{text[..comma]}' is not a timestamp");
            }

            times.Add(timestamp.ToUnixTimeMilliseconds() / 1000.0);
            values.Add(value);
        }

        if (times.Count < 2)
        {
            throw device["file"].Error($"{_file} has fewer than two readings");
        }

        _times = [.. times];
        _values = [.. values];
    }

    /// <inheritdoc />
    public string Describe() => $"csv replay of {_file} x{_speed}";

    /// <inheritdoc />
    public ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        values.Clear();
        var span = _times[^1] - _times[0];
        var offset = ((_time.GetUtcNow() - _started).TotalSeconds * _speed) % span;
        var index = Array.BinarySearch(_times, _times[0] + offset);
        index = index >= 0 ? index : Math.Max(0, ~index - 1);
        values.Add(new SourceValue(_metric, _unit, _values[index], 0));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
