using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
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
    BatchEncoding BatchEncoding,
    string LogDirectory,
    long LogMaxBytes,
    TimeSpan LogMaxAge,
    TimeSpan DegradedLatency,
    ConfirmMode ConfirmMode,
    string ConfirmTopic,
    long ConfirmWindowBytes,
    TimeSpan ConfirmTimeout,
    TimeSpan StatusInterval);

/// <summary>How normal and low batches are encoded (<c>batchEncoding</c>).</summary>
public enum BatchEncoding
{
    /// <summary>"FGB" + version + Brotli body, readings in columns (components/CloudUplink/BATCH-FORMAT.md; the default).</summary>
    Columnar,

    /// <summary>The earlier JSON document <c>{"batchId","priority","count","messages":[...]}</c>, gzip-compressed unless <c>compress</c> is false.</summary>
    Json,
}

/// <summary>When a record leaves the durable log.</summary>
public enum ConfirmMode
{
    /// <summary>When a marker published after it comes back through IoT Core: IoT Core has it (the default).</summary>
    Echo,

    /// <summary>
    /// When PublishToIoTCore succeeds, i.e. when the Nucleus has it in its spool: for devices whose IoT policy does not
    /// let them subscribe to their confirm topic. Records in the Nucleus's spool are lost if it restarts.
    /// </summary>
    Publish,
}

