namespace Fogline.EventStream.Framing;

/// <summary>
/// An eventstream message that owns its headers and payload. Convenient for tests, tools and infrequent messages;
/// hot paths use <see cref="FrameDecoder"/> and <see cref="FrameEncoder"/> directly, which allocate nothing.
/// </summary>
public sealed class EventStreamMessage
{
    /// <summary>Creates a message.</summary>
    public EventStreamMessage(IReadOnlyList<EventStreamHeader> headers, ReadOnlyMemory<byte> payload)
    {
        Headers = headers ?? throw new ArgumentNullException(nameof(headers));
        Payload = payload;
    }

    /// <summary>The headers in wire order.</summary>
    public IReadOnlyList<EventStreamHeader> Headers { get; }

    /// <summary>The payload.</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>Decodes exactly one frame that fills <paramref name="bytes"/>.</summary>
    public static EventStreamMessage Decode(ReadOnlySpan<byte> bytes, EventStreamLimits? limits = null)
    {
        using var decoder = new FrameDecoder(limits);
        var consumed = decoder.TryDecode(bytes, out var frame);
        if (consumed == 0)
        {
            throw new EventStreamFormatException(FormatErrorReason.HeaderTruncated,
                $"Only {bytes.Length} bytes: not a whole frame");
        }

        if (consumed != bytes.Length)
        {
            throw new EventStreamFormatException(FormatErrorReason.InvalidHeadersLength,
                $"The frame is {consumed} bytes but {bytes.Length} were given", consumed);
        }

        return FromFrame(frame);
    }

    /// <summary>Copies a decoded frame into an owned message.</summary>
    public static EventStreamMessage FromFrame(Frame frame)
    {
        var headers = new List<EventStreamHeader>();
        foreach (var header in frame.Headers)
        {
            headers.Add(header.ToHeader());
        }

        return new EventStreamMessage(headers, frame.Payload.ToArray());
    }

    /// <summary>Encodes this message into a new array.</summary>
    public byte[] Encode(EventStreamLimits? limits = null)
    {
        var headers = Headers as EventStreamHeader[] ?? [.. Headers];
        return FrameEncoder.Encode(headers, Payload.Span, limits);
    }
}
