using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fogline.Gdk;

/// <summary>
/// GDK's recipe check (gdk/common/RecipeValidator.py): the recipe read as GDK reads it (<c>json.loads</c> for .json,
/// PyYAML's <c>yaml.safe_load</c> for .yaml/.yml), every key of every mapping lowercased (data keys of
/// ComponentConfiguration too), then validated with Draft 7 against GDK's recipe_schema.json. GDK runs it on the
/// recipe a build writes (zip/maven/gradle builds) and on the recipe publish writes.
/// </summary>
public static class GdkRecipeSchema
{
    /// <summary>
    /// The problems of the recipe <paramref name="text"/> (empty when GDK accepts it), each <c>location: message</c>
    /// in jsonschema's words; what GDK cannot read at all (a syntax error, a YAML date, a key that is no string) is
    /// a problem too. <paramref name="fileName"/>'s extension picks JSON (<c>.json</c>) or YAML.
    /// </summary>
    public static IReadOnlyList<string> Validate(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        var problems = new List<string>();
        var document = Read(text, fileName, problems);
        if (document is null && problems.Count > 0)
        {
            return problems;
        }

        problems.AddRange(GdkSchemaValidator.Recipe.Validate(KeysToLower(document)).Select(e => e.ToString()));
        return problems;
    }

    /// <summary>The problems of the recipe file <paramref name="path"/> (see <see cref="Validate(string, string)"/>).</summary>
    public static IReadOnlyList<string> ValidateFile(string path) => Validate(File.ReadAllText(path), path);

    /// <summary>The recipe as GDK reads it (JSON or YAML by extension), keys as written; problems go to <paramref name="problems"/>.</summary>
    internal static JsonNode? Read(string text, string fileName, List<string> problems)
    {
        if (fileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                return Fogline.Greengrass.Recipes.JsonMaps.Parse(text);
            }
            catch (JsonException e)
            {
                problems.Add("JSON syntax error: " + e.Message);
                return null;
            }
        }

        return PyYamlReader.Read(text, problems);
    }

    /// <summary>RecipeValidator._keys_to_lower: every key of every mapping, recursively (a later duplicate wins).</summary>
    internal static JsonNode? KeysToLower(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Aggregate(new JsonObject(), (lowered, p) =>
        {
            lowered[p.Key.ToLowerInvariant()] = KeysToLower(p.Value);
            return lowered;
        }),
        JsonArray array => new JsonArray(array.Select(KeysToLower).ToArray()),
        _ => node?.DeepClone(),
    };
}
