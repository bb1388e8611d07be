using System.Buffers;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>The hot paths allocate nothing once warm: decoding, reading headers, encoding into a reused writer.</summary>
[NonParallelizable]
public class AllocationTests
{
    private const int Loops = 10_000;

    private static readonly byte[] Payload = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

    [Test]
    public void Decode_SingleSegmentFrameWithSixHeaders_ReadingIntsAndComparingStrings_AllocatesNothing()
    {
        var bytes = FrameEncoder.Encode(RpcHeaders6(streamId: 42), Payload);
        using var decoder = new FrameDecoder();

        long checksum = DecodeAndRead(decoder, bytes, 100);
        var before = GC.GetAllocatedBytesForCurrentThread();
        checksum += DecodeAndRead(decoder, bytes, Loops);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
        Assert.That(checksum, Is.EqualTo((Loops + 100) * (42L + 2 + 256 + 3)), "every loop read the same values");
    }

    [Test]
    public void Decode_FrameSplitAcrossSegments_AfterWarmUp_AllocatesNothing()
    {
        var bytes = FrameEncoder.Encode(RpcHeaders6(streamId: 42), Payload);
        var sequence = TestSequences.Chunked(bytes, 50);
        using var decoder = new FrameDecoder();

        long checksum = DecodeSegmented(decoder, sequence, 100);
        var before = GC.GetAllocatedBytesForCurrentThread();
        checksum += DecodeSegmented(decoder, sequence, Loops);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
        Assert.That(checksum, Is.EqualTo((Loops + 100) * (long)bytes.Length));
    }

    [Test]
    public void RpcMessageTryParse_OnAValidFrame_AllocatesNothing()
    {
        var bytes = FrameEncoder.Encode(RpcHeaders6(streamId: 9), Payload);
        using var decoder = new FrameDecoder();

        long sum = ParseRpc(decoder, bytes, 100);
        var before = GC.GetAllocatedBytesForCurrentThread();
        sum += ParseRpc(decoder, bytes, Loops);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
        Assert.That(sum, Is.EqualTo((Loops + 100) * 9L));
    }

    [Test]
    public void Encode_IntoAReusedArrayBufferWriter_WithHeadersFromConstantStrings_AllocatesNothing()
    {
        var writer = new ArrayBufferWriter<byte>(4096);
        var headers = new EventStreamHeader[6];

        long written = EncodeMany(writer, headers, 100);
        var expected = writer.WrittenSpan.ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        written += EncodeMany(writer, headers, Loops);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(allocated, Is.Zero);
        Assert.That(writer.WrittenSpan.ToArray(), Is.EqualTo(expected), "the last frame is the same as after warm-up");
        Assert.That(EventStreamMessage.Decode(expected).Payload.ToArray(), Is.EqualTo(Payload));
        Assert.That(written, Is.EqualTo((Loops + 100) * (long)expected.Length));
    }

    private static EventStreamHeader[] RpcHeaders6(int streamId) =>
    [
        EventStreamHeader.FromInt32(":message-type", 0),
        EventStreamHeader.FromInt32(":message-flags", 2),
        EventStreamHeader.FromInt32(":stream-id", streamId),
        EventStreamHeader.FromString("operation", "aws.greengrass#SubscribeToTopic"),
        EventStreamHeader.FromString(":content-type", "application/json"),
        EventStreamHeader.FromString("service-model-type", "aws.greengrass#SubscribeToTopicRequest"),
    ];

    private static long DecodeAndRead(FrameDecoder decoder, byte[] bytes, int loops)
    {
        long sum = 0;
        for (var i = 0; i < loops; i++)
        {
            var sequence = new ReadOnlySequence<byte>(bytes);
            if (!decoder.TryDecode(ref sequence, out var frame))
            {
                throw new AssertionException("the frame did not decode");
            }

            foreach (var header in frame.Headers)
            {
                if (header.NameIs(":stream-id"u8))
                {
                    sum += header.GetInt32();
                }
                else if (header.NameIsIgnoreCase(":MESSAGE-FLAGS"u8))
                {
                    sum += header.GetInteger();
                }
                else if (header.NameIs(":content-type"u8) && header.StringValueIs("application/json"u8))
                {
                    sum += 3;
                }
            }

            sum += frame.Payload.Length;
        }

        return sum;
    }

    private static long DecodeSegmented(FrameDecoder decoder, ReadOnlySequence<byte> original, int loops)
    {
        long sum = 0;
        for (var i = 0; i < loops; i++)
        {
            var sequence = original;
            if (!decoder.TryDecode(ref sequence, out var frame))
            {
                throw new AssertionException("the frame did not decode");
            }

            sum += frame.TotalLength;
        }

        return sum;
    }

    private static long ParseRpc(FrameDecoder decoder, byte[] bytes, int loops)
    {
        long sum = 0;
        for (var i = 0; i < loops; i++)
        {
            var sequence = new ReadOnlySequence<byte>(bytes);
            if (!decoder.TryDecode(ref sequence, out var frame) || !RpcMessage.TryParse(frame, out var message, out _))
            {
                throw new AssertionException("the frame did not parse");
            }

            sum += message.StreamId;
        }

        return sum;
    }

    private static long EncodeMany(ArrayBufferWriter<byte> writer, EventStreamHeader[] headers, int loops)
    {
        long sum = 0;
        for (var i = 0; i < loops; i++)
        {
            writer.ResetWrittenCount();
            headers[0] = EventStreamHeader.FromInt32(":message-type", 0);
            headers[1] = EventStreamHeader.FromInt32(":message-flags", 0);
            headers[2] = EventStreamHeader.FromInt32(":stream-id", 1);
            headers[3] = EventStreamHeader.FromString("operation", "aws.greengrass#PublishToTopic");
            headers[4] = EventStreamHeader.FromString(":content-type", "application/json");
            headers[5] = EventStreamHeader.FromUuid("request-id", new Guid(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11));
            sum += FrameEncoder.Write(writer, headers, Payload);
        }

        return sum;
    }
}
