using System.Buffers;
using System.Text.Json;

namespace Fogline.ComponentKit.Messages;

/// <summary>The outcome of decoding a payload.</summary>
public enum DecodeStatus
{
    /// <summary>Decoded.</summary>
    Ok = 0,

    /// <summary>Not a valid message (bad JSON, a missing or mistyped field).</summary>
    Malformed = 1,

    /// <summary>A well-formed message of a schema version this consumer does not know.</summary>
    UnsupportedVersion = 2,
}

/// <summary>
/// Reads and writes <see cref="Reading"/> payloads (see its remarks for the wire form) without allocating once the
/// names have been interned: reading walks a <see cref="Utf8JsonReader"/> over the bytes, writing goes through a
/// reused <see cref="Utf8JsonWriter"/>.
/// </summary>
public static class ReadingCodec
{
    /// <summary>The schema version this code writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>The lowest schema version this code reads.</summary>
    public const int MinimumVersion = 1;

    /// <summary>
    /// Decodes <paramref name="utf8Json"/>. Names come from <paramref name="names"/>. On failure
    /// <paramref name="error"/> says what is wrong and where (a JSON path or byte offset); it is the only allocation.
    /// </summary>
    public static DecodeStatus TryRead(ReadOnlySpan<byte> utf8Json, Utf8StringPool names, out Reading reading, out string? error)
    {
        ArgumentNullException.ThrowIfNull(names);
        reading = default;
        error = null;
        if (utf8Json.IsEmpty)
        {
            error = "the payload is empty";
            return DecodeStatus.Malformed;
        }

        var seen = Fields.None;
        var reader = new Utf8JsonReader(utf8Json, new JsonReaderOptions { MaxDepth = 8 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                error = "the payload is not a JSON object";
                return DecodeStatus.Malformed;
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                // Property name, then its value.
                var field = FieldOf(ref reader);
                if (!reader.Read())
                {
                    error = "the payload ends inside an object";
                    return DecodeStatus.Malformed;
                }

                switch (field)
                {
                    case Fields.Version:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out reading.SchemaVersion))
                        {
                            error = "$.v must be an integer schema version";
                            return DecodeStatus.Malformed;
                        }

                        break;
                    case Fields.Zone:
                    case Fields.Device:
                    case Fields.Metric:
                    case Fields.Unit:
                        if (reader.TokenType == JsonTokenType.Null && field == Fields.Unit)
                        {
                            break;
                        }

                        if (reader.TokenType != JsonTokenType.String)
                        {
                            error = $"$.{NameOf(field)} must be a string";
                            return DecodeStatus.Malformed;
                        }

                        var text = ReadString(ref reader, names);
                        if (field != Fields.Unit && !Topics.IsValidSegment(text))
                        {
                            error = $"$.{NameOf(field)} must be 1-64 letters, digits, '-', '_' or '.'";
                            return DecodeStatus.Malformed;
                        }

                        switch (field)
                        {
                            case Fields.Zone: reading.Zone = text; break;
                            case Fields.Device: reading.Device = text; break;
                            case Fields.Metric: reading.Metric = text; break;
                            default: reading.Unit = text; break;
                        }

                        break;
                    case Fields.Value:
                        if (reader.TokenType == JsonTokenType.Null)
                        {
                            reading.Value = double.NaN;
                        }
                        else if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out reading.Value) || !double.IsFinite(reading.Value))
                        {
                            error = "$.value must be a finite number (or null for no value)";
                            return DecodeStatus.Malformed;
                        }

