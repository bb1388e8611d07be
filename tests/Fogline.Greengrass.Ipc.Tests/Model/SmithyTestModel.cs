using System.Text;
using System.Text.RegularExpressions;

namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>A member of a structure, union, list (<c>member</c>) or map (<c>key</c>, <c>value</c>) as the test reads it.</summary>
internal sealed record ModelMember(string Name, string Target, bool Required, int Line);

/// <summary>An <c>@enum</c> entry: its <c>name</c> (the C# property) and its <c>value</c> (the wire string).</summary>
internal sealed record ModelEnumValue(string Name, string Value);

/// <summary>A shape statement of the model file as the test reads it.</summary>
internal sealed class ModelShape
{
    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required int Line { get; init; }

    /// <summary>Names of the traits applied to the shape (without the @).</summary>
    public HashSet<string> Traits { get; } = new(StringComparer.Ordinal);

    /// <summary>"client" or "server" for <c>@error(...)</c>; null otherwise.</summary>
    public string? ErrorKind { get; set; }

    public List<ModelMember> Members { get; } = [];

    public List<ModelEnumValue> EnumValues { get; } = [];

    /// <summary>Operations: input shape.</summary>
    public string? Input { get; set; }

    /// <summary>Operations: output shape.</summary>
    public string? Output { get; set; }

    /// <summary>Operations: error shapes, in model order. Services: operations, in model order.</summary>
    public List<string> References { get; } = [];

    public bool IsStructureOrUnion => Kind is "structure" or "union";

    public bool IsUnion => Kind == "union";

    public bool IsError => ErrorKind is not null;

    public bool IsStreaming => Traits.Contains("streaming");

    public bool IsEnum => Kind == "string" && EnumValues.Count > 0;

    public override string ToString() => $"{Kind} {Name} (line {Line})";
}

/// <summary>
/// A deliberately simple, line and regex based reader of the Smithy IDL file, written for the tests and independent of
/// tools/Codegen/Smithy/SmithyParser: the conformance tests compare the generated library against what this reader
/// sees, so a bug in the generator's parser cannot hide itself.
/// </summary>
internal sealed partial class SmithyTestModel
{
    private static readonly HashSet<string> BracedKinds = ["service", "operation", "structure", "union", "list", "set", "map"];

    private SmithyTestModel(string text)
    {
        Text = text;
        var clean = StripComments(text);
        Namespace = NamespaceRegex().Match(clean) is { Success: true } ns ? ns.Groups[1].Value : throw new FormatException("no namespace statement");

        var consumed = 0;
        var previousEnd = 0;
        foreach (Match m in StatementRegex().Matches(clean))
        {
            if (m.Index < consumed)
            {
                continue; // inside the body of the previous shape
            }

            var kind = m.Groups["kind"].Value;
            var name = m.Groups["name"].Value;
            var shape = new ModelShape { Kind = kind == "set" ? "list" : kind, Name = name, Line = LineOf(clean, m.Index) };
            ReadShapeTraits(shape, clean[previousEnd..m.Index]);

            var end = m.Index + m.Length;
            if (BracedKinds.Contains(kind))
            {
                var open = clean.IndexOf('{', end);
                if (open < 0 || clean[end..open].Trim().Length != 0)
                {
                    throw new FormatException($"line {shape.Line}: expected '{{' after {kind} {name}");
                }

                var close = MatchingBrace(clean, open);
                var body = clean[(open + 1)..close];
                var bodyLine = LineOf(clean, open);
                switch (shape.Kind)
                {
                    case "service":
                        shape.References.AddRange(ReadList(body, "operations"));
                        break;
                    case "operation":
                        shape.Input = OperationPropertyRegex("input").Match(body) is { Success: true } i ? i.Groups[1].Value : null;
                        shape.Output = OperationPropertyRegex("output").Match(body) is { Success: true } o ? o.Groups[1].Value : null;
                        shape.References.AddRange(ReadList(body, "errors"));
                        break;
                    default:
                        ReadMembers(shape, body, bodyLine);
                        break;
                }

                end = close + 1;
            }

            if (!Shapes.TryAdd(name, shape))
            {
                throw new FormatException($"line {shape.Line}: shape {name} defined twice");
            }

            consumed = end;
            previousEnd = end;
        }

        Service = Shapes.Values.Single(s => s.Kind == "service");
    }

    /// <summary>The model text as read from disk.</summary>
    public string Text { get; }

    public string Namespace { get; }

    public Dictionary<string, ModelShape> Shapes { get; } = new(StringComparer.Ordinal);

    public ModelShape Service { get; }

    /// <summary>The operations the service lists, in order.</summary>
    public IEnumerable<ModelShape> Operations => Service.References.Select(Resolve);

    public IEnumerable<ModelShape> StructuresAndUnions => Shapes.Values.Where(s => s.IsStructureOrUnion);

    public IEnumerable<ModelShape> Enums => Shapes.Values.Where(s => s.IsEnum);

    /// <summary>The prelude simple types the IPC model uses.</summary>
    public static IReadOnlySet<string> Prelude { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "String", "Integer", "Long", "Double", "Boolean", "Blob", "Timestamp", "Document",
    };

    public static SmithyTestModel Load(string path) => new(File.ReadAllText(path));

    public static SmithyTestModel Parse(string text) => new(text);

    /// <summary><c>smithy.api#String</c> and <c>String</c> are the same target; <c>aws.greengrass#X</c> is <c>X</c>.</summary>
    public string Normalize(string target)
    {
        var hash = target.IndexOf('#', StringComparison.Ordinal);
        return hash < 0 ? target : target[(hash + 1)..];
    }

