using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.EdgeFilter;

/// <summary>How one metric is compressed.</summary>
/// <param name="Mode">none, deadband, swingingDoor or optimalPlr.</param>
/// <param name="Deviation">The maximum reconstruction error, in the metric's unit.</param>
/// <param name="MaxSilenceSeconds">Forward at least this often (0 = never just to show liveness).</param>
/// <param name="MaxHoldReadings">optimalPlr: the most readings of a series held back before a point is forced.</param>
/// <param name="MaxHoldSeconds">optimalPlr: the longest a reading is held back (by reading time, and by the clock when the series goes quiet).</param>
public sealed record FilterSettings(CompressionMode Mode, double Deviation, double MaxSilenceSeconds, int MaxHoldReadings = 256, double MaxHoldSeconds = 30)
{
    /// <summary>A new filter for one series with these settings.</summary>
    public ISeriesFilter CreateFilter() => Mode == CompressionMode.OptimalPlr
        ? new OptimalPlr(Deviation, MaxSilenceSeconds, MaxHoldReadings, MaxHoldSeconds)
        : new SwingingDoor(Mode, Deviation, MaxSilenceSeconds);
}

/// <summary>EdgeFilter's configuration.</summary>
/// <param name="InputTopic">Where readings come from (default fogline/raw/#).</param>
/// <param name="Default">The settings of metrics without their own.</param>
/// <param name="Metrics">Per metric name.</param>
public sealed record EdgeFilterOptions(string InputTopic, FilterSettings Default, IReadOnlyDictionary<string, FilterSettings> Metrics)
{
    /// <summary>The settings of a metric.</summary>
    public FilterSettings For(string metric) => Metrics.TryGetValue(metric, out var s) ? s : Default;
}

/// <summary>
/// EdgeFilter: forwards from <c>fogline/raw/{zone}/{device}/{metric}</c> to <c>fogline/filtered/…</c> only the
/// points the cloud needs to reconstruct each series within a stated error (optimal piecewise-linear, swinging door or
/// deadband), plus a heartbeat. State is per device and metric; nothing is allocated per reading once a series has been seen.
/// </summary>
public sealed class EdgeFilterComponent : FoglineComponent<EdgeFilterOptions>
{
    private readonly Utf8StringPool _names = new();
    private readonly PayloadWriter _writer = new();
    private readonly Dictionary<(string Zone, string Device, string Metric), Series> _series = [];
    private readonly SeriesPoint[] _output = new SeriesPoint[8];
    private ComponentContext<EdgeFilterOptions> _context = null!;

    /// <inheritdoc />
    public override string Name => "com.fogline.EdgeFilter";

    /// <inheritdoc />
    public override EdgeFilterOptions ParseOptions(ConfigNode configuration)
    {
        var input = configuration["inputTopic"].String(Topics.AllRaw);
        var defaults = ParseSettings(configuration, new FilterSettings(CompressionMode.OptimalPlr, 0.5, 300));
        var metrics = new Dictionary<string, FilterSettings>(StringComparer.Ordinal);
        if (configuration["metrics"].Exists)
        {
            foreach (var (name, node) in configuration["metrics"].Members())
            {
                metrics[name] = ParseSettings(node, defaults);
            }
        }

        return new EdgeFilterOptions(input, defaults, metrics);
    }

    /// <inheritdoc />
    public override Task StartAsync(ComponentContext<EdgeFilterOptions> context, CancellationToken cancellationToken)
    {
        _context = context;

        // Series that went quiet with readings held back (optimalPlr) are released by the clock.
        context.Every(TimeSpan.FromSeconds(1), ReleaseQuietSeriesAsync);
        return context.SubscribeAsync(context.Options.InputTopic, OnReadingAsync, cancellationToken);
    }

