using Fogline.ComponentKit.Processing;

namespace Fogline.Plr;

/// <summary>One filter's result on a series: points forwarded and the worst reconstruction error.</summary>
/// <param name="Points">Points forwarded (flushed at the end).</param>
/// <param name="MaxError">The largest distance between a reading and the straight lines between the points.</param>
public readonly record struct FilterResult(long Points, double MaxError);

/// <summary>The floor and EdgeFilter's piecewise-linear modes on one series at one bound.</summary>
/// <param name="Readings">Readings in the series.</param>
/// <param name="Bound">The maximum error.</param>
/// <param name="Runs">The minimum number of straight-line runs.</param>
/// <param name="Floor">The fewest points any piecewise-linear reconstruction needs (runs + 1).</param>
/// <param name="SwingingDoor">Swinging door's result.</param>
/// <param name="OptimalPlr">The optimal piecewise-linear mode's result.</param>
public sealed record FilterComparison(int Readings, double Bound, int Runs, int Floor, FilterResult SwingingDoor, FilterResult OptimalPlr)
{
    /// <summary>Runs both filters over <paramref name="series"/> and computes the floor.</summary>
    /// <param name="series">The readings, in order.</param>
    /// <param name="bound">The maximum error.</param>
    /// <param name="holdReadings">OptimalPlr's hold-back cap in readings.</param>
    /// <param name="holdSeconds">OptimalPlr's hold-back cap in seconds of reading time.</param>
    public static FilterComparison Run(SeriesPoint[] series, double bound, int holdReadings, double holdSeconds)
    {
        ArgumentNullException.ThrowIfNull(series);
        var runs = PiecewiseLinearFloor.MinimumRuns(series, bound);
        return new FilterComparison(
            series.Length,
            bound,
            runs,
            series.Length <= 1 ? series.Length : runs + 1,
            Measure(series, new SwingingDoor(CompressionMode.SwingingDoor, bound, 0)),
            Measure(series, new OptimalPlr(bound, 0, holdReadings, holdSeconds)));
    }

    /// <summary>Runs <paramref name="filter"/> over <paramref name="series"/> and measures its reconstruction.</summary>
    public static FilterResult Measure(SeriesPoint[] series, ISeriesFilter filter)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(filter);
        var output = new SeriesPoint[filter.MaxOutput];
        var points = new List<SeriesPoint>(series.Length / 4);
        foreach (var p in series)
        {
            points.AddRange(output.AsSpan(0, filter.Add(p, output)));
        }

        points.AddRange(output.AsSpan(0, filter.Flush(output)));
        return new FilterResult(points.Count, PiecewiseLinearReconstruction.MaxError(series, [.. points]));
    }
}
