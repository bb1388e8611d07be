using System.Buffers.Binary;
using System.IO.Compression;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Fogline.ComponentKit.Messages;

/// <summary>One record of an uplink batch as the encoder takes it: the uplink's sequence, when it was enqueued, its body.</summary>
/// <param name="Sequence">The uplink's sequence number (the id is <c>{thing}-{Sequence}</c>).</param>
/// <param name="EnqueuedMs">When the uplink stored it, Unix epoch milliseconds.</param>
/// <param name="Body">The original payload (normally UTF-8 JSON).</param>
public readonly record struct UplinkRecord(long Sequence, long EnqueuedMs, ReadOnlyMemory<byte> Body);

/// <summary>
/// The fields of a reading carried in a batch's columns, as they were in the original JSON: every value bit-exact,
/// with which optional members were present (not the JSON spelling: member order, white space, escapes and the digits
/// of numbers are the encoder's).
/// </summary>
/// <param name="Zone">$.zone.</param>
/// <param name="Device">$.device.</param>
/// <param name="Metric">$.metric.</param>
/// <param name="Unit">$.unit, or null when the member was absent.</param>
/// <param name="Value">$.value; NaN when it was <c>null</c>.</param>
/// <param name="Timestamp">$.ts.</param>
/// <param name="Sequence">$.seq, or null when the member was absent.</param>
/// <param name="Quality">$.quality as written ("good", "stale", "bad"), or null when the member was absent.</param>
public sealed record UplinkReading(string Zone, string Device, string Metric, string? Unit, double Value, double Timestamp, long? Sequence, string? Quality);

/// <summary>One message of a decoded batch.</summary>
/// <param name="Id">The message's id, <c>{thing}-{seq}</c>: the same when it is sent again, so the cloud drops duplicates by it.</param>
/// <param name="Sequence">The uplink's sequence number.</param>
/// <param name="EnqueuedMs">When the uplink stored it, Unix epoch milliseconds.</param>
/// <param name="Body">
/// The body: the original bytes for a record of the generic section; for a reading, its JSON rebuilt from
/// <see cref="Reading"/> (members in the order v, zone, device, metric, value, unit, ts, seq, quality).
/// </param>
/// <param name="IsJson">Whether <see cref="Body"/> is JSON (false for a payload that was not, carried as its bytes).</param>
/// <param name="Reading">The reading's fields when the record travelled in the columns, else null.</param>
public sealed record UplinkMessage(string Id, long Sequence, long EnqueuedMs, byte[] Body, bool IsJson, UplinkReading? Reading);

/// <summary>A decoded batch.</summary>
/// <param name="BatchId">The batch's id.</param>
/// <param name="Priority">"normal" or "low".</param>
/// <param name="Thing">The thing that sent it.</param>
/// <param name="Messages">The messages, in ascending sequence.</param>
public sealed record UplinkBatch(string BatchId, string Priority, string Thing, IReadOnlyList<UplinkMessage> Messages);

/// <summary>
/// CloudUplink's compact batch encoding (format version 1, described in components/CloudUplink/BATCH-FORMAT.md):
/// "FGB" + a version byte + a Brotli-compressed body in which readings are stored per series in columns (delta,
/// delta-of-delta and XOR codes) and every other record as its bytes. Lossless: a reading's every field value comes
/// back bit-exact, any other record byte-exact.
/// </summary>
public static class UplinkBatchCodec
{
    /// <summary>The format version this code writes and reads.</summary>
    public const byte FormatVersion = 1;

    /// <summary>The Brotli quality used by default (see BATCH-FORMAT.md for the measurements behind it).</summary>
    public const int DefaultQuality = 5;

    private const int BrotliWindow = 22;
    private const int MaxBodyBytes = 64 * 1024 * 1024;
    private const long Max53 = 1L << 53;
    private const int MaxBinaryDigits = 60;

    private static readonly double[] PowersOfTen = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>The first bytes of a batch: ASCII "FGB".</summary>
    public static ReadOnlySpan<byte> Magic => "FGB"u8;

