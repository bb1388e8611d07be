using System.Globalization;
using System.Text;
using Fogline.Greengrass.Recipes.Reading;
using Fogline.Greengrass.Recipes.Writing;

namespace Fogline.Greengrass.Recipes;

/// <summary>The format of a recipe file.</summary>
public enum RecipeFormat
{
    /// <summary>YAML (<c>.yaml</c>, <c>.yml</c>).</summary>
    Yaml,

    /// <summary>JSON (<c>.json</c>).</summary>
    Json,
}

/// <summary>
/// A component recipe, <c>RecipeFormatVersion</c> 2020-01-25, with every field. Read one with <see cref="Load"/> or
/// <see cref="Parse(string, string)"/>; pick the manifest for a device with <see cref="SelectManifest"/>.
/// </summary>
public sealed record ComponentRecipe
{
    private static readonly IReadOnlyList<ComponentDependency> NoDependencies = [];

    /// <summary>The file the recipe was read from (as given to the parser).</summary>
    public required string File { get; init; }

    /// <summary><c>RecipeFormatVersion</c>: always <c>2020-01-25</c>.</summary>
    public string RecipeFormatVersion { get; init; } = RecipeNames.RecipeFormatVersion2020;

    /// <summary><c>ComponentName</c>.</summary>
    public required string ComponentName { get; init; }

    /// <summary><c>ComponentVersion</c>.</summary>
    public required SemVersion ComponentVersion { get; init; }

    /// <summary><c>ComponentDescription</c>, or null.</summary>
    public string? ComponentDescription { get; init; }

    /// <summary><c>ComponentPublisher</c>, or null.</summary>
    public string? ComponentPublisher { get; init; }

    /// <summary><c>ComponentType</c> (generic when not written).</summary>
    public ComponentType ComponentType { get; init; } = ComponentType.Generic;

    /// <summary><c>ComponentSource</c>: the Lambda function ARN of a Lambda component, or null.</summary>
    public string? ComponentSource { get; init; }

    /// <summary><c>ComponentConfiguration</c>, or null.</summary>
    public ComponentConfiguration? ComponentConfiguration { get; init; }

    /// <summary><c>ComponentDependencies</c>, in file order.</summary>
    public IReadOnlyList<ComponentDependency> ComponentDependencies { get; init; } = NoDependencies;

    /// <summary><c>Manifests</c>, in file order (the order of preference).</summary>
    public required IReadOnlyList<PlatformManifest> Manifests { get; init; }

    /// <summary>
    /// The global <c>Lifecycle</c> as written (it may hold selection keys at any level), or null. Each manifest's
    /// <see cref="PlatformManifest.EffectiveLifecycle"/> is this section filtered by its selections.
    /// </summary>
    public RecipeMapping? Lifecycle { get; init; }

    /// <summary>Where the recipe starts.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>The default configuration (an empty object when the recipe has none), as a copy.</summary>
    public System.Text.Json.Nodes.JsonObject DefaultConfiguration =>
        (System.Text.Json.Nodes.JsonObject?)ComponentConfiguration?.DefaultConfiguration.DeepClone() ?? [];

    /// <summary>The dependency on <paramref name="componentName"/>, or null.</summary>
    public ComponentDependency? FindDependency(string componentName) =>
        ComponentDependencies.FirstOrDefault(d => d.Name == componentName);

