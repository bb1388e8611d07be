using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// JSON read into maps as the Nucleus's Jackson and GDK's Python <c>json.loads</c> both read it: a key written twice
/// keeps its first place and takes its last value (System.Text.Json's JsonNode would refuse it).
/// </summary>
public static class JsonMaps
{
    /// <summary>Parses <paramref name="text"/>.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static JsonNode? Parse(string text)
    {
        using var document = JsonDocument.Parse(text);
        return ToNode(document.RootElement);
    }

    /// <summary>A parsed element as a node, with the same rule for repeated keys.</summary>
    public static JsonNode? ToNode(JsonElement element)
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
                var array = new JsonArray();
                foreach (var item in element.EnumerateArray())
                {
                    array.Add(ToNode(item));
                }

                return array;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                return null;
            default:
                return JsonNode.Parse(element.GetRawText());
        }
    }
}
