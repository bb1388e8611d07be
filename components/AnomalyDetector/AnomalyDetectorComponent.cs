using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Fogline.Anomaly.Detection;
using Fogline.Anomaly.Shadow;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;
using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Fogline.AnomalyDetector;

/// <summary>
/// AnomalyDetector: scores every reading of every series with an ONNX model (per-series state, no allocation per
/// reading), publishes the score on <c>fogline/anomaly/{zone}/{device}/{metric}</c> and, when it crosses the alert
/// threshold (hysteresis, cooldown), an anomaly alert on <c>fogline/alerts/…</c> that CloudUplink carries as critical.
/// A candidate model named by the configuration runs in shadow beside the active one on the same readings, publishes
/// nothing, and is promoted or discarded by itself when its trial ends (or only reported, in report mode).
/// </summary>
public sealed class AnomalyDetectorComponent : FoglineComponent<AnomalyDetectorOptions>
{
    private readonly Utf8StringPool _names = new();
    private readonly PayloadWriter _writer = new();
    private ComponentContext<AnomalyDetectorOptions> _context = null!;
    private SeriesDetector<(string Zone, string Device, string Metric)> _active = null!;
    private string _activePath = "";
    private SeriesDetector<(string Zone, string Device, string Metric)>? _candidate;
    private OnnxScoringModel? _candidateModel;
    private ShadowTrial? _trial;
    private ModelDecisions _decisions = null!;
    private long _alerts;
    private Counter _scored = null!, _notFinite = null!, _outOfOrder = null!, _inferenceErrors = null!, _series = null!, _evicted = null!, _gaps = null!, _alertsRaised = null!, _alertsCleared = null!;

    /// <inheritdoc />
    public override string Name => "com.fogline.AnomalyDetector";

    /// <inheritdoc />
    public override AnomalyDetectorOptions ParseOptions(ConfigNode configuration) =>
        AnomalyDetectorOptions.Parse(configuration, Environment.GetEnvironmentVariable("AWS_IOT_THING_NAME"));

    /// <inheritdoc />
    public override Task StartAsync(ComponentContext<AnomalyDetectorOptions> context, CancellationToken cancellationToken)
    {
        _context = context;
        var counters = context.Counters;
        (_scored, _notFinite, _outOfOrder, _inferenceErrors) = (counters.Get("scored"), counters.Get("not_finite"), counters.Get("out_of_order"), counters.Get("inference_errors"));
        (_series, _evicted, _gaps) = (counters.Get("series"), counters.Get("series_evicted"), counters.Get("gaps"));
        (_alertsRaised, _alertsCleared) = (counters.Get("raised"), counters.Get("cleared"));
        var options = context.Options;
        _decisions = ModelDecisions.Load(options.StateDirectory);

        // A candidate promoted before this start stays the active model while the configured model is the one it replaced.
        var activePath = options.Resolve(options.Model);
        var candidatePath = options.Candidate is { } c ? options.Resolve(c.Model) : null;
        if (_decisions.Promoted is { } promoted && promoted.ConfiguredModel == options.Model && File.Exists(promoted.Path))
        {
            DetectorLog.PromotedBefore(context.Logger, promoted.Path);
            activePath = promoted.Path;
        }

        // A model that cannot be used stops the start: ERRORED with the reason.
        _active = new SeriesDetector<(string, string, string)>(OnnxScoringModel.Load(activePath), options.Detector);
        _activePath = activePath;
        DetectorLog.ModelLoaded(context.Logger, "active", _active.Model.Name, activePath, _active.Model.Shape.ToString());
        counters.Get("model_loaded").Increment();
        if (candidatePath is not null && candidatePath != activePath)
        {
            StartTrial(options.Candidate!, candidatePath);
        }

        // The detector's own figures, copied into the counters once a second rather than at every reading.
        context.Every(TimeSpan.FromSeconds(1), _ =>
        {
            _series.Set(_active.SeriesCount);
            _evicted.Set(_active.Evicted);
            _gaps.Set(_active.Gaps);
            return ValueTask.CompletedTask;
        });
        return context.SubscribeAsync(options.InputTopic, OnReadingAsync, cancellationToken);
    }

