using System.Globalization;
using System.Text;

namespace Fogline.Greengrass.Recipes;

/// <summary>A place in a recipe file: 1-based line and column (columns count characters).</summary>
/// <param name="File">The file name as given to the parser.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
public sealed record SourceLocation(string File, int Line, int Column)
{
    /// <summary><c>file:line:column</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}");
}

/// <summary>One problem found in a recipe.</summary>
/// <param name="File">The file name as given to the parser.</param>
/// <param name="Line">1-based line of the problem.</param>
/// <param name="Column">1-based column of the problem.</param>
/// <param name="Message">What is wrong.</param>
public sealed record RecipeError(string File, int Line, int Column, string Message)
{
    /// <summary>Creates the error at <paramref name="location"/>.</summary>
    public RecipeError(SourceLocation location, string message)
        : this(location?.File ?? throw new ArgumentNullException(nameof(location)), location.Line, location.Column, message)
    {
    }

    /// <summary><c>file:line:column: message</c>, as compilers write it.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{File}:{Line}:{Column}: {Message}");
}

/// <summary>
/// A recipe could not be read, or does not fit the device. <see cref="Errors"/> holds every problem found, each with
/// its file, line and column.
/// </summary>
public class RecipeException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RecipeException()
        : this([])
    {
    }

    /// <summary>Creates the exception with one error without a place.</summary>
    public RecipeException(string message)
        : base(message)
    {
        Errors = [];
    }

    /// <summary>Creates the exception.</summary>
    public RecipeException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Errors = [];
    }

    /// <summary>Creates the exception from the errors found.</summary>
    public RecipeException(IReadOnlyList<RecipeError> errors)
        : base(Format(errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem found, in the order of the file.</summary>
    public IReadOnlyList<RecipeError> Errors { get; }

    private static string Format(IReadOnlyList<RecipeError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (errors.Count == 0)
        {
            return "The recipe is invalid.";
        }

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{errors.Count} error{(errors.Count == 1 ? string.Empty : "s")} in the recipe:");
        foreach (var error in errors)
        {
            sb.Append('\n').Append(error);
        }

        return sb.ToString();
    }
}
