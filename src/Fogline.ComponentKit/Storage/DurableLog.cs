using System.Buffers.Binary;
using Fogline.EventStream.Framing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.ComponentKit.Storage;

/// <summary>Priority of a queued message: what is sent first and evicted last.</summary>
public enum LogPriority : byte
{
    /// <summary>Filtered telemetry: batched, evicted first.</summary>
    Low = 0,

    /// <summary>Summaries: batched.</summary>
    Normal = 1,

    /// <summary>Alerts: sent at once, evicted last.</summary>
    Critical = 2,
}

/// <summary>A record waiting in the log.</summary>
/// <param name="Sequence">Its sequence number (unique, increasing).</param>
/// <param name="Priority">Its priority.</param>
/// <param name="EnqueuedAtMs">When it was appended, Unix milliseconds.</param>
/// <param name="Payload">Its bytes.</param>
public sealed record LogRecord(long Sequence, LogPriority Priority, long EnqueuedAtMs, byte[] Payload);

/// <summary>How the log is bounded and committed.</summary>
public sealed class DurableLogOptions
{
    /// <summary>Largest total size of the records waiting (default 256 MiB); beyond it the log evicts.</summary>
    public long MaxBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Oldest a record may get before it is evicted (default 7 days).</summary>
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromDays(7);

    /// <summary>Size at which a new segment file is started (default 16 MiB).</summary>
    public long SegmentBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>
    /// Longest an append waits for its group commit (default 2 ms): appends arriving within this window share one
    /// write and one fsync.
    /// </summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Whether commits call fsync (default true; tests of logic alone may turn it off).</summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Time source.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>What recovery found.</summary>
/// <param name="Records">Records waiting.</param>
/// <param name="CorruptRecords">Records skipped because their checksum did not match.</param>
/// <param name="TruncatedBytes">Bytes of a torn or unreadable tail dropped.</param>
public readonly record struct RecoveryReport(int Records, int CorruptRecords, long TruncatedBytes);

/// <summary>
/// A durable queue of records on disk, of our own design: append-only segment files, a CRC-32 per record, group
/// commit with fsync, removal only when a record is acknowledged, bounds by bytes and age with eviction of the lowest
/// priority and oldest first (critical last), and recovery on open that skips corrupt records and a torn tail.
/// </summary>
/// <remarks>
/// <para>Files in the directory: <c>NNNNNNNNNNNNNNNNNNNN.seg</c> (records; the name is the first sequence number) and
/// <c>acks.log</c> (the sequence numbers acknowledged or evicted, 8 bytes each). A record is
/// <c>[length u32][crc32 u32][sequence i64][priority u8][enqueued i64][payload]</c>, little-endian, the CRC over
/// everything after it. An acknowledgement is appended to <c>acks.log</c> and committed with the next group commit; a
/// segment whose records are all acknowledged is deleted, and <c>acks.log</c> is rewritten when it has grown.</para>
/// <para>Durability: <see cref="AppendAsync"/> completes after the record is written and fsynced (at most
/// <see cref="DurableLogOptions.CommitInterval"/> plus one fsync later). An acknowledgement that was not yet committed
/// when the process died is lost, so the record is sent again after a restart: at least once, never lost; the
/// sender gives each record an id so the cloud side can drop the duplicate.</para>
/// </remarks>
public sealed partial class DurableLog : IAsyncDisposable
{
    private const int HeaderBytes = 4 + 4 + 8 + 1 + 8;
    private const int MaxRecordBytes = 16 * 1024 * 1024;
    private const string AckFile = "acks.log";

