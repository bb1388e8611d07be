using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Recipes.Reading;
using Fogline.Greengrass.Recipes.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Fogline.Greengrass.Recipes.Writing;

/// <summary>
/// Writes a recipe with the canonical key names, as JSON or YAML. Reading the output gives back an equal model
/// (values the Nucleus turns into text, such as Setenv numbers, are written as that text).
/// </summary>
public static partial class RecipeWriter
{
    public static string ToJson(ComponentRecipe recipe)
    {
        var node = ToNode(recipe);
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            node.WriteTo(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static string ToYaml(ComponentRecipe recipe) => ToYaml(ToNode(recipe));

    /// <summary>Any JSON tree as YAML (block style, keys in their order, strings quoted where YAML would read them as another type).</summary>
    public static string ToYaml(JsonNode node)
    {
        var text = new StringWriter();
        var emitter = new Emitter(text, 2);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    /// <summary>The recipe as a JSON tree with canonical keys.</summary>
    public static JsonObject ToNode(ComponentRecipe recipe)
    {
        var root = new JsonObject
        {
            ["RecipeFormatVersion"] = recipe.RecipeFormatVersion,
            ["ComponentName"] = recipe.ComponentName,
            ["ComponentVersion"] = recipe.ComponentVersion.ToString(),
        };
        AddIfNotNull(root, "ComponentDescription", recipe.ComponentDescription);
        AddIfNotNull(root, "ComponentPublisher", recipe.ComponentPublisher);
        root["ComponentType"] = recipe.ComponentType.ToRecipeString();
        AddIfNotNull(root, "ComponentSource", recipe.ComponentSource);
        if (recipe.ComponentConfiguration is { } configuration)
        {
            root["ComponentConfiguration"] = new JsonObject
            {
                ["DefaultConfiguration"] = configuration.DefaultConfiguration.DeepClone(),
            };
        }

        if (recipe.ComponentDependencies.Count > 0)
        {
            var dependencies = new JsonObject();
            foreach (var dependency in recipe.ComponentDependencies)
            {
                dependencies[dependency.Name] = new JsonObject
                {
                    ["VersionRequirement"] = dependency.VersionRequirement.Text,
                    ["DependencyType"] = dependency.DependencyType.ToRecipeString(),
                };
            }

            root["ComponentDependencies"] = dependencies;
        }

        var manifests = new JsonArray();
        foreach (var manifest in recipe.Manifests)
        {
            manifests.Add((JsonNode)ToNode(manifest));
        }

        root["Manifests"] = manifests;
        if (recipe.Lifecycle is { } lifecycle)
        {
            root["Lifecycle"] = ToNode(lifecycle);
        }

        return root;
    }

    private static JsonObject ToNode(PlatformManifest manifest)
    {
        var node = new JsonObject();
        AddIfNotNull(node, "Name", manifest.Name);
        if (manifest.Platform is { } platform)
        {
            var platformNode = new JsonObject();
            foreach (var (key, value) in platform)
            {
                platformNode[key] = value;
            }

            node["Platform"] = platformNode;
        }

        if (manifest.Lifecycle is { } lifecycle)
        {
            node["Lifecycle"] = ToNode(lifecycle);
        }

        if (manifest.Selections is { } selections)
        {
            node["Selections"] = new JsonArray(selections.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray());
        }

        if (manifest.Artifacts.Count > 0)
        {
            var artifacts = new JsonArray();
            foreach (var artifact in manifest.Artifacts)
            {
                var artifactNode = new JsonObject { ["URI"] = artifact.Uri };
                AddIfNotNull(artifactNode, "Digest", artifact.Digest);
                AddIfNotNull(artifactNode, "Algorithm", artifact.Algorithm);
                artifactNode["Unarchive"] = artifact.Unarchive.ToRecipeString();
                artifactNode["Permission"] = new JsonObject
                {
                    ["Read"] = artifact.Permission.Read.ToRecipeString(),
                    ["Execute"] = artifact.Permission.Execute.ToRecipeString(),
                };
                artifacts.Add((JsonNode)artifactNode);
            }

            node["Artifacts"] = artifacts;
        }

        return node;
    }

    /// <summary>A typed lifecycle as recipe JSON.</summary>
    public static JsonObject ToNode(Lifecycle lifecycle)
    {
        var node = new JsonObject();
        if (lifecycle.Setenv.Count > 0)
        {
            node["Setenv"] = ToNode(lifecycle.Setenv);
        }

        foreach (var (kind, step) in lifecycle.Steps)
        {
            node[kind.ToRecipeString()] = ToNode(step);
        }

        return node;
    }

    private static JsonNode ToNode(LifecycleStep step)
    {
        var plain = step.IsScriptOnly && step.Timeout is null && step.TimeoutExpression is null && step.Setenv.Count == 0
            && step.Skipif is null && !step.RequiresPrivilege;
        if (plain)
        {
            return JsonValue.Create(step.Script);
        }

        var node = new JsonObject { ["Script"] = step.Script };
        if (step.Timeout is { } timeout)
        {
            node["Timeout"] = timeout;
        }
        else if (step.TimeoutExpression is { } expression)
        {
            node["Timeout"] = expression;
        }

        if (step.Setenv.Count > 0)
        {
            node["Setenv"] = ToNode(step.Setenv);
        }

        if (step.Skipif is { } skipIf)
        {
            node["Skipif"] = skipIf.ToString();
        }

        if (step.RequiresPrivilege)
        {
            node["RequiresPrivilege"] = true;
        }

        return node;
    }

    private static JsonObject ToNode(IReadOnlyDictionary<string, string> variables)
    {
        var node = new JsonObject();
        foreach (var (key, value) in variables)
        {
            node[key] = value;
        }

        return node;
    }

    /// <summary>Recipe nodes (the global lifecycle) as JSON, scalars keeping their types.</summary>
    private static JsonNode? ToNode(RecipeNode node) => RecipeNodeJson.ToJson(node);

    private static void AddIfNotNull(JsonObject node, string key, string? value)
    {
        if (value is not null)
        {
            node[key] = value;
        }
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
                foreach (var (key, child) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, child);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
                foreach (var child in array)
                {
                    Emit(emitter, child);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        EmitString(emitter, value.GetValue<string>());
                        break;
                    case JsonValueKind.Number:
                        // Java's text of the number is also a YAML number of the same type (1.0 stays a float).
                        EmitPlain(emitter, JavaText.ContainerText(value));
                        break;
                    case JsonValueKind.True:
                        EmitPlain(emitter, "true");
                        break;
                    case JsonValueKind.False:
                        EmitPlain(emitter, "false");
                        break;
                    default:
                        EmitPlain(emitter, "null");
                        break;
                }

                break;
            default:
                EmitPlain(emitter, "null");
                break;
        }
    }

    private static void EmitPlain(IEmitter emitter, string text) =>
        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, text, ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));

    private static void EmitString(IEmitter emitter, string value)
    {
        ScalarStyle style;
        if (value.Contains('\n', StringComparison.Ordinal))
        {
            style = ScalarStyle.Literal;
        }
        else if (YamlDocumentReader.Resolve(value) != RecipeScalarType.String || value.Length == 0 || Yaml11Scalar().IsMatch(value))
        {
            style = ScalarStyle.DoubleQuoted;
        }
        else
        {
            style = ScalarStyle.Any;
        }

        emitter.Emit(new Scalar(AnchorName.Empty, TagName.Empty, value, style, isPlainImplicit: true, isQuotedImplicit: true));
    }

    /// <summary>
    /// Strings that YAML 1.1 readers (PyYAML, which the GDK uses; SnakeYAML) would take for booleans, numbers or
    /// dates: these are quoted so that every reader sees a string.
    /// </summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|[-+]?[0-9][0-9_:.,eE+-]*|\.[0-9].*|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}.*)$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex Yaml11Scalar();
}
