using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Fogline.EventStream.Framing;

/// <summary>
/// Writes eventstream frames into an <see cref="IBufferWriter{T}"/>, piece by piece with a running CRC, so no
/// contiguous buffer of the whole frame is needed and nothing is allocated.
/// </summary>
public static class FrameEncoder
{
    /// <summary>Length of the header block for <paramref name="headers"/>, validating names and value sizes.</summary>
    public static int GetHeadersLength(ReadOnlySpan<EventStreamHeader> headers)
    {
        var total = 0;
        for (var i = 0; i < headers.Length; i++)
        {
            ref readonly var header = ref headers[i];
            var nameLength = Encoding.UTF8.GetByteCount(header.Name);
            if (nameLength is 0 or > EventStreamLimits.MaxHeaderNameLengthOfFormat)
            {
                throw new EventStreamFormatException(FormatErrorReason.InvalidHeaderName,
                    $"Header #{i + 1} has a {nameLength}-byte name; names must be 1 to {EventStreamLimits.MaxHeaderNameLengthOfFormat} bytes of UTF-8");
            }

            var valueLength = header.ValueLength;
            if (header.Type is HeaderType.String or HeaderType.ByteBuffer && valueLength - 2 > EventStreamLimits.MaxHeaderValueLengthOfFormat)
            {
                throw new EventStreamFormatException(FormatErrorReason.InvalidHeaderValueLength,
                    $"Header '{header.Name}' has a {valueLength - 2}-byte value; the format allows at most {EventStreamLimits.MaxHeaderValueLengthOfFormat}");
            }

            total += 1 + nameLength + 1 + valueLength;
        }

        return total;
    }

    /// <summary>Total frame length for the given headers and payload length.</summary>
    public static int GetFrameLength(ReadOnlySpan<EventStreamHeader> headers, int payloadLength) =>
        EventStreamLimits.MinimumMessageLength + GetHeadersLength(headers) + payloadLength;

    /// <summary>Writes one frame. Returns the number of bytes written.</summary>
    public static int Write(IBufferWriter<byte> writer, ReadOnlySpan<EventStreamHeader> headers, ReadOnlySpan<byte> payload, EventStreamLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var headersLength = GetHeadersLength(headers);
        var total = CheckLimits(headersLength, payload.Length, limits ?? EventStreamLimits.Default);
        var whole = writer.GetSpan(total);
        if (whole.Length >= total)
        {
            // The usual case: the frame fits the writer's current buffer. Write it in place and checksum it in two
            // passes over contiguous memory, which is what the vectorised CRC is fastest at.
            WriteContiguous(whole[..total], headers, headersLength, payload);
            writer.Advance(total);
            return total;
        }

        var crc = WritePrelude(writer, total, headersLength);
        crc = WriteHeaders(writer, headers, crc);
        crc = WriteBytes(writer, payload, crc);
        WriteTrailer(writer, crc);
        return total;
    }

    /// <summary>Writes one frame whose payload is a (possibly multi-segment) sequence. Returns the number of bytes written.</summary>
    public static int Write(IBufferWriter<byte> writer, ReadOnlySpan<EventStreamHeader> headers, in ReadOnlySequence<byte> payload, EventStreamLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (payload.IsSingleSegment)
        {
            return Write(writer, headers, payload.FirstSpan, limits);
        }

        var headersLength = GetHeadersLength(headers);
        var payloadLength = payload.Length > int.MaxValue ? int.MaxValue : (int)payload.Length;
        var total = CheckLimits(headersLength, payloadLength, limits ?? EventStreamLimits.Default);
        var crc = WritePrelude(writer, total, headersLength);
        crc = WriteHeaders(writer, headers, crc);
        foreach (var segment in payload)
        {
            crc = WriteBytes(writer, segment.Span, crc);
        }

        WriteTrailer(writer, crc);
        return total;
    }

    /// <summary>Encodes one frame into a new array (allocates; for tests and tools).</summary>
    public static byte[] Encode(ReadOnlySpan<EventStreamHeader> headers, ReadOnlySpan<byte> payload, EventStreamLimits? limits = null)
    {
        var writer = new ArrayBufferWriter<byte>(GetFrameLength(headers, payload.Length));
        Write(writer, headers, payload, limits);
        return writer.WrittenSpan.ToArray();
    }

