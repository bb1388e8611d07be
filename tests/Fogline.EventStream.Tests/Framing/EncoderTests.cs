using System.Buffers;
using System.Text;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>What the encoder refuses to write, and that every way of writing gives the same bytes.</summary>
public class EncoderTests
{
    [Test]
    public void Encode_WhenANameIs256Bytes_ThrowsInvalidHeaderName()
    {
        var header = EventStreamHeader.FromBool(new string('n', 256), true);
        var writer = new ArrayBufferWriter<byte>();

        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Write(writer, [header], default))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeaderName));
        Assert.That(writer.WrittenCount, Is.Zero, "nothing is written for a rejected frame");
    }

    [Test]
    public void Encode_WhenANameIs128TwoByteCharacters_CountsUtf8BytesAndThrowsInvalidHeaderName()
    {
        // 128 characters, 256 bytes of UTF-8.
        var header = EventStreamHeader.FromBool(new string('é', 128), true);

        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Encode([header], default))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeaderName));
    }

    [Test]
    public void Encode_WhenANameIsEmpty_ThrowsInvalidHeaderName()
    {
        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Encode([EventStreamHeader.FromInt32(string.Empty, 1)], default))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeaderName));
    }

    [Test]
    public void Encode_WhenAStringValueIs32768Bytes_ThrowsInvalidHeaderValueLength()
    {
        var header = EventStreamHeader.FromString("s", new string('v', EventStreamLimits.MaxHeaderValueLengthOfFormat + 1));
        var writer = new ArrayBufferWriter<byte>();

        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Write(writer, [header], default))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeaderValueLength));
        Assert.That(writer.WrittenCount, Is.Zero);
    }

    [Test]
    public void Encode_WhenAByteBufferValueIs32768Bytes_ThrowsInvalidHeaderValueLength()
    {
        var header = EventStreamHeader.FromBytes("b", new byte[EventStreamLimits.MaxHeaderValueLengthOfFormat + 1]);

        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Encode([header], default))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeaderValueLength));
    }

    [Test]
    public void Encode_WhenAStringOf32767CharactersIsLongerInUtf8_ThrowsInvalidHeaderValueLength()
    {
        // 10923 three-byte characters are 32769 bytes.
        var header = EventStreamHeader.FromString("s", new string('€', 10923));

        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Encode([header], default))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeaderValueLength));
    }

    [Test]
    public void Encode_WhenTheFrameIsOverTheMessageLimit_ThrowsMessageTooLong()
    {
        var limits = new EventStreamLimits { MaxMessageLength = 64 };
        var writer = new ArrayBufferWriter<byte>();

        // 16 bytes of prelude and trailer + 49 of payload = 65.
        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Write(writer, [], new byte[49], limits))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.MessageTooLong));
        Assert.That(writer.WrittenCount, Is.Zero);
    }

    [Test]
    public void Encode_WhenTheFrameIsExactlyAtTheMessageLimit_Succeeds()
    {
        var limits = new EventStreamLimits { MaxMessageLength = 64 };

        var bytes = FrameEncoder.Encode([], new byte[48], limits);

        Assert.That(bytes.Length, Is.EqualTo(64));
        Assert.That(EventStreamMessage.Decode(bytes, limits).Payload.Length, Is.EqualTo(48));
    }

    [Test]
    public void Encode_WhenHeadersAreOverTheHeadersLimit_ThrowsInvalidHeadersLength()
    {
        var limits = new EventStreamLimits { MaxHeadersLength = 10 };

        // 1 + 5 + 1 + 4 = 11 bytes of headers.
        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Encode([EventStreamHeader.FromInt32("abcde", 1)], default, limits))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.InvalidHeadersLength));
    }

    [Test]
    public void Encode_WithAMultiSegmentPayload_OverTheLimit_ThrowsMessageTooLong()
    {
        var limits = new EventStreamLimits { MaxMessageLength = 100 };
        var payload = TestSequences.Chunked(new byte[100], 30);

        var ex = Assert.Throws<EventStreamFormatException>(() => FrameEncoder.Write(new ArrayBufferWriter<byte>(), [], payload, limits))!;

        Assert.That(ex.Reason, Is.EqualTo(FormatErrorReason.MessageTooLong));
    }

    [Test]
    public void Write_WhenTheWriterHandsOutSmallBuffers_WritesTheSameBytesAsEncode()
    {
        var headers = new[]
        {
            EventStreamHeader.FromInt32(":message-type", 0),
            EventStreamHeader.FromString("operation", "aws.greengrass#PublishToTopic"),
            EventStreamHeader.FromUuid("id", Guid.NewGuid()),
            EventStreamHeader.FromBool("ok", true),
        };
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var expected = FrameEncoder.Encode(headers, payload);
        var writer = new ChunkedBufferWriter(64);

        var written = FrameEncoder.Write(writer, headers, payload);

        Assert.That(written, Is.EqualTo(expected.Length));
        Assert.That(writer.WrittenBytes, Is.EqualTo(expected));
        Assert.That(writer.GetSpanCalls, Is.GreaterThan(2), "the piece-by-piece path was taken");
    }

    [TestCase(1)]
    [TestCase(7)]
    [TestCase(4096)]
    public void Write_WithAMultiSegmentPayload_WritesTheSameBytesAsASingleSpan(int segmentLength)
    {
        var headers = TestFrames.EveryHeaderType();
        var payload = Enumerable.Range(0, 10_000).Select(i => (byte)(i * 31)).ToArray();
        var expected = FrameEncoder.Encode(headers, payload);

        var writer = new ArrayBufferWriter<byte>();
        var written = FrameEncoder.Write(writer, headers, TestSequences.Chunked(payload, segmentLength));
        var chunked = new ChunkedBufferWriter(100);
        FrameEncoder.Write(chunked, headers, TestSequences.Chunked(payload, segmentLength));

        Assert.That(written, Is.EqualTo(expected.Length));
        Assert.That(writer.WrittenSpan.ToArray(), Is.EqualTo(expected));
        Assert.That(chunked.WrittenBytes, Is.EqualTo(expected));
    }

    [Test]
    public void GetFrameLength_MatchesTheEncodedLength()
    {
        var headers = TestFrames.EveryHeaderType();

        var bytes = FrameEncoder.Encode(headers, new byte[77]);

        Assert.That(FrameEncoder.GetFrameLength(headers, 77), Is.EqualTo(bytes.Length));
        Assert.That(FrameEncoder.GetHeadersLength(headers), Is.EqualTo(headers.Sum(h => h.EncodedLength)));
    }

    [Test]
    public void Encode_NameWithLoneSurrogate_IsWrittenAsValidUtf8()
    {
        // UTF-16 that is not valid Unicode: the encoder substitutes U+FFFD, so the decoder can read the frame back.
        var header = EventStreamHeader.FromString("s\uD800", "v\uDC00");

        var decoded = EventStreamMessage.Decode(FrameEncoder.Encode([header], default));

        Assert.That(decoded.Headers[0].Name, Is.EqualTo("s\uFFFD"));
        Assert.That(decoded.Headers[0].StringValue, Is.EqualTo("v\uFFFD"));
        Assert.That(Encoding.UTF8.GetByteCount(decoded.Headers[0].Name), Is.EqualTo(4));
    }
}
