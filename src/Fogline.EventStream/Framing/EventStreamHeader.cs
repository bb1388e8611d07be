using System.Text;

namespace Fogline.EventStream.Framing;

/// <summary>
/// One header of an eventstream message: a name and a typed value. A small immutable struct; creating one for a
/// constant name and a numeric or constant string value allocates nothing.
/// </summary>
public readonly struct EventStreamHeader : IEquatable<EventStreamHeader>
{
    private readonly long _scalar;
    private readonly string? _string;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly Guid _uuid;

    private EventStreamHeader(string name, HeaderType type, long scalar = 0, string? text = null, ReadOnlyMemory<byte> bytes = default, Guid uuid = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
        Type = type;
        _scalar = scalar;
        _string = text;
        _bytes = bytes;
        _uuid = uuid;
    }

    /// <summary>The header name.</summary>
    public string Name { get; }

    /// <summary>The value type.</summary>
    public HeaderType Type { get; }

    /// <summary>A boolean header.</summary>
    public static EventStreamHeader FromBool(string name, bool value) => new(name, value ? HeaderType.BoolTrue : HeaderType.BoolFalse);

    /// <summary>A byte (signed 8-bit) header.</summary>
    public static EventStreamHeader FromByte(string name, sbyte value) => new(name, HeaderType.Byte, value);

    /// <summary>A signed 16-bit header.</summary>
    public static EventStreamHeader FromInt16(string name, short value) => new(name, HeaderType.Int16, value);

    /// <summary>A signed 32-bit header.</summary>
    public static EventStreamHeader FromInt32(string name, int value) => new(name, HeaderType.Int32, value);

    /// <summary>A signed 64-bit header.</summary>
    public static EventStreamHeader FromInt64(string name, long value) => new(name, HeaderType.Int64, value);

    /// <summary>A byte-buffer header.</summary>
    public static EventStreamHeader FromBytes(string name, ReadOnlyMemory<byte> value) => new(name, HeaderType.ByteBuffer, bytes: value);

    /// <summary>A UTF-8 string header.</summary>
    public static EventStreamHeader FromString(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return new(name, HeaderType.String, text: value);
    }

    /// <summary>A timestamp header (millisecond precision on the wire).</summary>
    public static EventStreamHeader FromTimestamp(string name, DateTimeOffset value) => new(name, HeaderType.Timestamp, value.ToUnixTimeMilliseconds());

    /// <summary>A timestamp header from milliseconds since the Unix epoch.</summary>
    public static EventStreamHeader FromTimestampMilliseconds(string name, long unixMilliseconds) => new(name, HeaderType.Timestamp, unixMilliseconds);

    /// <summary>A UUID header; the 16 bytes are written in big-endian (RFC 4122) order.</summary>
    public static EventStreamHeader FromUuid(string name, Guid value) => new(name, HeaderType.Uuid, uuid: value);

    /// <summary>The value of a boolean header.</summary>
    public bool BoolValue => Type switch
    {
        HeaderType.BoolTrue => true,
        HeaderType.BoolFalse => false,
        _ => throw WrongType("boolean"),
    };

    /// <summary>The value of a byte, int16, int32, int64 or timestamp (milliseconds) header, widened to 64 bits.</summary>
    public long IntegerValue => Type is HeaderType.Byte or HeaderType.Int16 or HeaderType.Int32 or HeaderType.Int64 or HeaderType.Timestamp
        ? _scalar
        : throw WrongType("integer");

    /// <summary>The value of a string header.</summary>
    public string StringValue => Type == HeaderType.String ? _string! : throw WrongType("string");

    /// <summary>The value of a byte-buffer header.</summary>
    public ReadOnlyMemory<byte> BytesValue => Type == HeaderType.ByteBuffer ? _bytes : throw WrongType("byte buffer");

    /// <summary>The value of a timestamp header.</summary>
    public DateTimeOffset TimestampValue => Type == HeaderType.Timestamp ? DateTimeOffset.FromUnixTimeMilliseconds(_scalar) : throw WrongType("timestamp");

    /// <summary>The value of a UUID header.</summary>
    public Guid UuidValue => Type == HeaderType.Uuid ? _uuid : throw WrongType("uuid");

    /// <summary>Number of bytes this header takes on the wire.</summary>
    public int EncodedLength
    {
        get
        {
            var nameLength = Encoding.UTF8.GetByteCount(Name);
            return 1 + nameLength + 1 + ValueLength;
        }
    }

    internal int ValueLength => Type switch
    {
        HeaderType.BoolTrue or HeaderType.BoolFalse => 0,
        HeaderType.Byte => 1,
        HeaderType.Int16 => 2,
        HeaderType.Int32 => 4,
        HeaderType.Int64 or HeaderType.Timestamp => 8,
        HeaderType.ByteBuffer => 2 + _bytes.Length,
        HeaderType.String => 2 + Encoding.UTF8.GetByteCount(_string!),
        HeaderType.Uuid => 16,
        _ => throw new InvalidOperationException($"Unknown header type {Type}."),
    };

    internal long Scalar => _scalar;

    internal string? RawString => _string;

    internal ReadOnlyMemory<byte> RawBytes => _bytes;

    internal Guid RawUuid => _uuid;

    /// <inheritdoc />
    public bool Equals(EventStreamHeader other) =>
        Name == other.Name && Type == other.Type && _scalar == other._scalar && _string == other._string
        && _bytes.Span.SequenceEqual(other._bytes.Span) && _uuid == other._uuid;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is EventStreamHeader other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Name, Type, _scalar, _string, _bytes.Length, _uuid);

    /// <summary>Equality.</summary>
    public static bool operator ==(EventStreamHeader left, EventStreamHeader right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(EventStreamHeader left, EventStreamHeader right) => !left.Equals(right);

    /// <inheritdoc />
    public override string ToString() => Type switch
    {
        HeaderType.BoolTrue => $"{Name}: true",
        HeaderType.BoolFalse => $"{Name}: false",
        HeaderType.String => $"{Name}: \"{_string}\"",
        HeaderType.ByteBuffer => $"{Name}: <{_bytes.Length} bytes>",
        HeaderType.Uuid => $"{Name}: {_uuid}",
        // Any int64 is valid on the wire; beyond what DateTimeOffset can represent, show the milliseconds.
        HeaderType.Timestamp => _scalar is >= -62135596800000 and <= 253402300799999 ? $"{Name}: {TimestampValue:O}" : $"{Name}: {_scalar} ms",
        _ => $"{Name}: {_scalar}",
    };

    private InvalidOperationException WrongType(string wanted) =>
        new($"Header '{Name}' is of type {Type}, not {wanted}.");
}
