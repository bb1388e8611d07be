namespace Fogline.ComponentKit.Processing;

/// <summary>
/// Online piecewise-linear compression close to the fewest points: a consumer that draws straight lines between the
/// forwarded points is never further than <see cref="Deviation"/> from any reading. One instance per series; not
/// thread-safe; allocates nothing per reading.
/// </summary>
/// <remarks>
/// <para><b>Joined segments.</b> A segment starts at a joint whose place is not chosen yet: it keeps a fan of candidate
/// points spread over what the previous segment can reach at its last reading and at a quarter, half and three
/// quarters of the way to the next reading (there only between the two readings' bands, so that joints never zigzag
/// far outside the data), each with the range of slopes that stays within the bound of every reading since (swinging
/// door's corridor, once per candidate). The segment goes on while any candidate lives; the joint is the candidate that
/// lived longest, so the choice is made with the next segment's readings in view.</para>
/// <para><b>Disjoint segments.</b> Beside the fan, the segment's readings are also kept as the exact set of lines through
/// them alone (<see cref="FeasibleLines"/>, a convex polygon of intercept and slope). When the fan dies, two futures cost
/// one point each: join (a new fan at the last reading) or break (the segment goes on with a start of its own, two
/// points at the boundary, through its polygon, which always outlives the fan). Both are followed until one of them
/// ends; the one that lasted longer is taken. Noisy series break more, smooth ones join.</para>
/// <para><b>Values</b> are rounded to <see cref="Grid"/> (the largest power of two at most an eighth of the deviation),
/// with the corridors narrowed by half a step and a millionth of the deviation, so the bound holds after rounding and
/// the uplink's encoding stores small integers.</para>
/// <para><b>Hold-back.</b> A joint is forwarded when the segment after it ends (and the choice between joining and
/// breaking is made), so readings wait for up to about three segments: never more than <see cref="MaxHoldReadings"/>
/// readings, nor (as reading times go) <see cref="MaxHoldSeconds"/> or <see cref="MaxSilence"/> seconds: then the
/// current segment is ended at the latest reading and the next starts from that point. A series that stops altogether
/// is released by <see cref="Flush"/> (EdgeFilter calls it from a timer).</para>
/// <para>A deviation of 0 forwards every reading as it is (interpolation could not be exact in floating point).
/// Readings with a non-finite value or time, and readings older than the previous one, release everything held,
/// are forwarded as they are, and start the series again from them. Readings that repeat a timestamp are bands at the
/// same time: they cost nothing while within the bound of the line there.</para>
/// </remarks>
public sealed class OptimalPlr : ISeriesFilter
{
    private const int FanSize = 9;

    /// <summary>Where between the last reading and the next a joint may also go (besides at the last reading).</summary>
    private static readonly double[] MidwayFractions = [0.25, 0.5, 0.75];

    private readonly double _band;
    private readonly double[] _heldTimes;
    private Fan _fan;
    private Fan _lookFan;
    private FeasibleLines _segment = new();
    private FeasibleLines _lookSegment = new();
    private FeasibleLines _previousFree = new();
    private bool _started;
    private bool _free;
    private bool _segmentStarted;
    private bool _segmentValid;
    private bool _previousFreePending;
    private bool _looking;
    private int _lookChoice;
    private double _lastTime;
    private double _lastValue;
    private double _nextValue;
    private double _lastForwardedTime;
    private int _heldHead;