    /// <summary>Whether <paramref name="payload"/> starts like a batch of this encoding (any version).</summary>
    public static bool IsBatch(ReadOnlySpan<byte> payload) => payload.Length >= 4 && payload[..3].SequenceEqual(Magic);

    /// <summary>Encodes <paramref name="records"/> (in ascending sequence) as one batch.</summary>
    /// <param name="batchId">The batch's id.</param>
    /// <param name="priority">"normal" or "low".</param>
    /// <param name="thing">The thing's name (message ids are <c>{thing}-{seq}</c>).</param>
    /// <param name="records">The records, at least one.</param>
    /// <param name="quality">Brotli quality, 0-11.</param>
    public static byte[] Encode(string batchId, string priority, string thing, IReadOnlyList<UplinkRecord> records, int quality = DefaultQuality)
    {
        ArgumentNullException.ThrowIfNull(batchId);
        ArgumentNullException.ThrowIfNull(priority);
        ArgumentNullException.ThrowIfNull(thing);
        ArgumentNullException.ThrowIfNull(records);
        ArgumentOutOfRangeException.ThrowIfZero(records.Count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 11);
        ArgumentOutOfRangeException.ThrowIfNegative(quality);

        var body = EncodeBody(batchId, priority, thing, records);
        var output = new byte[4 + BrotliEncoder.GetMaxCompressedLength(body.Length)];
        Magic.CopyTo(output);
        output[3] = FormatVersion;
        if (!BrotliEncoder.TryCompress(body.Written, output.AsSpan(4), out var written, quality, BrotliWindow))
        {
            throw new InvalidOperationException("Brotli could not compress the batch body");
        }

        return output.AsSpan(0, 4 + written).ToArray();
    }

    /// <summary>Decodes a batch; a corrupt, truncated or unknown one throws <see cref="MessageFormatException"/> saying what and where.</summary>
    public static UplinkBatch Decode(ReadOnlySpan<byte> batch)
    {
        if (batch.Length < 4 || !batch[..3].SequenceEqual(Magic))
        {
            throw new MessageFormatException(batch.Length >= 2 && batch[0] == 0x1f && batch[1] == 0x8b
                ? "not a columnar batch: this is a gzip stream (the 'json' batch encoding)"
                : "not a columnar batch: it does not start with \"FGB\"");
        }

        if (batch[3] != FormatVersion)
        {
            throw new MessageFormatException($"batch format version {batch[3]} is not supported (this decoder reads version {FormatVersion})") { UnsupportedVersion = true };
        }

        var body = Decompress(batch[4..]);
        var r = new BodyReader(body);
        return ReadBody(ref r);
    }

    private static byte[] Decompress(ReadOnlySpan<byte> compressed)
    {
        using var decoder = new BrotliDecoder();
        var output = new byte[Math.Max(1024, compressed.Length * 8)];
        var total = 0;
        var consumedTotal = 0;
        while (true)
        {
            var status = decoder.Decompress(compressed[consumedTotal..], output.AsSpan(total), out var consumed, out var written);
            consumedTotal += consumed;
            total += written;
            switch (status)
            {
                case System.Buffers.OperationStatus.Done:
                    if (consumedTotal != compressed.Length)
                    {
                        throw new MessageFormatException($"corrupt batch: {compressed.Length - consumedTotal} bytes follow the end of the compressed body (at batch byte {4 + consumedTotal})");
                    }

                    return output.AsSpan(0, total).ToArray();
                case System.Buffers.OperationStatus.DestinationTooSmall:
                    if (output.Length >= MaxBodyBytes)
                    {
                        throw new MessageFormatException($"corrupt batch: the body decompresses to more than {MaxBodyBytes} bytes");
                    }

                    Array.Resize(ref output, Math.Min(MaxBodyBytes, output.Length * 2));
                    break;
                case System.Buffers.OperationStatus.NeedMoreData:
                    throw new MessageFormatException($"truncated batch: the compressed body ends early (after {compressed.Length} of its bytes, {total} bytes decompressed)");
                default:
                    throw new MessageFormatException($"corrupt batch: the compressed body is not valid Brotli (near batch byte {4 + consumedTotal})");
            }
        }
    }

