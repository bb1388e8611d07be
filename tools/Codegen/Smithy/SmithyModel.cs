namespace Fogline.Codegen.Smithy;

/// <summary>A trait or member value of the Smithy IDL: string, number, boolean, null, shape id, list or object.</summary>
internal abstract record Node
{
    public string AsString() => this switch
    {
        StringNode s => s.Value,
        IdentifierNode i => i.Value,
        _ => throw new SmithyException($"expected a string, found {this}"),
    };

    public IReadOnlyList<Node> AsList() => this is ListNode l ? l.Items : throw new SmithyException($"expected a list, found {this}");

    public IReadOnlyDictionary<string, Node> AsObject() => this is ObjectNode o ? o.Members : throw new SmithyException($"expected an object, found {this}");
}

internal sealed record StringNode(string Value) : Node;

internal sealed record NumberNode(decimal Value) : Node;

internal sealed record BooleanNode(bool Value) : Node;

internal sealed record NullNode : Node;

internal sealed record IdentifierNode(string Value) : Node;

internal sealed record ListNode(IReadOnlyList<Node> Items) : Node;

internal sealed record ObjectNode(IReadOnlyDictionary<string, Node> Members) : Node;

/// <summary>Traits applied to a shape or member, by name (without the @).</summary>
internal sealed class Traits
{
    private readonly Dictionary<string, Node?> _traits = new(StringComparer.Ordinal);

    public void Add(string name, Node? value, int line)
    {
        if (!_traits.TryAdd(name, value))
        {
            throw new SmithyException($"trait @{name} applied twice", line);
        }
    }

    public bool Has(string name) => _traits.ContainsKey(name);

    public Node? Get(string name) => _traits.TryGetValue(name, out var v) ? v : null;

    public IEnumerable<string> Names => _traits.Keys;
}

internal enum ShapeKind
{
    Service,
    Operation,
    Structure,
    Union,
    List,
    Map,
    String,
    Integer,
    Long,
    Double,
    Boolean,
    Blob,
    Timestamp,
    Document,
}

internal sealed record Member(string Name, string Target, Traits Traits, string? Documentation, int Line)
{
    public bool IsRequired => Traits.Has("required");
}

internal sealed record EnumValue(string Value, string Name, string? Documentation);

internal sealed class Shape
{
    public required string Name { get; init; }

    public required ShapeKind Kind { get; init; }

    public required Traits Traits { get; init; }

    public string? Documentation { get; init; }

    public int Line { get; init; }

    /// <summary>Members of structures and unions; "member" of lists; "key" and "value" of maps.</summary>
    public List<Member> Members { get; } = [];

    /// <summary>Properties of services and operations (version, operations, input, output, errors).</summary>
    public Dictionary<string, Node> Properties { get; } = new(StringComparer.Ordinal);

    public bool IsError => Traits.Has("error");

    public bool IsStreaming => Traits.Has("streaming");

    public bool IsSensitive => Traits.Has("sensitive");

    public IReadOnlyList<EnumValue> EnumValues =>
        Traits.Get("enum") is { } node
            ? node.AsList().Select(v =>
            {
                var o = v.AsObject();
                var value = o["value"].AsString();
                return new EnumValue(value, o.TryGetValue("name", out var n) ? n.AsString() : value, o.TryGetValue("documentation", out var d) ? d.AsString() : null);
            }).ToList()
            : [];

    public string? PropertyString(string name) => Properties.TryGetValue(name, out var v) ? v.AsString() : null;

    public IReadOnlyList<string> PropertyList(string name) =>
        Properties.TryGetValue(name, out var v) ? v.AsList().Select(n => n.AsString()).ToList() : [];
}

internal sealed class SmithyModel
{
    public required string Namespace { get; init; }

    public required IReadOnlyDictionary<string, Shape> Shapes { get; init; }

    public Shape Service => Shapes.Values.Single(s => s.Kind == ShapeKind.Service);

    public Shape Resolve(string name, int line = 0) =>
        Shapes.TryGetValue(StripNamespace(name), out var shape)
            ? shape
            : throw new SmithyException($"unknown shape '{name}'", line);

    public static bool IsPrelude(string target) => PreludeKind(target) is not null;

    public static ShapeKind? PreludeKind(string target) => StripPrelude(target) switch
    {
        "String" => ShapeKind.String,
        "Integer" or "PrimitiveInteger" => ShapeKind.Integer,
        "Long" or "PrimitiveLong" => ShapeKind.Long,
        "Double" or "PrimitiveDouble" or "Float" => ShapeKind.Double,
        "Boolean" or "PrimitiveBoolean" => ShapeKind.Boolean,
        "Blob" => ShapeKind.Blob,
        "Timestamp" => ShapeKind.Timestamp,
        "Document" => ShapeKind.Document,
        _ => null,
    };

    private static string StripPrelude(string target) => target.StartsWith("smithy.api#", StringComparison.Ordinal) ? target["smithy.api#".Length..] : target;

    private string StripNamespace(string name) => name.StartsWith(Namespace + "#", StringComparison.Ordinal) ? name[(Namespace.Length + 1)..] : name;
}

internal sealed class SmithyException : Exception
{
    public SmithyException(string message, int line = 0)
        : base(line > 0 ? $"line {line}: {message}" : message)
    {
        Line = line;
    }

    public SmithyException()
    {
    }

    public SmithyException(string message)
        : base(message)
    {
    }

    public SmithyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Line { get; }
}
