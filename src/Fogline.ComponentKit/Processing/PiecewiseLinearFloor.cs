namespace Fogline.ComponentKit.Processing;

/// <summary>
/// The fewest points any piecewise-linear reconstruction of a series can have at a maximum error: the series split
/// greedily into the longest consecutive runs that each fit one straight line within the bound (optimal, because any
/// part of a run that fits also fits), kept exactly with <see cref="FeasibleLines"/>. A reconstruction by straight lines
/// between forwarded points has at least one segment per run, so at least runs + 1 points.
/// </summary>
public static class PiecewiseLinearFloor
{
    /// <summary>The minimum number of runs of <paramref name="series"/> (in its order) at <paramref name="bound"/>.</summary>
    public static int MinimumRuns(ReadOnlySpan<SeriesPoint> series, double bound)
    {
        if (!(bound >= 0) || double.IsInfinity(bound))
        {
            throw new ArgumentOutOfRangeException(nameof(bound), bound, "The bound must be a finite number >= 0.");
        }

        if (series.IsEmpty)
        {
            return 0;
        }

        var region = new FeasibleLines();
        var runs = 1;
        region.Reset(series[0].Time, series[0].Value - bound, series[0].Value + bound);
        for (var i = 1; i < series.Length; i++)
        {
            var p = series[i];
            if (!double.IsFinite(p.Value) || !double.IsFinite(p.Time))
            {
                throw new ArgumentException($"Reading {i} ({p.Time}, {p.Value}) is not a finite point.", nameof(series));
            }

            if (!region.Add(p.Time, p.Value - bound, p.Value + bound))
            {
                runs++;
                region.Reset(p.Time, p.Value - bound, p.Value + bound);
            }
        }

        return runs;
    }

    /// <summary>The floor in points: runs + 1 (a single reading needs one).</summary>
    public static int MinimumPoints(ReadOnlySpan<SeriesPoint> series, double bound) =>
        series.Length <= 1 ? series.Length : MinimumRuns(series, bound) + 1;
}
