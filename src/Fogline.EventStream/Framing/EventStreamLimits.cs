namespace Fogline.EventStream.Framing;

/// <summary>
/// Size limits of the eventstream format. The defaults are the limits of the AWS Common Runtime
/// (aws-c-event-stream), which the Greengrass Nucleus and the official IPC clients are built on.
/// </summary>
public sealed class EventStreamLimits
{
    /// <summary>Prelude: total length (4), headers length (4), prelude CRC (4).</summary>
    public const int PreludeLength = 12;

    /// <summary>Trailing message CRC.</summary>
    public const int TrailerLength = 4;

    /// <summary>The smallest possible message: a prelude and a trailer, no headers, no payload.</summary>
    public const int MinimumMessageLength = PreludeLength + TrailerLength;

    /// <summary>Header names are length-prefixed by one byte.</summary>
    public const int MaxHeaderNameLengthOfFormat = byte.MaxValue;

    /// <summary>String and byte-buffer header values are length-prefixed by a signed 16-bit length.</summary>
    public const int MaxHeaderValueLengthOfFormat = short.MaxValue;

    /// <summary>The default limits: 24 MiB messages (and header blocks), as aws-c-event-stream.</summary>
    public static EventStreamLimits Default { get; } = new();

    /// <summary>Largest accepted total message length in bytes. Default 24 MiB.</summary>
    public int MaxMessageLength { get; init; } = 24 * 1024 * 1024;

    /// <summary>Largest accepted header block in bytes. Default 24 MiB (the message limit), as aws-c-event-stream.</summary>
    public int MaxHeadersLength { get; init; } = 24 * 1024 * 1024;

    /// <summary>Largest number of headers in one message. Default 1024, as aws-c-event-stream.</summary>
    public int MaxHeaderCount { get; init; } = 1024;
}
