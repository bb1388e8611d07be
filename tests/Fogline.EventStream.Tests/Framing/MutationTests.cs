using System.Buffers;
using System.Buffers.Binary;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Tests.Infrastructure;

namespace Fogline.EventStream.Tests.Framing;

/// <summary>
/// Seeded random corruption of valid frames. Whatever the bytes, the decoder may only say "a frame", "need more data"
/// or throw <see cref="EventStreamFormatException"/>; its three entry points must agree; a frame it accepts must be
/// readable header by header and re-encode to the same bytes; and it must never allocate from a declared length.
/// </summary>
public class MutationTests
{
    private const int Iterations = 50_000;
    private const int Seed = 0x5EED;

    // The first iterations also pay for first-time work (exception machinery, pooled buffers); the per-iteration bound
    // applies after them. The whole-run bound covers them too.
    private const int WarmUp = 1000;

    // Per iteration: three decodes, up to three exceptions with their messages and stack traces, and for an accepted
    // frame an owned copy and its re-encoding (frames here are a few KiB at most). A decoder that allocated from a
    // declared length (up to 24 MiB here) would blow far past this.
    private const long MaxBytesPerIteration = 64 * 1024;

    // The whole run: a few KiB per iteration on average. 20 MB declared lengths are drawn thousands of times.
    private const long MaxBytesForTheRun = Iterations * 8L * 1024;

    // A header count limit that one base frame can be pushed past (see BaseFrames).
    private static readonly EventStreamLimits Limits = new() { MaxHeaderCount = 64 };

    [Test]
    public void Decode_TensOfThousandsOfRandomMutations_OnlyDecodesNeedsMoreDataOrThrowsFormatException_WithBoundedMemory()
    {
        var bases = BaseFrames().Select(m => new BaseFrame(m)).ToArray();
        var work = new byte[bases.Max(b => b.Bytes.Length)];
        var chain = new TestSequences.PrebuiltChain(work, 7);
        var random = new Random(Seed);
        var outcomes = new int[3];
        var reasons = new int[Enum.GetValues<FormatErrorReason>().Length];
        var mutationKinds = new int[6];
        string? failure = null;
        long maxPerIteration = 0;
        var maxIteration = -1;
        using var decoder = new FrameDecoder(Limits);

        var start = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Iterations && failure is null; i++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var source = bases[random.Next(bases.Length)];
            source.Bytes.CopyTo(work, 0);
            var length = source.Bytes.Length;
            var count = random.Next(1, 4);
            for (var m = 0; m < count; m++)
            {
                var kind = random.Next(6);
                mutationKinds[kind]++;
                length = Mutate(random, kind, work, length, source);
            }

            failure = DecodeEveryWay(decoder, work, length, chain, out var outcome, out var reason);
            if (failure is not null)
            {
                failure = $"iteration {i} (seed {Seed}), {length} bytes {Convert.ToHexString(work, 0, Math.Min(length, 256))}: {failure}";
                break;
            }

            outcomes[(int)outcome]++;
            if (outcome == Outcome.FormatError)
            {
                reasons[(int)reason]++;
            }

            var used = GC.GetAllocatedBytesForCurrentThread() - before;
            if (i >= WarmUp && used > maxPerIteration)
            {
                maxPerIteration = used;
                maxIteration = i;
            }
        }

        var total = GC.GetAllocatedBytesForCurrentThread() - start;
        var summary = $"decoded {outcomes[0]}, need more data {outcomes[1]}, format errors {outcomes[2]} "
            + $"({string.Join(", ", Enum.GetValues<FormatErrorReason>().Select(r => $"{r} {reasons[(int)r]}"))}); "
            + $"allocated {total:N0} bytes in all, at most {maxPerIteration:N0} in one iteration (#{maxIteration})";
        TestContext.Out.WriteLine(summary);

        Assert.That(failure, Is.Null);
        Assert.That(maxPerIteration, Is.LessThan(MaxBytesPerIteration), summary);
        Assert.That(total, Is.LessThan(MaxBytesForTheRun), summary);

