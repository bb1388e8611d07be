using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>Every header type survives encode/decode, boundary values included, with the documented wire layout.</summary>
public class HeaderRoundTripTests
{
    public static IEnumerable<TestCaseData> BoundaryHeaders()
    {
        yield return Case(EventStreamHeader.FromBool("flag", true), "bool true");
        yield return Case(EventStreamHeader.FromBool("flag", false), "bool false");
        yield return Case(EventStreamHeader.FromByte("b", sbyte.MinValue), "byte -128");
        yield return Case(EventStreamHeader.FromByte("b", -1), "byte -1");
        yield return Case(EventStreamHeader.FromByte("b", 0), "byte 0");
        yield return Case(EventStreamHeader.FromByte("b", sbyte.MaxValue), "byte 127");
        yield return Case(EventStreamHeader.FromInt16("s", short.MinValue), "int16 min");
        yield return Case(EventStreamHeader.FromInt16("s", short.MaxValue), "int16 max");
        yield return Case(EventStreamHeader.FromInt16("s", -1), "int16 -1");
        yield return Case(EventStreamHeader.FromInt32("i", int.MinValue), "int32 min");
        yield return Case(EventStreamHeader.FromInt32("i", int.MaxValue), "int32 max");
        yield return Case(EventStreamHeader.FromInt32("i", 0), "int32 0");
        yield return Case(EventStreamHeader.FromInt64("l", long.MinValue), "int64 min");
        yield return Case(EventStreamHeader.FromInt64("l", long.MaxValue), "int64 max");
        yield return Case(EventStreamHeader.FromInt64("l", -1), "int64 -1");
        yield return Case(EventStreamHeader.FromBytes("buf", Array.Empty<byte>()), "empty byte buffer");
        yield return Case(EventStreamHeader.FromBytes("buf", Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()), "all byte values");
        yield return Case(EventStreamHeader.FromBytes("buf", Filled(EventStreamLimits.MaxHeaderValueLengthOfFormat, 0xAB)), "32767-byte buffer");
        yield return Case(EventStreamHeader.FromString("str", string.Empty), "empty string");
        yield return Case(EventStreamHeader.FromString("str", "ünïcödé ✓ 😀"), "non-ASCII string");
        yield return Case(EventStreamHeader.FromString("str", new string('x', EventStreamLimits.MaxHeaderValueLengthOfFormat)), "32767-byte string");
        yield return Case(EventStreamHeader.FromString("str", new string('€', 10922)), "32766-byte string of 3-byte characters");
        yield return Case(EventStreamHeader.FromTimestampMilliseconds("ts", 0), "timestamp epoch");
        yield return Case(EventStreamHeader.FromTimestampMilliseconds("ts", -62135596800000), "timestamp year 1");
        yield return Case(EventStreamHeader.FromTimestampMilliseconds("ts", 253402300799999), "timestamp year 9999");
        yield return Case(EventStreamHeader.FromUuid("id", Guid.Empty), "uuid empty");
        yield return Case(EventStreamHeader.FromUuid("id", Guid.Parse("00010203-0405-0607-0809-0a0b0c0d0e0f")), "uuid counting bytes");
        yield return Case(EventStreamHeader.FromUuid("id", Guid.AllBitsSet), "uuid all bits");
        yield return Case(EventStreamHeader.FromBool(new string('n', EventStreamLimits.MaxHeaderNameLengthOfFormat), true), "255-byte ASCII name");
        yield return Case(EventStreamHeader.FromInt32(new string('€', 85), 7), "255-byte name of 3-byte characters");
        yield return Case(EventStreamHeader.FromInt32("x", 7), "1-byte name");

        static TestCaseData Case(EventStreamHeader header, string name) => new TestCaseData(header).SetArgDisplayNames(name);
    }

    [TestCaseSource(nameof(BoundaryHeaders))]
    public void EncodeThenDecode_GivesBackTheSameHeader(EventStreamHeader header)
    {
        var payload = "payload"u8.ToArray();

        var bytes = FrameEncoder.Encode([header], payload);
        var decoded = EventStreamMessage.Decode(bytes);

        Assert.That(decoded.Headers, Has.Count.EqualTo(1));
        Assert.That(decoded.Headers[0], Is.EqualTo(header));
        Assert.That(decoded.Payload.ToArray(), Is.EqualTo(payload));
        Assert.That(bytes.Length, Is.EqualTo(EventStreamLimits.MinimumMessageLength + header.EncodedLength + payload.Length));
    }

