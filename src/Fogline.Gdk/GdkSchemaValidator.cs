using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Json.Schema;

namespace Fogline.Gdk;

/// <summary>One schema violation: where in the document (a JSON pointer, "" for the whole document) and what.</summary>
/// <param name="Location">The instance location as a JSON pointer (<c>/component/com.example.A/version</c>).</param>
/// <param name="Message">What is wrong, worded as Python's jsonschema (4.10, Debian 12's) words it, which is what GDK prints.</param>
public sealed record GdkSchemaError(string Location, string Message)
{
    /// <summary><c>location: message</c> (as tests/…/validate_recipes.py prints it), or the message alone at the root.</summary>
    public override string ToString() => Location.Length == 0 ? Message : Location.TrimStart('/') + ": " + Message;
}

/// <summary>
/// GDK's two JSON schemas (gdk-config.json and recipes; vendored unchanged, see Schemas/README.md), evaluated as
/// Draft 7 as GDK's <c>jsonschema.Draft7Validator</c> does, with the violations in jsonschema's words. GDK prints
/// only one of them (jsonschema's <c>best_match</c>): <see cref="Best"/> picks it the same way (the violation
/// closest to the document's root, anyOf/oneOf summaries after the others, then the first in schema order).
/// </summary>
internal sealed partial class GdkSchemaValidator
{
    private static readonly Lazy<GdkSchemaValidator> ConfigValidator = new(() => new GdkSchemaValidator("gdk-config.schema.json"));
    private static readonly Lazy<GdkSchemaValidator> RecipeValidator = new(() => new GdkSchemaValidator("recipe.schema.json"));
    private static readonly EvaluationOptions Options = new() { OutputFormat = OutputFormat.Hierarchical };

    private readonly JsonSchema _schema;
    private readonly JsonNode _schemaNode;

    private GdkSchemaValidator(string resource)
    {
        var text = ReadResource(resource);
        _schemaNode = JsonNode.Parse(text)!;
        _schema = JsonSchema.FromText(text, new BuildOptions { Dialect = Dialect.Draft07 });
    }

    /// <summary>GDK's gdk/static/config_schema.json.</summary>
    public static GdkSchemaValidator Config => ConfigValidator.Value;

    /// <summary>GDK's gdk/static/recipe_schema.json (property names lowercase: see <see cref="GdkRecipeSchema"/>).</summary>
    public static GdkSchemaValidator Recipe => RecipeValidator.Value;

    /// <summary>The text of a vendored schema (<c>gdk-config.schema.json</c>, <c>recipe.schema.json</c>).</summary>
    public static string ReadResource(string name)
    {
        using var stream = typeof(GdkSchemaValidator).Assembly.GetManifestResourceStream("Fogline.Gdk.Schemas." + name)
            ?? throw new InvalidOperationException($"the embedded schema {name} is missing from Fogline.Gdk");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Every violation, in schema order.</summary>
    public IReadOnlyList<GdkSchemaError> Validate(JsonNode? instance)
    {
        var element = ToElement(instance);
        var results = _schema.Evaluate(element, Options);
        var errors = new List<(GdkSchemaError Error, bool Weak)>();
        if (!results.IsValid)
        {
            Walk(results, instance, errors);
        }

        return errors.Select(e => e.Error).ToList();
    }

    /// <summary>The one violation GDK reports (jsonschema's best_match), or null when there is none.</summary>
    public GdkSchemaError? Best(JsonNode? instance)
    {
        var element = ToElement(instance);
        var results = _schema.Evaluate(element, Options);
        if (results.IsValid)
        {
            return null;
        }

        var errors = new List<(GdkSchemaError Error, bool Weak)>();
        Walk(results, instance, errors);

        // max((-len(path), not weak)) keeping the first of equals.
        return errors.OrderBy(e => Depth(e.Error.Location)).ThenBy(e => e.Weak).Select(e => e.Error).FirstOrDefault();
    }

    private static JsonElement ToElement(JsonNode? instance)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        return document.RootElement.Clone();
    }

    private static int Depth(string pointer) => pointer.Length == 0 ? 0 : pointer.Count(c => c == '/');

    private void Walk(EvaluationResults node, JsonNode? root, List<(GdkSchemaError, bool)> errors)
    {
        if (node.IsValid)
        {
            return;
        }

        var path = node.EvaluationPath.ToString();
        if (path.EndsWith("/if", StringComparison.Ordinal))
        {
            // A failing `if` is not an error: it only selects `then` or `else`.
            return;
        }

        var location = node.InstanceLocation.ToString();
        var instance = At(root, location);
        var schema = SchemaAt(path);
        foreach (var (keyword, message) in node.Errors ?? new Dictionary<string, string>())
        {
            foreach (var text in Describe(keyword, message, schema, instance))
            {
                errors.Add((new GdkSchemaError(location, text), false));
            }
        }

        var children = node.Details ?? [];
        var unexpected = new List<string>();
        var branches = new Dictionary<string, List<EvaluationResults>>(StringComparer.Ordinal);
        foreach (var child in children)
        {
            var childPath = child.EvaluationPath.ToString();
            if (BranchPattern().Match(childPath) is { Success: true } branch && childPath.StartsWith(path, StringComparison.Ordinal)
                && childPath.Length == path.Length + branch.Length)
            {
                var kind = branch.Groups[1].Value;
                if (!branches.TryGetValue(kind, out var list))
                {
                    branches[kind] = list = [];
                }

                list.Add(child);
            }
            else if (!child.IsValid && childPath == path + "/additionalProperties" && schema?["additionalProperties"] is JsonValue f && f.TryGetValue<bool>(out var allowed) && !allowed)
            {
                unexpected.Add(Unescape(child.InstanceLocation.ToString()[(location.Length + 1)..]));
            }
            else
            {
                Walk(child, root, errors);
            }
        }

        foreach (var (kind, list) in branches)
        {
            if (list.All(b => !b.IsValid))
            {
                errors.Add((new GdkSchemaError(location, $"{PyRepr(instance)} is not valid under any of the given schemas"), true));
            }
            else if (kind == "oneOf" && list.Count(b => b.IsValid) > 1)
            {
                errors.Add((new GdkSchemaError(location, $"{PyRepr(instance)} is valid under each of {string.Join(", ", list.Where(b => b.IsValid).Select(b => PyRepr(SchemaAt(b.EvaluationPath.ToString()))))}"), true));
            }
        }

        if (unexpected.Count > 0)
        {
            var names = string.Join(", ", unexpected.Select(u => PyRepr(JsonValue.Create(u))));
            errors.Add((new GdkSchemaError(location, $"Additional properties are not allowed ({names} {(unexpected.Count == 1 ? "was" : "were")} unexpected)"), false));
        }
    }

