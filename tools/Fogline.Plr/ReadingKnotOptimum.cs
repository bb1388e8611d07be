using Fogline.ComponentKit.Processing;

namespace Fogline.Plr;

/// <summary>
/// The offline optimum of the representation EdgeFilter's filters forward: points at reading times, straight lines
/// between consecutive points, every reading within the bound. Found by dynamic programming over each reading's band
/// cut into <c>levels</c> candidate values: the fewest points to reach each candidate, a segment from one candidate to
/// a later one allowed when its slope stays in the corridor of the readings in between. With the values discretised it
/// is an upper estimate of the true optimum (finer levels can only lower it); it needs O(n² · levels²) time, so it is
/// meant for windows of a few hundred readings.
/// </summary>
public static class ReadingKnotOptimum
{
    /// <summary>The fewest points (knots at reading times) that rebuild <paramref name="series"/> within <paramref name="bound"/>.</summary>
    public static int MinimumPoints(ReadOnlySpan<SeriesPoint> series, double bound, int levels = 25)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 2);
        var n = series.Length;
        if (n <= 1)
        {
            return n;
        }

        var best = new int[n, levels];
        for (var i = 0; i < n; i++)
        {
            for (var k = 0; k < levels; k++)
            {
                best[i, k] = i == 0 ? 1 : int.MaxValue;
            }
        }

        for (var i = 0; i < n - 1; i++)
        {
            for (var ka = 0; ka < levels; ka++)
            {
                if (best[i, ka] == int.MaxValue)
                {
                    continue;
                }

                var a = Level(series[i].Value, bound, ka, levels);
                double low = double.NegativeInfinity, high = double.PositiveInfinity;
                for (var j = i + 1; j < n; j++)
                {
                    var dt = series[j].Time - series[i].Time;
                    if (dt <= 0)
                    {
                        break;
                    }

                    for (var kb = 0; kb < levels; kb++)
                    {
                        var slope = (Level(series[j].Value, bound, kb, levels) - a) / dt;
                        if (slope >= low && slope <= high && best[i, ka] + 1 < best[j, kb])
                        {
                            best[j, kb] = best[i, ka] + 1;
                        }
                    }

                    low = Math.Max(low, (series[j].Value - bound - a) / dt);
                    high = Math.Min(high, (series[j].Value + bound - a) / dt);
                    if (low > high)
                    {
                        break;
                    }
                }
            }
        }

        var result = int.MaxValue;
        for (var k = 0; k < levels; k++)
        {
            result = Math.Min(result, best[n - 1, k]);
        }

        return result;
    }

    private static double Level(double value, double bound, int k, int levels) => value - bound + (2 * bound * k / (levels - 1));
}
