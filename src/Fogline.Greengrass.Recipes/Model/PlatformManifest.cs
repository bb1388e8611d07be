using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Fogline.Greengrass.Recipes;

/// <summary>An entry of <c>Manifests</c>: the platform it is for and what to use there.</summary>
public sealed record PlatformManifest
{
    private static readonly IReadOnlyList<ComponentArtifact> NoArtifacts = [];

    /// <summary>The manifest's 0-based index in <c>Manifests</c>.</summary>
    public int Index { get; init; }

    /// <summary><c>Name</c>: a friendly name, or null.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// <c>Platform</c>: attribute → required value (<c>*</c> any, <c>/regex/</c>, or an exact label), in file order;
    /// null or empty matches every device. Attribute names are case-sensitive, as in the Nucleus.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>>? Platform { get; init; }

    /// <summary>The required <c>os</c> of <see cref="Platform"/>, or null when the manifest does not set one.</summary>
    public string? Os => Attribute("os");

    /// <summary>The required <c>architecture</c> of <see cref="Platform"/>, or null when the manifest does not set one.</summary>
    public string? Architecture => Attribute("architecture");

    /// <summary><c>Lifecycle</c> of the manifest itself, or null.</summary>
    public Lifecycle? Lifecycle { get; init; }

    /// <summary><c>Selections</c>: the selection keys applied to the global lifecycle, or null.</summary>
    public IReadOnlyList<string>? Selections { get; init; }

    /// <summary><c>Artifacts</c>.</summary>
    public IReadOnlyList<ComponentArtifact> Artifacts { get; init; } = NoArtifacts;

    /// <summary>
    /// The lifecycle the Nucleus uses with this manifest: its own <see cref="Lifecycle"/> when that is not empty,
    /// otherwise the recipe's global <c>Lifecycle</c> filtered by <see cref="Selections"/>, otherwise empty.
    /// </summary>
    public Lifecycle EffectiveLifecycle { get; init; } = Recipes.Lifecycle.Empty;

