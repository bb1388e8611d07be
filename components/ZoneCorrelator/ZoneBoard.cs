using Fogline.ComponentKit.Messages;

namespace Fogline.ZoneCorrelator;

/// <summary>The latest value of one metric of one device, as the zone last heard it.</summary>
public struct ZoneSeries
{
    /// <summary>Device.</summary>
    public string Device;

    /// <summary>Metric.</summary>
    public string Metric;

    /// <summary>Unit, or null.</summary>
    public string? Unit;

    /// <summary>The last good value (NaN before the first).</summary>
    public double Value;

    /// <summary>When the last reading (of any quality) was received, seconds on the correlator's clock.</summary>
    public double ReceivedAt;

    /// <summary>When the last good reading was received (NaN before the first).</summary>
    public double GoodAt;

    /// <summary>Whether the series can be used at <paramref name="now"/>: its last reading was good and is no older than <paramref name="staleAfter"/>.</summary>
    public readonly bool IsFresh(double now, double staleAfter) => GoodAt == ReceivedAt && now - GoodAt <= staleAfter;
}

/// <summary>An aggregate over a zone's devices: the value and how many fresh devices gave it.</summary>
/// <param name="Value">The aggregate (NaN when no device took part).</param>
/// <param name="Devices">Fresh devices that took part.</param>
/// <param name="Device">For max and min: the device with that value (null otherwise).</param>
public readonly record struct ZoneAggregateValue(double Value, int Devices, string? Device);

/// <summary>
/// The latest state of every device and metric of one zone. Updating an existing series and computing an aggregate
/// allocate nothing; a device that stops reporting goes stale (left out of aggregates, never read as zero).
/// </summary>
public sealed class ZoneState
{
    private readonly Dictionary<(string Device, string Metric), int> _index = [];
    private readonly Dictionary<string, List<int>> _byMetric = new(StringComparer.Ordinal);
    private ZoneSeries[] _series = new ZoneSeries[16];

    /// <summary>Creates the state of <paramref name="name"/>.</summary>
    public ZoneState(string name) => Name = name;

    /// <summary>The zone's name.</summary>
    public string Name { get; }

    /// <summary>Series known (device and metric pairs).</summary>
    public int Count { get; private set; }

    /// <summary>The series at <paramref name="index"/> (0 to <see cref="Count"/> − 1).</summary>
    public ref readonly ZoneSeries this[int index] => ref _series[index];

    /// <summary>
    /// Records a reading received at <paramref name="now"/>: a good one sets the value, a stale or bad one makes the
    /// series stale at once. Returns false (and records nothing) when the reading is of a new series and the zone already
    /// holds <paramref name="maxSeries"/>.
    /// </summary>
    public bool Update(in Reading reading, double now, int maxSeries)
    {
        if (!_index.TryGetValue((reading.Device, reading.Metric), out var i))
        {
            if (Count >= maxSeries)
            {
                return false;
            }

            i = Count++;
            if (i == _series.Length)
            {
                Array.Resize(ref _series, _series.Length * 2);
            }

            _series[i] = new ZoneSeries { Device = reading.Device, Metric = reading.Metric, Value = double.NaN, GoodAt = double.NaN };
            _index[(reading.Device, reading.Metric)] = i;
            if (!_byMetric.TryGetValue(reading.Metric, out var list))
            {
                _byMetric[reading.Metric] = list = [];
            }

            list.Add(i);
        }

        ref var s = ref _series[i];
        s.ReceivedAt = now;
        if (reading.Quality == ReadingQuality.Good && double.IsFinite(reading.Value))
        {
            s.Value = reading.Value;
            s.GoodAt = now;
            s.Unit = reading.Unit;
        }

        return true;
    }

    /// <summary>The aggregate of <paramref name="condition"/> over the devices fresh at <paramref name="now"/>.</summary>
    public ZoneAggregateValue Aggregate(ZoneCondition condition, double now, double staleAfter)
    {
        ArgumentNullException.ThrowIfNull(condition);
        if (!_byMetric.TryGetValue(condition.Metric, out var indices))
        {
            return new ZoneAggregateValue(double.NaN, 0, null);
        }

        var n = 0;
        var sum = 0.0;
        var min = double.PositiveInfinity;
        var max = double.NegativeInfinity;
        string? minDevice = null, maxDevice = null;
        var counted = 0;
        for (var k = 0; k < indices.Count; k++)
        {
            ref readonly var s = ref _series[indices[k]];
            if (!s.IsFresh(now, staleAfter) || !condition.Includes(s.Device))
            {
                continue;
            }

            n++;
            sum += s.Value;
            if (s.Value < min)
            {
                min = s.Value;
                minDevice = s.Device;
            }

            if (s.Value > max)
            {
                max = s.Value;
                maxDevice = s.Device;
            }

            if (condition.Aggregate == ZoneAggregate.CountAbove ? s.Value >= condition.CountValue : s.Value <= condition.CountValue)
            {
                counted++;
            }
        }

        if (n == 0)
        {
            return new ZoneAggregateValue(condition.Aggregate is ZoneAggregate.Count or ZoneAggregate.CountAbove or ZoneAggregate.CountBelow ? 0 : double.NaN, 0, null);
        }

        return condition.Aggregate switch
        {
            ZoneAggregate.Mean => new(sum / n, n, null),
            ZoneAggregate.Max => new(max, n, maxDevice),
            ZoneAggregate.Min => new(min, n, minDevice),
            ZoneAggregate.Spread => new(max - min, n, null),
            ZoneAggregate.CountAbove or ZoneAggregate.CountBelow => new(counted, n, null),
            _ => new(n, n, null),
        };
    }

    /// <summary>The metrics the zone has seen, in first-seen order.</summary>
    public IEnumerable<string> Metrics => _byMetric.Keys;
}

/// <summary>The zones the correlator knows, each with the latest state of its devices.</summary>
public sealed class ZoneBoard
{
    private readonly Dictionary<string, ZoneState> _zones = new(StringComparer.Ordinal);

    /// <summary>The zones, in first-seen order.</summary>
    public IEnumerable<ZoneState> Zones => _zones.Values;

    /// <summary>How many zones are known.</summary>
    public int Count => _zones.Count;

    /// <summary>The zone named <paramref name="zone"/>, created when new.</summary>
    public ZoneState GetOrAdd(string zone)
    {
        if (!_zones.TryGetValue(zone, out var state))
        {
            _zones[zone] = state = new ZoneState(zone);
        }

        return state;
    }

    /// <summary>The zone named <paramref name="zone"/>, if known.</summary>
    public bool TryGet(string zone, out ZoneState state) => _zones.TryGetValue(zone, out state!);
}
