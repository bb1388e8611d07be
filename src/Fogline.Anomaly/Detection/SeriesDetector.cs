namespace Fogline.Anomaly.Detection;

/// <summary>How a detector treats its series around the model.</summary>
/// <param name="WarmUpReadings">Readings a series learns from before its scores count (they are reported as 0 until then).</param>
/// <param name="MinHistory">Readings needed before the model is asked at all.</param>
/// <param name="RecordReadings">How far back (readings) a new record novelty distance must beat every earlier one.</param>
/// <param name="CalibrationStart">Readings needed before a series keeps its novelty distances to rank later ones against (the first ones, compared with little history, are all novel and would set the bar too high).</param>
/// <param name="GapFactor">A time step longer than this many mean intervals is a gap: the readings after it are taken in but not scored until <paramref name="MinHistory"/> of them have come (what was learnt stays).</param>
/// <param name="QuietReadings">After a score at or above <paramref name="QuietLevel"/>, the next this-many scores of the series are held under it (one event, one detection).</param>
/// <param name="QuietLevel">The score that starts a quiet period.</param>
/// <param name="MaxSeries">Series kept at once; beyond it the least recently seen one is forgotten (counted).</param>
public sealed record DetectorOptions(
    int WarmUpReadings = 300,
    int MinHistory = 16,
    int CalibrationStart = 256,
    int RecordReadings = 4096,
    double GapFactor = 10,
    int QuietReadings = 30,
    double QuietLevel = 0.9,
    int MaxSeries = 2000)
{
    /// <summary>What is wrong with the options, or null.</summary>
    public string? Problem() =>
        WarmUpReadings < 0 ? "warmUpReadings must be >= 0"
        : MinHistory < 1 ? "minHistory must be >= 1"
        : CalibrationStart < 0 ? "calibrationStart must be >= 0"
        : RecordReadings < 1 ? "recordReadings must be >= 1"
        : !(GapFactor > 1) ? "gapFactor must be > 1"
        : QuietReadings < 0 ? "quietReadings must be >= 0"
        : !(QuietLevel is > 0 and <= 1) ? "quietLevel must be in (0, 1]"
        : MaxSeries < 1 ? "maxSeries must be >= 1"
        : null;
}

/// <summary>What became of one reading.</summary>
public enum ObservationKind
{
    /// <summary>Scored: <see cref="Observation.Score"/> is the anomaly score.</summary>
    Scored,

    /// <summary>Taken in, but the series is still learning (or settling after a gap): no score yet.</summary>
    WarmingUp,

    /// <summary>Refused: NaN or infinite value.</summary>
    NotFinite,

    /// <summary>Refused: not later than the series' last reading.</summary>
    OutOfOrder,
}

/// <summary>One reading's outcome.</summary>
/// <param name="Kind">What became of it.</param>
/// <param name="Score">The anomaly score published for it (after the quiet period), in [0, 1].</param>
/// <param name="ModelScore">The model's own score (before the quiet period).</param>
public readonly record struct Observation(ObservationKind Kind, float Score, float ModelScore);

