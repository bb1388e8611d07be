namespace Fogline.Anomaly.Detection;

/// <summary>
/// What one series keeps for a model of a given shape: its latest readings normalised to its range so far, that range,
/// the novelty distances of its recent readings per scale, and per scale the largest distance of a longer record window
/// (kept as 16 block maxima). Sized once from the model's <see cref="ModelShape"/>;
/// nothing is allocated per reading.
/// </summary>
/// <remarks>
/// Values are normalised to the series' range as seen so far ((x - min) / (max - min)); the newest value is normalised
/// with the range before it, so a value outside shows as such. When a reading widens the range, the kept readings and
/// distances are rescaled to the new range at once (an affine map), so everything the model compares is in one unit.
/// </remarks>
internal sealed class SeriesState
{
    /// <summary>Where a missing reading sits in normalised units: far from any real one.</summary>
    public const float FarAway = 1e4f;

    /// <summary>Blocks the record window is kept in: the ceiling is the largest block maximum.</summary>
    public const int RecordBlocks = 16;

    private readonly float[] _history;
    private readonly float[] _blockMax;
    private readonly int _blockLength;
    private int _next;
    private int _calibrationNext;
    private int _block;
    private int _inBlock;

    public SeriesState(ModelShape shape, int recordReadings)
    {
        Shape = shape;
        _blockLength = Math.Max(1, (recordReadings + RecordBlocks - 1) / RecordBlocks);
        _blockMax = new float[shape.Scales * RecordBlocks];
        _blockMax.AsSpan().Fill(float.NegativeInfinity);
        _history = new float[shape.History];
        _history.AsSpan().Fill(FarAway);
        Calibration = new float[shape.Scales * shape.Calibration];
        Calibration.AsSpan().Fill(float.PositiveInfinity);
    }

    public ModelShape Shape { get; }

    /// <summary>Recent novelty distances, one row per scale (+infinity where unused).</summary>
    public float[] Calibration { get; }

    public int CalibrationCount { get; private set; }

    /// <summary>Readings held in the history (up to its length).</summary>
    public int HistoryCount { get; private set; }

    /// <summary>Readings taken (not counting refused ones).</summary>
    public long Readings { get; set; }

    /// <summary>Readings to take before scores count again (after a gap in time).</summary>
    public int Settling { get; set; }

    public double LastTime { get; set; } = double.NegativeInfinity;

    /// <summary>Steps the mean interval has learnt from since the series started or its last gap.</summary>
    public int IntervalSamples { get; set; }

    /// <summary>Exponentially weighted mean interval between readings, seconds (NaN before the second reading).</summary>
    public double MeanInterval { get; set; } = double.NaN;

    public double Min { get; private set; } = double.NaN;

    public double Max { get; private set; } = double.NaN;

    /// <summary>Readings left in the quiet period after a detection.</summary>
    public int QuietLeft { get; set; }

    // Least-recently-seen list of the detector that owns the state.
    public SeriesState? Newer { get; set; }

    public SeriesState? Older { get; set; }

    public object? Key { get; set; }

    public object? Tag { get; set; }

    /// <summary>The span values are divided by: the range, or a tiny one for a series that has not varied yet.</summary>
    public double Span => Math.Max(Max - Min, Math.Max(1e-9, Math.Abs(Max) * 1e-9));

    /// <summary>Appends a reading, normalised with the range before it.</summary>
    public void Push(double value)
    {
        if (double.IsNaN(Min))
        {
            Min = Max = value;
        }

        _history[_next] = (float)((value - Min) / Span);
        _next = (_next + 1) % _history.Length;
        HistoryCount = Math.Min(HistoryCount + 1, _history.Length);
    }

    /// <summary>Writes the history oldest first (missing readings far away) into the model's input.</summary>
    public void CopyHistory(Span<float> target)
    {
        var older = _history.AsSpan(_next);
        older.CopyTo(target);
        _history.AsSpan(0, _next).CopyTo(target[older.Length..]);
    }

    /// <summary>Keeps a reading's novelty distances (one per scale; +infinity where a scale has none yet) to rank later ones against.</summary>
    public void AddDistances(ReadOnlySpan<float> distances)
    {
        var length = Shape.Calibration;
        for (var s = 0; s < distances.Length; s++)
        {
            var distance = distances[s];
            var known = float.IsFinite(distance);
            Calibration[(s * length) + _calibrationNext] = known ? distance : float.PositiveInfinity;
            if (known)
            {
                ref var max = ref _blockMax[(s * RecordBlocks) + _block];
                max = Math.Max(max, distance);
            }
        }

        _calibrationNext = (_calibrationNext + 1) % length;
        CalibrationCount = Math.Min(CalibrationCount + 1, length);
        if (++_inBlock == _blockLength)
        {
            _inBlock = 0;
            _block = (_block + 1) % RecordBlocks;
            for (var s = 0; s < Shape.Scales; s++)
            {
                _blockMax[(s * RecordBlocks) + _block] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// Writes each scale's ceiling: the largest distance of its last 15/16 to 16/16 of the record window (+infinity
    /// when it has none yet: nothing is a record before there is something to compare with).
    /// </summary>
    public void CopyCeilings(Span<float> target)
    {
        for (var s = 0; s < Shape.Scales; s++)
        {
            var max = float.NegativeInfinity;
            foreach (var block in _blockMax.AsSpan(s * RecordBlocks, RecordBlocks))
            {
                max = Math.Max(max, block);
            }

            target[s] = float.IsNegativeInfinity(max) ? float.PositiveInfinity : max;
        }
    }

    /// <summary>Widens the range to take in <paramref name="value"/>, rescaling what is kept.</summary>
    public void Extend(double value)
    {
        if (value >= Min && value <= Max)
        {
            return;
        }

        var oldMin = Min;
        var oldSpan = Span;
        Min = Math.Min(Min, value);
        Max = Math.Max(Max, value);
        var newSpan = Span;
        var scale = (float)(oldSpan / newSpan);
        var offset = (float)((oldMin - Min) / newSpan);
        for (var i = 0; i < _history.Length; i++)
        {
            if (_history[i] != FarAway)
            {
                _history[i] = (_history[i] * scale) + offset;
            }
        }

        for (var s = 0; s < Shape.Scales; s++)
        {
            var calibration = Calibration.AsSpan(s * Shape.Calibration, CalibrationCount);
            for (var i = 0; i < calibration.Length; i++)
            {
                calibration[i] *= scale;
            }
        }

        for (var i = 0; i < _blockMax.Length; i++)
        {
            _blockMax[i] *= scale;
        }
    }
}
