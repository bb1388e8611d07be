using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Storage;
using Fogline.Greengrass.Ipc;

namespace Fogline.CloudUplink;

/// <summary>The link to IoT Core as the uplink sees it from its publishes.</summary>
public enum LinkState
{
    /// <summary>Publishes succeed quickly.</summary>
    Online,

    /// <summary>Publishes succeed slowly or fail now and then.</summary>
    Degraded,

    /// <summary>Publishes fail: retried with backoff and jitter.</summary>
    Offline,
}

/// <summary>CloudUplink's configuration.</summary>
public sealed record CloudUplinkOptions(
    string CriticalTopic,
    string NormalTopic,
    string LowTopic,
    TimeSpan NormalBatch,
    TimeSpan LowBatch,
    int MaxMessageBytes,
    bool Compress,
    string LogDirectory,
    long LogMaxBytes,
    TimeSpan LogMaxAge,
    TimeSpan DegradedLatency);

/// <summary>
/// CloudUplink: the durable path from the pipeline to AWS IoT Core. Alerts (critical), window summaries (normal) and
/// filtered telemetry (low) are written to a durable log on disk as they arrive, then published to IoT Core through
/// the Nucleus (PublishToIoTCore, QoS 1): critical ones at once, one by one; the others in batches (every
/// <c>normalBatchSeconds</c> / <c>lowBatchSeconds</c>), gzip-compressed and split to stay under IoT Core's message size.
/// A record leaves the log only once its publish succeeded; every message carries an id
/// (<c>{thing}-{sequence}</c>) that is the same when it is sent again after a crash, so the cloud drops duplicates.
/// </summary>
public sealed class CloudUplinkComponent : FoglineComponent<CloudUplinkOptions>
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    private readonly SemaphoreSlim _appendSlots = new(4096);
    private ComponentContext<CloudUplinkOptions> _context = null!;
    private DurableLog _log = null!;
    private Task _sender = Task.CompletedTask;
    private CancellationTokenSource _stopSender = new();
    private string _thing = "device";
    private int _failures;
    private TimeSpan _backoff = MinBackoff;

    /// <summary>The link state.</summary>
    public LinkState State { get; private set; } = LinkState.Online;

    /// <inheritdoc />
    public override string Name => "com.fogline.CloudUplink";

    /// <inheritdoc />
    public override CloudUplinkOptions ParseOptions(ConfigNode configuration)
    {
        var thing = Environment.GetEnvironmentVariable("AWS_IOT_THING_NAME") ?? "device";
        string Topic(string key, string suffix)
        {
            var topic = configuration["topics"][key].String($"fogline/{{thing}}/{suffix}").Replace("{thing}", thing, StringComparison.Ordinal);
            if (topic.Contains('#', StringComparison.Ordinal) || topic.Contains('+', StringComparison.Ordinal) || topic.Length == 0)
            {
                throw configuration["topics"][key].Error($"'{topic}' is not a topic to publish to");
            }

            return topic;
        }

        return new CloudUplinkOptions(
            Topic("critical", "alerts"),
            Topic("normal", "summaries"),
            Topic("low", "telemetry"),
            configuration["normalBatchSeconds"].Seconds(10, 0.01, 3600),
            configuration["lowBatchSeconds"].Seconds(30, 0.01, 3600),
            configuration["maxMessageBytes"].Int32(128 * 1024, 1024, 128 * 1024),
            configuration["compress"].Boolean(true),
            configuration["log"]["directory"].String("uplink-log"),
            (long)configuration["log"]["maxMegabytes"].Double(256, 1, 1_000_000) * 1024 * 1024,
            TimeSpan.FromHours(configuration["log"]["maxAgeHours"].Double(168, 0.001, 100_000)),
            TimeSpan.FromMilliseconds(configuration["degradedLatencyMs"].Double(2000, 1, 600_000)));
    }

    /// <inheritdoc />
    public override async Task StartAsync(ComponentContext<CloudUplinkOptions> context, CancellationToken cancellationToken)
    {
        _context = context;
        _thing = Environment.GetEnvironmentVariable("AWS_IOT_THING_NAME") ?? "device";
        var o = context.Options;
        _log = DurableLog.Open(Path.GetFullPath(o.LogDirectory), new DurableLogOptions { MaxBytes = o.LogMaxBytes, MaxAge = o.LogMaxAge }, context.LoggerFactory.CreateLogger("com.fogline.CloudUplink.Log"));
        context.Counters.Get("recovered").Add(_log.Count);
        context.Counters.Get("corrupt_skipped").Add(_log.Recovery.CorruptRecords);
        await context.SubscribeAsync("fogline/alerts/#", (t, p) => AcceptAsync(LogPriority.Critical, p), cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync("fogline/summary/#", (t, p) => AcceptAsync(LogPriority.Normal, p), cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync("fogline/filtered/#", (t, p) => AcceptAsync(LogPriority.Low, p), cancellationToken).ConfigureAwait(false);
        context.Every(TimeSpan.FromSeconds(5), PublishStatusAsync);
        _stopSender = CancellationTokenSource.CreateLinkedTokenSource(context.Stopping);
        _sender = Task.Run(() => SendLoopAsync(_stopSender.Token));
    }

    /// <inheritdoc />
    public override async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        // What was accepted is on disk; unsent records wait for the next start.
        await _stopSender.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sender.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _log.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask AcceptAsync(LogPriority priority, ReadOnlyMemory<byte> payload)
    {
        // Many appends in flight share each group commit; the processing loop does not wait for the disk.
        await _appendSlots.WaitAsync(_context.Stopping).ConfigureAwait(false);
        var copy = payload.ToArray();
        _ = AppendAsync(priority, copy);
    }

    private async Task AppendAsync(LogPriority priority, byte[] payload)
    {
        try
        {
            await _log.AppendAsync(priority, payload).ConfigureAwait(false);
            _context.Counters.Get("accepted").Increment();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or ArgumentException)
        {
            _context.Counters.Dropped.Increment();
            UplinkLog.AppendFailed(_context.Logger, e.Message);
        }
        finally
        {
            _appendSlots.Release();
        }
    }

    private async Task SendLoopAsync(CancellationToken ct)
    {
        var o = _context.Options;
        var nextNormal = DateTimeOffset.UtcNow + o.NormalBatch;
        var nextLow = DateTimeOffset.UtcNow + o.LowBatch;
        while (!ct.IsCancellationRequested)
        {
            var sent = false;

            // Critical first, always: one message each.
            foreach (var record in _log.Peek(64, LogPriority.Critical))
            {
                if (!await PublishAsync(o.CriticalTopic, Envelope(record), [record.Sequence], ct).ConfigureAwait(false))
                {
                    goto Wait;
                }

                sent = true;
            }

            var now = DateTimeOffset.UtcNow;
            var backlog = State == LinkState.Online && _log.Count > 1000;
            if (now >= nextNormal || backlog)
            {
                if (!await SendBatchesAsync(LogPriority.Normal, o.NormalTopic, ct).ConfigureAwait(false))
                {
                    goto Wait;
                }

                nextNormal = now + o.NormalBatch;
                sent = true;
            }

            if (now >= nextLow || backlog)
            {
                if (!await SendBatchesAsync(LogPriority.Low, o.LowTopic, ct).ConfigureAwait(false))
                {
                    goto Wait;
                }

                nextLow = now + o.LowBatch;
                sent = true;
            }

            if (sent && _log.Peek(1, LogPriority.Critical).Count > 0)
            {
                continue;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), ct).ConfigureAwait(false);
            continue;

        Wait:
            // Backoff with jitter (±20 %) while the link is down.
            var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
            await Task.Delay(_backoff * jitter, ct).ConfigureAwait(false);
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    /// <summary>Sends everything of one priority in batches under the size limit. False when a publish failed.</summary>
    private async Task<bool> SendBatchesAsync(LogPriority priority, string topic, CancellationToken ct)
    {
        while (true)
        {
            var records = _log.Peek(2000, priority);
            if (records.Count == 0)
            {
                return true;
            }

            var take = records.Count;
            byte[] body;
            while (true)
            {
                body = Batch(records.GetRange(0, take), priority);
                if (body.Length <= _context.Options.MaxMessageBytes || take == 1)
                {
                    break;
                }

                take = Math.Max(1, take * _context.Options.MaxMessageBytes / body.Length * 9 / 10);
            }

            if (!await PublishAsync(topic, body, records.Take(take).Select(r => r.Sequence).ToList(), ct).ConfigureAwait(false))
            {
                return false;
            }

            _context.Counters.Get("batches").Increment();

            // A critical message that arrived meanwhile goes before the rest of the backlog.
            if (_log.Peek(1, LogPriority.Critical).Count > 0)
            {
                return true;
            }
        }
    }

    private async Task<bool> PublishAsync(string topic, byte[] payload, List<long> sequences, CancellationToken ct)
    {
        var start = DateTimeOffset.UtcNow;
        try
        {
            await _context.Ipc.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = topic, Qos = QOS.AtLeastOnce, Payload = payload }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _failures++;
            SetState(_failures >= 3 ? LinkState.Offline : LinkState.Degraded, e.Message);
            _context.Counters.Get("publish_failures").Increment();
            return false;
        }

        var latency = DateTimeOffset.UtcNow - start;
        _failures = 0;
        _backoff = MinBackoff;
        SetState(latency > _context.Options.DegradedLatency ? LinkState.Degraded : LinkState.Online, null);
        _log.Acknowledge(sequences);
        _context.Counters.Get("sent").Add(sequences.Count);
        _context.Counters.Get("bytes_sent").Add(payload.Length);
        return true;
    }

    private void SetState(LinkState state, string? reason)
    {
        if (state != State)
        {
            UplinkLog.StateChanged(_context.Logger, State.ToString(), state.ToString(), reason ?? "publishes succeed", _log.Count);
            State = state;
        }
    }

    private byte[] Envelope(LogRecord record)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            WriteMessage(w, record);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private byte[] Batch(List<LogRecord> records, LogPriority priority)
    {
        using var buffer = new MemoryStream();
        Stream target = _context.Options.Compress ? new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true) : buffer;
        using (var w = new Utf8JsonWriter(target))
        {
            w.WriteStartObject();
            w.WriteString("batchId", string.Create(CultureInfo.InvariantCulture, $"{_thing}-{records[0].Sequence}-{records[^1].Sequence}"));
            w.WriteString("priority", priority == LogPriority.Normal ? "normal" : "low");
            w.WriteNumber("count", records.Count);
            w.WriteStartArray("messages");
            foreach (var r in records)
            {
                w.WriteStartObject();
                WriteMessage(w, r);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        if (!ReferenceEquals(target, buffer))
        {
            target.Dispose();
        }

        return buffer.ToArray();
    }

    private void WriteMessage(Utf8JsonWriter w, LogRecord r)
    {
        w.WriteString("id", string.Create(CultureInfo.InvariantCulture, $"{_thing}-{r.Sequence}"));
        w.WriteNumber("seq", r.Sequence);
        w.WriteNumber("enqueuedMs", r.EnqueuedAtMs);
        w.WritePropertyName("body");
        try
        {
            using var doc = JsonDocument.Parse(r.Payload);
            doc.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            w.WriteBase64StringValue(r.Payload);
        }
    }

    private async ValueTask PublishStatusAsync(CancellationToken ct)
    {
        var status = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"state":"{{State.ToString().ToLowerInvariant()}}","queued":{{_log.Count}},"queuedBytes":{{_log.Bytes}},"evicted":{{_log.Evicted}}}""");
        await _context.PublishAsync("fogline/uplink/status", Encoding.UTF8.GetBytes(status), ct).ConfigureAwait(false);
    }
}

internal static partial class UplinkLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(3400, Microsoft.Extensions.Logging.LogLevel.Warning, "Link {Previous} -> {State} ({Reason}); {Queued} records queued")]
    public static partial void StateChanged(Microsoft.Extensions.Logging.ILogger logger, string previous, string state, string reason, int queued);

    [Microsoft.Extensions.Logging.LoggerMessage(3401, Microsoft.Extensions.Logging.LogLevel.Error, "Could not store a message: {Reason}")]
    public static partial void AppendFailed(Microsoft.Extensions.Logging.ILogger logger, string reason);
}
