namespace Fogline.ComponentKit.Messages;

/// <summary>A payload that is not a valid message of the pipeline's schema; the message says what and where.</summary>
public sealed class MessageFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessageFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MessageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MessageFormatException()
    {
    }

    /// <summary>Whether the payload was rejected only because of its schema version (it may be valid in another version).</summary>
    public bool UnsupportedVersion { get; init; }
}
