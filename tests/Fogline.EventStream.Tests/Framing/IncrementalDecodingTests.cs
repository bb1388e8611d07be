using System.Buffers;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>
/// Frames arriving in arbitrary pieces decode to exactly the frames that were sent, and "need more data" never
/// consumes anything.
/// </summary>
public class IncrementalDecodingTests
{
    private static readonly EventStreamMessage[] Messages =
    [
        new([], default),
        new([EventStreamHeader.FromInt32(":message-type", 4)], "{\"authToken\":\"x\"}"u8.ToArray()),
        new(TestFrames.EveryHeaderType(), Enumerable.Range(0, 300).Select(i => (byte)i).ToArray()),
        new([EventStreamHeader.FromString("s", string.Empty)], default),
        new([], new byte[] { 42 }),
        new([EventStreamHeader.FromBytes("big", new byte[200]), EventStreamHeader.FromBool("t", true)], new byte[77]),
        new([EventStreamHeader.FromUuid("u", Guid.Parse("0f0e0d0c-0b0a-0908-0706-050403020100"))], "last"u8.ToArray()),
    ];

    private static readonly byte[][] Encoded = [.. Messages.Select(m => m.Encode())];

    private static readonly byte[] Stream = TestFrames.Concat(Encoded);

    [Test]
    public void Decode_ConcatenatedFrames_SplitInTwoAtEveryOffset_GivesTheSameFrames()
    {
        for (var cut = 0; cut <= Stream.Length; cut++)
        {
            var decoded = DecodeInPieces(Stream, [cut]);

            AssertSameMessages(decoded, $"cut at {cut}");
        }
    }

    [Test]
    public void Decode_ConcatenatedFrames_SplitInThreeAtRandomOffsets_GivesTheSameFrames()
    {
        var random = new Random(20240611);
        for (var i = 0; i < 3000; i++)
        {
            var a = random.Next(0, Stream.Length + 1);
            var b = random.Next(0, Stream.Length + 1);
            var decoded = DecodeInPieces(Stream, [Math.Min(a, b), Math.Max(a, b)]);

            AssertSameMessages(decoded, $"cuts at {Math.Min(a, b)} and {Math.Max(a, b)}");
        }
    }

    [Test]
    public void Decode_ConcatenatedFrames_ArrivingInRandomChunks_GivesTheSameFrames()
    {
        var random = new Random(7);
        for (var run = 0; run < 300; run++)
        {
            var cuts = new List<int>();
            var position = 0;
            while (true)
            {
                position += random.Next(1, 40);
                if (position >= Stream.Length)
                {
                    break;
                }

                cuts.Add(position);
            }

            AssertSameMessages(DecodeInPieces(Stream, cuts), $"run {run}");
        }
    }

    [Test]
    public void Decode_ConcatenatedFrames_InOneMultiSegmentSequence_GivesTheSameFramesForEverySegmentSize()
    {
        using var decoder = new FrameDecoder();
        for (var segment = 1; segment <= Stream.Length; segment++)
        {
            var sequence = TestSequences.Chunked(Stream, segment);
            var decoded = new List<EventStreamMessage>();
            while (decoder.TryDecode(ref sequence, out var frame))
            {
                decoded.Add(EventStreamMessage.FromFrame(frame));
            }

            Assert.That(sequence.Length, Is.Zero, $"segments of {segment}: everything consumed");
            AssertSameMessages(decoded, $"segments of {segment}");
        }
    }

    [Test]
    public void Decode_WithEmptySegmentsAnywhere_GivesTheSameFrames()
    {
        var pieces = new List<ReadOnlyMemory<byte>> { ReadOnlyMemory<byte>.Empty };
        for (var i = 0; i < Stream.Length; i += 3)
        {
            pieces.Add(Stream.AsMemory(i, Math.Min(3, Stream.Length - i)));
            pieces.Add(ReadOnlyMemory<byte>.Empty);
        }

        var sequence = TestSequences.FromSegments([.. pieces]);
        using var decoder = new FrameDecoder();
        var decoded = new List<EventStreamMessage>();
        while (decoder.TryDecode(ref sequence, out var frame))
        {
            decoded.Add(EventStreamMessage.FromFrame(frame));
        }

        AssertSameMessages(decoded, "with empty segments");
    }

