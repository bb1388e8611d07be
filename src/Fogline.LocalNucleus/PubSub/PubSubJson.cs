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
                    writer.WriteRawValue(Fogline.Greengrass.Recipes.JavaNumbers.DoubleToString(number), skipInputValidation: true);
                }
                else
                {
                    infinity = true;
                    writer.WriteStringValue(Fogline.Greengrass.Recipes.JavaNumbers.DoubleToString(number));
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