    // ---------------------------------------------------------------- encoding

    private sealed class Series(int zone, int device, int metric, int unit)
    {
        public readonly int Zone = zone;
        public readonly int Device = device;
        public readonly int Metric = metric;
        public readonly int Unit = unit;
        public readonly List<int> Rows = [];
    }

    private struct Parsed
    {
        public string Zone;
        public string Device;
        public string Metric;
        public string? Unit;
        public double Value;
        public double Timestamp;
        public long Sequence;
        public byte Flags; // bits 0-1: quality (0 absent, 1 good, 2 stale, 3 bad); bit 2: seq present
    }

    private static Sink EncodeBody(string batchId, string priority, string thing, IReadOnlyList<UplinkRecord> records)
    {
        var pool = new Utf8StringPool(1024);
        var strings = new Dictionary<string, int>(StringComparer.Ordinal);
        var series = new Dictionary<(int, int, int, int), Series>();
        var order = new List<Series>();
        var parsed = new Parsed[records.Count];
        var generic = new List<int>();
        int Intern(string s)
        {
            if (!strings.TryGetValue(s, out var index))
            {
                index = strings.Count;
                strings.Add(s, index);
            }

            return index;
        }

        for (var i = 0; i < records.Count; i++)
        {
            if (!TryParseReading(records[i].Body.Span, pool, out parsed[i]))
            {
                generic.Add(i);
                continue;
            }

            var p = parsed[i];
            var key = (Intern(p.Zone), Intern(p.Device), Intern(p.Metric), p.Unit is null ? 0 : Intern(p.Unit) + 1);
            if (!series.TryGetValue(key, out var s))
            {
                s = new Series(key.Item1, key.Item2, key.Item3, key.Item4);
                series.Add(key, s);
                order.Add(s);
            }

            s.Rows.Add(i);
        }

        var sink = new Sink(64 + (records.Count * 24));
        var firstSequence = records[0].Sequence;
        sink.String(batchId);
        sink.String(priority);
        sink.String(thing);
        sink.Signed(firstSequence);
        sink.Unsigned((ulong)records.Count);

        sink.Unsigned((ulong)strings.Count);
        foreach (var s in strings.Keys)
        {
            sink.String(s);
        }

        sink.Unsigned((ulong)order.Count);
        var scratchA = new Sink(256);
        var scratchB = new Sink(256);
        foreach (var s in order)
        {
            var rows = s.Rows;
            sink.Unsigned((ulong)rows.Count);
            sink.Unsigned((ulong)s.Zone);
            sink.Unsigned((ulong)s.Device);
            sink.Unsigned((ulong)s.Metric);
            sink.Unsigned((ulong)s.Unit);

            // Uplink sequence: deltas from the previous (the first from the batch's first sequence).
            var previous = firstSequence;
            foreach (var row in rows)
            {
                sink.Signed(unchecked(records[row].Sequence - previous));
                previous = records[row].Sequence;
            }

            var dod = new DeltaOfDelta();
            foreach (var row in rows)
            {
                sink.Signed(dod.Next(records[row].EnqueuedMs));
            }

            foreach (var row in rows)
            {
                sink.Byte(parsed[row].Flags);
            }

            dod = default;
            foreach (var row in rows)
            {
                sink.Signed(dod.Next(parsed[row].Sequence));
            }

            WriteTimestamps(sink, rows, parsed);
            WriteValues(sink, rows, parsed, scratchA, scratchB);
        }

        sink.Unsigned((ulong)generic.Count);
        var previousSequence = firstSequence;
        var previousEnqueued = 0L;
        foreach (var i in generic)
        {
            var record = records[i];
            sink.Signed(unchecked(record.Sequence - previousSequence));
            sink.Signed(unchecked(record.EnqueuedMs - previousEnqueued));
            previousSequence = record.Sequence;
            previousEnqueued = record.EnqueuedMs;
            sink.Byte(IsJson(record.Body.Span) ? (byte)0 : (byte)1);
            sink.Unsigned((ulong)record.Body.Length);
            sink.Bytes(record.Body.Span);
        }

        return sink;
    }

