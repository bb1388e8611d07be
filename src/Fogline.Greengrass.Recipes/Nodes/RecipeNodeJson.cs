using System.Globalization;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Recipes.Text;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// Document nodes (YAML or JSON, as read for recipes) as JSON values, scalars keeping the type YAML's core schema gave
/// them. The one conversion the recipe reader, the recipe writer and <see cref="ConfigurationDocument"/> use.
/// </summary>
internal static class RecipeNodeJson
{
    /// <summary>
    /// Converts <paramref name="node"/>; a number JSON cannot hold (Java's rules: see <see cref="JavaText"/>) goes to
    /// <paramref name="unrepresentable"/> with its path, and becomes null, or stays a string when none is given.
    /// </summary>
    public static JsonNode? ToJson(RecipeNode node, string path = "", Action<RecipeScalar, string>? unrepresentable = null)
    {
        switch (node)
        {
            case RecipeMapping map:
                var obj = new JsonObject();
                foreach (var entry in map.Entries)
                {
                    obj[entry.Key.Value] = ToJson(entry.Value, path + "." + entry.Key.Value, unrepresentable);
                }

                return obj;
            case RecipeSequence sequence:
                var array = new JsonArray();
                for (var i = 0; i < sequence.Items.Count; i++)
                {
                    array.Add(ToJson(sequence.Items[i], string.Create(CultureInfo.InvariantCulture, $"{path}[{i}]"), unrepresentable));
                }

                return array;
            case RecipeScalar scalar:
                switch (scalar.Type)
                {
                    case RecipeScalarType.String:
                        return JsonValue.Create(scalar.Value);
                    case RecipeScalarType.Boolean:
                        return JsonValue.Create(scalar.Value.Equals("true", StringComparison.OrdinalIgnoreCase));
                    case RecipeScalarType.Integer:
                    case RecipeScalarType.Float:
                        if (JavaText.NumberText(scalar.Value, scalar.Type == RecipeScalarType.Integer) is { } number)
                        {
                            return JavaText.NumberNode(number);
                        }

                        if (unrepresentable is null)
                        {
                            return JsonValue.Create(scalar.Value);
                        }

                        unrepresentable(scalar, path);
                        return null;
                    default:
                        return null;
                }

            default:
                return null;
        }
    }
}
