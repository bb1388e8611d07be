using System.Buffers;
using System.Buffers.Binary;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>
/// Every malformation the decoder must reject, through each of its entry points, with the matching reason and the
/// offset of the fault. The frames are built with valid CRCs so that the checks behind the checksums are reached.
/// </summary>
[TestFixture(DecodePath.SingleSegment)]
[TestFixture(DecodePath.MultiSegment)]
[TestFixture(DecodePath.Span)]
public class DecoderErrorTests(DecodePath path)
{
    [Test]
    public void Decode_WhenTotalLengthIsBelow16_ThrowsMessageTooShort([Values(0u, 1u, 12u, 15u)] uint total)
    {
        // Only the prelude is there: the decoder must not wait for more bytes of a length it cannot accept.
        var ex = DecodeFails(TestFrames.Prelude(total, 0));

        AssertFault(ex, FormatErrorReason.MessageTooShort, 0);
    }

    [Test]
    public void Decode_WhenTotalLengthIsAboveTheLimit_ThrowsMessageTooLong()
    {
        var limits = new EventStreamLimits { MaxMessageLength = 64 };
        var frame = FrameEncoder.Encode([], new byte[49]);

        var ex = DecodeFails(frame, limits);

        AssertFault(ex, FormatErrorReason.MessageTooLong, 0);
    }

    [TestCase(24u * 1024 * 1024 + 1)]
    [TestCase(uint.MaxValue)]
    [TestCase(0x80000000u)]
    public void Decode_WhenOnlyAPreludeDeclaresAHugeLength_ThrowsMessageTooLongAtOnce(uint total)
    {
        var ex = DecodeFails(TestFrames.Prelude(total, 0));

        AssertFault(ex, FormatErrorReason.MessageTooLong, 0);
    }

    [TestCase(20u, 5u)]
    [TestCase(16u, 1u)]
    [TestCase(100u, 85u)]
    [TestCase(100u, uint.MaxValue)]
    public void Decode_WhenHeadersLengthDoesNotFitTheMessage_ThrowsInvalidHeadersLength(uint total, uint headers)
    {
        var ex = DecodeFails(TestFrames.Prelude(total, headers));

        AssertFault(ex, FormatErrorReason.InvalidHeadersLength, 4);
    }

    [Test]
    public void Decode_WhenHeadersLengthIsAboveTheHeadersLimit_ThrowsInvalidHeadersLength()
    {
        var limits = new EventStreamLimits { MaxHeadersLength = 8 };
        var frame = FrameEncoder.Encode([EventStreamHeader.FromInt32("abcd", 1)], default);

        var ex = DecodeFails(frame, limits);

        AssertFault(ex, FormatErrorReason.InvalidHeadersLength, 4);
    }

    [Test]
    public void Decode_WhenThePreludeCrcIsWrong_ThrowsPreludeChecksumMismatch()
    {
        var frame = FrameEncoder.Encode([EventStreamHeader.FromInt32("x", 1)], "p"u8);
        frame[9] ^= 1;

        var ex = DecodeFails(frame);

        AssertFault(ex, FormatErrorReason.PreludeChecksumMismatch, 8);
    }

    [Test]
    public void Decode_WhenAPayloadByteIsFlipped_ThrowsMessageChecksumMismatch()
    {
        var frame = FrameEncoder.Encode([EventStreamHeader.FromInt32("x", 1)], "payload"u8);
        frame[^6] ^= 0x40;

        var ex = DecodeFails(frame);

        AssertFault(ex, FormatErrorReason.MessageChecksumMismatch, frame.Length - 4);
    }

    [TestCase((byte)10)]
    [TestCase((byte)11)]
    [TestCase((byte)0xFF)]
    public void Decode_WhenAHeaderTypeIsUnknown_ThrowsUnknownHeaderType(byte type)
    {
        // "x" then type: the type byte is at 12 (block) + 1 (name length) + 1 (name).
        var frame = TestFrames.WithRawHeaderBlock(new HeaderBlockBuilder().Name("x").Raw(type, 0, 0, 0, 0).ToArray());

        var ex = DecodeFails(frame);

        AssertFault(ex, FormatErrorReason.UnknownHeaderType, 14);
    }