/// <summary>
/// One model applied to many series: keeps each series' state (sized to the model), feeds the model each reading's
/// window and applies the warm-up, gap and quiet-period rules. Single-threaded; allocates nothing per reading once a
/// series exists.
/// </summary>
/// <typeparam name="TKey">What names a series.</typeparam>
public sealed class SeriesDetector<TKey> : IDisposable
    where TKey : notnull
{
    private readonly Dictionary<TKey, SeriesState> _series;
    private readonly float[] _history;
    private readonly float[] _distances;
    private readonly float[] _ceilings;
    private readonly bool _ownsModel;
    private SeriesState? _current;
    private SeriesState? _newest;
    private SeriesState? _oldest;

    /// <summary>Creates a detector around a loaded model.</summary>
    public SeriesDetector(IScoringModel model, DetectorOptions options, bool ownsModel = true, IEqualityComparer<TKey>? comparer = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _ownsModel = ownsModel;
        _series = new Dictionary<TKey, SeriesState>(comparer);
        _history = new float[model.Shape.History];
        _distances = new float[model.Shape.Scales];
        _ceilings = new float[model.Shape.Scales];
    }

    /// <summary>The model.</summary>
    public IScoringModel Model { get; }

    /// <summary>The options (replace with <see cref="Options"/>'s setter; series keep their state).</summary>
    public DetectorOptions Options { get; set; }

    /// <summary>Series held now.</summary>
    public int SeriesCount => _series.Count;

    /// <summary>Series forgotten to stay within <see cref="DetectorOptions.MaxSeries"/>.</summary>
    public long Evicted { get; private set; }

    /// <summary>Gaps in time seen.</summary>
    public long Gaps { get; private set; }

    /// <summary>Bytes of per-series state held now (approximately).</summary>
    public long StateBytes => _series.Count * (((Model.Shape.StateFloats + (Model.Shape.Scales * SeriesState.RecordBlocks)) * sizeof(float)) + 200);

    /// <summary>Takes one reading of a series and scores it.</summary>
    public Observation Observe(TKey key, double timestamp, double value)
    {
        if (!double.IsFinite(value) || !double.IsFinite(timestamp))
        {
            return new Observation(ObservationKind.NotFinite, 0, 0);
        }

        var state = Find(key);
        _current = state;
        if (timestamp <= state.LastTime)
        {
            return new Observation(ObservationKind.OutOfOrder, 0, 0);
        }

        if (state.Readings > 0)
        {
            var step = timestamp - state.LastTime;
            if (state.IntervalSamples >= 8 && step > Options.GapFactor * state.MeanInterval)
            {
                // A gap: score again once MinHistory readings have come, and learn the cadence afresh (it may have
                // changed for good: a sensor reconfigured to report less often must not be one gap after another).
                state.Settling = Options.MinHistory;
                state.MeanInterval = double.NaN;
                state.IntervalSamples = 0;
                Gaps++;
            }
            else
            {
                state.MeanInterval = double.IsNaN(state.MeanInterval) ? step : state.MeanInterval + ((step - state.MeanInterval) / 32);
                state.IntervalSamples++;
            }
        }

        state.LastTime = timestamp;
        state.Readings++;
        state.Push(value);
        var modelScore = 0f;
        var asked = state.HistoryCount >= Options.MinHistory;
        try
        {
            if (asked)
            {
                state.CopyHistory(_history);
                state.CopyCeilings(_ceilings);
                modelScore = Model.Evaluate(_history, state.Calibration, _ceilings, _distances);
                if (state.HistoryCount >= Options.CalibrationStart)
                {
                    state.AddDistances(_distances);
                }
            }
        }
        finally
        {
            // Even when the model throws, the reading is part of the series: its range takes it in.
            state.Extend(value);
        }

        if (state.Settling > 0)
        {
            state.Settling--;
            return new Observation(ObservationKind.WarmingUp, 0, modelScore);
        }

        if (!asked || state.Readings <= Options.WarmUpReadings)
        {
            return new Observation(ObservationKind.WarmingUp, 0, modelScore);
        }

        var score = modelScore;
        if (state.QuietLeft > 0)
        {
            state.QuietLeft--;
            score = Math.Min(score, MathF.BitDecrement((float)Options.QuietLevel));
        }
        else if (score >= Options.QuietLevel)
        {
            state.QuietLeft = Options.QuietReadings;
        }

        return new Observation(ObservationKind.Scored, score, modelScore);
    }

    /// <summary>
    /// What the caller keeps with the series of the last <see cref="Observe"/> (its topics, its alert state…): it lives
    /// and is forgotten with the series' state. Null before the first reading.
    /// </summary>
    public object? CurrentTag
    {
        get => _current?.Tag;
        set
        {
            if (_current is not null)
            {
                _current.Tag = value;
            }
        }
    }

    /// <summary>Forgets every series.</summary>
    public void Clear()
    {
        _series.Clear();
        _newest = _oldest = _current = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsModel)
        {
            Model.Dispose();
        }
    }

    private SeriesState Find(TKey key)
    {
        if (_series.TryGetValue(key, out var state))
        {
            if (state != _newest)
            {
                Unlink(state);
                LinkNewest(state);
            }

            return state;
        }

        while (_series.Count >= Options.MaxSeries && _oldest is { } oldest)
        {
            // (A loop: MaxSeries may have been lowered by a configuration update.)
            Unlink(oldest);
            _series.Remove((TKey)oldest.Key!);
            if (oldest == _current)
            {
                _current = null;
            }
            Evicted++;
        }

        state = new SeriesState(Model.Shape, Options.RecordReadings) { Key = key };
        _series[key] = state;
        LinkNewest(state);
        return state;
    }

    private void Unlink(SeriesState state)
    {
        if (state.Older is { } older)
        {
            older.Newer = state.Newer;
        }
        else
        {
            _oldest = state.Newer;
        }

        if (state.Newer is { } newer)
        {
            newer.Older = state.Older;
        }
        else
        {
            _newest = state.Older;
        }

        state.Newer = state.Older = null;
    }

    private void LinkNewest(SeriesState state)
    {
        state.Older = _newest;
        state.Newer = null;
        if (_newest is not null)
        {
            _newest.Newer = state;
        }

        _newest = state;
        _oldest ??= state;
    }
}
