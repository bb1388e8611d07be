using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Fogline.Gdk;

/// <summary>
/// A project recipe written as a GDK template: <c>ComponentName: '{COMPONENT_NAME}'</c>,
/// <c>ComponentVersion: '{COMPONENT_VERSION}'</c>, <c>ComponentPublisher: '{COMPONENT_AUTHOR}'</c> and artifact URIs
/// <c>s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/FILE</c>, the form GDK's own build writes them in. Filling is
/// textual, so the template's formatting and comments stay as they are: each placeholder is replaced by its value,
/// escaped for the quoting it stands in (YAML single or double quotes, JSON strings). The result is then read as GDK
/// reads it and checked: no placeholder left, and ComponentName, ComponentVersion and ComponentPublisher are the
/// values filled in.
/// </summary>
public sealed partial class RecipeTemplate
{
    /// <summary>The component name placeholder (the gdk-config.json component key).</summary>
    public const string NamePlaceholder = "{COMPONENT_NAME}";

    /// <summary>The component version placeholder (gdk-config.json <c>version</c>).</summary>
    public const string VersionPlaceholder = "{COMPONENT_VERSION}";

    /// <summary>The publisher placeholder (gdk-config.json <c>author</c>).</summary>
    public const string AuthorPlaceholder = "{COMPONENT_AUTHOR}";

    /// <summary>How GDK's build writes the URI of an artifact it built; publish replaces the whole URI.</summary>
    public const string BuildArtifactUriPrefix = "s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/";

