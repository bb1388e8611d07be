namespace Fogline.EventStream.Framing;

/// <summary>
/// A decoded, validated frame viewed in place. Its spans point into the decoder's input (or its scratch buffer) and are
/// valid only until the input is advanced or the decoder decodes again.
/// </summary>
public readonly ref struct Frame
{
    internal Frame(ReadOnlySpan<byte> bytes, int headersLength)
    {
        Bytes = bytes;
        HeadersLength = headersLength;
    }

    /// <summary>The whole frame, prelude to trailing CRC.</summary>
    public ReadOnlySpan<byte> Bytes { get; }

    /// <summary>Total length of the frame in bytes.</summary>
    public int TotalLength => Bytes.Length;

    /// <summary>Length of the header block in bytes.</summary>
    public int HeadersLength { get; }

    /// <summary>The raw header block.</summary>
    public ReadOnlySpan<byte> HeaderBlock => Bytes.Slice(EventStreamLimits.PreludeLength, HeadersLength);

    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Payload => Bytes[(EventStreamLimits.PreludeLength + HeadersLength)..^EventStreamLimits.TrailerLength];

    /// <summary>The prelude CRC as written in the frame.</summary>
    public uint PreludeCrc => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Bytes[8..]);

    /// <summary>The message CRC as written in the frame.</summary>
    public uint MessageCrc => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(Bytes[^4..]);

    /// <summary>Enumerates the headers without allocating.</summary>
    public HeaderEnumerator Headers => new(HeaderBlock);
}
