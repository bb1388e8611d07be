using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fogline.Gdk;

/// <summary>JSON read as Python's <c>json.loads</c> reads it: a repeated key keeps its first place and its last value.</summary>
internal static class GdkJson
{
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static JsonNode? Parse(string text)
    {
        using var document = JsonDocument.Parse(text);
        return ToNode(document.RootElement);
    }

    private static JsonNode? ToNode(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    obj[property.Name] = ToNode(property.Value);
                }

                return obj;
            case JsonValueKind.Array:
                return new JsonArray(element.EnumerateArray().Select(ToNode).ToArray());
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return null;
            default:
                return JsonValue.Create(element.Clone());
        }
    }
}