    public bool IsPrelude(string target) => !Shapes.ContainsKey(Normalize(target)) && Prelude.Contains(Normalize(target));

    public ModelShape Resolve(string name) =>
        Shapes.TryGetValue(Normalize(name), out var shape) ? shape : throw new KeyNotFoundException($"the model has no shape '{name}'");

    /// <summary>The union with <c>@streaming</c> that a member of the operation's output targets, if any.</summary>
    public ModelShape? EventOf(ModelShape operation) =>
        Resolve(operation.Output!).Members
            .Select(m => Shapes.TryGetValue(Normalize(m.Target), out var t) ? t : null)
            .SingleOrDefault(t => t is { IsUnion: true, IsStreaming: true });

    private static void ReadShapeTraits(ModelShape shape, string traitText)
    {
        foreach (Match t in TraitNameRegex().Matches(traitText))
        {
            shape.Traits.Add(t.Groups[1].Value);
        }

        if (ErrorTraitRegex().Match(traitText) is { Success: true } error)
        {
            shape.ErrorKind = error.Groups[1].Value;
        }

        var enumStart = traitText.IndexOf("@enum", StringComparison.Ordinal);
        if (enumStart >= 0)
        {
            foreach (Match obj in EnumObjectRegex().Matches(traitText, enumStart))
            {
                var body = obj.Groups[1].Value;
                var value = EnumFieldRegex("value").Match(body);
                var name = EnumFieldRegex("name").Match(body);
                if (!value.Success)
                {
                    throw new FormatException($"enum entry without value in front of {shape.Name}: {body}");
                }

                shape.EnumValues.Add(new ModelEnumValue(name.Success ? name.Groups[1].Value : value.Groups[1].Value, value.Groups[1].Value));
            }
        }
    }

    private static void ReadMembers(ModelShape shape, string body, int bodyLine)
    {
        var required = false;
        foreach (Match m in MemberOrTraitRegex().Matches(body))
        {
            if (m.Groups["trait"].Success)
            {
                required |= m.Groups["trait"].Value == "required";
                continue;
            }

            shape.Members.Add(new ModelMember(m.Groups["name"].Value, m.Groups["target"].Value, required, bodyLine + body[..m.Index].Count(c => c == '\n')));
            required = false;
        }
    }

    private static IEnumerable<string> ReadList(string body, string property)
    {
        var m = Regex.Match(body, property + @"\s*:\s*\[(?<items>[^\]]*)\]");
        return m.Success
            ? m.Groups["items"].Value.Split([',', ' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)
            : [];
    }

    private static Regex OperationPropertyRegex(string property) => new(property + @"\s*:\s*([\w.#]+)");

    private static Regex EnumFieldRegex(string field) => new(field + "\\s*:\\s*\"([^\"]*)\"");

    private static int MatchingBrace(string text, int open)
    {
        var depth = 0;
        var inString = false;
        for (var i = open; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && --depth == 0)
            {
                return i;
            }
        }

        throw new FormatException($"line {LineOf(text, open)}: unbalanced '{{'");
    }

    private static int LineOf(string text, int index) => 1 + text.AsSpan(0, index).Count('\n');

    /// <summary>Removes <c>//</c> and <c>///</c> comments (outside strings), keeping the line structure.</summary>
    internal static string StripComments(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var line in text.Split('\n'))
        {
            var inString = false;
            var cut = line.Length;
            for (var i = 0; i < line.Length; i++)
            {
                if (line[i] == '\\' && inString)
                {
                    i++;
                }
                else if (line[i] == '"')
                {
                    inString = !inString;
                }
                else if (!inString && line[i] == '/' && i + 1 < line.Length && line[i + 1] == '/')
                {
                    cut = i;
                    break;
                }
            }

            sb.Append(line.AsSpan(0, cut).TrimEnd('\r')).Append('\n');
        }

        return sb.ToString();
    }

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceRegex();

    [GeneratedRegex(@"^[ \t]*(?<kind>service|operation|structure|union|list|set|map|string|integer|long|double|float|boolean|blob|timestamp|document)[ \t]+(?<name>[A-Za-z_][A-Za-z0-9_]*)", RegexOptions.Multiline)]
    private static partial Regex StatementRegex();

    [GeneratedRegex(@"@([A-Za-z_][\w.#]*)")]
    private static partial Regex TraitNameRegex();

    [GeneratedRegex(@"@error\(\s*""(\w+)""\s*\)")]
    private static partial Regex ErrorTraitRegex();

    [GeneratedRegex(@"\{([^{}]*)\}")]
    private static partial Regex EnumObjectRegex();

    [GeneratedRegex(@"@(?<trait>[A-Za-z_][\w.#]*)(?:\((?<args>[^()]*)\))?|(?<name>[A-Za-z_]\w*)\s*:\s*(?<target>[A-Za-z_][\w.#]*)")]
    private static partial Regex MemberOrTraitRegex();
}

/// <summary>Where the model and the generated files are, from the test binaries (usable at test discovery too).</summary>
internal static class ModelPaths
{
    public static string Root => Repository.Root;

    public static string VendoredModel => Path.Combine(Root, "src", "Fogline.Greengrass.Ipc", "Model", "main.smithy");

    public static string GeneratedDirectory => Path.Combine(Root, "src", "Fogline.Greengrass.Ipc", "Generated");

    public static string SharedReferenceModel => Path.Combine(Repository.Shared, "reference", "greengrass-ipc", "main.smithy");

    private static readonly Lazy<SmithyTestModel> LazyModel = new(() => SmithyTestModel.Load(VendoredModel));

    /// <summary>The vendored model, read once with the test reader.</summary>
    public static SmithyTestModel Model => LazyModel.Value;
}