    /// <inheritdoc />
    public override async ValueTask OnOptionsChangedAsync(AnomalyDetectorOptions previous, AnomalyDetectorOptions current, CancellationToken cancellationToken)
    {
        _active.Options = current.Detector;
        if (_candidate is not null)
        {
            _candidate.Options = current.Detector;
        }

        var wantedActive = current.Resolve(current.Model);
        if (previous.Resolve(previous.Model) != wantedActive && wantedActive != _activePath)
        {
            try
            {
                var replacement = new SeriesDetector<(string, string, string)>(OnnxScoringModel.Load(wantedActive), current.Detector);
                _active.Dispose();
                _active = replacement;
                _activePath = wantedActive;
                _decisions.ClearPromoted();
                DetectorLog.ModelLoaded(_context.Logger, "active", replacement.Model.Name, wantedActive, replacement.Model.Shape.ToString());
            }
            catch (ModelLoadException e)
            {
                // The running model goes on; the new one is reported.
                _context.Counters.Get("model_load_failed").Increment();
                DetectorLog.ActiveNotReplaced(_context.Logger, e.Message);
            }
        }

        var wantedCandidate = current.Candidate is { } c ? current.Resolve(c.Model) : null;
        var runningCandidate = _candidateModel?.Path;
        if (wantedCandidate != runningCandidate)
        {
            if (_trial is not null)
            {
                await EndTrialAsync("withdrawn", "the configuration no longer names it", cancellationToken).ConfigureAwait(false);
            }

            if (wantedCandidate is not null && wantedCandidate != _activePath)
            {
                StartTrial(current.Candidate!, wantedCandidate);
                if (_pendingDecision is { } pending)
                {
                    _pendingDecision = null;
                    await ReportAsync(pending, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <inheritdoc />
    public override ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        _candidate?.Dispose();
        _active.Dispose();
        return ValueTask.CompletedTask;
    }

    private DecisionMessage? _pendingDecision;

    private void StartTrial(CandidateOptions candidate, string path)
    {
        var sha = File.Exists(path) ? Sha256Of(path) : "";
        if (_decisions.Find(sha) is { } before)
        {
            DetectorLog.AlreadyDecided(_context.Logger, path, before.Decision, before.Summary);
            return;
        }

        try
        {
            _candidateModel = OnnxScoringModel.Load(path);
        }
        catch (ModelLoadException e)
        {
            _context.Counters.Get("model_discarded").Increment();
            DetectorLog.CandidateRefused(_context.Logger, e.Message);
            var decision = new ModelDecision(sha, Path.GetFileNameWithoutExtension(path), "discarded", _context.Time.GetUtcNow(), "failed to load: " + e.Reason);
            if (sha.Length > 0)
            {
                _decisions.Record(decision);
            }

            _pendingDecision = new DecisionMessage(decision, ActiveModelNameOrFile(), candidate.Mode, null);
            return;
        }

        _candidate = new SeriesDetector<(string, string, string)>(_candidateModel, _context.Options.Detector);
        _trial = new ShadowTrial(candidate.Readings, _context.Options.Alert.Critical, candidate.Criteria);
        _context.Counters.Get("trials_started").Increment();
        DetectorLog.ModelLoaded(_context.Logger, "candidate", _candidateModel.Name, path, _candidateModel.Shape.ToString());
    }

    private string ActiveModelNameOrFile() => _active is null ? Path.GetFileNameWithoutExtension(_activePath) : _active.Model.Name;

    private async ValueTask OnReadingAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        if (_pendingDecision is { } pending)
        {
            // A candidate refused at start is reported once the component is running.
            _pendingDecision = null;
            await ReportAsync(pending, _context.Stopping).ConfigureAwait(false);
        }

        var status = ReadingCodec.TryRead(payload.Span, _names, out var reading, out var error);
        if (status != DecodeStatus.Ok)
        {
            _context.Counters.Rejected.Increment();
            DetectorLog.Rejected(_context.Logger, topic, error ?? status.ToString());
            return;
        }

        if (reading.Quality != ReadingQuality.Good || !_context.Options.Scores(reading.Metric))
        {
            return;
        }

        var key = (reading.Zone, reading.Device, reading.Metric);
        var start = Stopwatch.GetTimestamp();
        Observation observed;
        try
        {
            observed = _active.Observe(key, reading.Timestamp, reading.Value);
        }
        catch (OnnxRuntimeException e)
        {
            _inferenceErrors.Increment();
            DetectorLog.InferenceFailed(_context.Logger, _active.Model.Name, reading.Zone, reading.Device, reading.Metric, e.Message);
            return;
        }

        var activeTicks = Stopwatch.GetTimestamp() - start;
        switch (observed.Kind)
        {
            case ObservationKind.NotFinite:
                _notFinite.Increment();
                DetectorLog.NotFinite(_context.Logger, reading.Zone, reading.Device, reading.Metric, reading.Value);
                return;
            case ObservationKind.OutOfOrder:
                _outOfOrder.Increment();
                return;
        }

        if (_trial is not null)
        {
            await ShadowAsync(key, reading, observed, activeTicks).ConfigureAwait(false);
        }

        if (observed.Kind != ObservationKind.Scored)
        {
            return;
        }

        _scored.Increment();
        if (_active.CurrentTag is not SeriesOutputs outputs)
        {
            outputs = new SeriesOutputs(reading, _context.Options.Alert);
            _active.CurrentTag = outputs;
        }

        if (_context.Options.PublishScores)
        {
            AnomalyScoreMessage.Write(_writer.Begin(), reading, observed.Score, _active.Model.Name);
            await _context.PublishAsync(outputs.ScoreTopic, _writer.WrittenMemory).ConfigureAwait(false);
        }

        outputs.Rule.Update(_context.Options.Alert);
        if (outputs.Rule.Evaluate(reading.Timestamp, observed.Score, out var previous, out var threshold))
        {
            var alert = new Alert
            {
                Id = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId:x}-a{++_alerts:x}-{(long)(reading.Timestamp * 1000):x}"),
                Rule = "anomaly",
                Severity = outputs.Rule.State,
                Previous = previous,
                Threshold = threshold,
                Above = true,
                Timestamp = _context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0,
                Reading = reading,
                AnomalyScore = observed.Score,
                Model = _active.Model.Name,
            };
            alert.Write(_writer.Begin());
            await _context.PublishAsync(outputs.AlertTopic, _writer.WrittenMemory).ConfigureAwait(false);
            (outputs.Rule.State == AlertSeverity.Normal ? _alertsCleared : _alertsRaised).Increment();
            DetectorLog.Alert(_context.Logger, reading.Zone, reading.Device, reading.Metric, outputs.Rule.State.ToString(), observed.Score, reading.Value);
        }
    }

    private async ValueTask ShadowAsync((string, string, string) key, Reading reading, Observation active, long activeTicks)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            var candidate = _candidate!.Observe(key, reading.Timestamp, reading.Value);
            var candidateTicks = Stopwatch.GetTimestamp() - start;
            if (active.Kind == ObservationKind.Scored && candidate.Kind == ObservationKind.Scored)
            {
                _trial!.Record(active.Score, candidate.Score, activeTicks, candidateTicks);
            }
        }
        catch (OnnxRuntimeException e)
        {
            _trial!.RecordError(e.Message);
        }

        if (_trial!.Finished)
        {
            var report = _trial.Report();
            var mode = _context.Options.Candidate?.Mode ?? ShadowMode.Auto;
            var decision = mode == ShadowMode.ReportOnly ? "reported" : report.Verdict == ShadowVerdict.Pass ? "promoted" : "discarded";
            await EndTrialAsync(decision, report.ToString(), _context.Stopping, report).ConfigureAwait(false);
        }
    }

