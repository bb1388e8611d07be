using Fogline.Anomaly.Nab;
using Fogline.ComponentKit.Processing;

namespace Fogline.Plr;

/// <summary>A series from a CSV file: a header line, then time (ISO date-time or epoch seconds) and value per line.</summary>
public static class SeriesFile
{
    /// <summary>Reads <paramref name="path"/>; a line that is not a time and a number is an error naming the line.</summary>
    public static SeriesPoint[] Read(string path)
    {
        using var reader = new StreamReader(path);
        _ = reader.ReadLine();
        var points = new List<SeriesPoint>();
        Span<Range> fields = stackalloc Range[8];
        foreach (var (number, text) in NabText.DataLines(reader))
        {
            if (NabText.Split(text, fields) < 2)
            {
                throw new FormatException($"{path}:{number}: expected 'time,value', found '{text}'");
            }

            var time = text.AsSpan(fields[0]).Trim();
            double seconds;
            if (NabText.TryParseTimestamp(time, out var date))
            {
                seconds = (date - DateTime.UnixEpoch).TotalSeconds;
            }
            else if (!NabText.TryParseNumber(time, out seconds))
            {
                throw new FormatException($"{path}:{number}: '{time}' is neither a date-time nor epoch seconds");
            }

            if (!NabText.TryParseNumber(text.AsSpan(fields[1]).Trim(), out var value) || !double.IsFinite(value))
            {
                throw new FormatException($"{path}:{number}: '{text[fields[1]]}' is not a finite number");
            }

            points.Add(new SeriesPoint(seconds, value));
        }

        return [.. points];
    }

    /// <summary>A NAB series' readings as points (epoch seconds, value).</summary>
    public static SeriesPoint[] Points(NabSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        return [.. series.Timestamps.Select((t, i) => new SeriesPoint((t - DateTime.UnixEpoch).TotalSeconds, series.Values[i]))];
    }

    /// <summary>The range of the values (max − min).</summary>
    public static double Range(ReadOnlySpan<SeriesPoint> series)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var p in series)
        {
            min = Math.Min(min, p.Value);
            max = Math.Max(max, p.Value);
        }

        return series.IsEmpty ? 0 : max - min;
    }
}