    private static void WriteTimestamps(Sink sink, List<int> rows, Parsed[] parsed)
    {
        // 0: integer milliseconds, 1: integer microseconds (when k / 1000 or k / 1e6 gives back the very double),
        // 2: the raw bits, XOR-coded.
        for (var mode = 0; mode < 2; mode++)
        {
            var scale = mode == 0 ? 1e3 : 1e6;
            var exact = true;
            foreach (var row in rows)
            {
                if (!TryScaled(parsed[row].Timestamp, scale, out _))
                {
                    exact = false;
                    break;
                }
            }

            if (exact)
            {
                sink.Byte((byte)mode);
                var dod = new DeltaOfDelta();
                foreach (var row in rows)
                {
                    TryScaled(parsed[row].Timestamp, scale, out var k);
                    sink.Signed(dod.Next(k));
                }

                return;
            }
        }

        sink.Byte(2);
        var previous = 0UL;
        foreach (var row in rows)
        {
            var bits = (ulong)BitConverter.DoubleToInt64Bits(parsed[row].Timestamp);
            WriteXor(sink, previous ^ bits);
            previous = bits;
        }
    }

    private static void WriteValues(Sink sink, List<int> rows, Parsed[] parsed, Sink xor, Sink scaled)
    {
        // Both ways, the smaller wins: 0 = XOR of the bits; 1 = k decimals, the integers' deltas.
        xor.Clear();
        var previous = 0UL;
        foreach (var row in rows)
        {
            var bits = (ulong)BitConverter.DoubleToInt64Bits(parsed[row].Value);
            WriteXor(xor, previous ^ bits);
            previous = bits;
        }

        var decimals = 0;
        foreach (var row in rows)
        {
            var k = DecimalsOf(parsed[row].Value);
            if (k < 0)
            {
                decimals = -1;
                break;
            }

            decimals = Math.Max(decimals, k);
        }

        var useScaled = false;
        if (decimals >= 0)
        {
            scaled.Clear();
            scaled.Byte((byte)decimals);
            var last = 0L;
            useScaled = true;
            foreach (var row in rows)
            {
                if (!TryScaled(parsed[row].Value, PowersOfTen[decimals], out var m))
                {
                    useScaled = false;
                    break;
                }

                scaled.Signed(unchecked(m - last));
                last = m;
            }

            useScaled &= scaled.Length < xor.Length;
        }

        var best = useScaled ? scaled.Written.ToArray() : xor.Written.ToArray();
        var mode = useScaled ? (byte)1 : (byte)0;

        // 2 = binary fractions: every value m / 2^e exactly (values on a power-of-two grid, as EdgeFilter's optimalPlr
        // forwards them), the integers' deltas.
        var exponent = 0;
        foreach (var row in rows)
        {
            var e = BinaryDigitsOf(parsed[row].Value);
            if (e < 0)
            {
                exponent = -1;
                break;
            }

            exponent = Math.Max(exponent, e);
        }

        if (exponent >= 0)
        {
            scaled.Clear();
            scaled.Byte((byte)exponent);
            var last = 0L;
            foreach (var row in rows)
            {
                var m = (long)Math.ScaleB(parsed[row].Value, exponent);
                scaled.Signed(unchecked(m - last));
                last = m;
            }

            if (scaled.Length < best.Length)
            {
                best = scaled.Written.ToArray();
                mode = 2;
            }
        }

        sink.Byte(mode);
        sink.Bytes(best);
    }

