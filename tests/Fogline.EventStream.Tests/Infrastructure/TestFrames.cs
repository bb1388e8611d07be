using System.Buffers;
using System.Buffers.Binary;
using Fogline.EventStream.Framing;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>Builds well-formed and deliberately malformed eventstream frames byte by byte.</summary>
internal static class TestFrames
{
    /// <summary>
    /// Recomputes the prelude CRC (over bytes 0..8) and the message CRC (over everything before the last 4 bytes) of
    /// <paramref name="frame"/>, so that a frame corrupted on purpose passes both checksums and reaches the deeper checks.
    /// </summary>
    public static void FixCrcs(Span<byte> frame)
    {
        FixPreludeCrc(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame[^4..], Crc32.Compute(frame[..^4]));
    }

    /// <summary>Recomputes only the prelude CRC, so the decoder trusts whatever lengths the prelude now declares.</summary>
    public static void FixPreludeCrc(Span<byte> frame) =>
        BinaryPrimitives.WriteUInt32BigEndian(frame[8..], Crc32.Compute(frame[..8]));

    /// <summary>A 12-byte prelude declaring <paramref name="totalLength"/> and <paramref name="headersLength"/>, with a valid CRC.</summary>
    public static byte[] Prelude(uint totalLength, uint headersLength)
    {
        var prelude = new byte[EventStreamLimits.PreludeLength];
        BinaryPrimitives.WriteUInt32BigEndian(prelude, totalLength);
        BinaryPrimitives.WriteUInt32BigEndian(prelude.AsSpan(4), headersLength);
        FixPreludeCrc(prelude);
        return prelude;
    }

    /// <summary>A frame around a raw (possibly malformed) header block, with correct lengths and CRCs.</summary>
    public static byte[] WithRawHeaderBlock(ReadOnlySpan<byte> headerBlock, ReadOnlySpan<byte> payload = default)
    {
        var total = EventStreamLimits.MinimumMessageLength + headerBlock.Length + payload.Length;
        var frame = new byte[total];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)total);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(4), (uint)headerBlock.Length);
        headerBlock.CopyTo(frame.AsSpan(EventStreamLimits.PreludeLength));
        payload.CopyTo(frame.AsSpan(EventStreamLimits.PreludeLength + headerBlock.Length));
        FixCrcs(frame);
        return frame;
    }

    /// <summary>Concatenates byte arrays.</summary>
    public static byte[] Concat(IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();

    /// <summary>A header of every one of the ten types, with boundary values.</summary>
    public static EventStreamHeader[] EveryHeaderType() =>
    [
        EventStreamHeader.FromBool("true", true),
        EventStreamHeader.FromBool("false", false),
        EventStreamHeader.FromByte("byte", -128),
        EventStreamHeader.FromInt16("int16", short.MinValue),
        EventStreamHeader.FromInt32("int32", int.MaxValue),
        EventStreamHeader.FromInt64("int64", long.MinValue),
        EventStreamHeader.FromBytes("bytes", new byte[] { 0, 1, 2, 0xFF }),
        EventStreamHeader.FromString("string", "héllo wörld ✓"),
        EventStreamHeader.FromTimestampMilliseconds("timestamp", 1_700_000_000_123),
        EventStreamHeader.FromUuid("uuid", Guid.Parse("00112233-4455-6677-8899-aabbccddeeff")),
    ];
}

/// <summary>Writes a header block byte by byte, so that any malformation can be expressed.</summary>
internal sealed class HeaderBlockBuilder
{
    private readonly List<byte> _bytes = [];

    public HeaderBlockBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public HeaderBlockBuilder Name(string name)
    {
        var utf8 = System.Text.Encoding.UTF8.GetBytes(name);
        _bytes.Add((byte)utf8.Length);
        _bytes.AddRange(utf8);
        return this;
    }

    public HeaderBlockBuilder Type(HeaderType type) => Raw((byte)type);

    public HeaderBlockBuilder Int32(string name, int value)
    {
        Name(name).Type(HeaderType.Int32);
        var buffer = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(buffer, value);
        return Raw(buffer);
    }

    public HeaderBlockBuilder Bool(string name) => Name(name).Type(HeaderType.BoolTrue);

    /// <summary>A length-prefixed value (string or byte buffer) with an explicit declared length.</summary>
    public HeaderBlockBuilder Variable(string name, HeaderType type, ushort declaredLength, ReadOnlySpan<byte> value)
    {
        Name(name).Type(type);
        _bytes.Add((byte)(declaredLength >> 8));
        _bytes.Add((byte)declaredLength);
        foreach (var b in value)
        {
            _bytes.Add(b);
        }

        return this;
    }

    public int Length => _bytes.Count;

    public byte[] ToArray() => [.. _bytes];
}

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s.</summary>
internal static class TestSequences
{
    /// <summary>A sequence of the given pieces, one segment each (empty pieces give empty segments).</summary>
    public static ReadOnlySequence<byte> FromSegments(params ReadOnlyMemory<byte>[] pieces)
    {
        if (pieces.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(pieces[0], 0);
        var last = first;
        for (var i = 1; i < pieces.Length; i++)
        {
            last = last.Append(pieces[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary><paramref name="bytes"/> in segments of <paramref name="segmentLength"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Chunked(byte[] bytes, int segmentLength)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        for (var i = 0; i < bytes.Length; i += segmentLength)
        {
            pieces.Add(bytes.AsMemory(i, Math.Min(segmentLength, bytes.Length - i)));
        }

        return pieces.Count == 0 ? ReadOnlySequence<byte>.Empty : FromSegments([.. pieces]);
    }

    /// <summary><paramref name="bytes"/> cut at the given (increasing) offsets.</summary>
    public static ReadOnlySequence<byte> CutAt(byte[] bytes, params int[] cuts)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        foreach (var cut in cuts)
        {
            pieces.Add(bytes.AsMemory(start, cut - start));
            start = cut;
        }

        pieces.Add(bytes.AsMemory(start));
        return FromSegments([.. pieces]);
    }

    /// <summary>A chain of segments, built once, over fixed-size pieces of one array; slices of it allocate nothing.</summary>
    public sealed class PrebuiltChain
    {
        private readonly Segment[] _segments;
        private readonly int _segmentLength;

        public PrebuiltChain(byte[] array, int segmentLength)
        {
            _segmentLength = segmentLength;
            var count = (array.Length + segmentLength - 1) / segmentLength;
            _segments = new Segment[count];
            _segments[0] = new Segment(array.AsMemory(0, Math.Min(segmentLength, array.Length)), 0);
            for (var i = 1; i < count; i++)
            {
                var start = i * segmentLength;
                _segments[i] = _segments[i - 1].Append(array.AsMemory(start, Math.Min(segmentLength, array.Length - start)));
            }
        }

        /// <summary>The first <paramref name="length"/> bytes of the array as a multi-segment sequence.</summary>
        public ReadOnlySequence<byte> Prefix(int length)
        {
            if (length == 0)
            {
                return ReadOnlySequence<byte>.Empty;
            }

            var last = (length - 1) / _segmentLength;
            return new ReadOnlySequence<byte>(_segments[0], 0, _segments[last], length - (last * _segmentLength));
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
