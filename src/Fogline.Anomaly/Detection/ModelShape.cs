namespace Fogline.Anomaly.Detection;

/// <summary>
/// What a scoring model takes, read from its input shapes: how many of a series' latest readings it looks at, and how
/// many past novelty distances per time scale it ranks the current ones against. The per-series state is sized from it,
/// so a model and its state always agree.
/// </summary>
/// <param name="History">The series' latest readings given to the model (input <c>history</c> is [1, History], oldest first).</param>
/// <param name="Calibration">Past novelty distances kept per series and scale (input <c>calibration</c> is [Scales, Calibration]).</param>
/// <param name="Scales">How many novelty distances the model gives per reading (output <c>distance</c> is [Scales]): one per time scale it compares at.</param>
public readonly record struct ModelShape(int History, int Calibration, int Scales = 1)
{
    /// <summary>The largest sizes accepted (a model asking for more is refused at load).</summary>
    public const int MaxHistory = 16_384, MaxCalibration = 16_384, MaxScales = 16;

    /// <summary>Floats of per-series state this shape needs (history and calibration).</summary>
    public long StateFloats => History + ((long)Scales * Calibration);

    /// <summary>What is wrong with the shape, or null.</summary>
    public string? Problem() =>
        History is < 4 or > MaxHistory ? $"history length {History} is outside 4..{MaxHistory}"
        : Calibration is < 2 or > MaxCalibration ? $"calibration size {Calibration} is outside 2..{MaxCalibration}"
        : Scales is < 1 or > MaxScales ? $"{Scales} scales is outside 1..{MaxScales}"
        : null;

    /// <inheritdoc />
    public override string ToString() => $"history {History}, calibration {Scales} x {Calibration}";
}
