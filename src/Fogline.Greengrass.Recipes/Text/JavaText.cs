using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fogline.Greengrass.Recipes.Text;

/// <summary>
/// Text of values the way the Nucleus (Java, Jackson) writes them: <c>Double.toString</c> for floating-point numbers,
/// <c>JsonNode.asText()</c> for values and <c>JsonNode.toString()</c> (compact JSON) for containers.
/// </summary>
internal static class JavaText
{
    /// <summary>Java's <c>Double.toString</c>: shortest digits, plain between 10^-3 and 10^7, else <c>d.dddE±n</c>.</summary>
    public static string Double(double value) => JavaNumbers.DoubleToString(value);

    /// <summary>
    /// Normalizes a recipe number to the JSON text the Nucleus would hold for it: integers as plain digits, other
    /// numbers as Java doubles. Null when it cannot be a JSON number (infinities, NaN).
    /// </summary>
    public static string? NumberText(string text, bool isInteger)
    {
        if (isInteger)
        {
            var t = text.StartsWith('+') ? text[1..] : text;
            BigInteger value;
            if (t.StartsWith("0x", StringComparison.Ordinal))
            {
                value = BigInteger.Parse("0" + t[2..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            }
            else if (t.StartsWith("0o", StringComparison.Ordinal))
            {
                value = BigInteger.Zero;
                foreach (var c in t[2..])
                {
                    value = (value * 8) + (c - '0');
                }
            }
            else
            {
                value = BigInteger.Parse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            }

            return value.ToString(CultureInfo.InvariantCulture);
        }

        var lower = text.ToLowerInvariant();
        if (lower.Contains("inf", StringComparison.Ordinal) || lower.Contains("nan", StringComparison.Ordinal))
        {
            return null;
        }

        var d = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        return double.IsFinite(d) ? Double(d) : null;
    }

    /// <summary>A JSON number node holding exactly <paramref name="jsonText"/>.</summary>
    public static JsonValue NumberNode(string jsonText)
    {
        using var document = JsonDocument.Parse(jsonText);
        return JsonValue.Create(document.RootElement.Clone())!;
    }

    /// <summary>
    /// The text of a scalar as the Nucleus makes it (<c>Coerce.toString</c>): strings as they are, integers as digits,
    /// other numbers as Java doubles, booleans as true/false.
    /// </summary>
    public static string? ScalarText(RecipeScalar scalar) => scalar.Type switch
    {
        RecipeScalarType.String => scalar.Value,
        RecipeScalarType.Boolean => scalar.Value.Equals("true", StringComparison.OrdinalIgnoreCase) ? "true" : "false",
        RecipeScalarType.Integer => NumberText(scalar.Value, true),
        RecipeScalarType.Float => NumberText(scalar.Value, false) ?? scalar.Value,
        _ => null,
    };

    /// <summary>Jackson's <c>JsonNode.asText()</c> of a value (null is "null").</summary>
    public static string ValueText(JsonValue? value)
    {
        if (value is null)
        {
            return "null";
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                return value.GetValue<string>();
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            case JsonValueKind.Number:
                return NumberOf(value);
            default:
                return "null";
        }
    }

    /// <summary>Jackson's compact <c>toString()</c> of a node, object keys sorted (the Nucleus sorts map entries).</summary>
    public static string ContainerText(JsonNode? node)
    {
        var sb = new StringBuilder();
        WriteCompact(sb, node);
        return sb.ToString();
    }

    private static void WriteCompact(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null:
                sb.Append("null");
                break;
            case JsonObject obj:
                sb.Append('{');
                var first = true;
                foreach (var (key, child) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }

                    first = false;
                    WriteString(sb, key);
                    sb.Append(':');
                    WriteCompact(sb, child);
                }

                sb.Append('}');
                break;
            case JsonArray array:
                sb.Append('[');
                for (var i = 0; i < array.Count; i++)
                {
                    if (i > 0)
                    {
                        sb.Append(',');
                    }

                    WriteCompact(sb, array[i]);
                }

                sb.Append(']');
                break;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        WriteString(sb, value.GetValue<string>());
                        break;
                    case JsonValueKind.Number:
                        sb.Append(NumberOf(value));
                        break;
                    case JsonValueKind.True:
                        sb.Append("true");
                        break;
                    case JsonValueKind.False:
                        sb.Append("false");
                        break;
                    default:
                        sb.Append("null");
                        break;
                }

                break;
        }
    }

    /// <summary>Jackson's string escaping: quote, backslash and control characters only.</summary>
    private static void WriteString(StringBuilder sb, string value)
    {
        sb.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case '\n':
                    sb.Append("\\n");
                    break;
                case '\r':
                    sb.Append("\\r");
                    break;
                case '\t':
                    sb.Append("\\t");
                    break;
                case '\b':
                    sb.Append("\\b");
                    break;
                case '\f':
                    sb.Append("\\f");
                    break;
                default:
                    if (c < 0x20)
                    {
                        sb.Append("\\u00").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        sb.Append('"');
    }

    private static string NumberOf(JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element))
        {
            var raw = element.GetRawText();
            return raw.AsSpan().IndexOfAny(".eE") < 0
                ? BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)
                : element.TryGetDouble(out var parsed) ? Double(parsed) : raw;
        }

        if (value.TryGetValue<double>(out var d))
        {
            return Double(d);
        }

        if (value.TryGetValue<float>(out var f))
        {
            return Double(f);
        }

        if (value.TryGetValue<decimal>(out var m))
        {
            return m == decimal.Truncate(m) && m.Scale == 0 ? m.ToString(CultureInfo.InvariantCulture) : Double((double)m);
        }

        if (value.TryGetValue<long>(out var l))
        {
            return l.ToString(CultureInfo.InvariantCulture);
        }

        if (value.TryGetValue<ulong>(out var ul))
        {
            return ul.ToString(CultureInfo.InvariantCulture);
        }

        if (value.TryGetValue<int>(out var i))
        {
            return i.ToString(CultureInfo.InvariantCulture);
        }

        return value.ToJsonString();
    }
}