    private readonly string _directory;
    private readonly DurableLogOptions _options;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly SortedDictionary<long, Entry> _pending = [];
    private readonly List<Segment> _segments = [];
    private readonly HashSet<long> _acked = [];
    private readonly List<(byte[] Buffer, int Length)> _writeQueue = [];
    private readonly List<long> _ackQueue = [];
    private readonly List<TaskCompletionSource> _waiters = [];
    private readonly SemaphoreSlim _commitSignal = new(0);
    private readonly CancellationTokenSource _stop = new();
    private FileStream? _tail;
    private FileStream _acks = null!;
    private long _nextSequence = 1;
    private long _durableThrough;
    private long _bytes;
    private long _ackFileRecords;
    private Task _committer = Task.CompletedTask;

    private DurableLog(string directory, DurableLogOptions options, ILogger logger)
    {
        _directory = directory;
        _options = options;
        _logger = logger;
    }

    /// <summary>Records waiting.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Bytes of the records waiting.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Records evicted by the bounds so far.</summary>
    public long Evicted { get; private set; }

    /// <summary>What recovery found when the log was opened.</summary>
    public RecoveryReport Recovery { get; private set; }

    /// <summary>Opens (or creates) the log in <paramref name="directory"/>, recovering what it holds.</summary>
    public static DurableLog Open(string directory, DurableLogOptions? options = null, ILogger? logger = null)
    {
        Directory.CreateDirectory(directory);
        var log = new DurableLog(directory, options ?? new DurableLogOptions(), logger ?? NullLogger.Instance);
        log.Recover();
        log._committer = Task.Run(log.CommitLoopAsync);
        return log;
    }

    /// <summary>Appends a record; completes once it is on disk (fsynced). Returns its sequence number.</summary>
    public async ValueTask<long> AppendAsync(LogPriority priority, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > MaxRecordBytes - HeaderBytes)
        {
            throw new ArgumentException($"A record holds at most {MaxRecordBytes - HeaderBytes} bytes, not {payload.Length}.", nameof(payload));
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long sequence;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            sequence = _nextSequence++;
            var now = _options.Time.GetUtcNow().ToUnixTimeMilliseconds();
            var buffer = new byte[HeaderBytes + payload.Length];
            Encode(buffer, sequence, priority, now, payload.Span);
            _writeQueue.Add((buffer, buffer.Length));
            _waiters.Add(done);
            _pending[sequence] = new Entry(sequence, priority, now, payload.ToArray());
            _bytes += buffer.Length;
        }

        _commitSignal.Release();
        await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return sequence;
    }

    /// <summary>
    /// The oldest waiting records of the highest priority first, up to <paramref name="max"/> (not removed). Only
    /// records already on disk (committed) are returned.
    /// </summary>
    public List<LogRecord> Peek(int max, LogPriority? only = null, long afterSequence = 0)
    {
        var result = new List<LogRecord>();
        lock (_lock)
        {
            for (var level = (int)LogPriority.Critical; level >= (int)LogPriority.Low && result.Count < max; level--)
            {
                var p = (LogPriority)level;
                if (only is { } o && o != p)
                {
                    continue;
                }

                foreach (var e in _pending.Values)
                {
                    if (e.Sequence > _durableThrough)
                    {
                        // Not on disk yet: never handed out, so nothing is ever sent under a sequence number a crash
                        // could give to another record.
                        break;
                    }

                    if (e.Priority == p && e.Sequence > afterSequence)
                    {
                        result.Add(new LogRecord(e.Sequence, e.Priority, e.EnqueuedAtMs, e.Payload));
                        if (result.Count >= max)
                        {
                            break;
                        }
                    }
                }
            }
        }

        return result;
    }

    /// <summary>Removes acknowledged records (IoT Core accepted them); durable with the next group commit.</summary>
    public void Acknowledge(IEnumerable<long> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        lock (_lock)
        {
            foreach (var s in sequences)
            {
                if (_pending.Remove(s, out var entry))
                {
                    _bytes -= HeaderBytes + entry.Payload.Length;
                    _acked.Add(s);
                    _ackQueue.Add(s);
                }
            }
        }

        _commitSignal.Release();
    }