    /// <summary>The fewest binary digits e (0-60) after the point with which the value is m / 2^e exactly for |m| &lt; 2^53, or -1.</summary>
    private static int BinaryDigitsOf(double value)
    {
        if (!double.IsFinite(value) || (value == 0 && double.IsNegative(value)))
        {
            return -1;
        }

        for (var e = 0; e <= MaxBinaryDigits; e++)
        {
            var m = Math.ScaleB(value, e);
            if (Math.Abs(m) >= Max53)
            {
                return -1;
            }

            if (m == Math.Floor(m))
            {
                return e;
            }
        }

        return -1;
    }

    /// <summary>The fewest decimals (0-15) with which the value is m / 10^k exactly, or -1.</summary>
    private static int DecimalsOf(double value)
    {
        for (var k = 0; k < PowersOfTen.Length; k++)
        {
            if (TryScaled(value, PowersOfTen[k], out _))
            {
                return k;
            }
        }

        return -1;
    }

    /// <summary>Whether <paramref name="value"/> is exactly the double of k / <paramref name="scale"/> for an integer |k| &lt; 2^53.</summary>
    private static bool TryScaled(double value, double scale, out long k)
    {
        k = 0;
        var product = Math.Round(value * scale);
        if (!double.IsFinite(product) || Math.Abs(product) >= Max53)
        {
            return false;
        }

        k = (long)product;
        return BitConverter.DoubleToInt64Bits(k / scale) == BitConverter.DoubleToInt64Bits(value);
    }

    private static void WriteXor(Sink sink, ulong x)
    {
        // A control byte (leading zero bytes << 4 | trailing zero bytes), then the bytes between, most significant first.
        if (x == 0)
        {
            sink.Byte(0x80);
            return;
        }

        var lead = BitOperations.LeadingZeroCount(x) / 8;
        var trail = BitOperations.TrailingZeroCount(x) / 8;
        sink.Byte((byte)((lead << 4) | trail));
        for (var i = 7 - lead; i >= trail; i--)
        {
            sink.Byte((byte)(x >> (i * 8)));
        }
    }

    private static bool IsJson(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            while (reader.Read())
            {
            }

            return body.Length > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// A record travels in the columns only when it is a JSON object with exactly the members of a reading of schema
    /// version 1, each once, typed as ReadingCodec reads them ($.unit a string when present, $.value a number or
    /// null); anything else goes in the generic section as its bytes.
    /// </summary>
    private static bool TryParseReading(ReadOnlySpan<byte> json, Utf8StringPool pool, out Parsed p)
    {
        p = default;
        if (json.IsEmpty || json[0] != (byte)'{')
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 2 });
            reader.Read();
            var seen = 0;
            while (true)
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                var field = reader.ValueTextEquals("v"u8) ? 1
                    : reader.ValueTextEquals("zone"u8) ? 2
                    : reader.ValueTextEquals("device"u8) ? 4
                    : reader.ValueTextEquals("metric"u8) ? 8
                    : reader.ValueTextEquals("value"u8) ? 16
                    : reader.ValueTextEquals("unit"u8) ? 32
                    : reader.ValueTextEquals("ts"u8) ? 64
                    : reader.ValueTextEquals("seq"u8) ? 128
                    : reader.ValueTextEquals("quality"u8) ? 256
                    : 0;
                if (field == 0 || (seen & field) != 0)
                {
                    return false;
                }

