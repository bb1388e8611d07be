using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Processing;

namespace Fogline.Aggregator;

/// <summary>Aggregator's configuration.</summary>
/// <param name="InputTopic">Where readings come from (default fogline/raw/#: windows summarise every reading, not the filtered ones).</param>
/// <param name="WindowSeconds">The window length (default 60 s).</param>
public sealed record AggregatorOptions(string InputTopic, double WindowSeconds);

/// <summary>
/// Aggregator: tumbling windows per device and metric (count, min, max, mean, standard deviation), published on
/// <c>fogline/summary/{zone}/{device}/{metric}</c> when a window ends — by the next reading or by the clock, whichever
/// comes first — and, as partial windows, on shutdown. Readings for a window already published are dropped and
/// counted (<c>late</c> in the next summary and the <c>late</c> counter).
/// </summary>
public sealed class AggregatorComponent : FoglineComponent<AggregatorOptions>
{
    private readonly Utf8StringPool _names = new();
    private readonly PayloadWriter _writer = new();
    private readonly Dictionary<(string Zone, string Device, string Metric), Series> _series = [];
    private ComponentContext<AggregatorOptions> _context = null!;

    /// <inheritdoc />
    public override string Name => "com.fogline.Aggregator";

    /// <inheritdoc />
    public override AggregatorOptions ParseOptions(ConfigNode configuration) =>
        new(configuration["inputTopic"].String(Topics.AllRaw), configuration["windowSeconds"].Double(60, 0.1, 86_400));

    /// <inheritdoc />
    public override async Task StartAsync(ComponentContext<AggregatorOptions> context, CancellationToken cancellationToken)
    {
        _context = context;
        await context.SubscribeAsync(context.Options.InputTopic, OnReadingAsync, cancellationToken).ConfigureAwait(false);
        context.Every(TimeSpan.FromMilliseconds(250), FlushDueAsync);
    }

    /// <inheritdoc />
    public override async ValueTask OnOptionsChangedAsync(AggregatorOptions previous, AggregatorOptions current, CancellationToken cancellationToken)
    {
        if (previous.WindowSeconds != current.WindowSeconds)
        {
            // Close what is open with the old length; new windows use the new one.
            await FlushAllAsync(cancellationToken).ConfigureAwait(false);
            _series.Clear();
        }
    }

    /// <inheritdoc />
    public override ValueTask DrainAsync(CancellationToken cancellationToken) => FlushAllAsync(cancellationToken);

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

            AggregatorLog.Rejected(_context.Logger, topic, error ?? status.ToString());
            return;
        }

        if (reading.Quality != ReadingQuality.Good)
        {
            _context.Counters.Get("not_good").Increment();
            return;
        }

        var key = (reading.Zone, reading.Device, reading.Metric);
        if (!_series.TryGetValue(key, out var series))
        {
            series = new Series(new TumblingWindow(_context.Options.WindowSeconds));
            _series[key] = series;
        }

        series.Last = reading;
        var lateBefore = series.Window.LateDropped;
        if (series.Window.Add(reading.Timestamp, reading.Value, out var closed))
        {
            await PublishAsync(series, closed, CancellationToken.None).ConfigureAwait(false);
        }

        if (series.Window.LateDropped != lateBefore)
        {
            _context.Counters.Get("late").Increment();
        }
    }

    private async ValueTask FlushDueAsync(CancellationToken cancellationToken)
    {
        var now = _context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        foreach (var series in _series.Values)
        {
            if (series.Window.FlushIfDue(now, out var closed))
            {
                await PublishAsync(series, closed, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask FlushAllAsync(CancellationToken cancellationToken)
    {
        foreach (var series in _series.Values)
        {
            if (series.Window.Flush(out var closed))
            {
                await PublishAsync(series, closed, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async ValueTask PublishAsync(Series series, WindowStats stats, CancellationToken cancellationToken)
    {
        var r = series.Last;
        var summary = new WindowSummary
        {
            Zone = r.Zone,
            Device = r.Device,
            Metric = r.Metric,
            Unit = r.Unit,
            Start = stats.Start,
            End = stats.End,
            Count = stats.Count,
            Min = stats.Min,
            Max = stats.Max,
            Mean = stats.Mean,
            StdDev = stats.StdDev,
            Late = stats.Late,
        };
        summary.Write(_writer.Begin());
        await _context.PublishAsync(Topics.Summary(r.Zone, r.Device, r.Metric), _writer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        _context.Counters.Get("windows").Increment();
    }

    private sealed class Series(TumblingWindow window)
    {
        public TumblingWindow Window { get; } = window;

        public Reading Last;
    }
}

internal static partial class AggregatorLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(3100, Microsoft.Extensions.Logging.LogLevel.Warning, "Skipped a reading on {Topic}: {Error}")]
    public static partial void Rejected(Microsoft.Extensions.Logging.ILogger logger, string topic, string error);
}
