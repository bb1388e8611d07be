using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Recipes;
using Fogline.Greengrass.Recipes.Writing;

namespace Fogline.Gdk.Publishing;

/// <summary>
/// The recipe publish sends, made from the built recipe as GDK's publish makes it
/// (gdk/commands/component/transformer/PublishRecipeTransformer.py): ComponentVersion set to the version being
/// published; each <c>s3://</c> artifact whose file name is in the build's artifact folder gets the URI
/// <c>s3://BUCKET/NAME/VERSION/FILE</c> (the whole URI replaced); keys read case-insensitively and written as they
/// were; the same format (JSON or YAML) as the project recipe. Then checked before anything is uploaded: at most
/// 16,000 bytes, GDK's recipe schema, and the recipe library's own checks (every error with file:line:col); an
/// artifact the recipe names with GDK's build placeholder URI but the build did not produce is an error (GDK only
/// warns, and would publish the placeholder URI).
/// </summary>
public sealed class PublishRecipe
{
    /// <summary>The largest recipe AWS accepts (GDK's bound, inclusive).</summary>
    public const int MaxBytes = 16000;

    private PublishRecipe(string path, byte[] bytes, ComponentRecipe recipe, IReadOnlyList<string> artifactFiles)
    {
        Path = path;
        Bytes = bytes;
        Recipe = recipe;
        ArtifactFiles = artifactFiles;
    }

    /// <summary>Where it was written: <c>greengrass-build/recipes/NAME-VERSION.yaml</c> (or .json).</summary>
    public string Path { get; }

    /// <summary>The recipe as sent to CreateComponentVersion.</summary>
    public byte[] Bytes { get; }

    /// <summary>The recipe as the Nucleus reads it.</summary>
    public ComponentRecipe Recipe { get; }

    /// <summary>The build's artifact files the recipe names (the ones to upload), full paths.</summary>
    public IReadOnlyList<string> ArtifactFiles { get; }

    /// <summary>Makes, writes and checks the publish recipe of <paramref name="project"/>.</summary>
    /// <exception cref="GdkException">The built recipe is missing or not the project's, or the publish recipe fails a check.</exception>
    public static PublishRecipe Create(GdkProject project, string version, string bucket)
    {
        ArgumentNullException.ThrowIfNull(project);
        var built = project.BuildRecipeFile;
        if (!File.Exists(built))
        {
            throw new GdkException($"the build wrote no recipe at {built}: a custom build must write greengrass-build/recipes/{System.IO.Path.GetFileName(built)} (run `fogline component build`)");
        }

        var json = project.RecipeFile.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        JsonObject document;
        try
        {
            document = ConfigurationDocument.Parse(File.ReadAllText(built), built) as JsonObject
                ?? throw new GdkException($"{built}: the built recipe is not a mapping");
        }
        catch (RecipeException e)
        {
            throw new GdkException($"the built recipe cannot be read: {First(e)}", [.. e.Errors.Select(r => r.ToString())]);
        }

        var name = Value(document, "ComponentName")?.ToString();
        if (name != project.Config.ComponentName)
        {
            throw new GdkException($"{built}: ComponentName is '{name}', but gdk-config.json builds '{project.Config.ComponentName}'; build the component again (`fogline component build`)");
        }

        Set(document, "ComponentVersion", version);
        var artifactDirectory = project.ComponentArtifactsDirectory;
        var files = new List<string>();
        var missing = new List<string>();
        foreach (var manifest in Items(Value(document, "Manifests")))
        {
            foreach (var artifact in Items(Value(manifest as JsonObject, "Artifacts")).OfType<JsonObject>())
            {
                if (Value(artifact, "URI")?.GetValueKind() != JsonValueKind.String || Value(artifact, "URI")!.GetValue<string>() is not { } uri || !uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                var file = uri[(uri.LastIndexOf('/') + 1)..];
                var path = System.IO.Path.Combine(artifactDirectory, file);
                if (file.Length > 0 && File.Exists(path))
                {
                    Set(artifact, "URI", $"s3://{bucket}/{name}/{version}/{file}");
                    if (!files.Contains(path, StringComparer.Ordinal))
                    {
                        files.Add(path);
                    }
                }
                else if (uri.StartsWith(RecipeTemplate.BuildArtifactUriPrefix, StringComparison.Ordinal))
                {
                    missing.Add(file);
                }
            }
        }

        if (missing.Count > 0)
        {
            throw new GdkException($"{built}: the recipe names {string.Join(", ", missing.Select(m => "'" + m + "'"))}, which the build did not produce in {artifactDirectory}; nothing was uploaded");
        }

        var text = json
            ? JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, IndentSize = 4, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping })
            : RecipeWriter.ToYaml(document);
        var bytes = Encoding.UTF8.GetBytes(text);
        var publishPath = System.IO.Path.Combine(project.BuildRecipesDirectory, $"{name}-{version}{(json ? ".json" : ".yaml")}");
        File.WriteAllBytes(publishPath, bytes);
        if (bytes.Length > MaxBytes)
        {
            throw new GdkException($"{publishPath}: the recipe is {bytes.Length} bytes; a component recipe can be at most {MaxBytes} bytes; nothing was uploaded");
        }

        var schema = GdkRecipeSchema.Validate(text, publishPath);
        if (schema.Count > 0)
        {
            throw new GdkException($"{publishPath}: GDK's recipe schema refuses it: {schema[0]}; nothing was uploaded", schema);
        }

        ComponentRecipe recipe;
        try
        {
            recipe = ComponentRecipe.Parse(bytes, publishPath, json ? RecipeFormat.Json : RecipeFormat.Yaml);
        }
        catch (RecipeException e)
        {
            throw new GdkException($"{First(e)}; nothing was uploaded", [.. e.Errors.Select(r => r.ToString())]);
        }

        return new PublishRecipe(publishPath, bytes, recipe, files);
    }

    private static string First(RecipeException e) => e.Errors.Count > 0 ? e.Errors[0].ToString() + (e.Errors.Count > 1 ? $" (and {e.Errors.Count - 1} more)" : string.Empty) : e.Message;

    /// <summary>The value of <paramref name="key"/> in any letter case (GDK reads recipes case-insensitively).</summary>
    private static JsonNode? Value(JsonObject? node, string key) =>
        node?.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>Sets <paramref name="key"/>, keeping the spelling it has (GDK's update_value), else adding it.</summary>
    private static void Set(JsonObject node, string key, string value)
    {
        var existing = node.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Key;
        node[existing ?? key] = value;
    }

    private static IEnumerable<JsonNode?> Items(JsonNode? node) => node as JsonArray ?? [];
}
