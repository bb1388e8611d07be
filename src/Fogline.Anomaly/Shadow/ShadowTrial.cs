using System.Globalization;
using Fogline.ComponentKit.Processing;

namespace Fogline.Anomaly.Shadow;

/// <summary>What a shadow trial does when it ends.</summary>
public enum ShadowMode
{
    /// <summary>Promote the candidate when every criterion holds, discard it otherwise.</summary>
    Auto,

    /// <summary>Report the figures and the verdict only; the active model stays and the candidate stops (a person decides).</summary>
    ReportOnly,
}

/// <summary>How a shadow trial ends.</summary>
public enum ShadowVerdict
{
    /// <summary>Still comparing.</summary>
    Running,

    /// <summary>Every criterion held.</summary>
    Pass,

    /// <summary>A criterion failed (or the candidate threw, or was too slow).</summary>
    Fail,
}

/// <summary>
/// When a candidate model may replace the active one. Both see the same readings; a reading "alerts" for a model when
/// its score reaches the alert threshold.
/// </summary>
/// <param name="MinAgreement">Least share of readings on which both models take the same alert decision.</param>
/// <param name="MinCorrelation">Least Pearson correlation of their scores (same signal, same sense).</param>
/// <param name="MaxAlertRateRatio">The candidate may alert at most this many times as often as the active model…</param>
/// <param name="AlertRateSlack">…or at most this share of readings more (whichever allows more: a quiet active model does not forbid every alert).</param>
/// <param name="MaxLatencyP99Microseconds">Largest 99th percentile of the candidate's inference time.</param>
/// <param name="MaxErrors">Inference errors tolerated (0: the first one discards the candidate).</param>
public sealed record ShadowCriteria(
    double MinAgreement = 0.98,
    double MinCorrelation = 0.5,
    double MaxAlertRateRatio = 2.0,
    double AlertRateSlack = 0.005,
    double MaxLatencyP99Microseconds = 5_000,
    long MaxErrors = 0)
{
    /// <summary>What is wrong with the criteria, or null.</summary>
    public string? Problem() =>
        !(MinAgreement is >= 0 and <= 1) ? "minAgreement must be in [0, 1]"
        : !(MinCorrelation is >= -1 and <= 1) ? "minCorrelation must be in [-1, 1]"
        : !(MaxAlertRateRatio >= 1) ? "maxAlertRateRatio must be >= 1"
        : !(AlertRateSlack is >= 0 and <= 1) ? "alertRateSlack must be in [0, 1]"
        : !(MaxLatencyP99Microseconds > 0) ? "maxLatencyP99Ms must be > 0"
        : MaxErrors < 0 ? "maxErrors must be >= 0"
        : null;
}

/// <summary>The figures of a shadow trial and its verdict.</summary>
/// <param name="Readings">Readings both models scored.</param>
/// <param name="Agreement">Share of readings with the same alert decision.</param>
/// <param name="Correlation">Pearson correlation of the scores (NaN when either never varied).</param>
/// <param name="ActiveAlertRate">Share of readings the active model alerted on.</param>
/// <param name="CandidateAlertRate">Share of readings the candidate alerted on.</param>
/// <param name="ActiveLatencyP50">Active model's median inference time, µs.</param>
/// <param name="ActiveLatencyP99">Active model's 99th percentile, µs.</param>
/// <param name="CandidateLatencyP50">Candidate's median, µs.</param>
/// <param name="CandidateLatencyP99">Candidate's 99th percentile, µs.</param>
/// <param name="Errors">The candidate's inference errors.</param>
/// <param name="Verdict">Pass, fail, or still running.</param>
/// <param name="Reasons">Why it failed (empty when it passed).</param>
public sealed record ShadowReport(
    long Readings,
    double Agreement,
    double Correlation,
    double ActiveAlertRate,
    double CandidateAlertRate,
    double ActiveLatencyP50,
    double ActiveLatencyP99,
    double CandidateLatencyP50,
    double CandidateLatencyP99,
    long Errors,
    ShadowVerdict Verdict,
    IReadOnlyList<string> Reasons)
{
    /// <summary>One line for logs.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Verdict} after {Readings} readings: agreement {Agreement:P2}, correlation {Correlation:F3}, alert rate {CandidateAlertRate:P3} vs {ActiveAlertRate:P3}, p99 {CandidateLatencyP99:F1} µs vs {ActiveLatencyP99:F1} µs, {Errors} errors{(Reasons.Count > 0 ? "; " + string.Join("; ", Reasons) : "")}");
}

/// <summary>
/// The comparison of a candidate model with the active one over the same readings: alert agreement, score correlation,
/// alert rates, inference latency and errors, then a verdict against <see cref="ShadowCriteria"/>. A candidate that
/// throws more than allowed, or whose 99th-percentile latency is over budget after 100 readings, fails at once.
/// Nothing is allocated per reading.
/// </summary>
public sealed class ShadowTrial
{
    private const long EarlyLatencyCheck = 100;
    private readonly LatencyHistogram _activeLatency = new();
    private readonly LatencyHistogram _candidateLatency = new();
    private long _agree;
    private long _activeAlerts;
    private long _candidateAlerts;
    private double _sumA, _sumC, _sumAA, _sumCC, _sumAC;
    private string? _failure;