    /// <summary>Creates a filter.</summary>
    /// <param name="deviation">The maximum reconstruction error, in the series' unit (≥ 0).</param>
    /// <param name="maxSilence">Forward at least this often, in seconds of reading time (0 = no heartbeat).</param>
    /// <param name="maxHoldReadings">The most readings held back before a point is forced (≥ 1).</param>
    /// <param name="maxHoldSeconds">The longest a reading is held back, in seconds of reading time (&gt; 0).</param>
    public OptimalPlr(double deviation, double maxSilence, int maxHoldReadings = 256, double maxHoldSeconds = 60)
    {
        if (!(deviation >= 0) || double.IsInfinity(deviation))
        {
            throw new ArgumentOutOfRangeException(nameof(deviation), deviation, "The deviation must be a finite number >= 0.");
        }

        if (!(maxSilence >= 0) || double.IsInfinity(maxSilence))
        {
            throw new ArgumentOutOfRangeException(nameof(maxSilence), maxSilence, "The maximum silence must be a finite number of seconds >= 0.");
        }

        if (maxHoldReadings < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxHoldReadings), maxHoldReadings, "At least one reading must be allowed to wait.");
        }

        if (!(maxHoldSeconds > 0) || double.IsNaN(maxHoldSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(maxHoldSeconds), maxHoldSeconds, "The hold-back time must be a number of seconds > 0.");
        }

        Deviation = deviation;
        MaxSilence = maxSilence;
        MaxHoldReadings = maxHoldReadings;
        MaxHoldSeconds = maxHoldSeconds;
        Grid = deviation > 0 ? Math.Pow(2, Math.Floor(Math.Log2(deviation / 8))) : 0;
        _band = Math.Max(0, deviation - (Grid / 2) - (deviation * 1e-6));
        _fan = new Fan(Grid);
        _lookFan = new Fan(Grid);
        _heldTimes = new double[maxHoldReadings + 1];
    }

    /// <summary>The maximum reconstruction error.</summary>
    public double Deviation { get; }

    /// <summary>The heartbeat interval in seconds (0 = none).</summary>
    public double MaxSilence { get; }

    /// <summary>The most readings held back.</summary>
    public int MaxHoldReadings { get; }

    /// <summary>The longest a reading is held back, in seconds of reading time.</summary>
    public double MaxHoldSeconds { get; }

    /// <summary>The step forwarded values are rounded to: the largest power of two at most an eighth of the deviation (0 when it is 0).</summary>
    public double Grid { get; }

    /// <inheritdoc />
    public int MaxOutput => 6;

    /// <inheritdoc />
    public int Held { get; private set; }

    /// <inheritdoc />
    public long Received { get; private set; }

    /// <inheritdoc />
    public long Forwarded { get; private set; }

    /// <summary>Segments ended so far.</summary>
    public long Segments { get; private set; }

    /// <summary>Segments that started with a point of their own instead of at the previous one's end.</summary>
    public long Breaks { get; private set; }

    /// <inheritdoc />
    public int Add(SeriesPoint reading, Span<SeriesPoint> output)
    {
        if (output.Length < MaxOutput)
        {
            throw new ArgumentException($"The output span must hold at least {MaxOutput} points.", nameof(output));
        }

        Received++;
        if (Deviation == 0)
        {
            output[0] = reading;
            Forwarded++;
            return 1;
        }

        var t = reading.Time;
        if (!double.IsFinite(reading.Value) || !double.IsFinite(t) || (_started && t < _lastTime))
        {
            // Nothing can be drawn through it: release what is held, forward it as it is, start again from it.
            var n = _started ? Release(output, 0) : 0;
            output[n++] = reading;
            Forwarded++;
            _started = false;
            if (double.IsFinite(reading.Value) && double.IsFinite(t))
            {
                StartFixed(t, reading.Value);
                _lastTime = t;
            }

            return n;
        }

        var lo = reading.Value - _band;
        var hi = reading.Value + _band;
        _nextValue = reading.Value;
        var count = 0;
        if (!_started)
        {
            // The first reading: a joint with nothing before it, anywhere in its band.
            _started = true;
            _free = false;
            _looking = false;
            _previousFreePending = false;
            _fan.Spread(t, lo, hi, first: true);
            _segmentStarted = false;
            _lastForwardedTime = t;
        }
        else
        {
            count = _free ? AddFree(t, lo, hi, output, count) : _looking ? AddLooking(t, lo, hi, output, count) : AddJoined(t, lo, hi, output, count);
        }

        _lastTime = t;
        _lastValue = reading.Value;
        HoldReading(t);
        if (Held >= MaxHoldReadings || t - _heldTimes[_heldHead] >= MaxHoldSeconds || (MaxSilence > 0 && t - _lastForwardedTime >= MaxSilence))
        {
            count = Release(output, count);
        }

        return count;
    }

    /// <inheritdoc />
    public int Flush(Span<SeriesPoint> output)
    {
        if (output.Length < MaxOutput)
        {
            throw new ArgumentException($"The output span must hold at least {MaxOutput} points.", nameof(output));
        }

        return _started && Held > 0 ? Release(output, 0) : 0;
    }

    /// <summary>A reading for a segment joined at its start (fan of candidates, and its own polygon beside).</summary>
    private int AddJoined(double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        var alive = _fan.Add(t, lo, hi);
        var freeAlive = AddToSegment(_segment, ref _segmentStarted, t, lo, hi);
        _segmentValid &= freeAlive;
        if (alive)
        {
            return count;
        }

        var choice = _fan.BestDied();
        if (_segmentValid && !_fan.First)
        {
            // Join or break: follow both until one ends.
            _lookChoice = choice;
            SpreadAfter(_fan, choice, _lookFan, t);
            if (_lookFan.Add(t, lo, hi))
            {
                _lookSegment.Reset(t, lo, hi);
                _looking = true;
                return count;
            }

            return Break(output, count);
        }

        return Join(choice, t, lo, hi, output, count);
    }

    /// <summary>A reading while both futures of a dead fan are followed.</summary>
    private int AddLooking(double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        var breakAlive = _segment.Add(t, lo, hi);
        var joinAlive = _lookFan.Add(t, lo, hi);
        var joinFreeAlive = _lookSegment.Add(t, lo, hi);
        if (breakAlive && joinAlive)
        {
            // Keep the joined future's own polygon valid, as in AddJoined.
            _segmentValid = joinFreeAlive;
            return count;
        }

        if (!joinAlive && breakAlive)
        {
            return Break(output, count);
        }

        // The break ended first (or both at once: joining costs no more): take the join.
        count = CommitJoin(output, count, joinFreeAlive);
        return joinAlive ? count : AddJoinedAfterDeath(t, lo, hi, output, count);
    }

    /// <summary>The fan taken from the join future died at this same reading: decide again, as AddJoined would.</summary>
    private int AddJoinedAfterDeath(double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        var choice = _fan.BestDied();
        return Join(choice, t, lo, hi, output, count);
    }

    /// <summary>A reading for a segment with a start of its own (its polygon).</summary>
    private int AddFree(double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        if (_segment.Add(t, lo, hi))
        {
            return count;
        }

        // The segment ends at the previous reading: the next one is joined to it there, its start forwarded with
        // that joint.
        Segments++;
        SpreadAfter(_segment, _fan, t);
        (_previousFree, _segment) = (_segment, _previousFree);
        _previousFreePending = true;
        _free = false;
        return StartJoinedSegment(t, lo, hi, output, count);
    }

    /// <summary>
    /// The new fan (just spread) takes the reading that ended the previous segment, and the segment's own polygon starts
    /// with it; a reading at the joint's own time beyond its reach is a jump instead.
    /// </summary>
    private int StartJoinedSegment(double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        if (!_fan.Add(t, lo, hi))
        {
            return JumpAt(t, lo, hi, output, count);
        }

        _segment.Reset(t, lo, hi);
        _segmentStarted = true;
        _segmentValid = true;
        return count;
    }

    /// <summary>
    /// Starts <paramref name="target"/>'s candidates for the joint after a segment whose lines are those from candidate
    /// <paramref name="choice"/> of <paramref name="source"/>: at the last reading, and between it and <paramref name="next"/>.
    /// </summary>
    private void SpreadAfter(Fan source, int choice, Fan target, double next)
    {
        var (min, max) = source.RangeAt(choice, _lastTime);
        target.Spread(_lastTime, min, max);
        foreach (var f in MidwayFractions)
        {
            var at = Tidy(_lastTime + ((next - _lastTime) * f), next);
            var (low, high) = source.RangeAt(choice, at);
            SpreadMidway(target, at, low, high);
        }
    }

    /// <summary>As <see cref="SpreadAfter(Fan, int, Fan, double)"/>, after a segment whose lines are <paramref name="source"/>'s.</summary>
    private void SpreadAfter(FeasibleLines source, Fan target, double next)
    {
        var (min, max) = source.ValueRange(_lastTime);
        target.Spread(_lastTime, min, max);
        foreach (var f in MidwayFractions)
        {
            var at = Tidy(_lastTime + ((next - _lastTime) * f), next);
            var (low, high) = source.ValueRange(at);
            SpreadMidway(target, at, low, high);
        }
    }

    /// <summary>
    /// <paramref name="time"/> rounded to the coarsest decimal fraction of a second (down to microseconds) that keeps it
    /// strictly between the last reading and <paramref name="next"/>: a joint between readings then has a time the
    /// uplink's batches store as whole milliseconds like the readings' own, not as 8 bytes of bits.
    /// </summary>
    private double Tidy(double time, double next)
    {
        for (var scale = 1.0; scale <= 1e6; scale *= 10)
        {
            var rounded = Math.Round(time * scale) / scale;
            if (rounded > _lastTime && rounded < next)
            {
                return rounded;
            }
        }

        return time;
    }

    /// <summary>
    /// Candidates at a time between the last reading and the next, limited to the values between those two readings'
    /// bands: joints far outside them would make steep zigzags whose values, and rounding, grow without bound.
    /// </summary>
    private void SpreadMidway(Fan fan, double at, double min, double max)
    {
        if (at > _lastTime && double.IsFinite(min) && double.IsFinite(max))
        {
            min = Math.Max(min, Math.Min(_lastValue, _nextValue) - _band);
            max = Math.Min(max, Math.Max(_lastValue, _nextValue) + _band);
            if (min <= max)
            {
                fan.More(at, min, max, gridOnly: true);
            }
        }
    }

    /// <summary>
    /// The reading is at the time of the joint just started and beyond its reach: the joint is forwarded, and the series
    /// starts again at the same time from the reading's band (a jump).
    /// </summary>
    private int JumpAt(double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        Breaks++;
        count = EmitJoint(_fan.Middle(), output, count);
        _fan.Spread(t, lo, hi, first: true);
        _segmentStarted = false;
        return count;
    }

    /// <summary>The fan died and joining is taken: the joint is decided, a new fan starts at the last reading.</summary>
    private int Join(int choice, double t, double lo, double hi, Span<SeriesPoint> output, int count)
    {
        Segments++;
        count = EmitJoint(choice, output, count);
        SpreadAfter(_fan, choice, _lookFan, t);
        (_fan, _lookFan) = (_lookFan, _fan);
        return StartJoinedSegment(t, lo, hi, output, count);
    }

    /// <summary>Joining at the dead fan's last reading is taken: the looked-ahead fan becomes the segment's.</summary>
    private int CommitJoin(Span<SeriesPoint> output, int count, bool freeAlive)
    {
        Segments++;
        count = EmitJoint(_lookChoice, output, count);
        (_fan, _lookFan) = (_lookFan, _fan);
        (_segment, _lookSegment) = (_lookSegment, _segment);
        _segmentStarted = true;
        _segmentValid = freeAlive;
        _looking = false;
        return count;
    }

    /// <summary>Breaking is taken: the joint ends the previous segment, and this one goes on through its own polygon.</summary>
    private int Break(Span<SeriesPoint> output, int count)
    {
        Breaks++;
        count = EmitJoint(_fan.Middle(), output, count);
        _free = true;
        _looking = false;
        return count;
    }

    /// <summary>
    /// Forwards the fan's joint with the value of <paramref name="choice"/> (once), preceded by the start of the free
    /// segment before it when that is still pending (the line of that segment through the joint).
    /// </summary>
    private int EmitJoint(int choice, Span<SeriesPoint> output, int count)
    {
        if (_fan.Emitted)
        {
            return count;
        }

        var time = _fan.TimeOf(choice);
        var value = _fan.Value(choice);
        if (_previousFreePending)
        {
            var (p, q) = _previousFree.Chord(time, value);
            var a = (p.A + q.A) / 2;
            count = Emit(new SeriesPoint(_previousFree.Origin, Round(a)), output, count);
            _previousFreePending = false;
        }

        count = Emit(new SeriesPoint(time, value), output, count);
        _fan.Emitted = true;
        return count;
    }

    /// <summary>
    /// Ends the current segment at the latest reading and forwards everything held; the next segment starts from that
    /// point.
    /// </summary>
    private int Release(Span<SeriesPoint> output, int count)
    {
        if (_looking)
        {
            count = CommitJoin(output, count, _segmentValid);
        }

        SeriesPoint end;
        if (_free)
        {
            var (a, b) = _segment.Center();
            var origin = _segment.Origin;
            count = Emit(new SeriesPoint(origin, Round(a)), output, count);
            end = new SeriesPoint(_lastTime, Round(a + (b * (_lastTime - origin))));
        }
        else
        {
            var choice = _fan.BestAlive();
            count = EmitJoint(choice, output, count);
            end = new SeriesPoint(_lastTime, Round(_fan.EndValue(choice, _lastTime)));
        }

        if (count == 0 || end.Time > output[count - 1].Time)
        {
            count = Emit(end, output, count);
        }
        else
        {
            end = output[count - 1];
        }

        Segments++;
        StartFixed(end.Time, end.Value);
        return count;
    }

    /// <summary>The next segment starts at a forwarded point.</summary>
    private void StartFixed(double time, double value)
    {
        _started = true;
        _free = false;
        _looking = false;
        _previousFreePending = false;
        _fan.Fix(time, value);
        _segmentStarted = false;
        _segmentValid = true;
    }

    private static bool AddToSegment(FeasibleLines segment, ref bool started, double t, double lo, double hi)
    {
        if (started)
        {
            return segment.Add(t, lo, hi);
        }

        segment.Reset(t, lo, hi);
        started = true;
        return true;
    }

    private int Emit(SeriesPoint point, Span<SeriesPoint> output, int count)
    {
        output[count++] = point;
        Forwarded++;
        _lastForwardedTime = point.Time;
        ReleaseHeldThrough(point.Time);
        return count;
    }

    private double Round(double value) => Grid > 0 ? Math.Round(value / Grid) * Grid : value;

    /// <summary>Counts a reading as held (a ring of their times, oldest at the head).</summary>
    private void HoldReading(double time)
    {
        if (Held == _heldTimes.Length)
        {
            _heldHead = (_heldHead + 1) % _heldTimes.Length;
            Held--;
        }

        _heldTimes[(_heldHead + Held) % _heldTimes.Length] = time;
        Held++;
    }

    /// <summary>Readings at or before a forwarded point's time are accounted for.</summary>
    private void ReleaseHeldThrough(double time)
    {
        while (Held > 0 && _heldTimes[_heldHead] <= time)
        {
            _heldHead = (_heldHead + 1) % _heldTimes.Length;
            Held--;
        }
    }

    /// <summary>
    /// Candidate values of one joint, at one time, each with the range of slopes that keeps a line from it within the
    /// bound of every reading since.
    /// </summary>
    private sealed class Fan(double grid)
    {
        private readonly double[] _time = new double[4 * FanSize];
        private readonly double[] _value = new double[4 * FanSize];
        private readonly double[] _low = new double[4 * FanSize];
        private readonly double[] _high = new double[4 * FanSize];
        private readonly bool[] _alive = new bool[4 * FanSize];
        private readonly bool[] _died = new bool[4 * FanSize];
        private int _count;

        /// <summary>The time of the candidates spread first (the previous segment's last reading).</summary>
        public double Time { get; private set; }

        /// <summary>Candidate <paramref name="i"/>'s time.</summary>
        public double TimeOf(int i) => _time[i];

        /// <summary>Whether the joint has been forwarded.</summary>
        public bool Emitted { get; set; }

        /// <summary>Whether this is the series' first point (nothing before it to join or break from).</summary>
        public bool First { get; set; }

        /// <summary>
        /// A new, open joint: candidates spread evenly over [lo, hi] (rounded to the grid); <paramref name="first"/> when
        /// nothing comes before it.
        /// </summary>
        public void Spread(double time, double lo, double hi, bool first = false)
        {
            Time = time;
            Emitted = false;
            First = first;
            _count = 0;
            More(time, lo, hi);
        }

        /// <summary>
        /// More candidates, at another time (between the previous segment's last reading and the next one); with
        /// <paramref name="gridOnly"/> only values on the grid (these are extra choices: none is worth an off-grid value).
        /// </summary>
        public void More(double time, double lo, double hi, bool gridOnly = false)
        {
            var first = _count;
            for (var i = 0; i < FanSize; i++)
            {
                var v = OnGrid(lo + ((hi - lo) * i / (FanSize - 1)), lo, hi);
                if ((_count > first && v == _value[_count - 1]) || (gridOnly && grid > 0 && Math.IEEERemainder(v, grid) != 0))
                {
                    continue;
                }

                _time[_count] = time;
                _value[_count] = v;
                _low[_count] = double.NegativeInfinity;
                _high[_count] = double.PositiveInfinity;
                _alive[_count] = true;
                _count++;
            }
        }

        /// <summary>
        /// The grid value nearest <paramref name="v"/> within [lo, hi], or <paramref name="v"/> itself when no grid value
        /// lies there (a candidate must be a value the previous segment reaches exactly).
        /// </summary>
        private double OnGrid(double v, double lo, double hi)
        {
            if (grid <= 0)
            {
                return v;
            }

            var rounded = Math.Round(v / grid) * grid;
            if (rounded < lo)
            {
                rounded += grid;
            }
            else if (rounded > hi)
            {
                rounded -= grid;
            }

            return rounded >= lo && rounded <= hi ? rounded : v;
        }

        /// <summary>One candidate: a point already forwarded.</summary>
        public void Fix(double time, double value)
        {
            Time = time;
            _time[0] = time;
            _count = 1;
            _value[0] = value;
            _low[0] = double.NegativeInfinity;
            _high[0] = double.PositiveInfinity;
            _alive[0] = true;
            Emitted = true;
            First = false;
        }

        /// <summary>Narrows every live candidate's slopes by a band; returns whether any lives.</summary>
        public bool Add(double t, double lo, double hi)
        {
            var any = false;
            for (var i = 0; i < _count; i++)
            {
                _died[i] = false;
                if (!_alive[i])
                {
                    continue;
                }

                var dt = t - _time[i];
                bool fits;
                if (dt == 0)
                {
                    fits = _value[i] >= lo && _value[i] <= hi;
                }
                else
                {
                    var low = Math.Max(_low[i], (lo - _value[i]) / dt);
                    var high = Math.Min(_high[i], (hi - _value[i]) / dt);
                    fits = low <= high;
                    if (fits)
                    {
                        _low[i] = low;
                        _high[i] = high;
                    }
                }

                if (fits)
                {
                    any = true;
                }
                else
                {
                    _alive[i] = false;
                    _died[i] = true;
                }
            }

            return any;
        }

        public double Value(int i) => _value[i];

        /// <summary>Of the candidates that died at the last band, the one with the widest slope range.</summary>
        public int BestDied() => Widest(_died);

        /// <summary>Of the live candidates, the one with the widest slope range.</summary>
        public int BestAlive() => Widest(_alive);

        /// <summary>The middle candidate (any is a valid end for the segment before).</summary>
        public int Middle() => _count / 2;

        /// <summary>The values a line from candidate <paramref name="i"/> can take at <paramref name="t"/>.</summary>
        public (double Min, double Max) RangeAt(int i, double t)
        {
            var dt = t - _time[i];
            if (dt == 0 || !double.IsFinite(_low[i]) || !double.IsFinite(_high[i]))
            {
                return (_value[i], _value[i]);
            }

            return (_value[i] + (_low[i] * dt), _value[i] + (_high[i] * dt));
        }

        /// <summary>The value at <paramref name="t"/> of candidate <paramref name="i"/>'s middle slope.</summary>
        public double EndValue(int i, double t)
        {
            var (min, max) = RangeAt(i, t);
            return min + ((max - min) / 2);
        }

        private int Widest(bool[] among)
        {
            var best = -1;
            var width = double.NegativeInfinity;
            for (var i = 0; i < _count; i++)
            {
                if (among[i] && _high[i] - _low[i] > width)
                {
                    width = _high[i] - _low[i];
                    best = i;
                }
            }

            return best < 0 ? _count / 2 : best;
        }
    }
}
