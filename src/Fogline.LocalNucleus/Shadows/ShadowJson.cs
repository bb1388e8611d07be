using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Fogline.LocalNucleus.Shadows;

/// <summary>The kinds of JSON nodes (Jackson's <c>JsonNodeType</c> for the kinds a parsed document has).</summary>
internal enum JNodeType
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>
/// A mutable JSON tree with the semantics of the Jackson trees the shadow manager works on: objects keep insertion
/// order (replacing a member keeps its place), integers and floating-point numbers are distinct kinds of number (an
/// integer is never equal to a double), nodes are shared by reference, <see cref="Get"/> on anything but an object
/// answers null, and a missing value is a C# null.
/// </summary>
internal abstract class JNode
{
    public abstract JNodeType NodeType { get; }

    public bool IsObject => NodeType == JNodeType.Object;

    public bool IsArray => NodeType == JNodeType.Array;

    public bool IsNull => NodeType == JNodeType.Null;

    public bool IsNumber => NodeType == JNodeType.Number;

    public bool IsString => NodeType == JNodeType.String;

    /// <summary>Everything but objects and arrays (null included), as Jackson's <c>isValueNode</c>.</summary>
    public bool IsValueNode => NodeType is not JNodeType.Object and not JNodeType.Array;

    /// <summary>The number of members or elements; 0 for values (so that values are "empty" as in Jackson).</summary>
    public virtual int Size => 0;

    /// <summary>The Jackson class of the node, for the messages of the Java failures reproduced.</summary>
    public abstract string JavaClassName { get; }

    /// <summary>The member <paramref name="field"/> of an object; null for a missing member and for non-objects.</summary>
    public virtual JNode? Get(string field) => null;

    public abstract JNode DeepCopy();

    /// <summary>Jackson's node equality: objects compare as maps, arrays element by element, numbers by kind and value.</summary>
    public abstract bool JavaEquals(JNode other);

    /// <summary>Whether this is a missing value: null, JSON null, or an empty object (the shadow manager's isNullOrMissing).</summary>
    public static bool IsNullOrMissing(JNode? node) => node is null || node.IsNull || (node.IsObject && node.Size == 0);

    /// <summary>Null when the node is missing (see <see cref="IsNullOrMissing"/>), the node otherwise.</summary>
    public static JNode? NullIfEmpty(JNode? node) => IsNullOrMissing(node) ? null : node;
}

internal sealed class JObject : JNode
{
    private readonly OrderedDictionary<string, JNode> _members = new(StringComparer.Ordinal);

    public override JNodeType NodeType => JNodeType.Object;

    public override int Size => _members.Count;

    public override string JavaClassName => "ObjectNode";

    /// <summary>The members in order (a snapshot, so the object may change while they are walked).</summary>
    public KeyValuePair<string, JNode>[] Members => [.. _members];

    public override JNode? Get(string field) => _members.TryGetValue(field, out var value) ? value : null;

    /// <summary>Sets a member (a null value becomes JSON null, as Jackson's <c>set</c>); an existing member keeps its place.</summary>
    public void Set(string field, JNode? value) => _members[field] = value ?? JNull.Instance;

    public void Remove(string field) => _members.Remove(field);

    public void RemoveAll() => _members.Clear();

    public override JNode DeepCopy()
    {
        var copy = new JObject();
        foreach (var (key, value) in _members)
        {
            copy._members[key] = value.DeepCopy();
        }

        return copy;
    }