    /// <summary>Reads a recipe file; the extension (.yaml, .yml, .json) decides the format.</summary>
    /// <exception cref="RecipeException">The recipe is invalid; every error has its file, line and column.</exception>
    public static ComponentRecipe Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(System.IO.File.ReadAllBytes(path), path, FormatOf(path));
    }

    /// <summary>Parses recipe text; the extension of <paramref name="file"/> decides the format.</summary>
    /// <exception cref="RecipeException">The recipe is invalid; every error has its file, line and column.</exception>
    public static ComponentRecipe Parse(string text, string file) => Parse(text, file, FormatOf(file));

    /// <summary>Parses recipe text in the given format; <paramref name="file"/> names it in errors.</summary>
    /// <exception cref="RecipeException">The recipe is invalid; every error has its file, line and column.</exception>
    public static ComponentRecipe Parse(string text, string file, RecipeFormat format)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(file);
        return format == RecipeFormat.Json
            ? Parse(Encoding.UTF8.GetBytes(text), file, format)
            : RecipeReader.Read(text, null, file, format);
    }

    /// <summary>Parses recipe bytes (UTF-8) in the given format; <paramref name="file"/> names it in errors.</summary>
    /// <exception cref="RecipeException">The recipe is invalid; every error has its file, line and column.</exception>
    public static ComponentRecipe Parse(byte[] utf8, string file, RecipeFormat format)
    {
        ArgumentNullException.ThrowIfNull(utf8);
        ArgumentNullException.ThrowIfNull(file);
        return format == RecipeFormat.Json
            ? RecipeReader.Read(null, utf8, file, format)
            : RecipeReader.Read(DecodeUtf8(utf8), null, file, format);
    }

    /// <summary>The format a file name stands for: .json is JSON, .yaml and .yml are YAML.</summary>
    /// <exception cref="RecipeException">Another extension.</exception>
    public static RecipeFormat FormatOf(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var extension = Path.GetExtension(file);
        if (extension.Equals(".json", StringComparison.OrdinalIgnoreCase))
        {
            return RecipeFormat.Json;
        }

        if (extension.Equals(".yaml", StringComparison.OrdinalIgnoreCase) || extension.Equals(".yml", StringComparison.OrdinalIgnoreCase))
        {
            return RecipeFormat.Yaml;
        }

        throw new RecipeException([new RecipeError(file, 1, 1, $"a recipe file ends in .yaml, .yml or .json, not '{extension}'")]);
    }

    /// <summary>
    /// The manifest the Nucleus would use on <paramref name="device"/>: the first one whose platform it satisfies.
    /// </summary>
    /// <exception cref="RecipeException">No manifest matches; the error lists the platforms offered and the device.</exception>
    public PlatformManifest SelectManifest(DevicePlatform device)
    {
        ArgumentNullException.ThrowIfNull(device);
        foreach (var manifest in Manifests)
        {
            if (manifest.Matches(device))
            {
                return manifest;
            }
        }

        var offered = string.Join("; ", Manifests.Select(m => $"{m.Describe()}: {m.DescribePlatform()}"));
        var location = Manifests.Count > 0 && Manifests[0].Location is { } first ? first : Location ?? new SourceLocation(File, 1, 1);
        throw new RecipeException([new RecipeError(location, string.Create(CultureInfo.InvariantCulture,
            $"no manifest of {ComponentName} {ComponentVersion} matches this device ({device}); the recipe offers {offered}"))]);
    }

    /// <summary>The recipe as it applies on <paramref name="device"/>: the selected manifest and its lifecycle and artifacts.</summary>
    /// <exception cref="RecipeException">No manifest matches the device.</exception>
    public PlatformRecipe ResolveFor(DevicePlatform device) => new(this, SelectManifest(device));

    /// <summary>The recipe as JSON with the canonical key names (indented).</summary>
    public string ToJson() => RecipeWriter.ToJson(this);

    /// <summary>The recipe as YAML with the canonical key names.</summary>
    public string ToYaml() => RecipeWriter.ToYaml(this);

    private static string DecodeUtf8(byte[] utf8)
    {
        var offset = utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0;
        return Encoding.UTF8.GetString(utf8, offset, utf8.Length - offset);
    }
}

/// <summary>A recipe with the manifest selected for a device: what the Nucleus installs and runs there.</summary>
/// <param name="Recipe">The recipe.</param>
/// <param name="Manifest">The selected manifest.</param>
public sealed record PlatformRecipe(ComponentRecipe Recipe, PlatformManifest Manifest)
{
    /// <summary>The lifecycle to run (<see cref="PlatformManifest.EffectiveLifecycle"/>).</summary>
    public Lifecycle Lifecycle => Manifest.EffectiveLifecycle;

    /// <summary>The artifacts to download.</summary>
    public IReadOnlyList<ComponentArtifact> Artifacts => Manifest.Artifacts;
}
