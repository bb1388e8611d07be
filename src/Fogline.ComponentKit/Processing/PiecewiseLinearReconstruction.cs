namespace Fogline.ComponentKit.Processing;

/// <summary>
/// What a consumer of forwarded points draws: straight lines between consecutive points (in time order). Used to check
/// a filter's guarantee and by cloud-side code that wants the series back.
/// </summary>
public static class PiecewiseLinearReconstruction
{
    /// <summary>
    /// The value drawn at <paramref name="time"/> from <paramref name="points"/> (sorted by time): interpolated between
    /// the points around it, the nearest point's value outside them, and at a time that several points share, the one of
    /// them nearest <paramref name="near"/> (a series may jump there).
    /// </summary>
    public static double ValueAt(ReadOnlySpan<SeriesPoint> points, double time, double near)
    {
        if (points.IsEmpty)
        {
            return double.NaN;
        }

        // The first point after time.
        int lo = 0, hi = points.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (points[mid].Time <= time)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        if (lo > 0 && points[lo - 1].Time == time)
        {
            var best = points[lo - 1].Value;
            for (var i = lo - 2; i >= 0 && points[i].Time == time; i--)
            {
                if (Math.Abs(points[i].Value - near) < Math.Abs(best - near))
                {
                    best = points[i].Value;
                }
            }

            return best;
        }

        if (lo == 0)
        {
            return points[0].Value;
        }

        if (lo == points.Length)
        {
            return points[^1].Value;
        }

        var a = points[lo - 1];
        var b = points[lo];
        return a.Value + ((b.Value - a.Value) * ((time - a.Time) / (b.Time - a.Time)));
    }

    /// <summary>The largest distance between a reading and what is drawn at its time.</summary>
    public static double MaxError(ReadOnlySpan<SeriesPoint> readings, ReadOnlySpan<SeriesPoint> points)
    {
        var max = 0.0;
        foreach (var r in readings)
        {
            max = Math.Max(max, Math.Abs(ValueAt(points, r.Time, r.Value) - r.Value));
        }

        return max;
    }
}