    private async ValueTask EndTrialAsync(string decision, string summary, CancellationToken cancellationToken, ShadowReport? report = null)
    {
        var candidate = _candidate!;
        var model = _candidateModel!;
        var activeName = _active.Model.Name;
        var mode = _context.Options.Candidate?.Mode ?? ShadowMode.Auto;
        _candidate = null;
        _candidateModel = null;
        _trial = null;
        if (decision == "promoted")
        {
            // The candidate has scored every series all along: its state is warm, nothing restarts.
            _active.Dispose();
            _active = candidate;
            _activePath = model.Path;
        }
        else
        {
            candidate.Dispose();
        }

        var record = new ModelDecision(model.Sha256, model.Name, decision, _context.Time.GetUtcNow(), summary);
        if (decision != "withdrawn")
        {
            _decisions.Record(record, decision == "promoted" ? new PromotedModel(_context.Options.Model, model.Path) : null);
        }

        _context.Counters.Get("model_" + decision).Increment();
        DetectorLog.Decided(_context.Logger, model.Name, decision, summary);
        await ReportAsync(new DecisionMessage(record, activeName, mode, report), cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask ReportAsync(DecisionMessage message, CancellationToken cancellationToken)
    {
        message.Write(_writer.Begin(), Name, _active?.Model.Name ?? "");
        var payload = _writer.WrittenMemory.ToArray();
        await _context.PublishAsync(Topics.Metrics(Name) + "/models", payload, cancellationToken).ConfigureAwait(false);
        if (_context.Options.DecisionTopic is { } topic)
        {
            try
            {
                await _context.Ipc.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = topic, Qos = QOS.AtLeastOnce, Payload = payload }, cancellationToken).ConfigureAwait(false);
            }
            catch (GreengrassIpcException e)
            {
                DetectorLog.DecisionNotSent(_context.Logger, topic, e.Message);
            }
        }
    }