    public override bool JavaEquals(JNode other)
    {
        if (other is not JObject o || o._members.Count != _members.Count)
        {
            return false;
        }

        foreach (var (key, value) in _members)
        {
            if (!o._members.TryGetValue(key, out var theirs) || !value.JavaEquals(theirs))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class JArray : JNode
{
    private readonly List<JNode> _elements = [];

    public override JNodeType NodeType => JNodeType.Array;

    public override int Size => _elements.Count;

    public override string JavaClassName => "ArrayNode";

    public IReadOnlyList<JNode> Elements => _elements;

    /// <summary>The element at <paramref name="index"/>, or null when out of range (Jackson's <c>get(int)</c>).</summary>
    public JNode? At(int index) => index >= 0 && index < _elements.Count ? _elements[index] : null;

    public void Add(JNode? value) => _elements.Add(value ?? JNull.Instance);

    public void AddAll(JArray other) => _elements.AddRange([.. other._elements]);

    public void RemoveAll() => _elements.Clear();

    public override JNode DeepCopy()
    {
        var copy = new JArray();
        foreach (var element in _elements)
        {
            copy._elements.Add(element.DeepCopy());
        }

        return copy;
    }

    public override bool JavaEquals(JNode other)
    {
        if (other is not JArray a || a._elements.Count != _elements.Count)
        {
            return false;
        }

        for (var i = 0; i < _elements.Count; i++)
        {
            if (!_elements[i].JavaEquals(a._elements[i]))
            {
                return false;
            }
        }

        return true;
    }
}

internal sealed class JString(string value) : JNode
{
    public string Value { get; } = value;

    public override JNodeType NodeType => JNodeType.String;

    public override string JavaClassName => "TextNode";

    public override JNode DeepCopy() => this;

    public override bool JavaEquals(JNode other) => other is JString s && string.Equals(s.Value, Value, StringComparison.Ordinal);
}

internal sealed class JBoolean : JNode
{
    public static readonly JBoolean True = new(true);
    public static readonly JBoolean False = new(false);

    private JBoolean(bool value) => Value = value;

    public bool Value { get; }

    public override JNodeType NodeType => JNodeType.Boolean;

    public override string JavaClassName => "BooleanNode";

    public override JNode DeepCopy() => this;

    public override bool JavaEquals(JNode other) => other is JBoolean b && b.Value == Value;
}

internal sealed class JNull : JNode
{
    public static readonly JNull Instance = new();

    private JNull()
    {
    }

    public override JNodeType NodeType => JNodeType.Null;

    public override string JavaClassName => "NullNode";

    public override JNode DeepCopy() => this;

    public override bool JavaEquals(JNode other) => other is JNull;
}

/// <summary>A number: an integer (Jackson's IntNode, LongNode or BigIntegerNode by magnitude) or a double (DoubleNode).</summary>
internal abstract class JNumber : JNode
{
    public override JNodeType NodeType => JNodeType.Number;

    public abstract bool IsIntegral { get; }

    /// <summary>Java's <c>asLong()</c>.</summary>
    public abstract long AsLong();

    /// <summary>Java's <c>asInt()</c>.</summary>
    public abstract int AsInt();

    /// <summary>Java's <c>asDouble()</c>.</summary>
    public abstract double AsDouble();

    /// <summary>The sign of the value (-1, 0, 1), for range checks.</summary>
    public abstract int Sign { get; }
}

internal sealed class JInteger(BigInteger value) : JNumber
{
    public BigInteger Value { get; } = value;

    public override bool IsIntegral => true;

    public override string JavaClassName =>
        Value >= int.MinValue && Value <= int.MaxValue ? "IntNode" : Value >= long.MinValue && Value <= long.MaxValue ? "LongNode" : "BigIntegerNode";

    public override int Sign => Value.Sign;

    public override long AsLong() => unchecked((long)(ulong)(Value & ulong.MaxValue));

    public override int AsInt() => unchecked((int)AsLong());

    public override double AsDouble() => (double)Value;

    public override JNode DeepCopy() => this;

    public override bool JavaEquals(JNode other) => other is JInteger i && i.Value == Value;

    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}

internal sealed class JDouble(double value) : JNumber
{
    public double Value { get; } = value;

    public override bool IsIntegral => false;

    public override string JavaClassName => "DoubleNode";

    public override int Sign => Value > 0 ? 1 : Value < 0 ? -1 : 0;

    public override long AsLong() => double.IsNaN(Value) ? 0 : Value >= long.MaxValue ? long.MaxValue : Value <= long.MinValue ? long.MinValue : (long)Value;

    public override int AsInt() => double.IsNaN(Value) ? 0 : Value >= int.MaxValue ? int.MaxValue : Value <= int.MinValue ? int.MinValue : (int)Value;

    public override double AsDouble() => Value;

    public override JNode DeepCopy() => this;

    // Double.compare(a, b) == 0: NaN equals NaN, 0.0 and -0.0 differ.
    public override bool JavaEquals(JNode other) => other is JDouble d && d.Value.Equals(Value) && double.IsNegative(d.Value) == double.IsNegative(Value);
}

/// <summary>Reads and writes JSON as the shadow manager's Jackson ObjectMapper does.</summary>
internal static class ShadowJson
{
    private const int MaxDepth = 1000;

    /// <summary>
    /// Reads the first JSON value of <paramref name="utf8"/> as Jackson's <c>readTree</c>: null when there is none
    /// (empty or blank input), a byte order mark is skipped, what follows the first value is not looked at, a repeated
    /// member replaces the earlier value in its place, nesting is limited to 1000 levels. Throws <see cref="JsonException"/> when the JSON is not valid.
    /// </summary>
    public static JNode? Parse(ReadOnlySpan<byte> utf8)
    {
        // Jackson skips a byte order mark.
        if (utf8.StartsWith("\uFEFF"u8))
        {
            utf8 = utf8[3..];
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = MaxDepth });
        if (!reader.Read())
        {
            return null;
        }

        return ReadValue(ref reader);
    }

    private static JNode ReadValue(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                var obj = new JObject();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var name = reader.GetString()!;
                    reader.Read();
                    obj.Set(name, ReadValue(ref reader));
                }

                return obj;
            case JsonTokenType.StartArray:
                var array = new JArray();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    array.Add(ReadValue(ref reader));
                }

                return array;
            case JsonTokenType.String:
                return new JString(reader.GetString()!);
            case JsonTokenType.Number:
                return ParseNumber(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
            case JsonTokenType.True:
                return JBoolean.True;
            case JsonTokenType.False:
                return JBoolean.False;
            case JsonTokenType.Null:
                return JNull.Instance;
            default:
                throw new JsonException("Unexpected token " + reader.TokenType);
        }
    }

