namespace Fogline.Greengrass.Recipes;

/// <summary>
/// A version (<see cref="SemVersion"/>) or version range (<see cref="VersionRange"/>) could not be parsed.
/// <see cref="Position"/> is the 0-based index in <see cref="Text"/> where the problem is.
/// </summary>
public sealed class VersionFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public VersionFormatException()
        : this(string.Empty, 0, "invalid version")
    {
    }

    /// <summary>Creates the exception.</summary>
    public VersionFormatException(string message)
        : this(string.Empty, 0, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public VersionFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Text = string.Empty;
        Reason = message;
    }

    /// <summary>Creates the exception for <paramref name="text"/>, wrong at <paramref name="position"/>.</summary>
    public VersionFormatException(string text, int position, string reason)
        : base($"{reason} (at character {position + 1} of '{text}')")
    {
        Text = text;
        Position = position;
        Reason = reason;
    }

    /// <summary>The text that was parsed.</summary>
    public string Text { get; }

    /// <summary>The 0-based index in <see cref="Text"/> of the problem.</summary>
    public int Position { get; }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; }
}
