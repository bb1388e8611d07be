namespace Fogline.ComponentKit.Processing;

/// <summary>How <see cref="SwingingDoor"/> decides what to forward.</summary>
public enum CompressionMode
{
    /// <summary>Forward everything.</summary>
    None,

    /// <summary>
    /// Deadband: forward a reading when it differs from the last forwarded value by more than the deviation. A consumer
    /// that holds the last value it got is never further off than the deviation.
    /// </summary>
    Deadband,

    /// <summary>
    /// Swinging-door trending: forward the points a consumer needs to reconstruct the series by straight lines between
    /// them, never further off than the deviation at any original reading. A point is forwarded when the next
    /// reading shows it is needed (one reading late).
    /// </summary>
    SwingingDoor,

    /// <summary>
    /// Optimal piecewise-linear: the fewest straight-line runs that stay within the deviation of every reading (see
    /// <see cref="OptimalPlr"/>), joined where the runs allow it; forwarded points lag by up to a bounded number of
    /// readings and seconds.
    /// </summary>
    OptimalPlr,
}

/// <summary>A point of a series.</summary>
/// <param name="Time">Seconds since the epoch (or any increasing clock).</param>
/// <param name="Value">The value.</param>
public readonly record struct SeriesPoint(double Time, double Value);

/// <summary>
/// Compression of one series (device and metric) with a stated maximum reconstruction error and a maximum silence.
/// One instance per series; not thread-safe; allocates nothing per reading.
/// </summary>
/// <remarks>
/// <para>Swinging door: the last forwarded point is the pivot; each reading narrows the range of slopes of lines from
/// the pivot that stay within <see cref="Deviation"/> of every reading since. When a reading closes that range, the
/// previous reading's time gets a forwarded point, which becomes the pivot. That point is the previous reading moved, by
/// at most the deviation, onto a line the range still allows (forwarding the reading itself, as textbook swinging door
/// does, can break the bound by up to twice the deviation). Linear interpolation between forwarded points is then
/// within the deviation of every reading. A reading at the pivot's time (sources repeat timestamps, or read faster than
/// their clock's resolution) is suppressed when it is within the deviation of the pivot, and forwarded otherwise;
/// readings older than the pivot are forwarded as they come, so the guarantee holds for any input.</para>
/// <para>Heartbeat: when <see cref="MaxSilence"/> has passed since the last forwarded point, the reading is forwarded
/// (with the held reading before it when the line to the new one would break the bound), so consumers see the series
/// is alive and the guarantee still holds.</para>
/// </remarks>
public sealed class SwingingDoor : ISeriesFilter
{
    private bool _started;
    private SeriesPoint _pivot;
    private SeriesPoint _held;
    private bool _hasHeld;
    private double _upper;
    private double _lower;
    private double _lastForwardedTime;

    /// <summary>Creates a filter.</summary>
    /// <param name="mode">How to compress.</param>
    /// <param name="deviation">The maximum reconstruction error, in the series' unit (≥ 0).</param>
    /// <param name="maxSilence">The longest time without forwarding anything, in seconds (0 = no heartbeat).</param>
    public SwingingDoor(CompressionMode mode, double deviation, double maxSilence)
    {
        if (!(deviation >= 0) || double.IsInfinity(deviation))
        {
            throw new ArgumentOutOfRangeException(nameof(deviation), deviation, "The deviation must be a finite number >= 0.");
        }

        if (!(maxSilence >= 0) || double.IsInfinity(maxSilence))
        {
            throw new ArgumentOutOfRangeException(nameof(maxSilence), maxSilence, "The maximum silence must be a finite number of seconds >= 0.");
        }

        if (mode == CompressionMode.OptimalPlr)
        {
            throw new ArgumentException("Optimal piecewise-linear compression is OptimalPlr, not SwingingDoor.", nameof(mode));
        }

        Mode = mode;
        Deviation = deviation;
        MaxSilence = maxSilence;
    }

    /// <summary>The mode.</summary>
    public CompressionMode Mode { get; }

    /// <summary>The maximum reconstruction error.</summary>
    public double Deviation { get; }

    /// <summary>The heartbeat interval in seconds (0 = none).</summary>
    public double MaxSilence { get; }

    /// <inheritdoc />
    public int MaxOutput => 2;

    /// <inheritdoc />
    public int Held => _hasHeld ? 1 : 0;

    /// <summary>Readings seen.</summary>
    public long Received { get; private set; }

    /// <summary>Points forwarded.</summary>
    public long Forwarded { get; private set; }

