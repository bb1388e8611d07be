using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fogline.Gdk;

/// <summary>
/// A GDK project, its configuration or its recipe template is not usable. <see cref="Exception.Message"/> is worded
/// as GDK words the same failure; <see cref="Errors"/> lists every problem found (GDK prints only one).
/// </summary>
public sealed class GdkException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GdkException()
        : this("The GDK project is invalid.")
    {
    }

    /// <summary>Creates the exception with one problem.</summary>
    public GdkException(string message)
        : base(message)
    {
        Errors = [message];
    }

    /// <summary>Creates the exception with one problem and its cause.</summary>
    public GdkException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>Creates the exception with GDK's message and every problem found.</summary>
    public GdkException(string message, IReadOnlyList<string> errors)
        : base(message)
    {
        Errors = errors;
    }

    /// <summary>Every problem found, one line each.</summary>
    public IReadOnlyList<string> Errors { get; }
}

/// <summary>The <c>build</c> section of a component in gdk-config.json.</summary>
/// <param name="BuildSystem"><c>zip</c>, <c>maven</c>, <c>gradle</c>, <c>gradlew</c> or <c>custom</c>.</param>
/// <param name="CustomBuildCommand">
/// For <c>custom</c>: the argv GDK runs (<c>subprocess.run(command)</c>, no shell, in the project folder). A command
/// given as one string is one program path with no arguments on POSIX (GDK does not split it), so it is a list of one.
/// </param>
/// <param name="Options">The <c>options</c> object (used by the zip build system only), empty when absent.</param>
public sealed record GdkBuildConfig(string BuildSystem, IReadOnlyList<string> CustomBuildCommand, JsonObject Options);

/// <summary>The <c>publish</c> section of a component in gdk-config.json.</summary>
/// <param name="Bucket">The bucket prefix (GDK publishes to <c>BUCKET-REGION-ACCOUNT</c> unless <c>--bucket</c> is given).</param>
/// <param name="Region">The region, "" when absent (GDK's default).</param>
/// <param name="Options">The <c>options</c> object (<c>file_upload_args</c>), empty when absent.</param>
public sealed record GdkPublishConfig(string Bucket, string Region, JsonObject Options);

/// <summary>
/// gdk-config.json as GDK reads it (gdk/common/configuration.py): JSON, validated against GDK's own schema
/// (Draft 7), one component whose name is the single key of <c>component</c>. Keys are case-sensitive.
/// </summary>
public sealed class GdkConfig
{
    /// <summary>The file name GDK looks for in the project folder (only there, never in a parent).</summary>
    public const string FileName = "gdk-config.json";

    /// <summary>The version value that makes GDK's publish take the next patch of the latest published version.</summary>
    public const string NextPatch = "NEXT_PATCH";

    private GdkConfig(JsonObject document, string componentName, JsonObject component)
    {
        Document = document;
        ComponentName = componentName;
        // GDK's defaults (ComponentBuildConfiguration) for what the schema did not check: a component name made of
        // none of [a-zA-Z0-9-_.] is not matched by the schema's unanchored patternProperties.
        Author = Text(component, "author") ?? string.Empty;
        Version = Text(component, "version") ?? NextPatch;
        GdkVersion = Text(document, "gdk_version") ?? string.Empty;
        var build = component["build"] as JsonObject ?? [];
        var command = build["custom_build_command"] switch
        {
            JsonArray array => array.Select(a => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : a?.ToJsonString() ?? "None").ToList(),
            JsonValue single when single.TryGetValue<string>(out var s) => [s],
            _ => new List<string>(),
        };
        Build = new GdkBuildConfig(Text(build, "build_system") ?? string.Empty, command, build["options"] as JsonObject ?? []);
        var publish = component["publish"] as JsonObject ?? [];
        Publish = new GdkPublishConfig(Text(publish, "bucket") ?? string.Empty, Text(publish, "region") ?? string.Empty, publish["options"] as JsonObject ?? []);
    }

    /// <summary>The whole document (extra keys such as <c>test-e2e</c> included).</summary>
    public JsonObject Document { get; }

    /// <summary>The component's name: the single key of <c>component</c>.</summary>
    public string ComponentName { get; }

    /// <summary><c>author</c>: the ComponentPublisher of built recipes.</summary>
    public string Author { get; }

    /// <summary><c>version</c> as written: a semantic version or <see cref="NextPatch"/>.</summary>
    public string Version { get; }

    /// <summary>Whether <see cref="Version"/> is <see cref="NextPatch"/> (case-sensitive, as GDK compares it).</summary>
    public bool IsNextPatch => Version == NextPatch;

    /// <summary><c>build</c>.</summary>
    public GdkBuildConfig Build { get; }

    /// <summary><c>publish</c>.</summary>
    public GdkPublishConfig Publish { get; }

    /// <summary><c>gdk_version</c>: the GDK CLI version the project needs at least.</summary>
    public string GdkVersion { get; }

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="GdkException">The file is missing, not JSON, or fails GDK's schema.</exception>
    public static GdkConfig Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new GdkException("Config file doesn't exist. Please initialize the project using a template or a repository before using gdk commands.");
        }

        return Parse(File.ReadAllText(path));
    }

    /// <summary>Parses and validates the text of a gdk-config.json.</summary>
    /// <exception cref="GdkException">The text is not JSON, or fails GDK's schema.</exception>
    public static GdkConfig Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonNode? document;
        try
        {
            document = Fogline.Greengrass.Recipes.JsonMaps.Parse(json);
        }
        catch (JsonException e)
        {
            // GDK does not wrap this one: Python's JSONDecodeError reaches the user as it is.
            throw new GdkException($"Project configuration file '{FileName}' is not valid JSON: {e.Message}", e);
        }

        var validator = GdkSchemaValidator.Config;
        var errors = validator.Validate(document);
        if (errors.Count > 0)
        {
            var best = validator.Best(document)!;
            throw new GdkException(
                $"Project configuration file '{FileName}' is invalid. Please correct its format and try again. Error: {best.Message} ",
                errors.Select(e => e.ToString()).ToList());
        }

        var root = document!.AsObject();
        var (name, component) = root["component"]!.AsObject().Single();
        return new GdkConfig(root, name, component as JsonObject ?? []);
    }

    private static string? Text(JsonObject obj, string key) =>
        obj[key] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;
}