                seen |= field;
                reader.Read();
                switch (field)
                {
                    case 1:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var version) || version != 1)
                        {
                            return false;
                        }

                        break;
                    case 2 or 4 or 8 or 32:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return false;
                        }

                        var text = reader.ValueIsEscaped || reader.HasValueSequence ? reader.GetString()! : pool.Get(reader.ValueSpan);
                        switch (field)
                        {
                            case 2: p.Zone = text; break;
                            case 4: p.Device = text; break;
                            case 8: p.Metric = text; break;
                            default: p.Unit = text; break;
                        }

                        break;
                    case 16:
                        if (reader.TokenType == JsonTokenType.Null)
                        {
                            p.Value = double.NaN;
                        }
                        else if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out p.Value) || !double.IsFinite(p.Value))
                        {
                            return false;
                        }

                        break;
                    case 64:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out p.Timestamp) || !double.IsFinite(p.Timestamp))
                        {
                            return false;
                        }

                        break;
                    case 128:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out p.Sequence))
                        {
                            return false;
                        }

                        p.Flags |= 4;
                        break;
                    default:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            return false;
                        }

                        p.Flags |= reader.ValueTextEquals("good"u8) ? (byte)1 : reader.ValueTextEquals("stale"u8) ? (byte)2 : reader.ValueTextEquals("bad"u8) ? (byte)3 : (byte)0;
                        if ((p.Flags & 3) == 0)
                        {
                            return false;
                        }

                        break;
                }
            }

            // Nothing may follow the object.
            if (reader.Read())
            {
                return false;
            }

            const int required = 1 | 2 | 4 | 8 | 16 | 64;
            return (seen & required) == required;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or DecoderFallbackException or ArgumentException)
        {
            return false;
        }
    }

    private struct DeltaOfDelta
    {
        private long _previous;
        private long _delta;

        public long Next(long value)
        {
            var delta = unchecked(value - _previous);
            var result = unchecked(delta - _delta);
            _previous = value;
            _delta = delta;
            return result;
        }

        public long Undo(long dod)
        {
            _delta = unchecked(_delta + dod);
            _previous = unchecked(_previous + _delta);
            return _previous;
        }
    }

    private sealed class Sink(int capacity)
    {
        private byte[] _buffer = new byte[Math.Max(16, capacity)];

        public int Length { get; private set; }

        public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

        public void Clear() => Length = 0;

        public void Byte(byte b)
        {
            Ensure(1);
            _buffer[Length++] = b;
        }

        public void Unsigned(ulong value)
        {
            Ensure(10);
            while (value >= 0x80)
            {
                _buffer[Length++] = (byte)(value | 0x80);
                value >>= 7;
            }

            _buffer[Length++] = (byte)value;
        }

        public void Signed(long value) => Unsigned((ulong)((value << 1) ^ (value >> 63)));

        public void Bytes(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(Length));
            Length += bytes.Length;
        }

        public void String(string s)
        {
            var count = Encoding.UTF8.GetByteCount(s);
            Unsigned((ulong)count);
            Ensure(count);
            Length += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(Length));
        }

        private void Ensure(int more)
        {
            if (Length + more > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + more));
            }
        }
    }

    // ---------------------------------------------------------------- decoding

    private static UplinkBatch ReadBody(ref BodyReader r)
    {
        r.Where = "the batch header";
        var batchId = r.String();
        var priority = r.String();
        var thing = r.String();
        var firstSequence = r.Signed();
        var count = r.Count("the record count");

        r.Where = "the string table";
        var stringCount = r.Count("the string count");
        var strings = new string[stringCount];
        for (var i = 0; i < stringCount; i++)
        {
            strings[i] = r.String();
        }

        var messages = new List<UplinkMessage>(count);
        r.Where = "the series count";
        var seriesCount = r.Count("the series count");
        for (var s = 0; s < seriesCount; s++)
        {
            r.Where = $"series {s}";
            var n = r.Count("the series' record count");
            string Name(ref BodyReader reader, bool optional)
            {
                var index = reader.Count("a string index");
                if (optional && index == 0)
                {
                    return null!;
                }

                var at = optional ? index - 1 : index;
                return at < strings.Length ? strings[at] : throw reader.Error($"string index {at} is outside the table of {strings.Length}");
            }

            var zone = Name(ref r, false);
            var device = Name(ref r, false);
            var metric = Name(ref r, false);
            var unit = Name(ref r, true);
            r.Where = $"series {s} ({zone}/{device}/{metric}), column";
            var sequences = new long[n];
            var enqueued = new long[n];
            var flags = new byte[n];
            var readingSeq = new long[n];
            var ts = new double[n];
            var values = new double[n];

            r.Where = $"series {s} ({zone}/{device}/{metric}), column seq";
            var previous = firstSequence;
            for (var i = 0; i < n; i++)
            {
                previous = unchecked(previous + r.Signed());
                sequences[i] = previous;
            }

            r.Where = $"series {s} ({zone}/{device}/{metric}), column enqueuedMs";
            var dod = new DeltaOfDelta();
            for (var i = 0; i < n; i++)
            {
                enqueued[i] = dod.Undo(r.Signed());
            }

            r.Where = $"series {s} ({zone}/{device}/{metric}), column flags";
            for (var i = 0; i < n; i++)
            {
                flags[i] = r.Byte();
                if (flags[i] > 7)
                {
                    throw r.Error($"flags {flags[i]} of record {i} are not defined");
                }
            }

            r.Where = $"series {s} ({zone}/{device}/{metric}), column reading seq";
            dod = default;
            for (var i = 0; i < n; i++)
            {
                readingSeq[i] = dod.Undo(r.Signed());
            }

            r.Where = $"series {s} ({zone}/{device}/{metric}), column ts";
            var mode = r.Byte();
            if (mode is 0 or 1)
            {
                var scale = mode == 0 ? 1e3 : 1e6;
                dod = default;
                for (var i = 0; i < n; i++)
                {
                    ts[i] = dod.Undo(r.Signed()) / scale;
                }
            }
            else if (mode == 2)
            {
                ReadXor(ref r, ts);
            }
            else
            {
                throw r.Error($"timestamp mode {mode} is not defined");
            }

            r.Where = $"series {s} ({zone}/{device}/{metric}), column value";
            mode = r.Byte();
            if (mode == 0)
            {
                ReadXor(ref r, values);
            }
            else if (mode == 1)
            {
                var decimals = r.Byte();
                if (decimals >= PowersOfTen.Length)
                {
                    throw r.Error($"{decimals} decimals is more than 15");
                }

                var m = 0L;
                for (var i = 0; i < n; i++)
                {
                    m = unchecked(m + r.Signed());
                    values[i] = m / PowersOfTen[decimals];
                }
            }
            else if (mode == 2)
            {
                var exponent = r.Byte();
                if (exponent > MaxBinaryDigits)
                {
                    throw r.Error($"{exponent} binary digits is more than {MaxBinaryDigits}");
                }

                var m = 0L;
                for (var i = 0; i < n; i++)
                {
                    m = unchecked(m + r.Signed());
                    values[i] = Math.ScaleB((double)m, -exponent);
                }
            }
            else
            {
                throw r.Error($"value mode {mode} is not defined");
            }

            for (var i = 0; i < n; i++)
            {
                var quality = (flags[i] & 3) switch { 1 => "good", 2 => "stale", 3 => "bad", _ => null };
                var reading = new UplinkReading(zone, device, metric, unit, values[i], ts[i], (flags[i] & 4) != 0 ? readingSeq[i] : null, quality);
                messages.Add(new UplinkMessage(Id(thing, sequences[i]), sequences[i], enqueued[i], ToJson(reading), true, reading));
            }
        }

        r.Where = "the generic section";
        var genericCount = r.Count("the generic record count");
        var sequence = firstSequence;
        var enqueuedMs = 0L;
        for (var i = 0; i < genericCount; i++)
        {
            r.Where = $"generic record {i}";
            sequence = unchecked(sequence + r.Signed());
            enqueuedMs = unchecked(enqueuedMs + r.Signed());
            var kind = r.Byte();
            if (kind > 1)
            {
                throw r.Error($"body kind {kind} is not defined");
            }

            var length = r.Count("the body length");
            messages.Add(new UplinkMessage(Id(thing, sequence), sequence, enqueuedMs, r.Bytes(length).ToArray(), kind == 0, null));
        }

        r.Where = "the end of the body";
        if (!r.AtEnd)
        {
            throw r.Error("bytes follow the last section");
        }

        if (messages.Count != count)
        {
            throw new MessageFormatException($"corrupt batch: the header counts {count} records, the sections hold {messages.Count}");
        }

        messages.Sort((a, b) => a.Sequence.CompareTo(b.Sequence));
        return new UplinkBatch(batchId, priority, thing, messages);
    }

    private static string Id(string thing, long sequence) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{thing}-{sequence}");

    private static void ReadXor(ref BodyReader r, double[] into)
    {
        var previous = 0UL;
        for (var i = 0; i < into.Length; i++)
        {
            var control = r.Byte();
            var lead = control >> 4;
            var trail = control & 15;
            if (lead + trail > 8 || (lead + trail == 8 && control != 0x80))
            {
                throw r.Error($"XOR control byte 0x{control:x2} of record {i} is not valid");
            }

            var x = 0UL;
            for (var b = 7 - lead; b >= trail; b--)
            {
                x |= (ulong)r.Byte() << (b * 8);
            }

            previous ^= x;
            into[i] = BitConverter.Int64BitsToDouble((long)previous);
        }
    }

    /// <summary>The JSON of a reading rebuilt from its fields (the values bit-exact, the spelling the writer's).</summary>
    public static byte[] ToJson(UplinkReading reading)
    {
        ArgumentNullException.ThrowIfNull(reading);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(192);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("v"u8, 1);
            w.WriteString("zone"u8, reading.Zone);
            w.WriteString("device"u8, reading.Device);
            w.WriteString("metric"u8, reading.Metric);
            if (double.IsNaN(reading.Value))
            {
                w.WriteNull("value"u8);
            }
            else
            {
                w.WriteNumber("value"u8, reading.Value);
            }

            if (reading.Unit is not null)
            {
                w.WriteString("unit"u8, reading.Unit);
            }

            w.WriteNumber("ts"u8, reading.Timestamp);
            if (reading.Sequence is { } seq)
            {
                w.WriteNumber("seq"u8, seq);
            }

            if (reading.Quality is not null)
            {
                w.WriteString("quality"u8, reading.Quality);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private ref struct BodyReader(ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _position;

        public string Where { get; set; } = "the body";

        public readonly bool AtEnd => _position == _body.Length;

        public byte Byte()
        {
            if (_position >= _body.Length)
            {
                throw Truncated();
            }

            return _body[_position++];
        }

        public ulong Unsigned()
        {
            var start = _position;
            ulong value = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                var b = Byte();
                if (shift == 63 && b > 1)
                {
                    _position = start;
                    throw Error("a varint is longer than 64 bits");
                }

                value |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            _position = start;
            throw Error("a varint is longer than 10 bytes");
        }

        public long Signed()
        {
            var u = Unsigned();
            return (long)(u >> 1) ^ -(long)(u & 1);
        }

        /// <summary>A count or length, at most what is left of the body (every item takes at least a byte).</summary>
        public int Count(string what)
        {
            var start = _position;
            var value = Unsigned();
            if (value > (ulong)(_body.Length - _position) && value > 0)
            {
                var left = _body.Length - _position;
                _position = start;
                throw new MessageFormatException($"truncated or corrupt batch: {what} ({value}) is more than the {left} bytes left, in {Where} at body byte {_position} (of {_body.Length})");
            }

            return (int)value;
        }

        public ReadOnlySpan<byte> Bytes(int length)
        {
            if (length > _body.Length - _position)
            {
                throw Truncated();
            }

            var span = _body.Slice(_position, length);
            _position += length;
            return span;
        }

        public string String()
        {
            var length = Count("a string's length");
            var start = _position;
            var bytes = Bytes(length);
            try
            {
                return Strict.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                _position = start;
                throw Error("a string is not valid UTF-8");
            }
        }

        public readonly MessageFormatException Error(string what) =>
            new($"corrupt batch: {what}, in {Where} at body byte {_position} (of {_body.Length})");

        private readonly MessageFormatException Truncated() =>
            new($"truncated batch: the body ends in {Where} (at body byte {_position}, expected more)");
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