    private static JNumber ParseNumber(ReadOnlySpan<byte> text)
    {
        var s = Encoding.ASCII.GetString(text);
        return s.AsSpan().IndexOfAny(".eE") >= 0
            ? new JDouble(double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture))
            : new JInteger(BigInteger.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }

    /// <summary>The node as Jackson writes it (compact, UTF-8): the bytes the shadow manager stores, sizes and sends.</summary>
    public static byte[] ToBytes(JNode node)
    {
        var builder = new StringBuilder();
        Write(builder, node);
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>The node as Jackson writes it, as a string.</summary>
    public static string ToJsonString(JNode node)
    {
        var builder = new StringBuilder();
        Write(builder, node);
        return builder.ToString();
    }

    private static void Write(StringBuilder output, JNode node)
    {
        switch (node)
        {
            case JObject obj:
                output.Append('{');
                var first = true;
                foreach (var (key, value) in obj.Members)
                {
                    if (!first)
                    {
                        output.Append(',');
                    }

                    first = false;
                    WriteString(output, key);
                    output.Append(':');
                    Write(output, value);
                }

                output.Append('}');
                break;
            case JArray array:
                output.Append('[');
                for (var i = 0; i < array.Elements.Count; i++)
                {
                    if (i > 0)
                    {
                        output.Append(',');
                    }

                    Write(output, array.Elements[i]);
                }

                output.Append(']');
                break;
            case JString s:
                WriteString(output, s.Value);
                break;
            case JInteger i:
                output.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case JDouble d:
                // Jackson quotes the non-finite values (QUOTE_NON_NUMERIC_NUMBERS).
                var text = Fogline.Greengrass.Recipes.JavaNumbers.DoubleToString(d.Value);
                if (double.IsFinite(d.Value))
                {
                    output.Append(text);
                }
                else
                {
                    WriteString(output, text);
                }

                break;
            case JBoolean b:
                output.Append(b.Value ? "true" : "false");
                break;
            default:
                output.Append("null");
                break;
        }
    }

    // Jackson's escaping: '"' and '\\', the short escapes \b \t \n \f \r, other control characters as \u00XX (upper
    // case hex); everything else, non-ASCII included, as is. A lone surrogate is written as a \u escape.
    private static void WriteString(StringBuilder output, string value)
    {
        output.Append('"');
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '"':
                    output.Append("\\\"");
                    break;
                case '\\':
                    output.Append("\\\\");
                    break;
                case '\b':
                    output.Append("\\b");
                    break;
                case '\t':
                    output.Append("\\t");
                    break;
                case '\n':
                    output.Append("\\n");
                    break;
                case '\f':
                    output.Append("\\f");
                    break;
                case '\r':
                    output.Append("\\r");
                    break;
                default:
                    if (c < 0x20)
                    {
                        output.Append("\\u00").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture));
                    }
                    else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        output.Append(c).Append(value[i + 1]);
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        output.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        output.Append(c);
                    }

                    break;
            }
        }

        output.Append('"');
    }
}