    private static int CheckLimits(int headersLength, int payloadLength, EventStreamLimits limits)
    {
        if (headersLength > limits.MaxHeadersLength)
        {
            throw new EventStreamFormatException(FormatErrorReason.InvalidHeadersLength,
                $"The headers take {headersLength} bytes; the limit is {limits.MaxHeadersLength}");
        }

        var total = (long)EventStreamLimits.MinimumMessageLength + headersLength + payloadLength;
        if (total > limits.MaxMessageLength)
        {
            throw new EventStreamFormatException(FormatErrorReason.MessageTooLong,
                $"The frame would be {total} bytes ({headersLength} of headers, {payloadLength} of payload); the limit is {limits.MaxMessageLength}");
        }

        return (int)total;
    }

    private static void WriteContiguous(Span<byte> frame, ReadOnlySpan<EventStreamHeader> headers, int headersLength, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)frame.Length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], (uint)headersLength);
        BinaryPrimitives.WriteUInt32BigEndian(frame[8..], Crc32.Compute(frame[..8]));
        var position = EventStreamLimits.PreludeLength;
        foreach (ref readonly var header in headers)
        {
            position += WriteHeader(frame[position..], header);
        }

        payload.CopyTo(frame[position..]);
        BinaryPrimitives.WriteUInt32BigEndian(frame[^4..], Crc32.Compute(frame[..^4]));
    }

    private static uint WritePrelude(IBufferWriter<byte> writer, int total, int headersLength)
    {
        var span = writer.GetSpan(EventStreamLimits.PreludeLength);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)headersLength);
        var preludeCrc = Crc32.Compute(span[..8]);
        BinaryPrimitives.WriteUInt32BigEndian(span[8..], preludeCrc);
        var crc = Crc32.Compute(span[..EventStreamLimits.PreludeLength]);
        writer.Advance(EventStreamLimits.PreludeLength);
        return crc;
    }

    private static uint WriteHeaders(IBufferWriter<byte> writer, ReadOnlySpan<EventStreamHeader> headers, uint crc)
    {
        foreach (ref readonly var header in headers)
        {
            var length = 1 + Encoding.UTF8.GetByteCount(header.Name) + 1 + header.ValueLength;
            var span = writer.GetSpan(length);
            var written = WriteHeader(span, header);
            crc = Crc32.Append(crc, span[..written]);
            writer.Advance(written);
        }

        return crc;
    }

    /// <summary>Writes one header at the start of <paramref name="span"/> (which is large enough); returns its length.</summary>
    private static int WriteHeader(Span<byte> span, in EventStreamHeader header)
    {
        var nameLength = Encoding.UTF8.GetBytes(header.Name, span[1..]);
        span[0] = (byte)nameLength;
        var p = 1 + nameLength;
        span[p++] = (byte)header.Type;
        switch (header.Type)
        {
            case HeaderType.BoolTrue:
            case HeaderType.BoolFalse:
                return p;
            case HeaderType.Byte:
                span[p] = (byte)(sbyte)header.Scalar;
                return p + 1;
            case HeaderType.Int16:
                BinaryPrimitives.WriteInt16BigEndian(span[p..], (short)header.Scalar);
                return p + 2;
            case HeaderType.Int32:
                BinaryPrimitives.WriteInt32BigEndian(span[p..], (int)header.Scalar);
                return p + 4;
            case HeaderType.Int64:
            case HeaderType.Timestamp:
                BinaryPrimitives.WriteInt64BigEndian(span[p..], header.Scalar);
                return p + 8;
            case HeaderType.ByteBuffer:
                {
                    var bytes = header.RawBytes.Span;
                    BinaryPrimitives.WriteUInt16BigEndian(span[p..], (ushort)bytes.Length);
                    bytes.CopyTo(span[(p + 2)..]);
                    return p + 2 + bytes.Length;
                }

            case HeaderType.String:
                {
                    var written = Encoding.UTF8.GetBytes(header.RawString!, span[(p + 2)..]);
                    BinaryPrimitives.WriteUInt16BigEndian(span[p..], (ushort)written);
                    return p + 2 + written;
                }

            case HeaderType.Uuid:
                header.RawUuid.TryWriteBytes(span.Slice(p, 16), bigEndian: true, out _);
                return p + 16;
            default:
                throw new InvalidOperationException($"Unknown header type {header.Type}.");
        }
    }

    private static uint WriteBytes(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes, uint crc)
    {
        while (!bytes.IsEmpty)
        {
            var span = writer.GetSpan(Math.Min(bytes.Length, 64 * 1024));
            var n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            crc = Crc32.Append(crc, span[..n]);
            writer.Advance(n);
            bytes = bytes[n..];
        }

        return crc;
    }

    private static void WriteTrailer(IBufferWriter<byte> writer, uint crc)
    {
        var span = writer.GetSpan(EventStreamLimits.TrailerLength);
        BinaryPrimitives.WriteUInt32BigEndian(span, crc);
        writer.Advance(EventStreamLimits.TrailerLength);
    }
}