                        break;
                    case Fields.Timestamp:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetDouble(out reading.Timestamp) || reading.Timestamp < 0)
                        {
                            error = "$.ts must be epoch seconds (a non-negative number)";
                            return DecodeStatus.Malformed;
                        }

                        break;
                    case Fields.Sequence:
                        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out reading.Sequence))
                        {
                            error = "$.seq must be an integer";
                            return DecodeStatus.Malformed;
                        }

                        break;
                    case Fields.Quality:
                        if (reader.TokenType != JsonTokenType.String)
                        {
                            error = "$.quality must be \"good\", \"stale\" or \"bad\"";
                            return DecodeStatus.Malformed;
                        }

                        if (reader.ValueTextEquals("good"u8))
                        {
                            reading.Quality = ReadingQuality.Good;
                        }
                        else if (reader.ValueTextEquals("stale"u8))
                        {
                            reading.Quality = ReadingQuality.Stale;
                        }
                        else if (reader.ValueTextEquals("bad"u8))
                        {
                            reading.Quality = ReadingQuality.Bad;
                        }
                        else
                        {
                            error = "$.quality must be \"good\", \"stale\" or \"bad\"";
                            return DecodeStatus.Malformed;
                        }

                        break;
                    default:
                        // Unknown members are ignored (a newer minor revision may add some), but skipped whole.
                        reader.Skip();
                        continue;
                }

                seen |= field;
            }
        }
        catch (JsonException e)
        {
            error = $"invalid JSON at byte {e.BytePositionInLine}: {e.Message}";
            return DecodeStatus.Malformed;
        }
        catch (System.Text.DecoderFallbackException)
        {
            error = "a string is not valid UTF-8";
            return DecodeStatus.Malformed;
        }

        if ((seen & Fields.Version) == 0)
        {
            error = "$.v (the schema version) is missing";
            return DecodeStatus.Malformed;
        }

        if (reading.SchemaVersion is < MinimumVersion or > CurrentVersion)
        {
            error = $"schema version {reading.SchemaVersion} is not supported (this consumer reads {MinimumVersion}..{CurrentVersion})";
            return DecodeStatus.UnsupportedVersion;
        }

        const Fields required = Fields.Zone | Fields.Device | Fields.Metric | Fields.Value | Fields.Timestamp;
        if ((seen & required) != required)
        {
            error = $"required member {MissingName(seen, required)} is missing";
            return DecodeStatus.Malformed;
        }

        return DecodeStatus.Ok;
    }

    /// <summary>Writes <paramref name="reading"/> (as <see cref="CurrentVersion"/>) with <paramref name="writer"/> and flushes it.</summary>
    public static void Write(Utf8JsonWriter writer, in Reading reading)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        WriteBody(writer, reading);
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Writes the members of <paramref name="reading"/> into an object <paramref name="writer"/> has open.</summary>
    public static void WriteBody(Utf8JsonWriter writer, in Reading reading)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteNumber("v"u8, CurrentVersion);
        writer.WriteString("zone"u8, reading.Zone);
        writer.WriteString("device"u8, reading.Device);
        writer.WriteString("metric"u8, reading.Metric);
        if (double.IsFinite(reading.Value))
        {
            writer.WriteNumber("value"u8, reading.Value);
        }
        else
        {
            writer.WriteNull("value"u8);
        }

        if (reading.Unit is not null)
        {
            writer.WriteString("unit"u8, reading.Unit);
        }

        writer.WriteNumber("ts"u8, Math.Round(reading.Timestamp, 6));
        writer.WriteNumber("seq"u8, reading.Sequence);
        if (reading.Quality != ReadingQuality.Good)
        {
            writer.WriteString("quality"u8, reading.Quality == ReadingQuality.Stale ? "stale"u8 : "bad"u8);
        }
    }

    private static string ReadString(ref Utf8JsonReader reader, Utf8StringPool names)
    {
        if (!reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            return names.Get(reader.ValueSpan);
        }

        Span<byte> buffer = stackalloc byte[256];
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        if (length > buffer.Length)
        {
            return reader.GetString()!;
        }

        var written = reader.CopyString(buffer);
        return names.Get(buffer[..written]);
    }

    private static Fields FieldOf(ref Utf8JsonReader reader)
    {
        if (reader.ValueTextEquals("v"u8)) return Fields.Version;
        if (reader.ValueTextEquals("zone"u8)) return Fields.Zone;
        if (reader.ValueTextEquals("device"u8)) return Fields.Device;
        if (reader.ValueTextEquals("metric"u8)) return Fields.Metric;
        if (reader.ValueTextEquals("value"u8)) return Fields.Value;
        if (reader.ValueTextEquals("unit"u8)) return Fields.Unit;
        if (reader.ValueTextEquals("ts"u8)) return Fields.Timestamp;
        if (reader.ValueTextEquals("seq"u8)) return Fields.Sequence;
        if (reader.ValueTextEquals("quality"u8)) return Fields.Quality;
        return Fields.None;
    }

    private static string NameOf(Fields field) => field switch
    {
        Fields.Version => "v",
        Fields.Zone => "zone",
        Fields.Device => "device",
        Fields.Metric => "metric",
        Fields.Value => "value",
        Fields.Unit => "unit",
        Fields.Timestamp => "ts",
        Fields.Sequence => "seq",
        Fields.Quality => "quality",
        _ => "?",
    };

    private static string MissingName(Fields seen, Fields required)
    {
        for (var bit = 1; bit <= (int)Fields.Quality; bit <<= 1)
        {
            var f = (Fields)bit;
            if ((required & f) != 0 && (seen & f) == 0)
            {
                return "$." + NameOf(f);
            }
        }

        return "?";
    }

    [Flags]
    private enum Fields
    {
        None = 0,
        Version = 1,
        Zone = 2,
        Device = 4,
        Metric = 8,
        Value = 16,
        Unit = 32,
        Timestamp = 64,
        Sequence = 128,
        Quality = 256,
    }
}

/// <summary>
/// A reusable buffer and <see cref="Utf8JsonWriter"/> for writing one payload at a time without allocating.
/// The memory returned is valid until the next write. Not thread-safe.
/// </summary>
public sealed class PayloadWriter : IDisposable
{
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _writer;

    /// <summary>Creates the writer.</summary>
    public PayloadWriter()
    {
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = false });
    }

    /// <summary>Starts a new payload and returns the JSON writer to write it with.</summary>
    public Utf8JsonWriter Begin()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        return _writer;
    }

    /// <summary>The payload written since <see cref="Begin"/> (flushes the writer).</summary>
    public ReadOnlyMemory<byte> WrittenMemory
    {
        get
        {
            _writer.Flush();
            return _buffer.WrittenMemory;
        }
    }

    /// <summary>Writes a reading and returns its payload.</summary>
    public ReadOnlyMemory<byte> Write(in Reading reading)
    {
        ReadingCodec.Write(Begin(), reading);
        return _buffer.WrittenMemory;
    }

    /// <inheritdoc />
    public void Dispose() => _writer.Dispose();
}