    private static string Sha256Of(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>What the component keeps per series beside the detector's state: its topics and its alert state.</summary>
    private sealed class SeriesOutputs(Reading reading, ThresholdSettings alert)
    {
        public string ScoreTopic { get; } = Topics.Anomaly(reading.Zone, reading.Device, reading.Metric);

        public string AlertTopic { get; } = Topics.Alerts(reading.Zone, reading.Device, reading.Metric);

        public ThresholdRule Rule { get; } = new(alert);
    }

    /// <summary>A shadow-trial decision as reported (locally on fogline/metrics/com.fogline.AnomalyDetector/models and to IoT Core).</summary>
    private sealed record DecisionMessage(ModelDecision Decision, string PreviousActive, ShadowMode Mode, ShadowReport? Report)
    {
        public void Write(System.Text.Json.Utf8JsonWriter writer, string component, string active)
        {
            writer.WriteStartObject();
            writer.WriteNumber("v", 1);
            writer.WriteString("component", component);
            if (Environment.GetEnvironmentVariable("AWS_IOT_THING_NAME") is { Length: > 0 } thing)
            {
                writer.WriteString("thing", thing);
            }

            writer.WriteString("decision", Decision.Decision);
            writer.WriteString("mode", Mode == ShadowMode.Auto ? "auto" : "report");
            writer.WriteString("candidate", Decision.Model);
            writer.WriteString("candidateSha256", Decision.Sha256);
            writer.WriteString("previousActive", PreviousActive);
            writer.WriteString("active", active);
            writer.WriteString("summary", Decision.Summary);
            if (Report is { } r)
            {
                writer.WriteString("verdict", r.Verdict == ShadowVerdict.Pass ? "pass" : "fail");
                writer.WriteStartArray("reasons");
                foreach (var reason in r.Reasons)
                {
                    writer.WriteStringValue(reason);
                }

                writer.WriteEndArray();
                writer.WriteStartObject("figures");
                writer.WriteNumber("readings", r.Readings);
                WriteNumber("agreement", r.Agreement);
                WriteNumber("correlation", r.Correlation);
                WriteNumber("activeAlertRate", r.ActiveAlertRate);
                WriteNumber("candidateAlertRate", r.CandidateAlertRate);
                WriteNumber("activeLatencyP50Us", r.ActiveLatencyP50);
                WriteNumber("activeLatencyP99Us", r.ActiveLatencyP99);
                WriteNumber("candidateLatencyP50Us", r.CandidateLatencyP50);
                WriteNumber("candidateLatencyP99Us", r.CandidateLatencyP99);
                writer.WriteNumber("errors", r.Errors);
                writer.WriteEndObject();
            }

            writer.WriteString("ts", Decision.At);
            writer.WriteEndObject();
            writer.Flush();

            void WriteNumber(string name, double value)
            {
                if (double.IsFinite(value))
                {
                    writer.WriteNumber(name, Math.Round(value, 6));
                }
                else
                {
                    writer.WriteNull(name);
                }
            }
        }
    }
}

internal static partial class DetectorLog
{
    [LoggerMessage(3600, LogLevel.Information, "Loaded the {Role} model {Model} from {Path} ({Shape})")]
    public static partial void ModelLoaded(ILogger logger, string role, string model, string path, string shape);

    [LoggerMessage(3601, LogLevel.Information, "The model {Path} was promoted before this start: it is the active model")]
    public static partial void PromotedBefore(ILogger logger, string path);

    [LoggerMessage(3602, LogLevel.Error, "The new active model was not loaded; the running one goes on: {Error}")]
    public static partial void ActiveNotReplaced(ILogger logger, string error);

    [LoggerMessage(3603, LogLevel.Information, "The candidate {Path} was {Decision} before ({Summary}): not tried again")]
    public static partial void AlreadyDecided(ILogger logger, string path, string decision, string summary);

    [LoggerMessage(3604, LogLevel.Error, "Candidate refused, the active model goes on: {Error}")]
    public static partial void CandidateRefused(ILogger logger, string error);

    [LoggerMessage(3605, LogLevel.Warning, "Skipped a reading on {Topic}: {Error}")]
    public static partial void Rejected(ILogger logger, string topic, string error);

    [LoggerMessage(3606, LogLevel.Error, "Model {Model} failed on {Zone}/{Device}/{Metric}: {Error}")]
    public static partial void InferenceFailed(ILogger logger, string model, string zone, string device, string metric, string error);

    [LoggerMessage(3607, LogLevel.Debug, "Skipped a value that is not finite on {Zone}/{Device}/{Metric}: {Value}")]
    public static partial void NotFinite(ILogger logger, string zone, string device, string metric, double value);

    [LoggerMessage(3608, LogLevel.Information, "Anomaly on {Zone}/{Device}/{Metric}: {Severity} at score {Score} (value {Value})")]
    public static partial void Alert(ILogger logger, string zone, string device, string metric, string severity, float score, double value);

    [LoggerMessage(3609, LogLevel.Information, "Candidate {Model} {Decision}: {Summary}")]
    public static partial void Decided(ILogger logger, string model, string decision, string summary);

    [LoggerMessage(3610, LogLevel.Warning, "The decision was not sent to IoT Core on {Topic}: {Error}")]
    public static partial void DecisionNotSent(ILogger logger, string topic, string error);
}