    [Test]
    public void TryDecode_NeedMoreData_LeavesTheBufferUntouched([Values(1, 5, 1000)] int segmentLength)
    {
        using var decoder = new FrameDecoder();
        foreach (var frame in Encoded)
        {
            for (var length = 0; length < frame.Length; length++)
            {
                var partial = TestSequences.Chunked(frame[..length], segmentLength);
                var before = partial;

                var decoded = decoder.TryDecode(ref partial, out _);

                Assert.That(decoded, Is.False, $"{length} of {frame.Length} bytes");
                Assert.That(partial.Start, Is.EqualTo(before.Start), $"{length} of {frame.Length} bytes: start moved");
                Assert.That(partial.End, Is.EqualTo(before.End), $"{length} of {frame.Length} bytes: end moved");
                Assert.That(partial.Length, Is.EqualTo(length));
            }
        }
    }

    [Test]
    public void TryDecodeSpan_NeedMoreData_ReturnsZero()
    {
        using var decoder = new FrameDecoder();
        foreach (var frame in Encoded)
        {
            for (var length = 0; length < frame.Length; length++)
            {
                Assert.That(decoder.TryDecode(frame.AsSpan(0, length), out _), Is.Zero, $"{length} of {frame.Length} bytes");
            }

            Assert.That(decoder.TryDecode(frame, out _), Is.EqualTo(frame.Length));
        }
    }

    [Test]
    public void TryDecode_Success_SlicesTheBufferPastExactlyOneFrame()
    {
        using var decoder = new FrameDecoder();
        var sequence = TestSequences.Chunked(Stream, 11);

        for (var i = 0; i < Encoded.Length; i++)
        {
            var before = sequence.Length;
            Assert.That(decoder.TryDecode(ref sequence, out var frame), Is.True);
            Assert.That(frame.TotalLength, Is.EqualTo(Encoded[i].Length));
            Assert.That(frame.Bytes.ToArray(), Is.EqualTo(Encoded[i]));
            Assert.That(before - sequence.Length, Is.EqualTo(Encoded[i].Length));
        }

        Assert.That(decoder.TryDecode(ref sequence, out _), Is.False);
    }

    [Test]
    public void Decode_AFrameLargerThanTheFirstScratchBuffer_AcrossSegments_GivesTheSameFrame()
    {
        var small = FrameEncoder.Encode([EventStreamHeader.FromInt32("a", 1)], new byte[100]);
        var large = FrameEncoder.Encode([EventStreamHeader.FromInt32("b", 2)], Enumerable.Range(0, 100_000).Select(i => (byte)(i % 251)).ToArray());
        var all = TestFrames.Concat([small, large, small]);
        using var decoder = new FrameDecoder();
        var sequence = TestSequences.Chunked(all, 4000);

        var decoded = new List<byte[]>();
        while (decoder.TryDecode(ref sequence, out var frame))
        {
            decoded.Add(frame.Bytes.ToArray());
        }

        Assert.That(decoded, Is.EqualTo(new[] { small, large, small }));
    }

    /// <summary>
    /// Decodes <paramref name="bytes"/> as a pipe would present them: the pieces arrive one after another, and each time
    /// the decoder sees what it left unconsumed (one segment) followed by the new piece (another segment).
    /// </summary>
    private static List<EventStreamMessage> DecodeInPieces(byte[] bytes, IReadOnlyList<int> cuts)
    {
        using var decoder = new FrameDecoder();
        var decoded = new List<EventStreamMessage>();
        var consumed = 0;
        var previousCut = 0;
        foreach (var cut in cuts.Append(bytes.Length))
        {
            var buffer = TestSequences.FromSegments(bytes.AsMemory(consumed, previousCut - consumed), bytes.AsMemory(previousCut, cut - previousCut));
            var length = buffer.Length;
            while (decoder.TryDecode(ref buffer, out var frame))
            {
                decoded.Add(EventStreamMessage.FromFrame(frame));
            }

            consumed += (int)(length - buffer.Length);
            previousCut = cut;
        }

        Assert.That(consumed, Is.EqualTo(bytes.Length), "every byte consumed at the end");
        return decoded;
    }

    private static void AssertSameMessages(List<EventStreamMessage> decoded, string what)
    {
        // A cheap comparison first (this runs thousands of times); the detailed assertions only when it differs.
        if (decoded.Count == Messages.Length && decoded.Select((m, i) => m.Headers.SequenceEqual(Messages[i].Headers) && m.Payload.Span.SequenceEqual(Messages[i].Payload.Span)).All(same => same))
        {
            return;
        }

        Assert.That(decoded, Has.Count.EqualTo(Messages.Length), what);
        for (var i = 0; i < Messages.Length; i++)
        {
            Assert.That(decoded[i].Headers, Is.EqualTo(Messages[i].Headers), $"{what}: headers of frame {i}");
            Assert.That(decoded[i].Payload.ToArray(), Is.EqualTo(Messages[i].Payload.ToArray()), $"{what}: payload of frame {i}");
        }
    }
}