    private static IEnumerable<string> Describe(string keyword, string fallback, JsonNode? schema, JsonNode? instance)
    {
        var value = schema?[keyword];
        switch (keyword)
        {
            case "type":
                var types = value is JsonArray a ? a.Select(t => "'" + t!.GetValue<string>() + "'") : ["'" + value?.GetValue<string>() + "'"];
                yield return $"{PyRepr(instance)} is not of type {string.Join(", ", types)}";
                break;
            case "enum":
                yield return $"{PyRepr(instance)} is not one of {PyRepr(value)}";
                break;
            case "const":
                yield return $"{PyRepr(value)} was expected";
                break;
            case "pattern":
                yield return $"{PyRepr(instance)} does not match {PyRepr(value)}";
                break;
            case "required" when value is JsonArray required && instance is JsonObject obj:
                foreach (var name in required.Select(r => r!.GetValue<string>()).Where(r => !obj.ContainsKey(r)))
                {
                    yield return $"'{name}' is a required property";
                }

                break;
            case "minItems" or "minLength":
                yield return $"{PyRepr(instance)} is too short";
                break;
            case "maxItems" or "maxLength":
                yield return $"{PyRepr(instance)} is too long";
                break;
            case "maxProperties":
                yield return $"{PyRepr(instance)} has too many properties";
                break;
            case "minProperties":
                yield return $"{PyRepr(instance)} does not have enough properties";
                break;
            case "":
                yield return $"False schema does not allow {PyRepr(instance)}";
                break;
            default:
                yield return fallback;
                break;
        }
    }

    /// <summary>The raw schema object an evaluation path leads to, following local <c>$ref</c>s.</summary>
    private JsonNode? SchemaAt(string evaluationPath)
    {
        JsonNode? current = _schemaNode;
        foreach (var raw in evaluationPath.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Unescape(raw);
            if (segment == "$ref" && current?["$ref"] is JsonValue reference && reference.GetValue<string>() is { } target && target.StartsWith('#'))
            {
                current = At(_schemaNode, target[1..]);
                continue;
            }

            current = current switch
            {
                JsonObject o => o[segment],
                JsonArray arr when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < arr.Count => arr[i],
                _ => null,
            };
        }

        return current;
    }

    private static JsonNode? At(JsonNode? root, string pointer)
    {
        var current = root;
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = Unescape(raw);
            current = current switch
            {
                JsonObject o => o[segment],
                JsonArray arr when int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < arr.Count => arr[i],
                _ => null,
            };
        }

        return current;
    }

    private static string Unescape(string segment) =>
        segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);

    /// <summary>Python's repr() of the value json.loads would give.</summary>
    internal static string PyRepr(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return "None";
            case JsonObject obj:
                return "{" + string.Join(", ", obj.Select(p => PyRepr(JsonValue.Create(p.Key)) + ": " + PyRepr(p.Value))) + "}";
            case JsonArray array:
                return "[" + string.Join(", ", array.Select(PyRepr)) + "]";
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.True:
                        return "True";
                    case JsonValueKind.False:
                        return "False";
                    case JsonValueKind.String:
                        return PyString(value.GetValue<string>());
                    case JsonValueKind.Number:
                        var text = value.ToJsonString();
                        if (text.IndexOfAny(['.', 'e', 'E']) < 0)
                        {
                            return text;
                        }

                        var d = double.Parse(text, CultureInfo.InvariantCulture);
                        if (d == Math.Floor(d) && Math.Abs(d) < 1e16)
                        {
                            return d.ToString("F1", CultureInfo.InvariantCulture);
                        }

                        return d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
                    default:
                        return "None";
                }

            default:
                return node.ToJsonString();
        }
    }

    private static string PyString(string s)
    {
        var quote = s.Contains('\'', StringComparison.Ordinal) && !s.Contains('"', StringComparison.Ordinal) ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\':
                    sb.Append(@"\\");
                    break;
                case '\n':
                    sb.Append(@"\n");
                    break;
                case '\r':
                    sb.Append(@"\r");
                    break;
                case '\t':
                    sb.Append(@"\t");
                    break;
                default:
                    if (c == quote)
                    {
                        sb.Append('\\').Append(c);
                    }
                    else if (c < 0x20 || c == 0x7f)
                    {
                        sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append(quote).ToString();
    }

    [GeneratedRegex(@"/(anyOf|oneOf)/\d+$", RegexOptions.CultureInvariant)]
    private static partial Regex BranchPattern();
}