    /// <summary>Where the manifest is in the recipe.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>
    /// Whether the device satisfies the manifest's platform, as the Nucleus's <c>PlatformHelper</c> decides: every
    /// attribute of the manifest must be satisfied; <c>*</c> (and, for os and architecture, <c>all</c> or <c>any</c>)
    /// matches anything including a missing attribute; <c>/regex/</c> must match the device's whole value; a label
    /// must equal it; a value starting with another symbol never matches; a device attribute that is missing or
    /// empty only satisfies a wildcard.
    /// </summary>
    public bool Matches(DevicePlatform device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (Platform is null || Platform.Count == 0)
        {
            return true;
        }

        foreach (var (name, template) in Platform)
        {
            device.Attributes.TryGetValue(name, out var label);
            if (!IsAttributeSatisfied(name, label, template))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value <see cref="Platform"/> requires for <paramref name="name"/> (case-sensitive), or null.</summary>
    public string? Attribute(string name) =>
        Platform?.FirstOrDefault(p => p.Key == name) is { Key: not null } found ? found.Value : null;

    /// <summary>The platform as text, e.g. <c>os=linux, architecture=aarch64</c> (or <c>any platform</c>).</summary>
    public string DescribePlatform() =>
        Platform is null || Platform.Count == 0 ? "any platform" : string.Join(", ", Platform.Select(p => $"{p.Key}={p.Value}"));

    /// <summary><c>Manifests[i]</c> with its name, e.g. <c>Manifests[1] 'Linux ARM'</c>.</summary>
    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"Manifests[{Index}]") + (Name is null ? string.Empty : $" '{Name}'");

    /// <summary>Null when <paramref name="template"/> is usable as a platform value, otherwise why not.</summary>
    internal static string? CheckTemplate(string template)
    {
        if (template == "*")
        {
            return null;
        }

        if (template.Length >= 2 && template[0] == '/' && template[^1] == '/')
        {
            try
            {
                _ = new Regex(template[1..^1], RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                return null;
            }
            catch (ArgumentException e)
            {
                return $"'{template}' is not a valid regular expression: {e.Message}";
            }
        }

        if (template.Length == 0 || !char.IsAsciiLetterOrDigit(template[0]))
        {
            return $"'{template}' never matches: a value is '*', '/regex/' or starts with a letter or digit (the Nucleus reserves other symbols)";
        }

        return null;
    }

    private static bool IsAttributeSatisfied(string name, string? label, string template)
    {
        if (template == "*")
        {
            return true;
        }

        if (string.IsNullOrEmpty(label))
        {
            return false;
        }

        if (template.Length >= 2 && template[0] == '/' && template[^1] == '/')
        {
            try
            {
                return Regex.IsMatch(label, "^(?:" + template[1..^1] + ")\\z", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException)
            {
                return false;
            }
            catch (RegexMatchTimeoutException)
            {
                return false;
            }
        }

        if (name is "os" or "architecture" && template is "all" or "any")
        {
            return true;
        }

        if (!char.IsAsciiLetterOrDigit(template[0]))
        {
            return false;
        }

        return template == label;
    }
}

/// <summary>
/// The platform of a device, as the Nucleus describes it for manifest selection: <c>os</c>, <c>architecture</c> and
/// any other attributes (the Nucleus's <c>platformOverride</c> configuration adds or replaces attributes).
/// </summary>
public sealed class DevicePlatform
{
    /// <summary>Creates a platform; <paramref name="attributes"/> add to, or replace, os and architecture.</summary>
    public DevicePlatform(string os, string architecture, IEnumerable<KeyValuePair<string, string>>? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(os);
        ArgumentNullException.ThrowIfNull(architecture);
        var all = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["os"] = os,
            ["architecture"] = architecture,
        };
        foreach (var (key, value) in attributes ?? [])
        {
            all[key] = value;
        }

        Attributes = all;
    }

    /// <summary>Every attribute, including os and architecture.</summary>
    public IReadOnlyDictionary<string, string> Attributes { get; }

    /// <summary>The <c>os</c> attribute.</summary>
    public string Os => Attributes["os"];

    /// <summary>The <c>architecture</c> attribute.</summary>
    public string Architecture => Attributes["architecture"];

    /// <summary>
    /// This machine's platform as the Nucleus detects it (os: windows, darwin, linux when /proc exists, else
    /// unknown; architecture from <see cref="System.Runtime.InteropServices.RuntimeInformation.OSArchitecture"/>
    /// named as Greengrass names it), plus <paramref name="overrides"/>.
    /// </summary>
    public static DevicePlatform Detect(IEnumerable<KeyValuePair<string, string>>? overrides = null) =>
        new(DetectOs(), ToGreengrassArchitecture(System.Runtime.InteropServices.RuntimeInformation.OSArchitecture), overrides);

    /// <summary>The Nucleus's name of this machine's OS: windows, darwin, linux, or unknown.</summary>
    public static string DetectOs()
    {
        if (OperatingSystem.IsWindows())
        {
            return "windows";
        }

        if (OperatingSystem.IsMacOS())
        {
            return "darwin";
        }

        return Directory.Exists("/proc") ? "linux" : "unknown";
    }

    /// <summary>
    /// Greengrass's name of an architecture: X64 is amd64, X86 is x86, Arm (and Armv6) is arm, Arm64 is aarch64,
    /// anything else unknown.
    /// </summary>
    public static string ToGreengrassArchitecture(System.Runtime.InteropServices.Architecture architecture) => architecture switch
    {
        System.Runtime.InteropServices.Architecture.X64 => "amd64",
        System.Runtime.InteropServices.Architecture.X86 => "x86",
        System.Runtime.InteropServices.Architecture.Arm or System.Runtime.InteropServices.Architecture.Armv6 => "arm",
        System.Runtime.InteropServices.Architecture.Arm64 => "aarch64",
        _ => "unknown",
    };

    /// <summary>The attributes, os and architecture first: <c>os=linux, architecture=amd64, …</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("os=").Append(Os).Append(", architecture=").Append(Architecture);
        foreach (var (key, value) in Attributes.Where(a => a.Key is not ("os" or "architecture")).OrderBy(a => a.Key, StringComparer.Ordinal))
        {
            sb.Append(", ").Append(key).Append('=').Append(value);
        }

        return sb.ToString();
    }
}