    private RecipeTemplate(string text, string fileName)
    {
        Text = text;
        FileName = fileName;
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    /// <summary>The template's file name (its extension says JSON or YAML).</summary>
    public string FileName { get; }

    /// <summary>Whether the template is JSON (<c>recipe.json</c>) rather than YAML.</summary>
    public bool IsJson => FileName.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the template file <paramref name="path"/>.</summary>
    public static RecipeTemplate Load(string path) => new(File.ReadAllText(path), path);

    /// <summary>A template from its text; <paramref name="fileName"/>'s extension says JSON or YAML.</summary>
    public static RecipeTemplate Parse(string text, string fileName)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fileName);
        return new RecipeTemplate(text, fileName);
    }

    /// <summary>
    /// The recipe a build writes to <c>greengrass-build/recipes/</c>: name, version (as configured, literally
    /// <c>NEXT_PATCH</c> when so, as GDK's own build systems write it) and author filled in; artifact URIs stay
    /// <c>s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/FILE</c>, as GDK's build writes them.
    /// </summary>
    /// <exception cref="GdkException">A placeholder is left, or the result does not say what was filled in.</exception>
    public string FillForBuild(GdkConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Fill(config.ComponentName, config.Version, config.Author, bucket: null);
    }

    /// <summary>
    /// The recipe of one concrete version, as deployed without GDK (recipes/ of the repository): name and author from
    /// the configuration, <paramref name="version"/>, artifact URIs <c>s3://BUCKET/NAME/VERSION/FILE</c> with the
    /// configured bucket. A YAML recipe starts with a comment saying it is generated from
    /// <paramref name="templateDescription"/> and must not be edited.
    /// </summary>
    /// <exception cref="GdkException">A placeholder is left, or the result does not say what was filled in.</exception>
    public string RenderVersion(GdkConfig config, string version, string templateDescription)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(version);
        var filled = Fill(config.ComponentName, version, config.Author, config.Publish.Bucket);
        return IsJson ? filled : GeneratedHeader(templateDescription) + "\n" + filled;
    }

    /// <summary>The first line of a recipe rendered from a template, naming it.</summary>
    public static string GeneratedHeader(string templateDescription) =>
        $"# Generated from {templateDescription} by tools/Codegen: do not edit. Edit the template, then run `dotnet run --project tools/Codegen`.";

    /// <summary>
    /// The file names of the artifacts a build must provide: the last path segment of every URI (any manifest) that
    /// starts with <see cref="BuildArtifactUriPrefix"/>, in order, once each.
    /// </summary>
    public IReadOnlyList<string> BuildArtifactFiles(GdkConfig config)
    {
        var problems = new List<string>();
        var recipe = GdkRecipeSchema.Read(FillForBuild(config), FileName, problems) as JsonObject;
        var files = new List<string>();
        foreach (var manifest in Get(recipe, "Manifests") as JsonArray ?? [])
        {
            foreach (var artifact in Get(manifest as JsonObject, "Artifacts") as JsonArray ?? [])
            {
                if (Get(artifact as JsonObject, "URI") is JsonValue uri && uri.TryGetValue<string>(out var text)
                    && text.StartsWith(BuildArtifactUriPrefix, StringComparison.Ordinal))
                {
                    var file = text[(text.LastIndexOf('/') + 1)..];
                    if (!files.Contains(file))
                    {
                        files.Add(file);
                    }
                }
            }
        }

        return files;
    }

    /// <summary>
    /// Fills the placeholders; with a <paramref name="bucket"/> the artifact URIs become
    /// <c>s3://BUCKET/NAME/VERSION/FILE</c>, without one they stay as GDK's build writes them.
    /// </summary>
    /// <exception cref="GdkException">A placeholder is left, or the result does not say what was filled in.</exception>
    public string Fill(string name, string version, string author, string? bucket)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(author);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [NamePlaceholder] = name,
            [VersionPlaceholder] = version,
            [AuthorPlaceholder] = author,
        };
        var text = PlaceholderPattern().Replace(Text, m => values.TryGetValue(m.Value, out var value) ? Escape(Text, m.Index, value) : m.Value);
        if (bucket is not null)
        {
            text = text.Replace(BuildArtifactUriPrefix, $"s3://{bucket}/{name}/{version}/", StringComparison.Ordinal);
        }

        var problems = new List<string>();
        foreach (Match left in PlaceholderPattern().Matches(text))
        {
            problems.Add($"{FileName}:{LineOf(text, left.Index)}: the placeholder {left.Value} is not filled (only {NamePlaceholder}, {VersionPlaceholder} and {AuthorPlaceholder} are)");
        }

        if (bucket is not null)
        {
            foreach (Match left in UriTokenPattern().Matches(text))
            {
                problems.Add($"{FileName}:{LineOf(text, left.Index)}: the artifact URI token {left.Value} is not filled (artifact URIs start with {BuildArtifactUriPrefix})");
            }
        }

        var read = new List<string>();
        var recipe = GdkRecipeSchema.Read(text, FileName, read) as JsonObject;
        problems.AddRange(read.Select(r => $"{FileName} filled: {r}"));
        if (recipe is not null)
        {
            Expect(recipe, "ComponentName", name, NamePlaceholder, problems);
            Expect(recipe, "ComponentVersion", version, VersionPlaceholder, problems);
            Expect(recipe, "ComponentPublisher", author, AuthorPlaceholder, problems);
        }
        else if (read.Count == 0)
        {
            problems.Add($"{FileName} filled: the recipe is not a mapping");
        }

        if (problems.Count > 0)
        {
            throw new GdkException($"The recipe template {FileName} cannot be filled: {problems[0]}", problems);
        }

        return text;
    }

    private void Expect(JsonObject recipe, string key, string expected, string placeholder, List<string> problems)
    {
        var value = Get(recipe, key);
        if (value is not JsonValue v || !v.TryGetValue<string>(out var actual))
        {
            problems.Add($"{FileName}: {key} is {(value is null ? "missing" : value.ToJsonString())}; write {key}: '{placeholder}'");
        }
        else if (actual != expected)
        {
            problems.Add($"{FileName}: {key} is '{actual}' once filled, not '{expected}'; write {key}: '{placeholder}' (quoted)");
        }
    }

    /// <summary>A recipe key looked up as GDK does (case-insensitively).</summary>
    private static JsonNode? Get(JsonObject? obj, string key) =>
        obj?.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>The value escaped for the quoting the placeholder at <paramref name="index"/> stands in.</summary>
    private string Escape(string text, int index, string value)
    {
        var quote = QuoteAt(text, index);
        if (quote == '\'')
        {
            return value.Replace("'", "''", StringComparison.Ordinal);
        }

        if (quote != '"')
        {
            return value;
        }

        var sb = new StringBuilder();
        foreach (var c in value)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append(@"\\"),
                '\n' => sb.Append(@"\n"),
                '\r' => sb.Append(@"\r"),
                '\t' => sb.Append(@"\t"),
                < ' ' => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
                _ => sb.Append(c),
            };
        }

        return sb.ToString();
    }

    /// <summary>
    /// The quote character of the scalar that <paramref name="index"/> is inside on its line ('\0' for none). YAML: a
    /// quote opens a scalar only where a scalar can start (after indentation, <c>: </c>, <c>- </c>, <c>[</c>,
    /// <c>{</c> or <c>,</c>); JSON: every string is double-quoted.
    /// </summary>
    private char QuoteAt(string text, int index)
    {
        var start = text.LastIndexOf('\n', Math.Max(0, index - 1)) + 1;
        var quote = '\0';
        var previous = ' ';
        for (var i = start; i < index; i++)
        {
            var c = text[i];
            if (quote == '\0')
            {
                if ((c == '"' || (c == '\'' && !IsJson)) && (IsJson || previous is ' ' or '\t' or '[' or '{' or ','))
                {
                    var before = text[start..i].TrimEnd();
                    if (IsJson || before.Length == 0 || before.EndsWith(':') || before.EndsWith('-') || before[^1] is '[' or '{' or ',')
                    {
                        quote = c;
                    }
                }
                else if (c == '#' && !IsJson && previous is ' ' or '\t')
                {
                    return '\0';
                }
            }
            else if (quote == '\'' && c == '\'')
            {
                if (i + 1 < index && text[i + 1] == '\'')
                {
                    i++;
                }
                else
                {
                    quote = '\0';
                }
            }
            else if (quote == '"' && c == '\\')
            {
                i++;
            }
            else if (quote == '"' && c == '"')
            {
                quote = '\0';
            }

            previous = c;
        }

        return quote;
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    [GeneratedRegex(@"\{COMPONENT_[A-Z_]+\}", RegexOptions.CultureInvariant)]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"s3://[^\s'""]*\b(?:BUCKET_NAME|COMPONENT_NAME|COMPONENT_VERSION)\b[^\s'""]*", RegexOptions.CultureInvariant)]
    private static partial Regex UriTokenPattern();
}