    /// <inheritdoc />
    public override ValueTask OnOptionsChangedAsync(EdgeFilterOptions previous, EdgeFilterOptions current, CancellationToken cancellationToken)
    {
        // New bounds start every series afresh (its next reading is forwarded).
        _series.Clear();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public override async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        // Each series ends where it ended: forward the held readings.
        foreach (var series in _series.Values)
        {
            var n = series.Filter.Flush(_output);
            await PublishAsync(series.Last, n, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask ReleaseQuietSeriesAsync(CancellationToken cancellationToken)
    {
        var now = Environment.TickCount64;
        foreach (var series in _series.Values)
        {
            if (series.Filter.Held > 0 && series.HeldSinceMs > 0 && now - series.HeldSinceMs >= series.MaxHoldMs)
            {
                var n = series.Filter.Flush(_output);
                series.HeldSinceMs = 0;
                _context.Counters.Get("released_quiet").Increment();
                await PublishAsync(series.Last, n, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask OnReadingAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        var status = ReadingCodec.TryRead(payload.Span, _names, out var reading, out var error);
        if (status != DecodeStatus.Ok)
        {
            _context.Counters.Rejected.Increment();
            if (status == DecodeStatus.UnsupportedVersion)
            {
                _context.Counters.Get("unsupported_version").Increment();
            }

            FilterLog.Rejected(_context.Logger, topic, error ?? status.ToString());
            return;
        }

        var key = (reading.Zone, reading.Device, reading.Metric);
        if (!_series.TryGetValue(key, out var series))
        {
            var s = _context.Options.For(reading.Metric);
            series = new Series(s.CreateFilter(), (long)(s.MaxHoldSeconds * 1000));
            _series[key] = series;
        }

        series.Last = reading;
        var n = series.Filter.Add(new SeriesPoint(reading.Timestamp, reading.Value), _output);
        if (series.Filter.Held == 0)
        {
            series.HeldSinceMs = 0;
        }
        else if (series.HeldSinceMs == 0)
        {
            series.HeldSinceMs = Environment.TickCount64;
        }

        if (n == 0)
        {
            _context.Counters.Get("suppressed").Increment();
            return;
        }

        await PublishAsync(reading, n, CancellationToken.None).ConfigureAwait(false);
    }

    private async ValueTask PublishAsync(Reading template, int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            var point = _output[i];
            var reading = template;
            reading.Timestamp = point.Time;
            reading.Value = point.Value;
            await _context.PublishAsync(Topics.Filtered(reading.Zone, reading.Device, reading.Metric), _writer.Write(reading), cancellationToken).ConfigureAwait(false);
            _context.Counters.Get("forwarded").Increment();
        }
    }

    private static FilterSettings ParseSettings(ConfigNode node, FilterSettings defaults)
    {
        var mode = node["mode"].OneOf(ModeName(defaults.Mode), "none", "deadband", "swingingDoor", "optimalPlr") switch
        {
            "none" => CompressionMode.None,
            "deadband" => CompressionMode.Deadband,
            "optimalPlr" => CompressionMode.OptimalPlr,
            _ => CompressionMode.SwingingDoor,
        };
        var deviation = node["deviation"].Double(defaults.Deviation, 0, double.MaxValue);
        var silence = node["maxSilenceSeconds"].Double(defaults.MaxSilenceSeconds, 0, 366 * 24 * 3600.0);
        var holdReadings = node["maxHoldReadings"].Int32(defaults.MaxHoldReadings, 1, 1_000_000);
        var holdSeconds = node["maxHoldSeconds"].Double(defaults.MaxHoldSeconds, 0.001, 24 * 3600.0);
        return new FilterSettings(mode, deviation, silence, holdReadings, holdSeconds);
    }

    private static string ModeName(CompressionMode mode) => mode switch
    {
        CompressionMode.None => "none",
        CompressionMode.Deadband => "deadband",
        CompressionMode.OptimalPlr => "optimalPlr",
        _ => "swingingDoor",
    };

    private sealed class Series(ISeriesFilter filter, long maxHoldMs)
    {
        public ISeriesFilter Filter { get; } = filter;

        public long MaxHoldMs { get; } = maxHoldMs;

        /// <summary>When (Environment.TickCount64) the filter started holding readings back; 0 when it holds none.</summary>
        public long HeldSinceMs;

        public Reading Last;
    }
}

internal static partial class FilterLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(3000, Microsoft.Extensions.Logging.LogLevel.Warning, "Skipped a reading on {Topic}: {Error}")]
    public static partial void Rejected(Microsoft.Extensions.Logging.ILogger logger, string topic, string error);
}
