namespace Fogline.Anomaly.Detection;

/// <summary>
/// A scoring model: given a series' latest readings (normalised) and its past novelty distances, an anomaly score for
/// the newest reading and its novelty distance at each time scale. <see cref="OnnxScoringModel"/> runs an ONNX file; the inputs are
/// those of that file's graph (see models/README.md).
/// </summary>
public interface IScoringModel : IDisposable
{
    /// <summary>The model's name (its file name, or its metadata name).</summary>
    string Name { get; }

    /// <summary>The sizes of its inputs.</summary>
    ModelShape Shape { get; }

    /// <summary>
    /// Scores the newest reading and returns its anomaly score in [0, 1]: <paramref name="history"/> has
    /// <see cref="ModelShape.History"/> values, oldest first (missing ones far away), <paramref name="calibration"/>
    /// <see cref="ModelShape.Scales"/> rows of <see cref="ModelShape.Calibration"/> recent distances (unused slots
    /// +infinity), <paramref name="ceilings"/> per scale the largest distance of the series' record window (+infinity
    /// when none yet). The reading's novelty distance at each scale goes to <paramref name="distances"/> (the series
    /// keeps them to rank later readings against).
    /// </summary>
    float Evaluate(ReadOnlySpan<float> history, ReadOnlySpan<float> calibration, ReadOnlySpan<float> ceilings, Span<float> distances);
}