        // The mutations must reach past the checksums, or the run proves little.
        Assert.That(outcomes, Has.All.GreaterThan(100), summary);
        foreach (var expected in new[]
        {
            FormatErrorReason.PreludeChecksumMismatch, FormatErrorReason.MessageChecksumMismatch, FormatErrorReason.MessageTooShort,
            FormatErrorReason.MessageTooLong, FormatErrorReason.InvalidHeadersLength, FormatErrorReason.InvalidHeaderName,
            FormatErrorReason.UnknownHeaderType, FormatErrorReason.InvalidHeaderValueLength, FormatErrorReason.HeaderTruncated,
            FormatErrorReason.TooManyHeaders, FormatErrorReason.InvalidUtf8,
        })
        {
            Assert.That(reasons[(int)expected], Is.GreaterThan(0), $"{expected} never hit; {summary}");
        }
    }

    [Test]
    public void TryDecode_WhenAValidPreludeDeclares20MB_WaitsForDataWithoutAllocatingIt()
    {
        const uint declared = 20 * 1024 * 1024;
        var prelude = TestFrames.Prelude(declared, 0);
        var body = new byte[1024 * 1024];
        var pieces = new List<ReadOnlyMemory<byte>> { prelude };
        for (var i = 0; i < body.Length; i += 64 * 1024)
        {
            pieces.Add(body.AsMemory(i, 64 * 1024));
        }

        var multi = TestSequences.FromSegments([.. pieces]);
        var single = new ReadOnlySequence<byte>(TestFrames.Concat([prelude, body]));
        var contiguous = single.ToArray();
        using var decoder = new FrameDecoder();

        var before = GC.GetAllocatedBytesForCurrentThread();
        var multiResult = decoder.TryDecode(ref multi, out _);
        var singleResult = decoder.TryDecode(ref single, out _);
        var spanResult = decoder.TryDecode(contiguous, out _);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(multiResult, Is.False);
        Assert.That(singleResult, Is.False);
        Assert.That(spanResult, Is.Zero);
        Assert.That(allocated, Is.LessThan(64 * 1024));
    }

    private enum Outcome
    {
        Decoded,
        NeedMoreData,
        FormatError,
    }

    private static IEnumerable<EventStreamMessage> BaseFrames()
    {
        yield return new EventStreamMessage(TestFrames.EveryHeaderType(), new byte[100]);
        yield return new EventStreamMessage(
            [
                EventStreamHeader.FromInt32(RpcHeaders.MessageType, 0),
                EventStreamHeader.FromInt32(RpcHeaders.MessageFlags, 2),
                EventStreamHeader.FromInt32(RpcHeaders.StreamId, 7),
                EventStreamHeader.FromString(RpcHeaders.Operation, "aws.greengrass#PublishToIoTCore"),
                EventStreamHeader.FromString(RpcHeaders.ContentType, RpcHeaders.ContentTypeJson),
                EventStreamHeader.FromString(RpcHeaders.ServiceModelType, "aws.greengrass#PublishToIoTCoreRequest"),
            ],
            "{\"topicName\":\"a/b\",\"qos\":\"1\",\"payload\":\"aGVsbG8=\"}"u8.ToArray());
        yield return new EventStreamMessage([], default);
        yield return new EventStreamMessage([.. Enumerable.Range(0, 60).Select(i => i % 2 == 0 ? EventStreamHeader.FromBool("b" + i, true) : EventStreamHeader.FromInt16("s" + i, (short)i))], "x"u8.ToArray());
        yield return new EventStreamMessage([EventStreamHeader.FromString("long", new string('é', 700)), EventStreamHeader.FromBytes("raw", new byte[500])], new byte[300]);

        // 40 headers, and a payload that is 30 more encoded headers: a headers length rewritten to cover the payload
        // gives 70 headers, over the limit of 64.
        var headersInPayload = TestFrames.Concat(Enumerable.Range(0, 30).Select(_ => new byte[] { 1, (byte)'p', (byte)HeaderType.BoolFalse }));
        yield return new EventStreamMessage([.. Enumerable.Range(0, 40).Select(_ => EventStreamHeader.FromBool("h", true))], headersInPayload);
        yield return new EventStreamMessage([EventStreamHeader.FromTimestampMilliseconds("t", 0), EventStreamHeader.FromUuid("u", Guid.AllBitsSet), EventStreamHeader.FromByte("y", -1)], default);
    }

    private static int Mutate(Random random, int kind, byte[] work, int length, BaseFrame source)
    {
        switch (kind)
        {
            case 0 when length > 0:
                work[random.Next(length)] ^= (byte)(1 << random.Next(8));
                return length;
            case 1 when length > 0:
                for (var n = random.Next(1, 5); n > 0; n--)
                {
                    work[random.Next(length)] = (byte)random.Next(256);
                }

                return length;
            case 2 when length > 0:
                return random.Next(length);
            case 3 when length >= EventStreamLimits.PreludeLength:
                {
                    // A bogus length the decoder will trust, because the prelude CRC is made to match.
                    var total = random.Next(8) switch
                    {
                        0 => (uint)random.Next(0, 17),
                        1 => (uint)Math.Max(0, length + random.Next(-8, 9)),
                        2 => 20u * 1024 * 1024,
                        3 => (uint)(24 * 1024 * 1024) + (uint)random.Next(0, 2),
                        4 => (uint)random.Next() | ((uint)random.Next(2) << 31),
                        5 => uint.MaxValue,
                        _ => (uint)random.Next(0, length + 1),
                    };
                    var headers = random.Next(5) switch
                    {
                        0 => 0u,
                        1 => BinaryPrimitives.ReadUInt32BigEndian(work.AsSpan(4)),
                        2 => (uint)random.Next(),
                        3 => total >= 16 ? total - 16 : 0,
                        _ => (uint)random.Next(0, (int)Math.Min(total + 1, int.MaxValue)),
                    };
                    BinaryPrimitives.WriteUInt32BigEndian(work, total);
                    BinaryPrimitives.WriteUInt32BigEndian(work.AsSpan(4), headers);
                    TestFrames.FixPreludeCrc(work);
                    if (random.Next(2) == 0)
                    {
                        FixMessageCrc(work, length);
                    }

                    return length;
                }

            case 4 when length >= EventStreamLimits.PreludeLength && source.Structure.Length > 0:
                {
                    // Rewrite a name length, type byte or value length prefix of the original layout, then fix the CRCs.
                    var (offset, what) = source.Structure[random.Next(source.Structure.Length)];
                    if (offset + 2 > length)
                    {
                        return length;
                    }

                    switch (what)
                    {
                        case Field.NameLength:
                            work[offset] = (byte)(random.Next(4) switch { 0 => 0, 1 => 255, 2 => work[offset] + random.Next(-2, 3), _ => random.Next(256) });
                            break;
                        case Field.Type:
                            work[offset] = (byte)(random.Next(4) == 0 ? random.Next(256) : random.Next(0, 12));
                            break;
                        default:
                            BinaryPrimitives.WriteUInt16BigEndian(work.AsSpan(offset), (ushort)(random.Next(6) switch
                            {
                                0 => 0,
                                1 => 0x7FFF,
                                2 => 0x8000,
                                3 => 0xFFFF,
                                4 => BinaryPrimitives.ReadUInt16BigEndian(work.AsSpan(offset)) + random.Next(-3, 4),
                                _ => random.Next(0, 64),
                            }));
                            break;
                    }

                    FixCrcs(work, length);
                    return length;
                }

            case 5 when length >= EventStreamLimits.MinimumMessageLength:
                {
                    // Random bytes inside the declared header block (or anywhere after the prelude), CRCs fixed.
                    var headersLength = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(work.AsSpan(4)), (uint)(length - EventStreamLimits.MinimumMessageLength));
                    var span = headersLength > 0 ? headersLength : length - EventStreamLimits.MinimumMessageLength;
                    if (span > 0)
                    {
                        for (var n = random.Next(1, 4); n > 0; n--)
                        {
                            work[EventStreamLimits.PreludeLength + random.Next(span)] = (byte)(random.Next(3) == 0 ? random.Next(0, 12) : random.Next(256));
                        }
                    }

                    FixCrcs(work, length);
                    return length;
                }

            default:
                return length;
        }
    }

    /// <summary>Fixes the prelude CRC and, when the declared total fits the bytes, the message CRC at the declared end.</summary>
    private static void FixCrcs(byte[] work, int length)
    {
        TestFrames.FixPreludeCrc(work);
        FixMessageCrc(work, length);
    }

    private static void FixMessageCrc(byte[] work, int length)
    {
        var total = BinaryPrimitives.ReadUInt32BigEndian(work);
        if (total >= EventStreamLimits.MinimumMessageLength && total <= length)
        {
            BinaryPrimitives.WriteUInt32BigEndian(work.AsSpan((int)total - 4), Crc32.Compute(work.AsSpan(0, (int)total - 4)));
        }
    }

    /// <summary>Decodes through the span, single-segment and multi-segment entry points; returns a failure description or null.</summary>
    private static string? DecodeEveryWay(FrameDecoder decoder, byte[] work, int length, TestSequences.PrebuiltChain chain, out Outcome outcome, out FormatErrorReason reason)
    {
        var spanResult = Run(decoder, work, length, chain, 0, out var spanReason, out var spanConsumed, out var spanFailure);
        if (spanFailure is not null)
        {
            outcome = default;
            reason = default;
            return "span: " + spanFailure;
        }

        for (var way = 1; way <= 2; way++)
        {
            var result = Run(decoder, work, length, chain, way, out var wayReason, out var consumed, out var failure);
            if (failure is not null)
            {
                outcome = default;
                reason = default;
                return (way == 1 ? "single segment: " : "multi segment: ") + failure;
            }

            if (result != spanResult || consumed != spanConsumed || (result == Outcome.FormatError && wayReason != spanReason))
            {
                outcome = default;
                reason = default;
                return $"the entry points disagree: span gave {spanResult}/{spanReason}/{spanConsumed}, way {way} gave {result}/{wayReason}/{consumed}";
            }
        }

        outcome = spanResult;
        reason = spanReason;
        return null;
    }

    private static Outcome Run(FrameDecoder decoder, byte[] work, int length, TestSequences.PrebuiltChain chain, int way, out FormatErrorReason reason, out int consumed, out string? failure)
    {
        reason = default;
        consumed = 0;
        failure = null;
        try
        {
            if (way == 0)
            {
                consumed = decoder.TryDecode(work.AsSpan(0, length), out var spanFrame);
                if (consumed == 0)
                {
                    return Outcome.NeedMoreData;
                }

                failure = CheckAcceptedFrame(spanFrame, work, consumed);
                return Outcome.Decoded;
            }

            var sequence = way == 1 ? new ReadOnlySequence<byte>(work, 0, length) : chain.Prefix(length);
            var before = sequence;
            var decoded = decoder.TryDecode(ref sequence, out var frame);
            consumed = (int)(before.Length - sequence.Length);
            if (!decoded)
            {
                if (!sequence.Start.Equals(before.Start) || sequence.Length != before.Length)
                {
                    failure = "need-more-data moved the buffer";
                }

                return Outcome.NeedMoreData;
            }

            failure = CheckAcceptedFrame(frame, work, consumed);
            return Outcome.Decoded;
        }
        catch (EventStreamFormatException ex)
        {
            reason = ex.Reason;
            if (ex.Offset < -1 || ex.Offset > length)
            {
                failure = $"offset {ex.Offset} out of range: {ex.Message}";
            }

            return Outcome.FormatError;
        }
        catch (Exception ex)
        {
            failure = $"{ex.GetType().Name} escaped: {ex}";
            return default;
        }
    }

    /// <summary>An accepted frame must be internally consistent, readable header by header, and re-encode identically.</summary>
    private static string? CheckAcceptedFrame(Frame frame, byte[] work, int consumed)
    {
        if (frame.TotalLength != consumed || !frame.Bytes.SequenceEqual(work.AsSpan(0, consumed)))
        {
            return "the frame is not the consumed bytes";
        }

        if (frame.HeaderBlock.Length + frame.Payload.Length + EventStreamLimits.MinimumMessageLength != frame.TotalLength)
        {
            return "header block and payload do not add up";
        }

        var headerBytes = 0;
        var count = 0;
        foreach (var header in frame.Headers)
        {
            count++;
            headerBytes += 2 + header.NameUtf8.Length + (HeaderBlock.FixedValueLength(header.Type) >= 0 ? 0 : 2) + header.ValueBytes.Length;
            _ = header.Type switch
            {
                HeaderType.BoolTrue or HeaderType.BoolFalse => header.GetBool() ? 1 : 0,
                HeaderType.Byte or HeaderType.Int16 or HeaderType.Int32 or HeaderType.Int64 or HeaderType.Timestamp => header.GetInteger(),
                HeaderType.Uuid => header.GetUuid().GetHashCode(),
                HeaderType.String => header.StringValueIs("x"u8) ? 1 : header.ValueBytes.Length,
                HeaderType.ByteBuffer => header.ValueBytes.Length,
                _ => throw new InvalidOperationException($"enumerated a header of unknown type {header.Type}"),
            };
        }

        if (headerBytes != frame.HeadersLength)
        {
            return $"the enumerated headers cover {headerBytes} bytes of a {frame.HeadersLength}-byte block";
        }

        _ = RpcMessage.TryParse(frame, out _, out _);
        var copy = EventStreamMessage.FromFrame(frame);
        if (copy.Headers.Count != count || count > Limits.MaxHeaderCount)
        {
            return $"the owned copy has {copy.Headers.Count} headers, the frame {count} (limit {Limits.MaxHeaderCount})";
        }

        var encoded = copy.Encode(Limits);
        return encoded.AsSpan().SequenceEqual(frame.Bytes) ? null : "the accepted frame does not re-encode to the same bytes";
    }

    private enum Field
    {
        NameLength,
        Type,
        ValueLength,
    }

    private sealed class BaseFrame
    {
        public BaseFrame(EventStreamMessage message)
        {
            Bytes = message.Encode();

            // The offsets of the structural bytes of each header, from the encoder's own layout.
            var structure = new List<(int, Field)>();
            var position = EventStreamLimits.PreludeLength;
            foreach (var header in message.Headers)
            {
                var nameLength = System.Text.Encoding.UTF8.GetByteCount(header.Name);
                structure.Add((position, Field.NameLength));
                structure.Add((position + 1 + nameLength, Field.Type));
                if (header.Type is HeaderType.String or HeaderType.ByteBuffer)
                {
                    structure.Add((position + 2 + nameLength, Field.ValueLength));
                }

                position += header.EncodedLength;
            }

            Structure = [.. structure];
        }

        public byte[] Bytes { get; }

        public (int Offset, Field What)[] Structure { get; }
    }
}
