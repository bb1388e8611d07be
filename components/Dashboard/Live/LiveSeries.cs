namespace Fogline.Dashboard.Live;

/// <summary>How a series' latest value is shown.</summary>
public enum SeriesQuality : byte
{
    /// <summary>A fresh good value.</summary>
    Good = 0,

    /// <summary>No reading for longer than the stale limit, or the source said the device is unreachable: the last value is shown as stale, never as zero.</summary>
    Stale = 1,

    /// <summary>The source could not convert what the device answered.</summary>
    Bad = 2,
}

/// <summary>One device metric as the page shows it: the latest value and a trend of one point per second.</summary>
public sealed class LiveSeries
{
    private readonly double[] _trendTime;
    private readonly double[] _trendValue;
    private int _trendStart;

    /// <summary>Creates a series with room for <paramref name="trendSeconds"/> trend points.</summary>
    public LiveSeries(int id, string zone, string device, string metric, int trendSeconds)
    {
        Id = id;
        Zone = zone;
        Device = device;
        Metric = metric;
        _trendTime = new double[trendSeconds];
        _trendValue = new double[trendSeconds];
    }

    /// <summary>The id the page knows the series by.</summary>
    public int Id { get; }

    /// <summary>Zone.</summary>
    public string Zone { get; }

    /// <summary>Device.</summary>
    public string Device { get; }

    /// <summary>Metric.</summary>
    public string Metric { get; }

    /// <summary>Unit, or null.</summary>
    public string? Unit { get; set; }

    /// <summary>The latest value (NaN before the first good one).</summary>
    public double Value { get; set; } = double.NaN;

    /// <summary>The latest reading's time, epoch seconds.</summary>
    public double Timestamp { get; set; }

    /// <summary>When the latest reading arrived, epoch seconds on the dashboard's clock.</summary>
    public double ReceivedAt { get; set; }

    /// <summary>How the series is shown.</summary>
    public SeriesQuality Quality { get; set; }

    /// <summary>Whether the change is not yet pushed.</summary>
    public bool Dirty { get; set; }

    /// <summary>Trend points held.</summary>
    public int TrendCount { get; private set; }

    /// <summary>Adds a value to the trend: the last value of each second is kept.</summary>
    public void AddTrend(double timestamp, double value)
    {
        var second = Math.Floor(timestamp);
        if (TrendCount > 0)
        {
            var last = (_trendStart + TrendCount - 1) % _trendTime.Length;
            if (_trendTime[last] == second)
            {
                _trendValue[last] = value;
                return;
            }

            if (second < _trendTime[last])
            {
                return;
            }
        }

        if (TrendCount == _trendTime.Length)
        {
            _trendStart = (_trendStart + 1) % _trendTime.Length;
            TrendCount--;
        }

        var at = (_trendStart + TrendCount) % _trendTime.Length;
        _trendTime[at] = second;
        _trendValue[at] = value;
        TrendCount++;
    }

    /// <summary>The trend point <paramref name="index"/> (0 = oldest).</summary>
    public (double Time, double Value) TrendAt(int index)
    {
        var at = (_trendStart + index) % _trendTime.Length;
        return (_trendTime[at], _trendValue[at]);
    }
}
