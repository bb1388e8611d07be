namespace Fogline.Anomaly.Nab;

/// <summary>A detector's NAB score on a corpus under one profile, at the threshold NAB's optimiser chooses.</summary>
/// <param name="Profile">The profile.</param>
/// <param name="Threshold">The optimised threshold: rows whose anomaly score is at least this are detections
/// (<see cref="NabScorer.NoDetectionThreshold"/> when detecting nothing scores best).</param>
/// <param name="RawScore">The sum of the files' scores at <paramref name="Threshold"/>.</param>
/// <param name="NormalizedScore">100 × (raw − null) / (perfect − null): 0 for the null detector, 100 for a perfect one.</param>
/// <param name="NullScore">The raw score of NAB's null detector (0.5 on every row), optimised the same way.</param>
/// <param name="PerfectScore">The label file's window count × the profile's true-positive weight.</param>
/// <param name="Tp">Detections inside windows (rows, probationary rows excluded).</param>
/// <param name="Tn">Rows outside windows not detected.</param>
/// <param name="Fp">Detections outside windows.</param>
/// <param name="Fn">Rows inside windows not detected.</param>
/// <param name="DetectedWindows">Windows with at least one detection.</param>
/// <param name="Files">Every file's score at <paramref name="Threshold"/>, in corpus order.</param>
public sealed record NabScore(
    NabProfile Profile,
    double Threshold,
    double RawScore,
    double NormalizedScore,
    double NullScore,
    double PerfectScore,
    int Tp,
    int Tn,
    int Fp,
    int Fn,
    int DetectedWindows,
    IReadOnlyList<NabFileScore> Files);

/// <summary>One file's NAB score at a given threshold (what NAB writes per file in its <c>*_scores.csv</c>).</summary>
/// <param name="RelativePath">The file's path in the corpus.</param>
/// <param name="Score">The file's raw score: the best sweep score in each window (−fn weight for a window without a
/// detection) plus the sweep scores of the false positives.</param>
/// <param name="Tp">Detections inside windows (rows).</param>
/// <param name="Tn">Rows outside windows not detected.</param>
/// <param name="Fp">Detections outside windows.</param>
/// <param name="Fn">Rows inside windows not detected.</param>
/// <param name="Windows">The file's windows in the label file.</param>
/// <param name="DetectedWindows">Windows with at least one detection after the probationary period.</param>
public sealed record NabFileScore(string RelativePath, double Score, int Tp, int Tn, int Fp, int Fn, int Windows, int DetectedWindows);

/// <summary>The corpus-wide score at one threshold of NAB's threshold sweep.</summary>
/// <param name="Threshold">Rows whose anomaly score is at least this are detections.</param>
/// <param name="Score">The raw score at that threshold.</param>
/// <param name="Tp">Detections inside windows.</param>
/// <param name="Tn">Rows outside windows not detected.</param>
/// <param name="Fp">Detections outside windows.</param>
/// <param name="Fn">Rows inside windows not detected.</param>
public readonly record struct NabThresholdScore(double Threshold, double Score, int Tp, int Tn, int Fp, int Fn);