    /// <summary>
    /// Takes a reading; writes the points to forward (0, 1 or 2, oldest first) into <paramref name="output"/>, which
    /// must hold at least 2, and returns how many.
    /// </summary>
    public int Add(SeriesPoint reading, Span<SeriesPoint> output)
    {
        if (output.Length < 2)
        {
            throw new ArgumentException("The output span must hold at least 2 points.", nameof(output));
        }

        Received++;
        if (!_started || Mode == CompressionMode.None || !double.IsFinite(reading.Value) || !double.IsFinite(reading.Time))
        {
            // The first reading, no compression, or a value that cannot be compressed (NaN/infinity): forward it and
            // start again from it.
            _started = double.IsFinite(reading.Value) && double.IsFinite(reading.Time);
            return Restart(reading, output, 0);
        }

        if (Mode == CompressionMode.Deadband)
        {
            var silent = MaxSilence > 0 && reading.Time - _lastForwardedTime >= MaxSilence;
            if (Math.Abs(reading.Value - _pivot.Value) > Deviation || silent)
            {
                return Restart(reading, output, 0);
            }

            return 0;
        }

        var dt = reading.Time - _pivot.Time;
        if (dt <= 0)
        {
            if (dt == 0 && Math.Abs(reading.Value - _pivot.Value) <= Deviation)
            {
                // At the pivot's time (a source that repeats a timestamp, or several readings within its clock's
                // resolution) and within the bound of the pivot: the pivot already accounts for it.
                return 0;
            }

            // Out of order, or at the pivot's time but too far from it: no line through the pivot can account for it.
            var n = FlushHeld(output, 0);
            return Restart(reading, output, n);
        }

        var upper = (reading.Value + Deviation - _pivot.Value) / dt;
        var lower = (reading.Value - Deviation - _pivot.Value) / dt;
        var heartbeat = MaxSilence > 0 && reading.Time - _lastForwardedTime >= MaxSilence;
        if (!_hasHeld)
        {
            _upper = upper;
            _lower = lower;
            _held = reading;
            _hasHeld = true;

            // Only the pivot and this reading are involved: the line between them is exact.
            return heartbeat ? Restart(reading, output, 0) : 0;
        }

        var newUpper = Math.Min(_upper, upper);
        var newLower = Math.Max(_lower, lower);
        if (newLower > newUpper)
        {
            // The door closed: a point at the held reading's time is needed. It becomes the pivot.
            var count = 0;
            output[count++] = SnapHeld();
            Forwarded++;
            _pivot = output[0];
            _lastForwardedTime = _pivot.Time;
            var dt2 = reading.Time - _pivot.Time;
            if (dt2 == 0 && !heartbeat && Math.Abs(reading.Value - _pivot.Value) <= Deviation)
            {
                // At the new pivot's time and within its bound: accounted for.
                _hasHeld = false;
                return count;
            }

            if (heartbeat || dt2 <= 0)
            {
                return Restart(reading, output, count);
            }

            _upper = (reading.Value + Deviation - _pivot.Value) / dt2;
            _lower = (reading.Value - Deviation - _pivot.Value) / dt2;
            _held = reading;
            return count;
        }

        if (heartbeat)
        {
            // Forward this reading; the straight line to it from the pivot must stay within the bound of the readings
            // in between, else the held point goes first.
            var count = 0;
            var slope = (reading.Value - _pivot.Value) / dt;
            if (slope > _upper || slope < _lower)
            {
                output[count++] = SnapHeld();
                Forwarded++;
            }

            return Restart(reading, output, count);
        }

        _upper = newUpper;
        _lower = newLower;
        _held = reading;
        return 0;
    }

    /// <summary>Forwards the held reading, if any (on shutdown, so the series ends where it ended). Returns 0 or 1.</summary>
    public int Flush(Span<SeriesPoint> output)
    {
        var n = FlushHeld(output, 0);
        if (n > 0)
        {
            _pivot = output[0];
        }

        return n;
    }

    private int FlushHeld(Span<SeriesPoint> output, int count)
    {
        if (_hasHeld && Mode == CompressionMode.SwingingDoor)
        {
            output[count++] = SnapHeld();
            Forwarded++;
            _lastForwardedTime = _held.Time;
            _hasHeld = false;
        }

        return count;
    }

    /// <summary>
    /// The point to forward for the held reading: at its time, on the line from the pivot whose slope is the held
    /// reading's own, moved into the range every reading since the pivot allows. It is within the deviation of the held
    /// reading, and the line to it within the deviation of every reading in between.
    /// </summary>
    private SeriesPoint SnapHeld()
    {
        var dt = _held.Time - _pivot.Time;
        var slope = Math.Clamp((_held.Value - _pivot.Value) / dt, _lower, _upper);
        return new SeriesPoint(_held.Time, _pivot.Value + (slope * dt));
    }

    private int Restart(SeriesPoint reading, Span<SeriesPoint> output, int count)
    {
        output[count++] = reading;
        Forwarded++;
        _pivot = reading;
        _hasHeld = false;
        _lastForwardedTime = reading.Time;
        return count;
    }
}
