namespace Fogline.ComponentKit.Configuration;

/// <summary>
/// A configuration value that cannot be used. <see cref="Path"/> is the JSON pointer of the offending value (as the
/// recipe's DefaultConfiguration and UpdateConfiguration address it), and the message says what is wrong with it.
/// </summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string path, string problem)
        : base($"configuration {(path.Length == 0 ? "/" : path)}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException()
        : this(string.Empty, "invalid")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Path = string.Empty;
        Problem = message;
    }

    /// <summary>JSON pointer of the value ("" for the whole configuration).</summary>
    public string Path { get; } = string.Empty;

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; } = string.Empty;
}
