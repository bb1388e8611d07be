using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Fogline.Gdk;

/// <summary>
/// Reads a YAML document the way GDK does (<c>yaml.safe_load</c>, PyYAML's SafeLoader: YAML 1.1), into JSON nodes.
/// Plain scalars are typed by PyYAML's implicit resolvers (<c>yes</c>/<c>on</c> are booleans, <c>0755</c> is octal,
/// <c>1e3</c> is a string, <c>2020-01-25</c> is a date); merge keys (<c>&lt;&lt;</c>) are flattened; duplicate keys
/// keep the last value. What PyYAML reads as a value JSON has no type for (a date or a timestamp) or as a key that is
/// not a string (GDK then fails lowercasing it) is reported as a problem, since GDK's schema check would fail on it.
/// </summary>
internal static partial class PyYamlReader
{
    private const string TagPrefix = "tag:yaml.org,2002:";

    /// <summary>Reads <paramref name="text"/>; problems (syntax and values JSON cannot hold) go to <paramref name="problems"/>.</summary>
    public static JsonNode? Read(string text, List<string> problems)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, anchors, problems, string.Empty);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out _))
            {
                // yaml.safe_load: "expected a single document in the stream".
                problems.Add("expected a single document in the stream, but found another document");
            }

            return root;
        }
        catch (YamlException e)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"YAML syntax error at line {e.Start.Line}, column {e.Start.Column}: {MarksPattern().Replace(e.Message, string.Empty)}"));
            return null;
        }
    }

    private static JsonNode? ReadNode(IParser parser, Dictionary<string, JsonNode?> anchors, List<string> problems, string path)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var target))
            {
                return target?.DeepClone();
            }

            problems.Add($"{Where(path)}found undefined alias *{alias.Value.Value}");
            return null;
        }

        JsonNode? node;
        string? anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
            node = ToScalar(scalar, problems, path);
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            anchor = sequenceStart.Anchor.IsEmpty ? null : sequenceStart.Anchor.Value;
            var array = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                array.Add(ReadNode(parser, anchors, problems, path + "/" + array.Count.ToString(CultureInfo.InvariantCulture)));
            }

            node = array;
        }
        else if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            anchor = mappingStart.Anchor.IsEmpty ? null : mappingStart.Anchor.Value;
            var merged = new List<(string Key, JsonNode? Value)>();
            var own = new List<(string Key, JsonNode? Value)>();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var isMergeKey = parser.Current is Scalar { Style: ScalarStyle.Plain, Value: "<<" } k && k.Tag.IsEmpty;
                var keyNode = ReadNode(parser, anchors, problems, path);
                string key;
                if (isMergeKey)
                {
                    var value = ReadNode(parser, anchors, problems, path + "/<<");
                    Merge(value, merged, problems, path);
                    continue;
                }

                if (keyNode is JsonValue v && v.TryGetValue<string>(out var s))
                {
                    key = s;
                }
                else
                {
                    key = keyNode?.ToJsonString() ?? "null";
                    problems.Add($"{Where(path)}the key {key} is read as {Describe(keyNode)}, not a string (GDK fails lowercasing it): quote it");
                }

                own.Add((key, ReadNode(parser, anchors, problems, path + "/" + key)));
            }

            // PyYAML's flatten_mapping: merged entries first, then the mapping's own; a later value of a key wins
            // and the key keeps its first place (a Python dict).
            var obj = new JsonObject();
            foreach (var (key, value) in merged.Concat(own))
            {
                obj[key] = value?.Parent is null ? value : value.DeepClone();
            }

            node = obj;
        }
        else
        {
            var current = parser.Current!;
            throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }

        if (anchor is not null)
        {
            anchors[anchor] = node;
        }

        return node;
    }

    private static void Merge(JsonNode? value, List<(string Key, JsonNode? Value)> merged, List<string> problems, string path)
    {
        switch (value)
        {
            case JsonObject obj:
                merged.AddRange(obj.Select(p => (p.Key, p.Value)));
                break;
            case JsonArray array when array.All(i => i is JsonObject):
                // Earlier mappings of the list win over later ones.
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var entries = new List<(string, JsonNode?)>();
                foreach (var item in array.Cast<JsonObject>())
                {
                    entries.AddRange(item.Where(p => seen.Add(p.Key)).Select(p => (p.Key, p.Value)));
                }

                merged.AddRange(entries);
                break;
            default:
                problems.Add($"{Where(path)}expected a mapping or list of mappings for merging, but found {Describe(value)}");
                break;
        }
    }

    private static JsonNode? ToScalar(Scalar scalar, List<string> problems, string path)
    {
        string tag;
        if (!scalar.Tag.IsEmpty && scalar.Tag.Value != "!")
        {
            tag = scalar.Tag.Value;
        }
        else if (scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty)
        {
            tag = Resolve(scalar.Value);
        }
        else
        {
            tag = TagPrefix + "str";
        }

        var value = scalar.Value;
        switch (tag)
        {
            case TagPrefix + "str":
                return JsonValue.Create(value);
            case TagPrefix + "null":
                return null;
            case TagPrefix + "bool":
                return JsonValue.Create(value.ToLowerInvariant() is "yes" or "true" or "on");
            case TagPrefix + "int":
                if (ParseInt(value) is { } integer)
                {
                    return JsonValue.Create(integer);
                }

                problems.Add($"{Where(path)}{value} is not an integer");
                return null;
            case TagPrefix + "float":
                if (ParseFloat(value) is { } number)
                {
                    return Float(number);
                }

                problems.Add($"{Where(path)}{value} is not a float");
                return null;
            case TagPrefix + "timestamp":
                problems.Add($"{Where(path)}{value} is a YAML timestamp (GDK's PyYAML reads a date, which is no JSON value and no string): quote it");
                return JsonValue.Create(value);
            default:
                problems.Add($"{Where(path)}could not determine a constructor for the tag '{tag}'");
                return JsonValue.Create(value);
        }
    }

    /// <summary>PyYAML's implicit resolvers (resolver.py), in their order for the scalar's first character.</summary>
    internal static string Resolve(string value)
    {
        if (value.Length == 0 || NullPattern().IsMatch(value))
        {
            return TagPrefix + "null";
        }

        if (BoolPattern().IsMatch(value))
        {
            return TagPrefix + "bool";
        }

        if (FloatPattern().IsMatch(value))
        {
            return TagPrefix + "float";
        }

        if (IntPattern().IsMatch(value))
        {
            return TagPrefix + "int";
        }

        if (TimestampPattern().IsMatch(value))
        {
            return TagPrefix + "timestamp";
        }

        // tag:yaml.org,2002:value ('=') has no constructor in SafeLoader: yaml.safe_load fails on it.
        return value == "=" ? TagPrefix + "value" : TagPrefix + "str";
    }

    /// <summary>A float that stays one in its JSON text (<c>1.0</c>, not <c>1</c>), as Python keeps it a float.</summary>
    private static JsonValue Float(double number)
    {
        var text = number.ToString("R", CultureInfo.InvariantCulture);
        if (text.IndexOfAny(['.', 'E', 'e']) < 0)
        {
            text += ".0";
        }

        using var document = System.Text.Json.JsonDocument.Parse(text);
        return JsonValue.Create(document.RootElement.Clone())!;
    }

    /// <summary>SafeConstructor.construct_yaml_int.</summary>
    private static object? ParseInt(string text)
    {
        var value = text.Replace("_", string.Empty, StringComparison.Ordinal);
        var sign = 1;
        if (value.StartsWith('-'))
        {
            sign = -1;
        }

        if (value.Length > 0 && value[0] is '-' or '+')
        {
            value = value[1..];
        }

        System.Numerics.BigInteger result;
        if (value == "0")
        {
            result = 0;
        }
        else if (value.StartsWith("0b", StringComparison.Ordinal))
        {
            result = value[2..].Aggregate(System.Numerics.BigInteger.Zero, (a, c) => (a * 2) + (c - '0'));
        }
        else if (value.StartsWith("0x", StringComparison.Ordinal))
        {
            result = System.Numerics.BigInteger.Parse("0" + value[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        }
        else if (value.StartsWith('0'))
        {
            result = value[1..].Aggregate(System.Numerics.BigInteger.Zero, (a, c) => (a * 8) + (c - '0'));
        }
        else if (value.Contains(':', StringComparison.Ordinal))
        {
            result = value.Split(':').Aggregate(System.Numerics.BigInteger.Zero, (a, part) => (a * 60) + int.Parse(part, CultureInfo.InvariantCulture));
        }
        else if (!System.Numerics.BigInteger.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out result))
        {
            return null;
        }

        result *= sign;
        return result >= long.MinValue && result <= long.MaxValue ? (long)result : (double)result;
    }

    /// <summary>SafeConstructor.construct_yaml_float (infinities and NaN, which JSON cannot hold, become the largest doubles and 0).</summary>
    private static double? ParseFloat(string text)
    {
        var value = text.Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
        var sign = value.StartsWith('-') ? -1.0 : 1.0;
        if (value.Length > 0 && value[0] is '-' or '+')
        {
            value = value[1..];
        }

        if (value == ".inf")
        {
            return sign * double.MaxValue;
        }

        if (value == ".nan")
        {
            return 0;
        }

        if (value.Contains(':', StringComparison.Ordinal))
        {
            return sign * value.Split(':').Aggregate(0.0, (a, part) => (a * 60) + double.Parse(part, CultureInfo.InvariantCulture));
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? sign * number : null;
    }

    private static string Where(string path) => path.Length == 0 ? string.Empty : path.TrimStart('/') + ": ";

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "a mapping",
        JsonArray => "a list",
        JsonValue v when v.TryGetValue<bool>(out _) => "a boolean",
        JsonValue v when v.TryGetValue<string>(out _) => "a string",
        _ => "a number",
    };

    [GeneratedRegex(@"^(?:~|null|Null|NULL)$", RegexOptions.CultureInvariant)]
    private static partial Regex NullPattern();

    [GeneratedRegex(@"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$", RegexOptions.CultureInvariant)]
    private static partial Regex BoolPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$", RegexOptions.CultureInvariant)]
    private static partial Regex TimestampPattern();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", RegexOptions.CultureInvariant)]
    private static partial Regex MarksPattern();
}
