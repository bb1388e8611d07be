using System.Buffers;
using System.Text.Json;
using Fogline.EventStream.Framing;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>The decoded AWS eventstream test vectors: exact lengths and CRCs, and the negative cases.</summary>
public class VectorTests
{
    private static readonly string VectorRoot = Path.Combine(TestContext.CurrentContext.TestDirectory, "Vectors", "decoded");

    public static IEnumerable<string> PositiveVectors() =>
        Directory.GetFiles(Path.Combine(VectorRoot, "positive")).Select(Path.GetFileName).Order()!;

    [TestCaseSource(nameof(PositiveVectors))]
    public void Encode_PositiveVector_HasTheListedLengthsAndCrcs(string name)
    {
        var vector = Vector.Load(Path.Combine(VectorRoot, "positive", name));

        var bytes = FrameEncoder.Encode(vector.Headers, vector.Payload);

        Assert.That(bytes.Length, Is.EqualTo(vector.TotalLength), "total_length");
        Assert.That(FrameEncoder.GetHeadersLength(vector.Headers), Is.EqualTo(vector.HeadersLength), "headers_length");
        Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8)), Is.EqualTo(vector.PreludeCrc), "prelude_crc");
        Assert.That(System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(bytes.Length - 4)), Is.EqualTo(vector.MessageCrc), "message_crc");
    }

    [TestCaseSource(nameof(PositiveVectors))]
    public void Decode_PositiveVector_GivesBackHeadersAndPayload(string name)
    {
        var vector = Vector.Load(Path.Combine(VectorRoot, "positive", name));
        var bytes = FrameEncoder.Encode(vector.Headers, vector.Payload);

        var message = EventStreamMessage.Decode(bytes);

        Assert.That(message.Headers, Is.EqualTo(vector.Headers));
        Assert.That(message.Payload.ToArray(), Is.EqualTo(vector.Payload));
    }

    [TestCaseSource(nameof(PositiveVectors))]
    public void Decode_PositiveVector_FedOneByteAtATime_NeedsMoreDataUntilTheLastByte(string name)
    {
        var vector = Vector.Load(Path.Combine(VectorRoot, "positive", name));
        var bytes = FrameEncoder.Encode(vector.Headers, vector.Payload);
        using var decoder = new FrameDecoder();

        for (var length = 0; length < bytes.Length; length++)
        {
            var partial = new ReadOnlySequence<byte>(bytes, 0, length);
            Assert.That(decoder.TryDecode(ref partial, out _), Is.False, $"after {length} bytes");
        }

        var whole = Segmented(bytes, 3);
        Assert.That(decoder.TryDecode(ref whole, out var frame), Is.True);
        Assert.That(frame.Payload.ToArray(), Is.EqualTo(vector.Payload));
        Assert.That(whole.Length, Is.Zero);
    }

    // The negative vectors name a corruption and the reason a decoder must give. The binary forms are not published,
    // so each corruption is applied here to an encoded positive vector, as the AWS SDKs derived them.
    [TestCase("corrupted_length", 0)]
    [TestCase("corrupted_header_len", 4)]
    [TestCase("corrupted_headers", 12)]
    [TestCase("corrupted_payload", -8)]
    public void Decode_NegativeVector_IsRejectedWithTheListedReason(string name, int corruptAt)
    {
        var expected = File.ReadAllText(Path.Combine(VectorRoot, "negative", name)).Trim();
        var source = Vector.Load(Path.Combine(VectorRoot, "positive", "all_headers"));
        var bytes = FrameEncoder.Encode(source.Headers, source.Payload);
        var index = corruptAt >= 0 ? corruptAt + 3 : bytes.Length + corruptAt;
        bytes[index] ^= 0x5A;

        var ex = Assert.Throws<EventStreamFormatException>(() => EventStreamMessage.Decode(bytes))!;

        var expectedReason = expected switch
        {
            "Prelude checksum mismatch" => FormatErrorReason.PreludeChecksumMismatch,
            "Message checksum mismatch" => FormatErrorReason.MessageChecksumMismatch,
            _ => throw new AssertionException($"unknown reason '{expected}' in vector {name}"),
        };
        Assert.That(ex.Reason, Is.EqualTo(expectedReason));
        Assert.That(ex.Message, Does.StartWith(expected));
    }

    [Test]
    public void VendoredVectors_MatchTheSharedReference_WhenItIsPresent()
    {
        var shared = Path.GetFullPath(Path.Combine(TestContext.CurrentContext.TestDirectory, "../../../../../../shared/reference/eventstream-vectors/decoded"));
        if (!Directory.Exists(shared))
        {
            Assert.Ignore("../shared/reference is not next to this checkout; the vendored copy is used alone.");
        }

        foreach (var file in Directory.GetFiles(shared, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(shared, file);
            Assert.That(File.ReadAllText(Path.Combine(VectorRoot, relative)), Is.EqualTo(File.ReadAllText(file)), relative);
        }
    }

    internal static ReadOnlySequence<byte> Segmented(byte[] bytes, int segmentLength)
    {
        Segment? first = null, last = null;
        for (var i = 0; i < bytes.Length; i += segmentLength)
        {
            var memory = bytes.AsMemory(i, Math.Min(segmentLength, bytes.Length - i));
            if (first is null)
            {
                first = last = new Segment(memory, 0);
            }
            else
            {
                last = last!.Append(memory);
            }
        }

        return first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, 0, last!, last!.Memory.Length);
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

    private sealed record Vector(int TotalLength, int HeadersLength, uint PreludeCrc, uint MessageCrc, EventStreamHeader[] Headers, byte[] Payload)
    {
        public static Vector Load(string path)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            var headers = root.GetProperty("headers").EnumerateArray().Select(ToHeader).ToArray();
            return new Vector(
                root.GetProperty("total_length").GetInt32(),
                root.GetProperty("headers_length").GetInt32(),
                unchecked((uint)root.GetProperty("prelude_crc").GetInt64()),
                unchecked((uint)root.GetProperty("message_crc").GetInt64()),
                headers,
                Convert.FromBase64String(root.GetProperty("payload").GetString()!));
        }

        private static EventStreamHeader ToHeader(JsonElement e)
        {
            var name = e.GetProperty("name").GetString()!;
            var value = e.GetProperty("value");
            return (HeaderType)e.GetProperty("type").GetInt32() switch
            {
                HeaderType.BoolTrue => EventStreamHeader.FromBool(name, true),
                HeaderType.BoolFalse => EventStreamHeader.FromBool(name, false),
                HeaderType.Byte => EventStreamHeader.FromByte(name, (sbyte)value.GetInt32()),
                HeaderType.Int16 => EventStreamHeader.FromInt16(name, (short)value.GetInt32()),
                HeaderType.Int32 => EventStreamHeader.FromInt32(name, value.GetInt32()),
                HeaderType.Int64 => EventStreamHeader.FromInt64(name, value.GetInt64()),
                HeaderType.ByteBuffer => EventStreamHeader.FromBytes(name, Convert.FromBase64String(value.GetString()!)),
                HeaderType.String => EventStreamHeader.FromString(name, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(value.GetString()!))),
                HeaderType.Timestamp => EventStreamHeader.FromTimestampMilliseconds(name, value.GetInt64()),
                HeaderType.Uuid => EventStreamHeader.FromUuid(name, new Guid(Convert.FromBase64String(value.GetString()!), bigEndian: true)),
                var t => throw new AssertionException($"unknown header type {t}"),
            };
        }
    }
}
