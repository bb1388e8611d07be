using System.Buffers.Binary;
using System.Text;

namespace Fogline.EventStream.Framing;

/// <summary>
/// A header of a decoded frame, viewed in place: name and value are spans over the frame's bytes and are valid only
/// until the input buffer is advanced. Reading numeric values and comparing names allocates nothing.
/// </summary>
public readonly ref struct HeaderView
{
    internal HeaderView(ReadOnlySpan<byte> name, HeaderType type, ReadOnlySpan<byte> value)
    {
        NameUtf8 = name;
        Type = type;
        ValueBytes = value;
    }

    /// <summary>The UTF-8 bytes of the name.</summary>
    public ReadOnlySpan<byte> NameUtf8 { get; }

    /// <summary>The value type.</summary>
    public HeaderType Type { get; }

    /// <summary>The raw value bytes (without the length prefix for strings and byte buffers).</summary>
    public ReadOnlySpan<byte> ValueBytes { get; }

    /// <summary>The name as a string (allocates).</summary>
    public string Name => Encoding.UTF8.GetString(NameUtf8);

    /// <summary>Whether the name equals <paramref name="utf8Name"/> exactly.</summary>
    public bool NameIs(ReadOnlySpan<byte> utf8Name) => NameUtf8.SequenceEqual(utf8Name);

    /// <summary>Whether the name equals <paramref name="asciiName"/> ignoring ASCII case, as aws-c-event-stream compares RPC header names.</summary>
    public bool NameIsIgnoreCase(ReadOnlySpan<byte> asciiName) => System.Text.Ascii.EqualsIgnoreCase(NameUtf8, asciiName);

    /// <summary>The value of a boolean header.</summary>
    public bool GetBool() => Type switch
    {
        HeaderType.BoolTrue => true,
        HeaderType.BoolFalse => false,
        _ => throw WrongType("boolean"),
    };

    /// <summary>The value of a byte, int16, int32, int64 or timestamp header, widened to 64 bits.</summary>
    public long GetInteger() => Type switch
    {
        HeaderType.Byte => (sbyte)ValueBytes[0],
        HeaderType.Int16 => BinaryPrimitives.ReadInt16BigEndian(ValueBytes),
        HeaderType.Int32 => BinaryPrimitives.ReadInt32BigEndian(ValueBytes),
        HeaderType.Int64 or HeaderType.Timestamp => BinaryPrimitives.ReadInt64BigEndian(ValueBytes),
        _ => throw WrongType("integer"),
    };

    /// <summary>The value of an int32 header.</summary>
    public int GetInt32() => Type == HeaderType.Int32 ? BinaryPrimitives.ReadInt32BigEndian(ValueBytes) : throw WrongType("int32");

    /// <summary>The value of a string header (allocates).</summary>
    public string GetString() => Type == HeaderType.String ? Encoding.UTF8.GetString(ValueBytes) : throw WrongType("string");

    /// <summary>Whether this is a string header whose value equals <paramref name="utf8"/>.</summary>
    public bool StringValueIs(ReadOnlySpan<byte> utf8) => Type == HeaderType.String && ValueBytes.SequenceEqual(utf8);

    /// <summary>The value of a UUID header.</summary>
    public Guid GetUuid() => Type == HeaderType.Uuid ? new Guid(ValueBytes, bigEndian: true) : throw WrongType("uuid");

    /// <summary>The value of a timestamp header.</summary>
    public DateTimeOffset GetTimestamp() => Type == HeaderType.Timestamp
        ? DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64BigEndian(ValueBytes))
        : throw WrongType("timestamp");

    /// <summary>Copies this header into an owned <see cref="EventStreamHeader"/> (allocates for names, strings and buffers).</summary>
    public EventStreamHeader ToHeader()
    {
        var name = Name;
        return Type switch
        {
            HeaderType.BoolTrue => EventStreamHeader.FromBool(name, true),
            HeaderType.BoolFalse => EventStreamHeader.FromBool(name, false),
            HeaderType.Byte => EventStreamHeader.FromByte(name, (sbyte)ValueBytes[0]),
            HeaderType.Int16 => EventStreamHeader.FromInt16(name, BinaryPrimitives.ReadInt16BigEndian(ValueBytes)),
            HeaderType.Int32 => EventStreamHeader.FromInt32(name, BinaryPrimitives.ReadInt32BigEndian(ValueBytes)),
            HeaderType.Int64 => EventStreamHeader.FromInt64(name, BinaryPrimitives.ReadInt64BigEndian(ValueBytes)),
            HeaderType.ByteBuffer => EventStreamHeader.FromBytes(name, ValueBytes.ToArray()),
            HeaderType.String => EventStreamHeader.FromString(name, Encoding.UTF8.GetString(ValueBytes)),
            HeaderType.Timestamp => EventStreamHeader.FromTimestampMilliseconds(name, BinaryPrimitives.ReadInt64BigEndian(ValueBytes)),
            HeaderType.Uuid => EventStreamHeader.FromUuid(name, new Guid(ValueBytes, bigEndian: true)),
            _ => throw new InvalidOperationException($"Unknown header type {Type}."),
        };
    }

    private InvalidOperationException WrongType(string wanted) =>
        new($"Header '{Name}' is of type {Type}, not {wanted}.");
}

/// <summary>Enumerates the headers of a validated header block without allocating.</summary>
public ref struct HeaderEnumerator
{
    private ReadOnlySpan<byte> _remaining;

    internal HeaderEnumerator(ReadOnlySpan<byte> block)
    {
        _remaining = block;
        Current = default;
    }

    /// <summary>The current header.</summary>
    public HeaderView Current { get; private set; }

    /// <summary>Enables <c>foreach</c>.</summary>
    public readonly HeaderEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next header.</summary>
    public bool MoveNext()
    {
        if (_remaining.IsEmpty)
        {
            return false;
        }

        // The block was validated by the decoder, so the lengths below are known to be in range.
        int nameLength = _remaining[0];
        var name = _remaining.Slice(1, nameLength);
        var type = (HeaderType)_remaining[1 + nameLength];
        var rest = _remaining[(2 + nameLength)..];
        var length = HeaderBlock.FixedValueLength(type);
        ReadOnlySpan<byte> value;
        if (length >= 0)
        {
            value = rest[..length];
            _remaining = rest[length..];
        }
        else
        {
            var variable = BinaryPrimitives.ReadUInt16BigEndian(rest);
            value = rest.Slice(2, variable);
            _remaining = rest[(2 + variable)..];
        }

        Current = new HeaderView(name, type, value);
        return true;
    }
}
