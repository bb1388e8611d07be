using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Fogline.LocalNucleus.PubSub;

/// <summary>
/// A JSON message as the Nucleus passes it on. The Nucleus's IPC server reads <c>jsonMessage.message</c> into a Java
/// <c>Map&lt;String, Object&gt;</c> with the IPC SDK's Gson, and writes that map again for every subscriber (and with
/// Jackson for in-process subscribers). What a subscriber receives therefore differs from what was published:
/// <list type="bullet">
/// <item>the message must be a JSON object (anything else fails to deserialize: "InternalServerError");</item>
/// <item>every number becomes a Java <c>double</c> and is written as Java's <c>Double.toString</c> writes it:
/// <c>1</c> arrives as <c>1.0</c>, <c>12345678</c> as <c>1.2345678E7</c>, and integers beyond 2^53 lose precision;</item>
/// <item>a key repeated at the top level fails ("duplicate key", unless the earlier value was null); a key repeated in a
/// nested object keeps its first position and its last value;</item>
/// <item>nulls inside the message are kept.</item>
/// </list>
/// A number too large for a double becomes an infinity, which Gson refuses to write: the message is not sent to IPC
/// subscribers (in-process subscribers get it, with Jackson's <c>"Infinity"</c> string).
/// </summary>
internal static class PubSubJson
{
    private static readonly JsonWriterOptions s_writerOptions = new()
    {
        // Jackson and Gson write non-ASCII characters as they are; escaping differences are not visible after parsing.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    /// <summary>
    /// Rewrites a published JSON message as the Nucleus passes it on (compact UTF-8). Throws
    /// <see cref="PubSubFormatException"/> where the Nucleus fails to read the request.
    /// </summary>
    public static byte[] Normalize(JsonElement message, out bool hasInfinity)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            throw new PubSubFormatException($"Expected BEGIN_OBJECT but was {GsonToken(message.ValueKind)} at path $.publishMessage.jsonMessage.message");
        }

        var buffer = new ArrayBufferWriter<byte>(256);
        var infinity = false;
        using (var writer = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            WriteObject(writer, message, topLevel: true, ref infinity);
        }

        hasInfinity = infinity;
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Java's <c>Double.toString(double)</c> (JDK 19 and later: the shortest decimal that reads back as the same double).</summary>
    public static string JavaDoubleToString(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0.0" : "0.0";
        }

        var magnitude = Math.Abs(value);
        var (digits, point) = Decompose(magnitude.ToString("R", CultureInfo.InvariantCulture));
        if (digits.Length == 1)
        {
            // Java picks, when one digit would do, the closest two-digit decimal (4.9E-324, not 5E-324).
            var two = magnitude.ToString("E1", CultureInfo.InvariantCulture);
            if (double.Parse(two, NumberStyles.Float, CultureInfo.InvariantCulture) == magnitude)
            {
                (digits, point) = Decompose(two);
            }
        }

        var text = new StringBuilder(digits.Length + 8);
        if (value < 0)
        {
            text.Append('-');
        }

        if (magnitude is >= 1e-3 and < 1e7)
        {
            if (point <= 0)
            {
                text.Append("0.").Append('0', -point).Append(digits);
            }
            else if (point >= digits.Length)
            {
                text.Append(digits).Append('0', point - digits.Length).Append(".0");
            }
            else
            {
                text.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
            }
        }
        else
        {
            text.Append(digits[0]).Append('.');
            text.Append(digits.Length > 1 ? digits.AsSpan(1) : "0");
            text.Append('E').Append((point - 1).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    // The significant digits (no leading or trailing zeros) of a formatted positive number, and where the decimal
    // point goes: value = 0.<digits> x 10^point.
    private static (string Digits, int Point) Decompose(string formatted)
    {
        var exponent = 0;
        var mantissa = formatted;
        var e = formatted.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(formatted.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = formatted[..e];
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integerDigits = dot < 0 ? mantissa.Length : dot;
        var all = dot < 0 ? mantissa : string.Concat(mantissa.AsSpan(0, dot), mantissa.AsSpan(dot + 1));
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        var digits = all[leading..].TrimEnd('0');
        return (digits.Length == 0 ? "0" : digits, integerDigits - leading + exponent);
    }

    private static void WriteObject(Utf8JsonWriter writer, JsonElement element, bool topLevel, ref bool infinity)
    {
        // Gson's maps keep insertion order; a repeated key replaces the value in place.
        var members = new List<KeyValuePair<string, JsonElement>>();
        Dictionary<string, int>? index = null;
        foreach (var property in element.EnumerateObject())
        {
            index ??= new Dictionary<string, int>(StringComparer.Ordinal);
            if (index.TryGetValue(property.Name, out var at))
            {
                if (topLevel && members[at].Value.ValueKind != JsonValueKind.Null)
                {
                    throw new PubSubFormatException("duplicate key: " + property.Name);
                }

                members[at] = new(property.Name, property.Value);
            }
            else
            {
                index[property.Name] = members.Count;
                members.Add(new(property.Name, property.Value));
            }
        }

        writer.WriteStartObject();
        foreach (var (name, value) in members)
        {
            writer.WritePropertyName(name);
            WriteValue(writer, value, ref infinity);
        }

        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonElement element, ref bool infinity)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, element, topLevel: false, ref infinity);
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteValue(writer, item, ref infinity);
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                var number = double.Parse(element.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);
                if (double.IsFinite(number))
                {
                    writer.WriteRawValue(JavaDoubleToString(number), skipInputValidation: true);
                }
                else
                {
                    infinity = true;
                    writer.WriteStringValue(JavaDoubleToString(number));
                }

                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }

    private static string GsonToken(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "BEGIN_ARRAY",
        JsonValueKind.String => "STRING",
        JsonValueKind.Number => "NUMBER",
        JsonValueKind.True or JsonValueKind.False => "BOOLEAN",
        _ => "NULL",
    };
}

/// <summary>A request the Nucleus fails to read (answered with the text "InternalServerError", not a modeled error).</summary>
public sealed class PubSubFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PubSubFormatException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public PubSubFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PubSubFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