    /// <summary>Waits until everything appended or acknowledged so far is on disk.</summary>
    public Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            _waiters.Add(done);
        }

        _commitSignal.Release();
        return done.Task;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await FlushAsync().ConfigureAwait(false);
        await _stop.CancelAsync().ConfigureAwait(false);
        _commitSignal.Release();
        await _committer.ConfigureAwait(false);
        _tail?.Dispose();
        _acks.Dispose();
        _stop.Dispose();
    }

    private static void Encode(Span<byte> buffer, long sequence, LogPriority priority, long enqueuedAtMs, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, (uint)buffer.Length);
        BinaryPrimitives.WriteInt64LittleEndian(buffer[8..], sequence);
        buffer[16] = (byte)priority;
        BinaryPrimitives.WriteInt64LittleEndian(buffer[17..], enqueuedAtMs);
        payload.CopyTo(buffer[HeaderBytes..]);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[4..], Crc32.Compute(buffer[8..]));
    }

    private async Task CommitLoopAsync()
    {
        while (true)
        {
            try
            {
                await _commitSignal.WaitAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                CommitOnce();
                return;
            }

            // Let the appends of the next moment join this commit.
            if (_options.CommitInterval > TimeSpan.Zero)
            {
                await Task.Delay(_options.CommitInterval, _options.Time).ConfigureAwait(false);
            }

            while (_commitSignal.CurrentCount > 0)
            {
                _commitSignal.Wait(0);
            }

            try
            {
                CommitOnce();
            }
            catch (IOException e)
            {
                LogMessages.CommitFailed(_logger, e.Message);
                await Task.Delay(100).ConfigureAwait(false);
                _commitSignal.Release();
            }
        }
    }

    private void CommitOnce()
    {
        List<(byte[] Buffer, int Length)> writes;
        List<long> acks;
        List<TaskCompletionSource> waiters;
        lock (_lock)
        {
            writes = [.. _writeQueue];
            acks = [.. _ackQueue];
            waiters = [.. _waiters];
            _writeQueue.Clear();
            _ackQueue.Clear();
            _waiters.Clear();
        }

        if (writes.Count > 0)
        {
            foreach (var (buffer, length) in writes)
            {
                var tail = TailFor(BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(8)));
                tail.Write(buffer, 0, length);
                _segments[^1].Bytes += length;
                _segments[^1].LastSequence = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(8));
            }

            _tail!.Flush(_options.Fsync);
            lock (_lock)
            {
                // Writes are queued in sequence order: everything up to the last one written is now on disk.
                _durableThrough = BinaryPrimitives.ReadInt64LittleEndian(writes[^1].Buffer.AsSpan(8));
            }
        }

        if (acks.Count > 0)
        {
            var bytes = new byte[acks.Count * 8];
            for (var i = 0; i < acks.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), acks[i]);
            }

            _acks.Write(bytes);
            _acks.Flush(_options.Fsync);
            _ackFileRecords += acks.Count;
            DropFinishedSegments();
        }

        EnforceBounds();
        foreach (var w in waiters)
        {
            w.TrySetResult();
        }
    }

    private FileStream TailFor(long sequence)
    {
        if (_tail is null || _segments[^1].Bytes >= _options.SegmentBytes)
        {
            if (_tail is not null)
            {
                _tail.Flush(_options.Fsync);
                _tail.Dispose();
            }

            var path = Path.Combine(_directory, sequence.ToString("D20", System.Globalization.CultureInfo.InvariantCulture) + ".seg");
            _tail = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
            lock (_lock)
            {
                _segments.Add(new Segment(path, sequence));
            }
        }

        return _tail;
    }

    /// <summary>Deletes segments whose records are all acknowledged (not the one being written).</summary>
    private void DropFinishedSegments()
    {
        lock (_lock)
        {
            while (_segments.Count > 1)
            {
                var first = _segments[0];
                var next = _segments[1].FirstSequence;
                var live = _pending.Count > 0 && _pending.Keys.First() < next;
                if (live)
                {
                    break;
                }

                File.Delete(first.Path);
                _segments.RemoveAt(0);
                _acked.RemoveWhere(s => s < next);
            }

            // Rewrite acks.log when most of it is about deleted segments.
            if (_ackFileRecords > 4096 && _ackFileRecords > _acked.Count * 2L)
            {
                RewriteAcks();
            }
        }
    }

    private void RewriteAcks()
    {
        var temporary = Path.Combine(_directory, AckFile + ".tmp");
        var ordered = _acked.Order().ToArray();
        var bytes = new byte[ordered.Length * 8];
        for (var i = 0; i < ordered.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), ordered[i]);
        }

        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(bytes);
            file.Flush(_options.Fsync);
        }

        _acks.Dispose();
        File.Move(temporary, Path.Combine(_directory, AckFile), overwrite: true);
        _acks = new FileStream(Path.Combine(_directory, AckFile), FileMode.Append, FileAccess.Write, FileShare.Read);
        _ackFileRecords = ordered.Length;
    }

    /// <summary>Evicts by age, then by size: lowest priority and oldest first, critical last.</summary>
    private void EnforceBounds()
    {
        List<long> evicted = [];
        var counts = new int[3];
        lock (_lock)
        {
            var oldestAllowed = _options.Time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.MaxAge.TotalMilliseconds;
            foreach (var e in _pending.Values.Where(e => e.EnqueuedAtMs < oldestAllowed).ToList())
            {
                Evict(e, evicted, counts);
            }

            for (var p = LogPriority.Low; p <= LogPriority.Critical && _bytes > _options.MaxBytes; p++)
            {
                foreach (var e in _pending.Values.Where(e => e.Priority == p).ToList())
                {
                    if (_bytes <= _options.MaxBytes)
                    {
                        break;
                    }

                    Evict(e, evicted, counts);
                }
            }
        }

        if (evicted.Count > 0)
        {
            var bytes = new byte[evicted.Count * 8];
            for (var i = 0; i < evicted.Count; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), evicted[i]);
            }

            _acks.Write(bytes);
            _acks.Flush(_options.Fsync);
            _ackFileRecords += evicted.Count;
            Evicted += evicted.Count;
            LogMessages.EvictedRecords(_logger, evicted.Count, counts[0], counts[1], counts[2], _options.MaxBytes, _options.MaxAge.TotalHours);
            DropFinishedSegments();
        }
    }

    private void Evict(Entry e, List<long> evicted, int[] counts)
    {
        _pending.Remove(e.Sequence);
        _bytes -= HeaderBytes + e.Payload.Length;
        _acked.Add(e.Sequence);
        evicted.Add(e.Sequence);
        counts[(int)e.Priority]++;
    }

    private void Recover()
    {
        var ackPath = Path.Combine(_directory, AckFile);
        if (File.Exists(ackPath))
        {
            var bytes = File.ReadAllBytes(ackPath);
            var whole = bytes.Length / 8 * 8;
            for (var i = 0; i < whole; i += 8)
            {
                _acked.Add(BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(i)));
            }

            if (whole != bytes.Length)
            {
                using var trim = new FileStream(ackPath, FileMode.Open, FileAccess.Write);
                trim.SetLength(whole);
            }

            _ackFileRecords = whole / 8;
        }

        _acks = new FileStream(ackPath, FileMode.Append, FileAccess.Write, FileShare.Read);
        var corrupt = 0;
        long truncated = 0;
        var files = Directory.GetFiles(_directory, "*.seg").Order(StringComparer.Ordinal).ToList();
        foreach (var file in files)
        {
            var first = long.Parse(Path.GetFileNameWithoutExtension(file), System.Globalization.CultureInfo.InvariantCulture);
            var segment = new Segment(file, first);
            var data = File.ReadAllBytes(file);
            var offset = 0;
            while (offset < data.Length)
            {
                if (data.Length - offset < HeaderBytes)
                {
                    break;
                }

                var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset));
                if (length < HeaderBytes || length > MaxRecordBytes || offset + length > data.Length)
                {
                    break; // a torn or unreadable tail
                }

                var record = data.AsSpan(offset, length);
                var sequence = BinaryPrimitives.ReadInt64LittleEndian(record[8..]);
                if (Crc32.Compute(record[8..]) != BinaryPrimitives.ReadUInt32LittleEndian(record[4..]))
                {
                    corrupt++;
                    LogMessages.CorruptRecord(_logger, file, offset);
                }
                else
                {
                    _nextSequence = Math.Max(_nextSequence, sequence + 1);
                    segment.LastSequence = sequence;
                    if (!_acked.Contains(sequence))
                    {
                        var priority = (LogPriority)Math.Min(record[16], (byte)LogPriority.Critical);
                        _pending[sequence] = new Entry(sequence, priority, BinaryPrimitives.ReadInt64LittleEndian(record[17..]), record[HeaderBytes..].ToArray());
                        _bytes += length;
                    }
                }

                offset += length;
            }

            if (offset < data.Length)
            {
                truncated += data.Length - offset;
                LogMessages.TornTail(_logger, file, data.Length - offset);
                using var trim = new FileStream(file, FileMode.Open, FileAccess.Write);
                trim.SetLength(offset);
            }

            segment.Bytes = offset;
            _segments.Add(segment);
        }

        // New records go to a new segment: the last one may end in a record we skipped.
        Recovery = new RecoveryReport(_pending.Count, corrupt, truncated);
        _durableThrough = _pending.Count > 0 ? _pending.Keys.Last() : 0;
        if (_segments.Count > 0)
        {
            DropFinishedSegments();
            _nextSequence = Math.Max(_nextSequence, _segments[^1].LastSequence + 1);
        }

        LogMessages.Recovered(_logger, _directory, _pending.Count, corrupt, truncated);
    }

    private sealed class Entry(long sequence, LogPriority priority, long enqueuedAtMs, byte[] payload)
    {
        public long Sequence { get; } = sequence;

        public LogPriority Priority { get; } = priority;

        public long EnqueuedAtMs { get; } = enqueuedAtMs;

        public byte[] Payload { get; } = payload;
    }

    private sealed class Segment(string path, long firstSequence)
    {
        public string Path { get; } = path;

        public long FirstSequence { get; } = firstSequence;

        public long LastSequence { get; set; } = firstSequence - 1;

        public long Bytes { get; set; }
    }

    private static partial class LogMessages
    {
        [LoggerMessage(400, LogLevel.Information, "Durable log {Directory}: {Records} records waiting; {Corrupt} corrupt records skipped; {Truncated} bytes of torn tail dropped")]
        public static partial void Recovered(ILogger logger, string directory, int records, int corrupt, long truncated);

        [LoggerMessage(401, LogLevel.Warning, "Durable log: record at {File}:{Offset} has a bad checksum; skipped")]
        public static partial void CorruptRecord(ILogger logger, string file, int offset);

        [LoggerMessage(402, LogLevel.Warning, "Durable log: {File} ends in {Bytes} unreadable bytes (a write torn by a crash); dropped")]
        public static partial void TornTail(ILogger logger, string file, long bytes);

        [LoggerMessage(403, LogLevel.Warning, "Durable log full or too old: evicted {Count} records ({Low} low, {Normal} normal, {Critical} critical; bounds {MaxBytes} bytes, {MaxAgeHours} h)")]
        public static partial void EvictedRecords(ILogger logger, int count, int low, int normal, int critical, long maxBytes, double maxAgeHours);

        [LoggerMessage(404, LogLevel.Error, "Durable log commit failed: {Reason}; retrying")]
        public static partial void CommitFailed(ILogger logger, string reason);
    }
}
