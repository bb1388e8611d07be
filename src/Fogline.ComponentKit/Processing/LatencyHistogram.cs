using System.Diagnostics;

namespace Fogline.ComponentKit.Processing;

/// <summary>
/// A log-linear latency histogram (64 sub-buckets per power of two, so any value is within 1.6 % of its bucket): no
/// allocation when recording, so it does not disturb an allocation measurement. Not thread-safe: one per caller,
/// merged at the end. Used by the benches and by AnomalyDetector's shadow trials.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBuckets = 64;
    private const int BucketCount = SubBuckets * 40;

    private readonly long[] _counts = new long[BucketCount];

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>Their sum, nanoseconds.</summary>
    public long TotalNanoseconds { get; private set; }

    /// <summary>Records a duration in <see cref="Stopwatch"/> ticks.</summary>
    public void RecordTicks(long stopwatchTicks)
    {
        var ns = stopwatchTicks * (1_000_000_000.0 / Stopwatch.Frequency);
        var value = ns < 0 ? 0 : (long)ns;
        _counts[Index(value)]++;
        Count++;
        TotalNanoseconds += value;
    }

    /// <summary>Adds another histogram's values to this one.</summary>
    public void Add(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (var i = 0; i < BucketCount; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        TotalNanoseconds += other.TotalNanoseconds;
    }

    /// <summary>The value at percentile <paramref name="p"/> (0-100), in microseconds: the middle of its bucket.</summary>
    public double PercentileMicroseconds(double p)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(p / 100.0 * Count));
        long seen = 0;
        for (var i = 0; i < BucketCount; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return Middle(i) / 1000.0;
            }
        }

        return Middle(BucketCount - 1) / 1000.0;
    }

    private static int Index(long value)
    {
        if (value < 2 * SubBuckets)
        {
            return (int)value;
        }

        var exponent = (63 - (int)long.LeadingZeroCount(value)) - 6;
        var mantissa = value >> exponent;
        return Math.Min(BucketCount - 1, (int)((SubBuckets * exponent) + mantissa));
    }

    private static double Middle(int index)
    {
        if (index < 2 * SubBuckets)
        {
            return index;
        }

        var exponent = (index / SubBuckets) - 1;
        var mantissa = index - (SubBuckets * exponent);
        return ((double)mantissa * (1L << exponent)) + ((1L << exponent) / 2.0);
    }
}