    [TestCaseSource(nameof(BoundaryHeaders))]
    public void DecodedHeaderView_ReadsTheSameValueAsTheOwnedHeader(EventStreamHeader header)
    {
        var bytes = FrameEncoder.Encode([header], default);
        using var decoder = new FrameDecoder();
        var sequence = new ReadOnlySequence<byte>(bytes);

        Assert.That(decoder.TryDecode(ref sequence, out var frame), Is.True);
        var enumerator = frame.Headers;
        Assert.That(enumerator.MoveNext(), Is.True);
        var view = enumerator.Current;
        Assert.That(view.Name, Is.EqualTo(header.Name));
        Assert.That(view.NameIs(Encoding.UTF8.GetBytes(header.Name)), Is.True);
        Assert.That(view.Type, Is.EqualTo(header.Type));
        switch (header.Type)
        {
            case HeaderType.BoolTrue:
            case HeaderType.BoolFalse:
                Assert.That(view.GetBool(), Is.EqualTo(header.BoolValue));
                break;
            case HeaderType.Byte:
            case HeaderType.Int16:
            case HeaderType.Int64:
                Assert.That(view.GetInteger(), Is.EqualTo(header.IntegerValue));
                break;
            case HeaderType.Int32:
                Assert.That(view.GetInt32(), Is.EqualTo(header.IntegerValue));
                Assert.That(view.GetInteger(), Is.EqualTo(header.IntegerValue));
                break;
            case HeaderType.ByteBuffer:
                Assert.That(view.ValueBytes.ToArray(), Is.EqualTo(header.BytesValue.ToArray()));
                break;
            case HeaderType.String:
                Assert.That(view.GetString(), Is.EqualTo(header.StringValue));
                Assert.That(view.StringValueIs(Encoding.UTF8.GetBytes(header.StringValue)), Is.True);
                break;
            case HeaderType.Timestamp:
                Assert.That(view.GetTimestamp(), Is.EqualTo(header.TimestampValue));
                Assert.That(view.GetInteger(), Is.EqualTo(header.IntegerValue));
                break;
            case HeaderType.Uuid:
                Assert.That(view.GetUuid(), Is.EqualTo(header.UuidValue));
                break;
        }

        Assert.That(enumerator.MoveNext(), Is.False);
    }

    [Test]
    public void EncodeThenDecode_AllTenTypesInOneFrame_KeepsTheirOrderAndValues()
    {
        var headers = TestFrames.EveryHeaderType();
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();

        var decoded = EventStreamMessage.Decode(FrameEncoder.Encode(headers, payload));

        Assert.That(decoded.Headers, Is.EqualTo(headers));
        Assert.That(decoded.Headers.Select(h => h.Type).Distinct().Count(), Is.EqualTo(10));
        Assert.That(decoded.Payload.ToArray(), Is.EqualTo(payload));
    }

    [Test]
    public void Encode_Uuid_WritesTheSixteenBytesInBigEndianOrder()
    {
        var uuid = Guid.Parse("00010203-0405-0607-0809-0a0b0c0d0e0f");

        var bytes = FrameEncoder.Encode([EventStreamHeader.FromUuid("u", uuid)], default);

        // prelude (12) + name length (1) + "u" (1) + type (1), then the value.
        Assert.That(bytes[14], Is.EqualTo((byte)HeaderType.Uuid));
        Assert.That(bytes.AsSpan(15, 16).ToArray(), Is.EqualTo(Enumerable.Range(0, 16).Select(i => (byte)i).ToArray()));
    }

    [TestCase((sbyte)-1, (byte)0xFF)]
    [TestCase((sbyte)-128, (byte)0x80)]
    [TestCase((sbyte)127, (byte)0x7F)]
    public void Encode_NegativeByte_WritesTwosComplement(sbyte value, byte wire)
    {
        var bytes = FrameEncoder.Encode([EventStreamHeader.FromByte("b", value)], default);

        Assert.That(bytes[14], Is.EqualTo((byte)HeaderType.Byte));
        Assert.That(bytes[15], Is.EqualTo(wire));
    }

