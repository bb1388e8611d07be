namespace Fogline.EventStream.Framing;

/// <summary>What was wrong with a frame that could not be decoded or encoded.</summary>
public enum FormatErrorReason
{
    /// <summary>The CRC over the 8 prelude bytes does not match the prelude CRC.</summary>
    PreludeChecksumMismatch,

    /// <summary>The CRC over the whole message does not match the trailing message CRC.</summary>
    MessageChecksumMismatch,

    /// <summary>The total length is below the 16-byte minimum.</summary>
    MessageTooShort,

    /// <summary>The total length is above the configured maximum.</summary>
    MessageTooLong,

    /// <summary>The headers length does not fit in the message or is above the configured maximum.</summary>
    InvalidHeadersLength,

    /// <summary>A header name is empty or longer than 255 bytes.</summary>
    InvalidHeaderName,

    /// <summary>A header's type byte is not one of the ten known types.</summary>
    UnknownHeaderType,

    /// <summary>A header value is longer than 32767 bytes, or (for a UUID) not 16 bytes.</summary>
    InvalidHeaderValueLength,

    /// <summary>A header runs past the end of the header block.</summary>
    HeaderTruncated,

    /// <summary>More headers than the configured maximum.</summary>
    TooManyHeaders,

    /// <summary>A header name or string value is not valid UTF-8.</summary>
    InvalidUtf8,
}

/// <summary>
/// A frame that breaks the eventstream format. The message says what is wrong and at which byte offset of the frame;
/// after this exception the byte stream cannot be resynchronised and the connection should be closed.
/// </summary>
public sealed class EventStreamFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EventStreamFormatException(FormatErrorReason reason, string message, long offset = -1)
        : base(offset >= 0 ? $"{message} (at byte {offset} of the frame)" : message)
    {
        Reason = reason;
        Offset = offset;
    }

    /// <summary>Creates the exception.</summary>
    public EventStreamFormatException()
        : this(FormatErrorReason.HeaderTruncated, "Malformed eventstream frame.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventStreamFormatException(string message)
        : this(FormatErrorReason.HeaderTruncated, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public EventStreamFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>What was wrong.</summary>
    public FormatErrorReason Reason { get; }

    /// <summary>Byte offset within the frame where the problem was found, or -1 when it concerns the whole frame.</summary>
    public long Offset { get; }
}
