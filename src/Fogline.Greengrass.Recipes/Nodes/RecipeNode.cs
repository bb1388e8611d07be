namespace Fogline.Greengrass.Recipes;

/// <summary>The type of a scalar, as YAML's core schema (or JSON) gives it.</summary>
public enum RecipeScalarType
{
    /// <summary>A string (any quoted scalar, and plain scalars that are nothing else).</summary>
    String,

    /// <summary>An integer (<c>42</c>, <c>-7</c>, <c>0x1F</c>, <c>0o17</c>).</summary>
    Integer,

    /// <summary>A floating-point number (<c>1.5</c>, <c>1e3</c>, <c>.inf</c>).</summary>
    Float,

    /// <summary><c>true</c> or <c>false</c>.</summary>
    Boolean,

    /// <summary><c>null</c>, <c>~</c> or nothing.</summary>
    Null,
}

/// <summary>
/// A node of a recipe document as written (YAML or JSON), with its place in the file. The parser builds the model
/// from these; the global <c>Lifecycle</c> is kept as nodes because its shape depends on the manifest's selections.
/// </summary>
public abstract class RecipeNode
{
    private protected RecipeNode(SourceLocation location)
    {
        Location = location;
    }

    /// <summary>Where the node starts.</summary>
    public SourceLocation Location { get; }

    /// <summary>What the node is, for messages: "a mapping", "a string", …</summary>
    public abstract string Describe();
}

/// <summary>A scalar value.</summary>
public sealed class RecipeScalar : RecipeNode
{
    /// <summary>Creates a scalar.</summary>
    public RecipeScalar(SourceLocation location, string value, RecipeScalarType type, bool isQuoted = false, int sourceLength = -1)
        : base(location)
    {
        Value = value;
        Type = type;
        IsQuoted = isQuoted;
        SourceLength = sourceLength;
    }

    /// <summary>The text of the scalar (for <see cref="RecipeScalarType.Null"/> as written, possibly empty).</summary>
    public string Value { get; }

    /// <summary>The scalar's type.</summary>
    public RecipeScalarType Type { get; }

    /// <summary>Whether the scalar was quoted in the file.</summary>
    public bool IsQuoted { get; }

    /// <summary>
    /// The number of characters the scalar takes on its line in the file when its text maps one to one onto
    /// <see cref="Value"/> (plus the quotes), otherwise -1. Used to point errors inside a value.
    /// </summary>
    internal int SourceLength { get; }

    /// <summary>The location of character <paramref name="offset"/> of <see cref="Value"/>, when it can be known.</summary>
    internal SourceLocation LocationOf(int offset)
    {
        var quote = IsQuoted ? 1 : 0;
        if (SourceLength == Value.Length + (2 * quote) && offset >= 0 && offset <= Value.Length)
        {
            return Location with { Column = Location.Column + quote + offset };
        }

        return Location;
    }

    /// <inheritdoc />
    public override string Describe() => Type switch
    {
        RecipeScalarType.String => "a string",
        RecipeScalarType.Integer => "an integer",
        RecipeScalarType.Float => "a number",
        RecipeScalarType.Boolean => "a boolean",
        _ => "null",
    };
}

/// <summary>A key/value entry of a <see cref="RecipeMapping"/>.</summary>
/// <param name="Key">The key (always a scalar).</param>
/// <param name="Value">The value.</param>
public sealed record RecipeMappingEntry(RecipeScalar Key, RecipeNode Value);

/// <summary>A mapping (YAML mapping, JSON object), entries in file order.</summary>
public sealed class RecipeMapping : RecipeNode
{
    /// <summary>Creates a mapping.</summary>
    public RecipeMapping(SourceLocation location, IReadOnlyList<RecipeMappingEntry> entries)
        : base(location)
    {
        Entries = entries;
    }

    /// <summary>The entries, in file order.</summary>
    public IReadOnlyList<RecipeMappingEntry> Entries { get; }

    /// <summary>The value of the entry whose key is <paramref name="key"/> (ordinal), or null.</summary>
    public RecipeNode? this[string key] => Entries.FirstOrDefault(e => e.Key.Value == key)?.Value;

    /// <inheritdoc />
    public override string Describe() => "a mapping";
}

/// <summary>A sequence (YAML sequence, JSON array).</summary>
public sealed class RecipeSequence : RecipeNode
{
    /// <summary>Creates a sequence.</summary>
    public RecipeSequence(SourceLocation location, IReadOnlyList<RecipeNode> items)
        : base(location)
    {
        Items = items;
    }

    /// <summary>The items, in file order.</summary>
    public IReadOnlyList<RecipeNode> Items { get; }

    /// <inheritdoc />
    public override string Describe() => "a list";
}
