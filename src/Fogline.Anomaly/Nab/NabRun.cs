using System.Diagnostics;
using Fogline.Anomaly.Detection;

namespace Fogline.Anomaly.Nab;

/// <summary>Runs a detector over every series of a corpus, as NAB runs a detector: each file on its own, from its first row, with NAB's probationary period as the warm-up.</summary>
public static class NabRun
{
    /// <summary>Scores every series with a fresh detector made by <paramref name="createModel"/>; returns the scores by relative path and the time spent in the detector.</summary>
    public static (Dictionary<string, double[]> Scores, TimeSpan Elapsed, long Readings) Run(NabCorpus corpus, Func<IScoringModel> createModel, DetectorOptions options)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        ArgumentNullException.ThrowIfNull(createModel);
        ArgumentNullException.ThrowIfNull(options);
        var scores = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var watch = new Stopwatch();
        long readings = 0;
        using var model = createModel();
        foreach (var series in corpus.Series)
        {
            using var detector = new SeriesDetector<int>(model, options with { WarmUpReadings = series.ProbationaryLength }, ownsModel: false);
            var result = new double[series.Values.Length];
            watch.Start();
            for (var i = 0; i < result.Length; i++)
            {
                var time = (series.Timestamps[i] - DateTime.UnixEpoch).TotalSeconds;
                var observation = detector.Observe(0, time, series.Values[i]);
                result[i] = observation.Kind == ObservationKind.Scored ? observation.Score : 0;
            }

            watch.Stop();
            readings += result.Length;
            scores[series.RelativePath] = result;
        }

        return (scores, watch.Elapsed, readings);
    }
}