    /// <summary>Starts a trial.</summary>
    public ShadowTrial(long readings, double alertThreshold, ShadowCriteria criteria)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(readings, 1);
        Length = readings;
        AlertThreshold = alertThreshold;
        Criteria = criteria ?? throw new ArgumentNullException(nameof(criteria));
    }

    /// <summary>Readings to compare over.</summary>
    public long Length { get; }

    /// <summary>The score at which a reading alerts.</summary>
    public double AlertThreshold { get; }

    /// <summary>The criteria.</summary>
    public ShadowCriteria Criteria { get; }

    /// <summary>Readings compared so far.</summary>
    public long Readings { get; private set; }

    /// <summary>The candidate's errors so far.</summary>
    public long Errors { get; private set; }

    /// <summary>The last error's message.</summary>
    public string? LastError { get; private set; }

    /// <summary>Whether the trial has its verdict (enough readings, or an early failure).</summary>
    public bool Finished => _failure is not null || Readings >= Length;

    /// <summary>Records one reading scored by both models (how long each took, in <see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
    public void Record(float activeScore, float candidateScore, long activeTicks, long candidateTicks)
    {
        if (Finished)
        {
            return;
        }

        Readings++;
        var a = activeScore >= AlertThreshold;
        var c = candidateScore >= AlertThreshold;
        if (a == c)
        {
            _agree++;
        }

        if (a)
        {
            _activeAlerts++;
        }

        if (c)
        {
            _candidateAlerts++;
        }

        _sumA += activeScore;
        _sumC += candidateScore;
        _sumAA += (double)activeScore * activeScore;
        _sumCC += (double)candidateScore * candidateScore;
        _sumAC += (double)activeScore * candidateScore;
        _activeLatency.RecordTicks(activeTicks);
        _candidateLatency.RecordTicks(candidateTicks);
        if (Readings == EarlyLatencyCheck && _candidateLatency.PercentileMicroseconds(99) > Criteria.MaxLatencyP99Microseconds)
        {
            _failure = string.Create(CultureInfo.InvariantCulture, $"too slow: p99 {_candidateLatency.PercentileMicroseconds(99):F0} µs after {EarlyLatencyCheck} readings, budget {Criteria.MaxLatencyP99Microseconds:F0} µs");
        }
    }

    /// <summary>Records a failed inference of the candidate.</summary>
    public void RecordError(string message)
    {
        Errors++;
        LastError = message;
        if (Errors > Criteria.MaxErrors && _failure is null)
        {
            _failure = $"{Errors} inference error(s), at most {Criteria.MaxErrors} allowed; last: {message}";
        }
    }

    /// <summary>The figures so far and the verdict (Running until <see cref="Finished"/>).</summary>
    public ShadowReport Report()
    {
        var n = Math.Max(Readings, 1);
        var agreement = (double)_agree / n;
        var activeRate = (double)_activeAlerts / n;
        var candidateRate = (double)_candidateAlerts / n;
        var correlation = Correlation();
        var reasons = new List<string>();
        if (_failure is not null)
        {
            reasons.Add(_failure);
        }
        else if (Finished)
        {
            if (agreement < Criteria.MinAgreement)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"agreement {agreement:P2} < {Criteria.MinAgreement:P2}"));
            }

            var identical = double.IsNaN(correlation) && _agree == Readings && Math.Abs(_sumA - _sumC) < 1e-9;
            if (!identical && !(correlation >= Criteria.MinCorrelation))
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"score correlation {correlation:F3} < {Criteria.MinCorrelation:F3}"));
            }

            var allowed = Math.Max(activeRate * Criteria.MaxAlertRateRatio, activeRate + Criteria.AlertRateSlack);
            if (candidateRate > allowed)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"alert rate {candidateRate:P3} > {allowed:P3} allowed (active {activeRate:P3})"));
            }

            if (_candidateLatency.PercentileMicroseconds(99) > Criteria.MaxLatencyP99Microseconds)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"p99 latency {_candidateLatency.PercentileMicroseconds(99):F0} µs > {Criteria.MaxLatencyP99Microseconds:F0} µs"));
            }
        }

        var verdict = !Finished ? ShadowVerdict.Running : reasons.Count == 0 ? ShadowVerdict.Pass : ShadowVerdict.Fail;
        return new ShadowReport(Readings, agreement, correlation, activeRate, candidateRate,
            Percentile(_activeLatency, 50), Percentile(_activeLatency, 99), Percentile(_candidateLatency, 50), Percentile(_candidateLatency, 99),
            Errors, verdict, reasons);
    }

    private static double Percentile(LatencyHistogram histogram, double p) => histogram.Count == 0 ? double.NaN : histogram.PercentileMicroseconds(p);

    private double Correlation()
    {
        if (Readings < 2)
        {
            return double.NaN;
        }

        var n = (double)Readings;
        var cov = _sumAC - (_sumA * _sumC / n);
        var varA = _sumAA - (_sumA * _sumA / n);
        var varC = _sumCC - (_sumC * _sumC / n);
        return varA <= 1e-12 || varC <= 1e-12 ? double.NaN : cov / Math.Sqrt(varA * varC);
    }
}
