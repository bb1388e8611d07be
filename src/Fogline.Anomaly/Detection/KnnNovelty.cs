namespace Fogline.Anomaly.Detection;

/// <summary>
/// The parameters of the k-nearest-neighbour novelty model (models/README.md): the time scales it compares windows at,
/// how many neighbours, the spatial tolerance, and how rank, excess and spatial novelty make the score. The ONNX graph
/// holds them as initialisers and in its metadata; <see cref="KnnNoveltyReference"/> computes the same function in C#
/// (the tests hold the two together).
/// </summary>
/// <param name="Scales">Window lengths compared (readings): at each, the window ending at the newest reading is compared with every earlier window of that length that ends before it starts.</param>
/// <param name="Neighbours">k: a scale's novelty distance is the mean distance to the k nearest remembered windows.</param>
/// <param name="SpatialTolerance">How far outside the range seen so far (in units of that range) a value must be to be a spatial anomaly.</param>
/// <param name="RankTop">Below the ceiling, the score is the distance's rank among the scale's recent distances times this (under 0.9); above it, a record, 0.9 + 0.1 × (1 − ceiling / distance).</param>
/// <param name="SpatialFloor">The least score of a spatial anomaly.</param>
public sealed record KnnNoveltyParameters(int[] Scales, int Neighbours = 2, float SpatialTolerance = 0.02f, float RankTop = 0.89f, float SpatialFloor = 0.95f)
{
    /// <summary>The shape of a model with these scales.</summary>
    public ModelShape ShapeWith(int history, int calibration) => new(history, calibration, Scales.Length);

    /// <summary>The longest scale.</summary>
    public int Longest => Scales.Max();

    /// <summary>
    /// The earlier windows a scale compares with in a history of <paramref name="history"/> readings: those whose last
    /// reading is at least <see cref="Longest"/> - 1 into the history and before the current window of that scale starts.
    /// </summary>
    public (int First, int Count) Rows(int history, int scale) => (Longest - scale, history - scale - Longest + 1);
}

/// <summary>The k-nearest-neighbour novelty model computed in C#: the reference the ONNX graph is checked against, and the tuning tool's fast path.</summary>
public sealed class KnnNoveltyReference : IScoringModel
{
    private readonly float[] _squared;

    /// <summary>Creates the model for a history and calibration size.</summary>
    public KnnNoveltyReference(KnnNoveltyParameters parameters, int history, int calibration, string name = "knn-novelty-reference")
    {
        Parameters = parameters ?? throw new ArgumentNullException(nameof(parameters));
        Shape = parameters.ShapeWith(history, calibration);
        if (Shape.Problem() is { } problem || parameters.Scales.Any(s => s < 1 || parameters.Rows(history, s).Count < parameters.Neighbours))
        {
            throw new ArgumentException(Shape.Problem() ?? $"every scale must be at least 1 and leave at least {parameters.Neighbours} earlier windows in a history of {history}", nameof(parameters));
        }

        Name = name;
        _squared = new float[parameters.Neighbours];
    }

    /// <summary>A distance this large means missing readings were among the nearest (they sit at <see cref="SeriesState.FarAway"/>).</summary>
    public const float Unknown = 1e3f;

    /// <summary>The parameters.</summary>
    public KnnNoveltyParameters Parameters { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public ModelShape Shape { get; }

    /// <inheritdoc />
    public float Evaluate(ReadOnlySpan<float> history, ReadOnlySpan<float> calibration, ReadOnlySpan<float> ceilings, Span<float> distances)
    {
        var h = Shape.History;
        var score = 0f;
        for (var s = 0; s < Shape.Scales; s++)
        {
            var length = Parameters.Scales[s];
            var query = history.Slice(h - length, length);
            var (first, rows) = Parameters.Rows(h, length);
            var k = Parameters.Neighbours;
            var nearest = _squared.AsSpan(0, k);
            nearest.Fill(float.PositiveInfinity);
            for (var row = 0; row < rows; row++)
            {
                var m = history.Slice(first + row, length);
                var sum = 0f;
                for (var i = 0; i < length; i++)
                {
                    var d = m[i] - query[i];
                    sum += d * d;
                }

                // Keep the k smallest, in order.
                if (sum < nearest[k - 1])
                {
                    var at = k - 1;
                    while (at > 0 && nearest[at - 1] > sum)
                    {
                        nearest[at] = nearest[at - 1];
                        at--;
                    }

                    nearest[at] = sum;
                }
            }

            var total = 0f;
            for (var i = 0; i < k; i++)
            {
                total += MathF.Sqrt(nearest[i]);
            }

            // A window with missing readings among its nearest (a young series) has no distance at this scale yet.
            var distance = total / k;
            if (distance >= Unknown)
            {
                distances[s] = float.PositiveInfinity;
                continue;
            }

            distances[s] = distance;
            score = Math.Max(score, Temporal(distance, calibration.Slice(s * Shape.Calibration, Shape.Calibration), ceilings[s], Parameters.RankTop));
        }

        return Math.Max(score, Spatial(history[h - 1], Parameters));
    }

    /// <summary>The temporal score of a novelty distance given the scale's recent distances and its ceiling.</summary>
    public static float Temporal(float distance, ReadOnlySpan<float> calibration, float ceiling, float rankTop)
    {
        if (distance > ceiling)
        {
            return 1f - (ceiling / distance * 0.1f);
        }

        // Unused slots are +infinity: never below, so a young series' ranks are low until its calibration fills.
        var below = 0f;
        foreach (var c in calibration)
        {
            if (c < distance)
            {
                below++;
            }
        }

        return below * (rankTop / calibration.Length);
    }

    /// <summary>The spatial score of the newest normalised value: outside [0, 1] by more than the tolerance.</summary>
    public static float Spatial(float value, KnnNoveltyParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var excess = MathF.Abs(value - 0.5f) - (0.5f + parameters.SpatialTolerance);
        return excess > 0 ? Math.Min(excess + parameters.SpatialFloor, 1f) : 0f;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
