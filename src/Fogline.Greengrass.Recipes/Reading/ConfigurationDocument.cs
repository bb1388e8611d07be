using System.Text;
using System.Text.Json.Nodes;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// A YAML or JSON document that is not a recipe (the Nucleus's <c>config.yaml</c>, an <c>--init-config</c>, a
/// deployment document), read exactly as recipes are: YAML 1.2's core schema types plain scalars (as the Nucleus's
/// Jackson does: <c>yes</c> stays a string), numbers follow Java's rules, and every error has its file, line and column.
/// </summary>
public static class ConfigurationDocument
{
    /// <summary>Reads <paramref name="text"/>; the extension of <paramref name="file"/> decides YAML or JSON.</summary>
    /// <exception cref="RecipeException">The document is not valid YAML or JSON, or holds a number JSON cannot.</exception>
    public static JsonNode? Parse(string text, string file)
    {
        ArgumentNullException.ThrowIfNull(text);
        var errors = new List<RecipeError>();
        var root = ComponentRecipe.FormatOf(file) == RecipeFormat.Json
            ? Reading.JsonDocumentReader.Read(Encoding.UTF8.GetBytes(text), file, errors)
            : Reading.YamlDocumentReader.Read(text, file, errors);
        var json = root is null ? null : RecipeNodeJson.ToJson(root, "$", (scalar, path) =>
            errors.Add(new RecipeError(scalar.Location, $"{path}: {scalar.Value} cannot be held in JSON; quote it to make it a string")));
        if (errors.Count > 0)
        {
            throw new RecipeException(errors);
        }

        return json;
    }
}
