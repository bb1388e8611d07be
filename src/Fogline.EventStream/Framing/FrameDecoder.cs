using System.Buffers;
using System.Buffers.Binary;

namespace Fogline.EventStream.Framing;

/// <summary>
/// Incremental eventstream decoder. Feed it whatever bytes have arrived; it returns <see langword="false"/> when a
/// whole frame is not there yet (need more data) and throws <see cref="EventStreamFormatException"/> when the bytes
/// break the format. The prelude CRC is checked before the declared length is trusted, so a corrupted length is
/// reported at once instead of waiting for bytes that never come, and nothing is ever allocated from a declared
/// length. A frame split across segments is copied into one reusable scratch buffer; in steady state decoding
/// allocates nothing.
/// </summary>
/// <remarks>Not thread-safe: one decoder per connection.</remarks>
public sealed class FrameDecoder : IDisposable
{
    private readonly EventStreamLimits _limits;
    private byte[]? _scratch;

    /// <summary>Creates a decoder with the given limits (default: <see cref="EventStreamLimits.Default"/>).</summary>
    public FrameDecoder(EventStreamLimits? limits = null)
    {
        _limits = limits ?? EventStreamLimits.Default;
    }

    /// <summary>The limits this decoder enforces.</summary>
    public EventStreamLimits Limits => _limits;

    /// <summary>
    /// Tries to decode one frame from the start of <paramref name="buffer"/>. On success <paramref name="buffer"/> is
    /// sliced past the frame. On need-more-data it is left unchanged.
    /// </summary>
    public bool TryDecode(ref ReadOnlySequence<byte> buffer, out Frame frame)
    {
        frame = default;
        if (buffer.Length < EventStreamLimits.PreludeLength)
        {
            return false;
        }

        Span<byte> preludeCopy = stackalloc byte[EventStreamLimits.PreludeLength];
        scoped ReadOnlySpan<byte> prelude;
        if (buffer.FirstSpan.Length >= EventStreamLimits.PreludeLength)
        {
            prelude = buffer.FirstSpan[..EventStreamLimits.PreludeLength];
        }
        else
        {
            buffer.Slice(0, EventStreamLimits.PreludeLength).CopyTo(preludeCopy);
            prelude = preludeCopy;
        }

        var totalLength = ReadPrelude(prelude, out var headersLength);
        if (buffer.Length < totalLength)
        {
            return false;
        }

        ReadOnlySpan<byte> bytes;
        if (buffer.FirstSpan.Length >= totalLength)
        {
            bytes = buffer.FirstSpan[..totalLength];
        }
        else
        {
            var scratch = RentScratch(totalLength);
            buffer.Slice(0, totalLength).CopyTo(scratch);
            bytes = scratch.AsSpan(0, totalLength);
        }

        frame = Validate(bytes, headersLength);
        buffer = buffer.Slice(totalLength);
        return true;
    }

    /// <summary>
    /// Tries to decode one frame from the start of a contiguous span. Returns the number of bytes consumed, or 0 when
    /// more data is needed.
    /// </summary>
    public int TryDecode(ReadOnlySpan<byte> input, out Frame frame)
    {
        frame = default;
        if (input.Length < EventStreamLimits.PreludeLength)
        {
            return 0;
        }

        var totalLength = ReadPrelude(input[..EventStreamLimits.PreludeLength], out var headersLength);
        if (input.Length < totalLength)
        {
            return 0;
        }

        frame = Validate(input[..totalLength], headersLength);
        return totalLength;
    }

    /// <summary>Returns the scratch buffer to the pool.</summary>
    public void Dispose()
    {
        var scratch = _scratch;
        _scratch = null;
        if (scratch is not null)
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    private int ReadPrelude(ReadOnlySpan<byte> prelude, out int headersLength)
    {
        var total = BinaryPrimitives.ReadUInt32BigEndian(prelude);
        var headers = BinaryPrimitives.ReadUInt32BigEndian(prelude[4..]);
        var expectedCrc = BinaryPrimitives.ReadUInt32BigEndian(prelude[8..]);
        var actualCrc = Crc32.Compute(prelude[..8]);
        if (actualCrc != expectedCrc)
        {
            throw new EventStreamFormatException(FormatErrorReason.PreludeChecksumMismatch,
                $"Prelude checksum mismatch: the prelude says 0x{expectedCrc:x8} but its bytes give 0x{actualCrc:x8} (declared total length {total}, headers length {headers})", 8);
        }

        if (total < EventStreamLimits.MinimumMessageLength)
        {
            throw new EventStreamFormatException(FormatErrorReason.MessageTooShort,
                $"Declared total length {total} is below the {EventStreamLimits.MinimumMessageLength}-byte minimum", 0);
        }

        if (total > (uint)_limits.MaxMessageLength)
        {
            throw new EventStreamFormatException(FormatErrorReason.MessageTooLong,
                $"Declared total length {total} is above the limit of {_limits.MaxMessageLength} bytes", 0);
        }

        if (headers > total - EventStreamLimits.MinimumMessageLength || headers > (uint)_limits.MaxHeadersLength)
        {
            throw new EventStreamFormatException(FormatErrorReason.InvalidHeadersLength,
                $"Declared headers length {headers} does not fit a {total}-byte message (limit {Math.Min(total - EventStreamLimits.MinimumMessageLength, (uint)_limits.MaxHeadersLength)})", 4);
        }

        headersLength = (int)headers;
        return (int)total;
    }

    private Frame Validate(ReadOnlySpan<byte> bytes, int headersLength)
    {
        var expected = BinaryPrimitives.ReadUInt32BigEndian(bytes[^4..]);
        var actual = Crc32.Compute(bytes[..^4]);
        if (actual != expected)
        {
            throw new EventStreamFormatException(FormatErrorReason.MessageChecksumMismatch,
                $"Message checksum mismatch: the frame says 0x{expected:x8} but its {bytes.Length - 4} bytes give 0x{actual:x8}", bytes.Length - 4);
        }

        HeaderBlock.Validate(bytes.Slice(EventStreamLimits.PreludeLength, headersLength), EventStreamLimits.PreludeLength, _limits);
        return new Frame(bytes, headersLength);
    }

    private byte[] RentScratch(int length)
    {
        var scratch = _scratch;
        if (scratch is null || scratch.Length < length)
        {
            if (scratch is not null)
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }

            scratch = ArrayPool<byte>.Shared.Rent(Math.Max(length, 4096));
            _scratch = scratch;
        }

        return scratch;
    }
}