    [Test]
    public void Encode_IntegersAndTimestamp_AreBigEndian()
    {
        var bytes = FrameEncoder.Encode(
            [
                EventStreamHeader.FromInt16("a", 0x0102),
                EventStreamHeader.FromInt32("b", 0x01020304),
                EventStreamHeader.FromInt64("c", 0x0102030405060708),
                EventStreamHeader.FromTimestampMilliseconds("d", long.MinValue),
            ],
            default);

        var block = bytes.AsSpan(12);
        Assert.That(block[3..5].ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
        Assert.That(block[8..12].ToArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4 }));
        Assert.That(block[15..23].ToArray(), Is.EqualTo(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }));
        Assert.That(BinaryPrimitives.ReadInt64BigEndian(block[26..]), Is.EqualTo(long.MinValue));
    }

    [Test]
    public void Encode_StringValue_HasABigEndianLengthPrefixOfItsUtf8Bytes()
    {
        var bytes = FrameEncoder.Encode([EventStreamHeader.FromString("s", "€uro")], default);

        // "€" is three UTF-8 bytes: the prefix counts bytes, not characters.
        Assert.That(bytes[14], Is.EqualTo((byte)HeaderType.String));
        Assert.That(BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(15)), Is.EqualTo(6));
        Assert.That(Encoding.UTF8.GetString(bytes.AsSpan(17, 6)), Is.EqualTo("€uro"));
    }

    [Test]
    public void Encode_MaximalHeaders_RoundTripTogether()
    {
        // A 255-byte name with a 32767-byte value, several times: the largest headers the format allows.
        var headers = Enumerable.Range(0, 4)
            .Select(i => EventStreamHeader.FromString(new string((char)('a' + i), 255), new string((char)('A' + i), EventStreamLimits.MaxHeaderValueLengthOfFormat)))
            .ToArray();

        var decoded = EventStreamMessage.Decode(FrameEncoder.Encode(headers, default));

        Assert.That(decoded.Headers, Is.EqualTo(headers));
    }

    [Test]
    public void EventStreamMessage_EncodeThenDecode_RoundTrips()
    {
        var message = new EventStreamMessage(TestFrames.EveryHeaderType(), "body"u8.ToArray());

        var decoded = EventStreamMessage.Decode(message.Encode());

        Assert.That(decoded.Headers, Is.EqualTo(message.Headers));
        Assert.That(decoded.Payload.ToArray(), Is.EqualTo(message.Payload.ToArray()));
    }

    [Test]
    public void EventStreamMessage_Decode_WhenBytesHoldMoreThanOneFrame_Throws()
    {
        var one = FrameEncoder.Encode([EventStreamHeader.FromInt32("x", 1)], default);

        var ex = Assert.Throws<EventStreamFormatException>(() => EventStreamMessage.Decode([.. one, .. one]))!;

        Assert.That(ex.Offset, Is.EqualTo(one.Length));
    }

    [Test]
    public void EventStreamMessage_Decode_WhenBytesHoldLessThanOneFrame_Throws()
    {
        var one = FrameEncoder.Encode([EventStreamHeader.FromInt32("x", 1)], default);

        Assert.Throws<EventStreamFormatException>(() => EventStreamMessage.Decode(one.AsSpan(0, one.Length - 1)));
    }

    [TestCase(long.MaxValue)]
    [TestCase(long.MinValue)]
    [TestCase(253402300800000L)]
    public void Timestamp_OutsideTheDateTimeOffsetRange_RoundTripsAsMilliseconds_AndToStringDoesNotThrow(long milliseconds)
    {
        // Any int64 is a valid timestamp on the wire, even where DateTimeOffset cannot represent it.
        var header = EventStreamHeader.FromTimestampMilliseconds("ts", milliseconds);

        var decoded = EventStreamMessage.Decode(FrameEncoder.Encode([header], default)).Headers[0];

        Assert.That(decoded, Is.EqualTo(header));
        Assert.That(decoded.IntegerValue, Is.EqualTo(milliseconds));
        Assert.That(decoded.ToString(), Does.StartWith("ts: ").And.Contain(milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void ToString_ShowsNameAndValue_ForEveryType()
    {
        var texts = TestFrames.EveryHeaderType().Select(h => h.ToString()).ToArray();

        Assert.That(texts, Has.Length.EqualTo(10));
        Assert.That(texts, Has.All.Contains(": "));
        Assert.That(texts, Does.Contain("string: \"héllo wörld ✓\""));
        Assert.That(texts, Does.Contain("timestamp: 2023-11-14T22:13:20.1230000+00:00"));
    }

    [Test]
    public void Header_ReadingTheWrongType_ThrowsInvalidOperation()
    {
        var header = EventStreamHeader.FromInt32("i", 1);

        Assert.Throws<InvalidOperationException>(() => _ = header.StringValue);
        Assert.Throws<InvalidOperationException>(() => _ = header.BoolValue);
        Assert.Throws<InvalidOperationException>(() => _ = header.UuidValue);
        Assert.Throws<InvalidOperationException>(() => _ = EventStreamHeader.FromString("s", "x").IntegerValue);
    }

    private static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}