/// <summary>
/// CloudUplink: the durable path from the pipeline to AWS IoT Core. Alerts (critical), window summaries (normal) and
/// filtered telemetry (low) are written to a durable log on disk as they arrive, then published to IoT Core through
/// the Nucleus (PublishToIoTCore, QoS 1): critical ones at once, one by one; the others in batches (every
/// <c>normalBatchSeconds</c> / <c>lowBatchSeconds</c>), in the compact columnar encoding (<see cref="UplinkBatchCodec"/>;
/// <c>batchEncoding: json</c> for the earlier gzip JSON) and split to stay under IoT Core's message size.
/// A record leaves the log only once its publish succeeded; every message carries an id
/// (<c>{thing}-{sequence}</c>) that is the same when it is sent again after a crash, so the cloud drops duplicates.
/// </summary>
public sealed class CloudUplinkComponent : FoglineComponent<CloudUplinkOptions>
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(60);

    /// <summary>What the envelope adds to a record at most (id, sequence, time, and the body's JSON re-written).</summary>
    private const int EnvelopeBytes = 512;

    private readonly SemaphoreSlim _appendSlots = new(4096);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly long[] _sentThrough = new long[3];
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private DeliveryConfirmations _confirmations = null!;
    private DateTimeOffset _lastMarkerAt;
    private Task _confirmSubscription = Task.CompletedTask;
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
        string Topic(ConfigNode node, string suffix)
        {
            var topic = node.String($"fogline/{{thing}}/{suffix}").Replace("{thing}", thing, StringComparison.Ordinal);
            if (topic.Contains('#', StringComparison.Ordinal) || topic.Contains('+', StringComparison.Ordinal) || topic.Length == 0)
            {
                throw node.Error($"'{topic}' is not a topic to publish to");
            }

            return topic;
        }

        return new CloudUplinkOptions(
            Topic(configuration["topics"]["critical"], "alerts"),
            Topic(configuration["topics"]["normal"], "summaries"),
            Topic(configuration["topics"]["low"], "telemetry"),
            configuration["normalBatchSeconds"].Seconds(10, 0.01, 3600),
            configuration["lowBatchSeconds"].Seconds(30, 0.01, 3600),
            configuration["maxMessageBytes"].Int32(128 * 1024, 1024, 128 * 1024),
            configuration["compress"].Boolean(true),
            configuration["batchEncoding"].OneOf("columnar", "columnar", "json") == "json" ? BatchEncoding.Json : BatchEncoding.Columnar,
            configuration["log"]["directory"].String("uplink-log"),
            (long)configuration["log"]["maxMegabytes"].Double(256, 1, 1_000_000) * 1024 * 1024,
            TimeSpan.FromHours(configuration["log"]["maxAgeHours"].Double(168, 0.001, 100_000)),
            TimeSpan.FromMilliseconds(configuration["degradedLatencyMs"].Double(2000, 1, 600_000)),
            configuration["confirm"]["mode"].OneOf("echo", "echo", "publish") == "publish" ? ConfirmMode.Publish : ConfirmMode.Echo,
            Topic(configuration["confirm"]["topic"], "uplink/confirm"),
            (long)(configuration["confirm"]["windowKilobytes"].Double(256, 1, 2048) * 1024),
            configuration["confirm"]["timeoutSeconds"].Seconds(10, 0.1, 3600),
            configuration["statusSeconds"].Seconds(5, 0.1, 3600));
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
        _confirmations = new DeliveryConfirmations(o.ConfirmWindowBytes, o.ConfirmTimeout);
        if (o.ConfirmMode == ConfirmMode.Echo)
        {
            // The markers this process publishes come back through IoT Core (see DeliveryConfirmations). The
            // Nucleus answers a subscription only once it is connected, and the uplink must take messages during an
            // outage: subscribed in the background.
            _confirmSubscription = Task.Run(() => SubscribeConfirmationsAsync(o.ConfirmTopic, context.Stopping));
        }

        await context.SubscribeAsync("fogline/alerts/#", (t, p) => AcceptAsync(LogPriority.Critical, t, p), cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync("fogline/summary/#", (t, p) => AcceptAsync(LogPriority.Normal, t, p), cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync("fogline/filtered/#", (t, p) => AcceptAsync(LogPriority.Low, t, p), cancellationToken).ConfigureAwait(false);
        context.Every(o.StatusInterval, PublishStatusAsync);
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
        try
        {
            await _confirmSubscription.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async ValueTask AcceptAsync(LogPriority priority, string topic, ReadOnlyMemory<byte> payload)
    {
        if (payload.Length + EnvelopeBytes > _context.Options.MaxMessageBytes)
        {
            // IoT Core would refuse it every time (and a critical one would hold up every alert behind it): refused
            // here, counted and logged, never stored.
            _context.Counters.Get("oversize").Increment();
            UplinkLog.Oversize(_context.Logger, topic, payload.Length, _context.Options.MaxMessageBytes - EnvelopeBytes);
            return;
        }

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
            ApplyConfirmations();
            var now = DateTimeOffset.UtcNow;
            var failed = false;
            var sent = false;
            if (!_confirmations.WindowFull)
            {
                // Critical first, always: one message each.
                foreach (var record in _log.Peek(64, LogPriority.Critical, _sentThrough[(int)LogPriority.Critical]))
                {
                    if (!await PublishRecordsAsync(o.CriticalTopic, Envelope(record), [record], ct).ConfigureAwait(false))
                    {
                        failed = true;
                        break;
                    }

                    sent = true;
                    if (_confirmations.WindowFull)
                    {
                        break;
                    }
                }

                var backlog = State == LinkState.Online && _log.Count - _confirmations.UnconfirmedRecords > 1000;
                if (!failed && !_confirmations.WindowFull && (now >= nextNormal || backlog))
                {
                    var result = await SendBatchesAsync(LogPriority.Normal, o.NormalTopic, ct).ConfigureAwait(false);
                    failed = result == BatchResult.Failed;
                    sent |= result != BatchResult.Nothing;
                    nextNormal = failed ? nextNormal : now + o.NormalBatch;
                }

                if (!failed && !_confirmations.WindowFull && (now >= nextLow || backlog))
                {
                    var result = await SendBatchesAsync(LogPriority.Low, o.LowTopic, ct).ConfigureAwait(false);
                    failed = result == BatchResult.Failed;
                    sent |= result != BatchResult.Nothing;
                    nextLow = failed ? nextLow : now + o.LowBatch;
                }
            }

            if (!failed && o.ConfirmMode == ConfirmMode.Echo)
            {
                failed = !await SendMarkerIfDueAsync(now, ct).ConfigureAwait(false);
            }

            if (failed)
            {
                // Backoff with jitter (±20 %) while publishes fail.
                var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
                await _wake.WaitAsync(_backoff * jitter, ct).ConfigureAwait(false);
                _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
                continue;
            }

            if (sent && !_confirmations.WindowFull && _log.Peek(1, LogPriority.Critical, _sentThrough[(int)LogPriority.Critical]).Count > 0)
            {
                continue;
            }

            // Until a confirmation comes back, or the next look at the log.
            await _wake.WaitAsync(TimeSpan.FromMilliseconds(20), ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes a marker after what was published since the last one, or, while markers are overdue, a probe of the
    /// link at the backoff interval (whose return tells which earlier markers were lost). False when it failed.
    /// </summary>
    private async Task<bool> SendMarkerIfDueAsync(DateTimeOffset now, CancellationToken ct)
    {
        var waited = _confirmations.OldestPending is { } oldest ? now - oldest : TimeSpan.Zero;
        var overdue = waited > _confirmations.Timeout;
        if (overdue)
        {
            SetState(LinkState.Offline, string.Create(CultureInfo.InvariantCulture, $"no confirmation from IoT Core for {waited.TotalSeconds:0} s"));
        }

        var probe = overdue && now - _lastMarkerAt >= _backoff;
        if (_confirmations.OpenRecords == 0 && !probe)
        {
            return true;
        }

        var id = _confirmations.Seal(now);
        var marker = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"uplinkMarker":{{id}},"instance":"{{_instance}}"}"""));
        try
        {
            await _context.Ipc.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = _context.Options.ConfirmTopic, Qos = QOS.AtLeastOnce, Payload = marker }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _confirmations.Unseal(id);
            PublishFailed(e.Message);
            return false;
        }

        _lastMarkerAt = now;
        if (probe)
        {
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
        }

        return true;
    }

    /// <summary>Removes from the log what IoT Core confirmed; on a lost marker, sends everything unconfirmed again.</summary>
    private void ApplyConfirmations()
    {
        if (_context.Options.ConfirmMode != ConfirmMode.Echo)
        {
            return;
        }

        var (confirmed, lost) = _confirmations.Process();
        if (confirmed.Count > 0)
        {
            _log.Acknowledge(confirmed);
            _context.Counters.Get("confirmed").Add(confirmed.Count);
            _backoff = MinBackoff;
            SetState(LinkState.Online, null);
        }

        if (lost)
        {
            Array.Clear(_sentThrough);
            _context.Counters.Get("resent_after_loss").Increment();
            UplinkLog.MarkerLost(_context.Logger, _log.Count);
        }
    }

    /// <summary>
    /// Subscribes to the confirm topic, retrying with backoff. A refusal (the recipe's or the device's policy does not
    /// allow it) is logged as an error each time: until it is fixed nothing is confirmed, so the log keeps everything
    /// and nothing is lost, but it grows.
    /// </summary>
    private async Task SubscribeConfirmationsAsync(string topic, CancellationToken ct)
    {
        var delay = MinBackoff;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _context.Ipc.SubscribeToIoTCoreAsync(new SubscribeToIoTCoreRequest { TopicName = topic, Qos = QOS.AtLeastOnce }, OnConfirmTopicMessage, ct).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (GreengrassIpcException e)
            {
                UplinkLog.ConfirmSubscribeFailed(_context.Logger, topic, e.Message);
            }

            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxBackoff.Ticks));
        }
    }

    private void OnConfirmTopicMessage(IoTCoreMessage message)
    {
        // {"v":1,"uplinkMarker":N,"instance":"…"}; markers of an earlier run of this component (after a restart) or of
        // anyone else are not ours.
        var payload = message.Message?.Payload;
        if (payload is not { } bytes)
        {
            return;
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.TryGetProperty("instance", out var instance) && instance.ValueEquals(_instance)
                && doc.RootElement.TryGetProperty("uplinkMarker", out var id) && id.TryGetInt64(out var marker))
            {
                _confirmations.Echoed(marker);
                _wake.Release();
            }
        }
        catch (JsonException)
        {
        }
    }

    private enum BatchResult
    {
        Nothing,
        Sent,
        Failed,
    }

    /// <summary>Sends everything of one priority in batches under the size limit, as far as the window allows.</summary>
    private async Task<BatchResult> SendBatchesAsync(LogPriority priority, string topic, CancellationToken ct)
    {
        var result = BatchResult.Nothing;
        while (!_confirmations.WindowFull)
        {
            var records = _log.Peek(2000, priority, _sentThrough[(int)priority]);
            if (records.Count == 0)
            {
                return result;
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

            if (body.Length > _context.Options.MaxMessageBytes)
            {
                // One record that can never pass (stored before the acceptance check existed): dropped, counted.
                DropOversize(records[0], body.Length);
                continue;
            }

            if (!await PublishRecordsAsync(topic, body, records.GetRange(0, take), ct).ConfigureAwait(false))
            {
                return BatchResult.Failed;
            }

            result = BatchResult.Sent;
            _context.Counters.Get("batches").Increment();

            // A critical message that arrived meanwhile goes before the rest of the backlog.
            if (_log.Peek(1, LogPriority.Critical, _sentThrough[(int)LogPriority.Critical]).Count > 0)
            {
                return result;
            }
        }

        return result;
    }

    private async Task<bool> PublishRecordsAsync(string topic, byte[] payload, List<LogRecord> records, CancellationToken ct)
    {
        if (payload.Length > _context.Options.MaxMessageBytes)
        {
            DropOversize(records[0], payload.Length);
            return true;
        }

        var start = DateTimeOffset.UtcNow;
        try
        {
            await _context.Ipc.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = topic, Qos = QOS.AtLeastOnce, Payload = payload }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            PublishFailed(e.Message);
            return false;
        }

        var latency = DateTimeOffset.UtcNow - start;
        _failures = 0;
        var priority = records[0].Priority;
        _sentThrough[(int)priority] = Math.Max(_sentThrough[(int)priority], records[^1].Sequence);
        var sequences = records.ConvertAll(r => r.Sequence);
        if (_context.Options.ConfirmMode == ConfirmMode.Echo)
        {
            _confirmations.Published(sequences, payload.Length);
        }
        else
        {
            _backoff = MinBackoff;
            SetState(latency > _context.Options.DegradedLatency ? LinkState.Degraded : LinkState.Online, null);
            _log.Acknowledge(sequences);
        }

        _context.Counters.Get("sent").Add(sequences.Count);
        _context.Counters.Get("bytes_sent").Add(payload.Length);
        return true;
    }

    private void PublishFailed(string reason)
    {
        _failures++;
        SetState(_failures >= 3 ? LinkState.Offline : LinkState.Degraded, reason);
        _context.Counters.Get("publish_failures").Increment();
    }

    private void DropOversize(LogRecord record, int bytes)
    {
        _log.Acknowledge([record.Sequence]);
        _context.Counters.Get("oversize").Increment();
        UplinkLog.Oversize(_context.Logger, "log record " + record.Sequence.ToString(CultureInfo.InvariantCulture), bytes, _context.Options.MaxMessageBytes);
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
            UplinkJsonBatch.WriteMessage(w, _thing, AsUplinkRecord(record));
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private byte[] Batch(List<LogRecord> records, LogPriority priority)
    {
        var batchId = string.Create(CultureInfo.InvariantCulture, $"{_thing}-{records[0].Sequence}-{records[^1].Sequence}");
        var priorityName = priority == LogPriority.Normal ? "normal" : "low";
        var uplinkRecords = records.ConvertAll(AsUplinkRecord);
        return _context.Options.BatchEncoding == BatchEncoding.Columnar
            ? UplinkBatchCodec.Encode(batchId, priorityName, _thing, uplinkRecords)
            : UplinkJsonBatch.Encode(batchId, priorityName, _thing, uplinkRecords, _context.Options.Compress);
    }

    private static UplinkRecord AsUplinkRecord(LogRecord r) => new(r.Sequence, r.EnqueuedAtMs, r.Payload);

    private async ValueTask PublishStatusAsync(CancellationToken ct)
    {
        var c = _context.Counters;
        var status = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"state":"{{State.ToString().ToLowerInvariant()}}","queued":{{_log.Count}},"queuedBytes":{{_log.Bytes}},"unconfirmed":{{_confirmations.UnconfirmedRecords}},"evicted":{{_log.Evicted}},"accepted":{{c.Get("accepted").Value}},"confirmed":{{c.Get("confirmed").Value}},"oversize":{{c.Get("oversize").Value}}}""");
        await _context.PublishAsync("fogline/uplink/status", Encoding.UTF8.GetBytes(status), ct).ConfigureAwait(false);
    }
}

internal static partial class UplinkLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(3400, Microsoft.Extensions.Logging.LogLevel.Warning, "Link {Previous} -> {State} ({Reason}); {Queued} records queued")]
    public static partial void StateChanged(Microsoft.Extensions.Logging.ILogger logger, string previous, string state, string reason, int queued);

    [Microsoft.Extensions.Logging.LoggerMessage(3401, Microsoft.Extensions.Logging.LogLevel.Error, "Could not store a message: {Reason}")]
    public static partial void AppendFailed(Microsoft.Extensions.Logging.ILogger logger, string reason);

    [Microsoft.Extensions.Logging.LoggerMessage(3402, Microsoft.Extensions.Logging.LogLevel.Warning, "Refused a message of {Bytes} bytes from {Source}: IoT Core takes at most {Limit} bytes of it in a message; it is not sent")]
    public static partial void Oversize(Microsoft.Extensions.Logging.ILogger logger, string source, int bytes, int limit);

    [Microsoft.Extensions.Logging.LoggerMessage(3404, Microsoft.Extensions.Logging.LogLevel.Error, "Cannot subscribe to the confirm topic {Topic} ({Reason}): nothing can be confirmed, so the log keeps every message until this is fixed (grant SubscribeToIoTCore on it, or set confirm.mode to publish)")]
    public static partial void ConfirmSubscribeFailed(Microsoft.Extensions.Logging.ILogger logger, string topic, string reason);

    [Microsoft.Extensions.Logging.LoggerMessage(3403, Microsoft.Extensions.Logging.LogLevel.Warning, "A delivery marker was lost (a later one came back first): everything unconfirmed is sent again; {Queued} records queued")]
    public static partial void MarkerLost(Microsoft.Extensions.Logging.ILogger logger, int queued);
}
