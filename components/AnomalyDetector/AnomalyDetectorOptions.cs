using Fogline.Anomaly.Detection;
using Fogline.Anomaly.Shadow;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.AnomalyDetector;

/// <summary>A candidate model on trial beside the active one.</summary>
/// <param name="Model">The candidate's file (relative to the model directory, or absolute).</param>
/// <param name="Readings">Readings both models must score before the verdict.</param>
/// <param name="Mode">Promote/discard by itself, or report only.</param>
/// <param name="Criteria">When the candidate passes.</param>
public sealed record CandidateOptions(string Model, long Readings, ShadowMode Mode, ShadowCriteria Criteria);

/// <summary>AnomalyDetector's configuration (see README.md).</summary>
/// <param name="InputTopic">Where readings come from.</param>
/// <param name="ModelDirectory">Where model files named relatively are.</param>
/// <param name="Model">The active model's file.</param>
/// <param name="Metrics">Metrics scored (empty: every metric).</param>
/// <param name="Detector">Warm-up, history and calibration start, record window, gaps, quiet period, series limit.</param>
/// <param name="Alert">When a score is an anomaly alert: threshold, hysteresis, minimum duration, cooldown.</param>
/// <param name="PublishScores">Whether every score is published on fogline/anomaly/….</param>
/// <param name="Candidate">A candidate on trial, or null.</param>
/// <param name="DecisionTopic">The IoT Core topic shadow-trial decisions go to ({thing} replaced), or null for none.</param>
/// <param name="StateDirectory">Where decisions are kept across restarts (the component's work folder by default).</param>
public sealed record AnomalyDetectorOptions(
    string InputTopic,
    string ModelDirectory,
    string Model,
    IReadOnlyList<string> Metrics,
    DetectorOptions Detector,
    ThresholdSettings Alert,
    bool PublishScores,
    CandidateOptions? Candidate,
    string? DecisionTopic,
    string StateDirectory)
{
    /// <summary>The default IoT Core topic of decisions.</summary>
    public const string DefaultDecisionTopic = "fogline/{thing}/anomaly/models";

    /// <summary>A model file's full path.</summary>
    public string Resolve(string model) => Path.GetFullPath(model, ModelDirectory);

    /// <summary>Whether a metric is scored.</summary>
    public bool Scores(string metric) => Metrics.Count == 0 || Metrics.Contains(metric, StringComparer.Ordinal);

    /// <summary>Reads and checks the configuration.</summary>
    public static AnomalyDetectorOptions Parse(ConfigNode configuration, string? thing)
    {
        var defaults = new DetectorOptions();
        var detector = new DetectorOptions(
            configuration["warmUpReadings"].Int32(defaults.WarmUpReadings, 0, 10_000_000),
            configuration["minHistory"].Int32(defaults.MinHistory, 1, ModelShape.MaxHistory),
            configuration["calibrationStart"].Int32(defaults.CalibrationStart, 0, ModelShape.MaxHistory),
            configuration["recordReadings"].Int32(defaults.RecordReadings, 1, 10_000_000),
            configuration["gapFactor"].Double(defaults.GapFactor, 1.0001, 1e6),
            configuration["quietReadings"].Int32(defaults.QuietReadings, 0, 10_000_000),
            configuration["quietLevel"].Double(defaults.QuietLevel, 0.0001, 1),
            configuration["maxSeries"].Int32(defaults.MaxSeries, 1, 1_000_000));
        var alertNode = configuration["alert"];
        var alert = new ThresholdSettings(
            Above: true,
            alertNode["warning"].Double(double.NaN),
            alertNode["threshold"].Double(0.901, 0, 1),
            alertNode["hysteresis"].Double(0.1, 0, 1),
            alertNode["minDurationSeconds"].Double(0, 0, 86_400),
            alertNode["cooldownSeconds"].Double(300, 0, 86_400));
        if (alert.Problem() is { } problem)
        {
            throw alertNode.Error(problem);
        }

        var metrics = new List<string>();
        foreach (var item in configuration["metrics"].Items())
        {
            var metric = item.String();
            if (!Topics.IsValidSegment(metric))
            {
                throw item.Error($"'{metric}' is not a metric name");
            }

            metrics.Add(metric);
        }

        // Deployed, the models are artifacts beside the binary; built from the project, in models/ beside it.
        var beside = Path.Combine(AppContext.BaseDirectory, "models");
        var directory = configuration["modelDirectory"].String(Directory.Exists(beside) ? beside : AppContext.BaseDirectory);
        var model = configuration["model"].String("knn-novelty-v1.onnx");
        if (model.Length == 0)
        {
            throw configuration["model"].Error("names no model file");
        }

        CandidateOptions? candidate = null;
        var candidateNode = configuration["candidate"];
        if (candidateNode.Exists && candidateNode["model"].Exists)
        {
            var criteriaNode = candidateNode["criteria"];
            var c = new ShadowCriteria();
            var criteria = new ShadowCriteria(
                criteriaNode["minAgreement"].Double(c.MinAgreement, 0, 1),
                criteriaNode["minCorrelation"].Double(c.MinCorrelation, -1, 1),
                criteriaNode["maxAlertRateRatio"].Double(c.MaxAlertRateRatio, 1, 1e6),
                criteriaNode["alertRateSlack"].Double(c.AlertRateSlack, 0, 1),
                criteriaNode["maxLatencyP99Ms"].Double(c.MaxLatencyP99Microseconds / 1000, 0.001, 60_000) * 1000,
                criteriaNode["maxErrors"].Int32((int)c.MaxErrors, 0, int.MaxValue));
            var mode = candidateNode["mode"].OneOf("auto", "auto", "report") == "auto" ? ShadowMode.Auto : ShadowMode.ReportOnly;
            var candidateModel = candidateNode["model"].String();
            if (string.Equals(candidateModel, model, StringComparison.Ordinal))
            {
                throw candidateNode["model"].Error("names the active model itself");
            }

            candidate = new CandidateOptions(candidateModel, candidateNode["readings"].Int32(10_000, 1, int.MaxValue), mode, criteria);
        }

        string? decisionTopic = null;
        var decisionNode = configuration["decisionTopic"];
        var template = decisionNode.String(DefaultDecisionTopic);
        if (template.Length > 0)
        {
            if (template.Contains("{thing}", StringComparison.Ordinal) && string.IsNullOrEmpty(thing))
            {
                // Not under a Nucleus that names its thing (a bare local run): decisions stay local.
                decisionTopic = null;
            }
            else
            {
                decisionTopic = template.Replace("{thing}", thing, StringComparison.Ordinal);
                if (decisionTopic.Contains('+', StringComparison.Ordinal) || decisionTopic.Contains('#', StringComparison.Ordinal) || decisionTopic.StartsWith('$'))
                {
                    throw decisionNode.Error($"'{decisionTopic}' is not a topic a device may publish to");
                }
            }
        }

        return new AnomalyDetectorOptions(
            configuration["inputTopic"].String(Topics.AllRaw),
            directory,
            model,
            metrics,
            detector,
            alert,
            configuration["publishScores"].Boolean(true),
            candidate,
            decisionTopic,
            configuration["stateDirectory"].String(Environment.CurrentDirectory));
    }
}