    [Test]
    public void Decode_WhenAnUnknownTypeFollowsAValidHeader_ReportsTheOffsetOfTheSecondHeader()
    {
        var block = new HeaderBlockBuilder().Int32("first", 1).Name("y").Raw(10).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block));

        // first header: 1 + 5 + 1 + 4 = 11 bytes; then 1 + 1 name bytes; type at 12 + 11 + 2.
        AssertFault(ex, FormatErrorReason.UnknownHeaderType, 25);
    }

    [Test]
    public void Decode_WhenAHeaderNameIsEmpty_ThrowsInvalidHeaderName()
    {
        var block = new HeaderBlockBuilder().Int32("ok", 1).Raw(0, (byte)HeaderType.BoolTrue).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block));

        // The second header starts after 1 + 2 + 1 + 4 = 8 bytes.
        AssertFault(ex, FormatErrorReason.InvalidHeaderName, 20);
    }

    [Test]
    public void Decode_WhenTheNameRunsPastTheBlock_ThrowsHeaderTruncated()
    {
        // Name length 10 but only 3 bytes follow in the block.
        var frame = TestFrames.WithRawHeaderBlock([10, (byte)'a', (byte)'b', (byte)'c'], "payload after the block"u8);

        var ex = DecodeFails(frame);

        AssertFault(ex, FormatErrorReason.HeaderTruncated, 12);
    }

    [Test]
    public void Decode_WhenTheTypeByteIsMissing_ThrowsHeaderTruncated()
    {
        var frame = TestFrames.WithRawHeaderBlock(new HeaderBlockBuilder().Name("abc").ToArray());

        var ex = DecodeFails(frame);

        AssertFault(ex, FormatErrorReason.HeaderTruncated, 12);
    }

    [TestCase(HeaderType.Byte, 0)]
    [TestCase(HeaderType.Int16, 1)]
    [TestCase(HeaderType.Int32, 3)]
    [TestCase(HeaderType.Int64, 7)]
    [TestCase(HeaderType.Timestamp, 0)]
    [TestCase(HeaderType.Uuid, 15)]
    public void Decode_WhenAFixedSizeValueIsCutShort_ThrowsHeaderTruncated(HeaderType type, int valueBytes)
    {
        var block = new HeaderBlockBuilder().Name("v").Type(type).Raw(new byte[valueBytes]).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block, "payload"u8));

        // The value starts at 12 + 1 + 1 + 1.
        AssertFault(ex, FormatErrorReason.HeaderTruncated, 15);
    }

    [TestCase(HeaderType.String)]
    [TestCase(HeaderType.ByteBuffer)]
    public void Decode_WhenHeaderValueRunsPastTheBlock_ThrowsHeaderTruncated(HeaderType type)
    {
        // Declares 10 value bytes, 4 present; the payload follows the block, so the bytes exist in the frame.
        var block = new HeaderBlockBuilder().Variable("s", type, 10, "abcd"u8).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block, "0123456789"u8));

        // The length prefix is at 12 + 1 + 1 + 1.
        AssertFault(ex, FormatErrorReason.HeaderTruncated, 15);
    }

    [TestCase(HeaderType.String)]
    [TestCase(HeaderType.ByteBuffer)]
    public void Decode_WhenTheValueLengthPrefixIsCutShort_ThrowsHeaderTruncated(HeaderType type)
    {
        var block = new HeaderBlockBuilder().Name("s").Type(type).Raw(0).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block, "xx"u8));

        AssertFault(ex, FormatErrorReason.HeaderTruncated, 15);
    }

    [TestCase(HeaderType.String)]
    [TestCase(HeaderType.ByteBuffer)]
    public void Decode_WhenAValueDeclaresMoreThan32767Bytes_ThrowsInvalidHeaderValueLength(HeaderType type)
    {
        var block = new HeaderBlockBuilder().Variable("s", type, 0x8000, new byte[0x8000]).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block));

        AssertFault(ex, FormatErrorReason.InvalidHeaderValueLength, 15);
    }

    [Test]
    public void Decode_WhenThereAreMoreHeadersThanTheLimit_ThrowsTooManyHeaders()
    {
        var limits = new EventStreamLimits { MaxHeaderCount = 3 };
        var headers = Enumerable.Range(0, 4).Select(i => EventStreamHeader.FromBool("h" + i, true)).ToArray();

        var ex = DecodeFails(FrameEncoder.Encode(headers, default), limits);

        // Three headers of 1 + 2 + 1 bytes, then the fourth.
        AssertFault(ex, FormatErrorReason.TooManyHeaders, 24);
    }

    [Test]
    public void Decode_WhenThereAre1025Headers_ThrowsTooManyHeadersByDefault()
    {
        var headers = Enumerable.Range(0, 1025).Select(i => EventStreamHeader.FromBool("h", true)).ToArray();

        var ex = DecodeFails(FrameEncoder.Encode(headers, default));

        // Each header is 1 + 1 + 1 bytes; the 1025th starts after 1024 of them.
        AssertFault(ex, FormatErrorReason.TooManyHeaders, 12 + (1024 * 3));
    }

    [Test]
    public void Decode_WhenThereAre1024Headers_Succeeds()
    {
        var headers = Enumerable.Range(0, 1024).Select(i => EventStreamHeader.FromBool("h", true)).ToArray();

        Assert.That(Decodes(FrameEncoder.Encode(headers, default)), Is.True);
    }

    [TestCase(new byte[] { 0xFF })]
    [TestCase(new byte[] { (byte)'a', 0xC3 })]
    [TestCase(new byte[] { 0xED, 0xA0, 0x80 })]
    [TestCase(new byte[] { 0xC0, 0x80 })]
    public void Decode_WhenANameIsNotValidUtf8_ThrowsInvalidUtf8(byte[] name)
    {
        var block = new HeaderBlockBuilder().Raw((byte)name.Length).Raw(name).Type(HeaderType.BoolTrue).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block));

        AssertFault(ex, FormatErrorReason.InvalidUtf8, 13);
    }

    [Test]
    public void Decode_WhenAStringValueIsNotValidUtf8_ThrowsInvalidUtf8()
    {
        var block = new HeaderBlockBuilder().Variable("s", HeaderType.String, 3, [(byte)'o', (byte)'k', 0xFE]).ToArray();

        var ex = DecodeFails(TestFrames.WithRawHeaderBlock(block));

        AssertFault(ex, FormatErrorReason.InvalidUtf8, 17);
    }

    [Test]
    public void Decode_WhenAByteBufferIsNotValidUtf8_Succeeds()
    {
        var block = new HeaderBlockBuilder().Variable("b", HeaderType.ByteBuffer, 2, [0xFF, 0xFE]).ToArray();

        Assert.That(Decodes(TestFrames.WithRawHeaderBlock(block)), Is.True);
    }

    [Test]
    public void Decode_WhenAnEncodedHeaderIsCorruptedAndCrcsFixed_ReachesTheHeaderChecks()
    {
        // The helper in use: corrupt an encoder-made frame, then fix both CRCs.
        var frame = FrameEncoder.Encode([EventStreamHeader.FromInt32("abc", 5)], "payload"u8);
        frame[12 + 1 + 3] = 42;
        TestFrames.FixCrcs(frame);

        var ex = DecodeFails(frame);

        AssertFault(ex, FormatErrorReason.UnknownHeaderType, 16);
    }

    private static void AssertFault(EventStreamFormatException ex, FormatErrorReason reason, long offset)
    {
        Assert.That(ex.Reason, Is.EqualTo(reason), ex.Message);
        Assert.That(ex.Offset, Is.GreaterThanOrEqualTo(0));
        Assert.That(ex.Offset, Is.EqualTo(offset), ex.Message);
        Assert.That(ex.Message, Does.Contain($"at byte {offset} of the frame"));
    }

    private EventStreamFormatException DecodeFails(byte[] bytes, EventStreamLimits? limits = null) =>
        Assert.Throws<EventStreamFormatException>(() => Decodes(bytes, limits))!;

    private bool Decodes(byte[] bytes, EventStreamLimits? limits = null)
    {
        using var decoder = new FrameDecoder(limits);
        switch (path)
        {
            case DecodePath.Span:
                return decoder.TryDecode(bytes, out _) > 0;
            case DecodePath.SingleSegment:
                {
                    var sequence = new ReadOnlySequence<byte>(bytes);
                    return decoder.TryDecode(ref sequence, out _);
                }

            default:
                {
                    var sequence = TestSequences.Chunked(bytes, 5);
                    return decoder.TryDecode(ref sequence, out _);
                }
        }
    }
}

/// <summary>Which entry point of the decoder a test goes through.</summary>
public enum DecodePath
{
    /// <summary><c>TryDecode(ref ReadOnlySequence)</c> over one array.</summary>
    SingleSegment,

    /// <summary><c>TryDecode(ref ReadOnlySequence)</c> over 5-byte segments.</summary>
    MultiSegment,

    /// <summary><c>TryDecode(ReadOnlySpan)</c>.</summary>
    Span,
}
