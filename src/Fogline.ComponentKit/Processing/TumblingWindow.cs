namespace Fogline.ComponentKit.Processing;

/// <summary>The statistics of one closed window.</summary>
/// <param name="Start">Window start (inclusive), seconds.</param>
/// <param name="End">Window end (exclusive), seconds.</param>
/// <param name="Count">Readings in the window.</param>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
/// <param name="Mean">Mean.</param>
/// <param name="StdDev">Population standard deviation.</param>
/// <param name="Late">Readings that arrived for this window after it was closed are not in it; this counts the
/// late readings dropped while this window was open (for an earlier window).</param>
/// <param name="Complete">False when the window was flushed before its end (shutdown).</param>
public readonly record struct WindowStats(double Start, double End, long Count, double Min, double Max, double Mean, double StdDev, long Late, bool Complete);

/// <summary>
/// Tumbling windows of one series: count, min, max, mean and standard deviation by Welford's streaming method.
/// Windows are aligned to multiples of the length since the epoch. Allocates nothing per reading.
/// </summary>
/// <remarks>
/// Late readings: a reading older than the open window's start belongs to a window already closed; it is dropped and
/// counted (<see cref="LateDropped"/>, and in the next summary's <c>Late</c>), never reopening a published window.
/// A reading at or after the open window's end closes it (and any empty windows in between produce nothing).
/// </remarks>
public sealed class TumblingWindow
{
    private double _start = double.NaN;
    private long _count;
    private double _min;
    private double _max;
    private double _mean;
    private double _m2;
    private long _late;
    private double _closedUntil = double.NegativeInfinity;

    /// <summary>Creates the windows.</summary>
    /// <param name="length">Window length in seconds (&gt; 0).</param>
    public TumblingWindow(double length)
    {
        if (!(length > 0) || double.IsInfinity(length))
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, "The window length must be a positive number of seconds.");
        }

        Length = length;
    }

    /// <summary>Window length, seconds.</summary>
    public double Length { get; }

    /// <summary>Late readings dropped so far.</summary>
    public long LateDropped { get; private set; }

    /// <summary>The open window's end, or NaN when none is open.</summary>
    public double OpenWindowEnd => double.IsNaN(_start) ? double.NaN : _start + Length;

    /// <summary>
    /// Adds a reading. When it closes the open window, returns true with that window's statistics in
    /// <paramref name="closed"/>.
    /// </summary>
    public bool Add(double time, double value, out WindowStats closed)
    {
        closed = default;
        if (!double.IsFinite(time) || !double.IsFinite(value))
        {
            _late++;
            LateDropped++;
            return false;
        }

        var start = Math.Floor(time / Length) * Length;
        var emitted = false;
        if (time < _closedUntil)
        {
            // Its window was already published.
            _late++;
            LateDropped++;
            return false;
        }

        if (!double.IsNaN(_start))
        {
            if (start < _start)
            {
                _late++;
                LateDropped++;
                return false;
            }

            if (start > _start)
            {
                closed = Snapshot(complete: true);
                emitted = true;
                Reset();
            }
        }

        if (double.IsNaN(_start))
        {
            _start = start;
        }

        _count++;
        if (_count == 1)
        {
            _min = value;
            _max = value;
        }
        else
        {
            _min = Math.Min(_min, value);
            _max = Math.Max(_max, value);
        }

        var delta = value - _mean;
        _mean += delta / _count;
        _m2 += delta * (value - _mean);
        return emitted;
    }

    /// <summary>Closes the open window when <paramref name="now"/> has reached its end (a timer's tick, no reading needed).</summary>
    public bool FlushIfDue(double now, out WindowStats closed)
    {
        if (!double.IsNaN(_start) && now >= _start + Length)
        {
            closed = Snapshot(complete: true);
            Reset();
            return true;
        }

        closed = default;
        return false;
    }

    /// <summary>Closes the open window now, complete or not (shutdown).</summary>
    public bool Flush(out WindowStats closed)
    {
        if (double.IsNaN(_start))
        {
            closed = default;
            return false;
        }

        closed = Snapshot(complete: false);
        Reset();
        return true;
    }

    private WindowStats Snapshot(bool complete) =>
        new(_start, _start + Length, _count, _min, _max, _mean, _count > 0 ? Math.Sqrt(_m2 / _count) : 0, _late, complete);

    private void Reset()
    {
        _closedUntil = Math.Max(_closedUntil, _start + Length);
        _start = double.NaN;
        _count = 0;
        _min = 0;
        _max = 0;
        _mean = 0;
        _m2 = 0;
        _late = 0;
    }
}
