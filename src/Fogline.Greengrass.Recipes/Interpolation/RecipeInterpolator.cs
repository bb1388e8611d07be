using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fogline.Greengrass.Recipes.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.Greengrass.Recipes;

/// <summary>Where a component's files are: what <c>{artifacts:path}</c>, <c>{artifacts:decompressedPath}</c> and <c>{work:path}</c> give.</summary>
/// <param name="ArtifactsPath">The folder of the component's artifacts.</param>
/// <param name="DecompressedPath">The folder of its unarchived artifacts.</param>
/// <param name="WorkPath">Its working directory.</param>
public sealed record ComponentPaths(string ArtifactsPath, string DecompressedPath, string WorkPath)
{
    /// <summary>
    /// The Nucleus's layout under its root: <c>packages/artifacts/NAME/VERSION</c>,
    /// <c>packages/artifacts-unarchived/NAME/VERSION</c> and <c>work/NAME</c>, absolute.
    /// </summary>
    public static ComponentPaths ForNucleusRoot(string rootPath, string componentName, string version)
    {
        ArgumentNullException.ThrowIfNull(rootPath);
        ArgumentNullException.ThrowIfNull(componentName);
        ArgumentNullException.ThrowIfNull(version);
        var root = Path.GetFullPath(rootPath);
        return new ComponentPaths(
            Path.Combine(root, "packages", "artifacts", componentName, version),
            Path.Combine(root, "packages", "artifacts-unarchived", componentName, version),
            Path.Combine(root, "work", componentName));
    }
}

/// <summary>What recipe variables of one component resolve to: its paths and its effective configuration.</summary>
/// <param name="Paths">Its artifact and work paths.</param>
/// <param name="Configuration">Its effective configuration (after deployment merges), or null when it has none.</param>
public sealed record ComponentVariables(ComponentPaths Paths, JsonObject? Configuration);

/// <summary>The values recipe variables of one component (<see cref="ComponentName"/>) are interpolated with.</summary>
public sealed class InterpolationContext
{
    private static readonly IReadOnlySet<string> NoDependencies = new HashSet<string>();
    private static readonly IReadOnlyDictionary<string, ComponentVariables> NoComponents = new Dictionary<string, ComponentVariables>();

    /// <summary>The component whose recipe values are interpolated.</summary>
    public required string ComponentName { get; init; }

    /// <summary><c>{kernel:rootPath}</c>: the Nucleus's root path.</summary>
    public required string RootPath { get; init; }

    /// <summary><c>{iot:thingName}</c>, or null (the placeholder then stays as written).</summary>
    public string? ThingName { get; init; }

    /// <summary>
    /// The names of the component's direct dependencies (its <c>ComponentDependencies</c>): the only components
    /// <c>{name:namespace:key}</c> may refer to.
    /// </summary>
    public IReadOnlySet<string> DirectDependencies { get; init; } = NoDependencies;

    /// <summary>Every resolved component of the deployment by name, including <see cref="ComponentName"/>.</summary>
    public IReadOnlyDictionary<string, ComponentVariables> Components { get; init; } = NoComponents;
}

/// <summary>A recipe variable could not be interpolated in a way the Nucleus fails on.</summary>
public sealed class RecipeInterpolationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RecipeInterpolationException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public RecipeInterpolationException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RecipeInterpolationException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Interpolates recipe variables exactly as the Nucleus's <c>KernelConfigResolver</c> does.
/// </summary>
/// <remarks>
/// <para>First every <c>{namespace:key}</c> of the original text is replaced (all occurrences of each placeholder),
/// then every <c>{component:namespace:key}</c> of the result. Namespaces: <c>artifacts</c> (<c>path</c>,
/// <c>decompressedPath</c>), <c>work</c> (<c>path</c>), <c>kernel</c> (<c>rootPath</c>), <c>iot</c>
/// (<c>thingName</c>) and, in lifecycle values only, <c>configuration</c> (a JSON pointer into the effective
/// configuration). Names are case-sensitive.</para>
/// <para>What stays as written (the Nucleus logs it): an unknown namespace or key, a configuration pointer with no
/// value, a component that is not a direct dependency or not resolved, an unknown thing name. A configuration value
/// is inserted as Jackson's text of it (strings as they are, <c>null</c> as "null", numbers as Java prints them);
/// an object or array as compact JSON with object keys sorted. A configuration pointer that does not start with
/// "/" (and is not empty) makes the Nucleus fail the deployment: <see cref="RecipeInterpolationException"/>.</para>
/// </remarks>
public sealed partial class RecipeInterpolator
{
    private readonly InterpolationContext _context;
    private readonly ILogger _logger;

    /// <summary>Creates an interpolator for <paramref name="context"/>'s component.</summary>
    public RecipeInterpolator(InterpolationContext context, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Interpolates a lifecycle value (scripts, Setenv values, Skipif, Timeout): configuration included.</summary>
    /// <exception cref="RecipeInterpolationException">A configuration pointer the Nucleus rejects.</exception>
    public string Interpolate(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Replace(value, includeConfiguration: true);
    }

    /// <summary>
    /// Interpolates a configuration value: system parameters only, <c>{configuration:…}</c> stays as written (the
    /// Nucleus's <c>interpolateComponentConfiguration</c> mode).
    /// </summary>
    public string InterpolateSystemParameters(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Replace(value, includeConfiguration: false);
    }

    /// <summary>A copy of <paramref name="configuration"/> with every string value interpolated (system parameters only; keys untouched).</summary>
    public JsonNode? InterpolateConfiguration(JsonNode? configuration) => configuration switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, InterpolateConfiguration(p.Value)))),
        JsonArray array => new JsonArray(array.Select(InterpolateConfiguration).ToArray()),
        JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String =>
            JsonValue.Create(InterpolateSystemParameters(value.GetValue<string>())),
        _ => configuration.DeepClone(),
    };

    /// <summary>A copy of <paramref name="lifecycle"/> with every value interpolated.</summary>
    /// <exception cref="RecipeInterpolationException">A configuration pointer the Nucleus rejects, or a Timeout that is not a number after interpolation.</exception>
    public Lifecycle Interpolate(Lifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        var result = lifecycle with { Setenv = Interpolate(lifecycle.Setenv) };
        foreach (var (kind, step) in lifecycle.Steps)
        {
            result = result.With(kind, Interpolate(step));
        }

        return result;
    }

    /// <summary>A copy of <paramref name="step"/> with every value interpolated.</summary>
    /// <exception cref="RecipeInterpolationException">A configuration pointer the Nucleus rejects, or a Timeout that is not a number after interpolation.</exception>
    public LifecycleStep Interpolate(LifecycleStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        var timeout = step.Timeout;
        string? timeoutExpression = null;
        if (step.TimeoutExpression is { } expression)
        {
            var text = Interpolate(expression).Trim();
            if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) || seconds < 0)
            {
                throw new RecipeInterpolationException($"{step.Location}: Timeout '{expression}' interpolates to '{text}', which is not a number of seconds");
            }

            timeout = seconds;
        }

        return step with
        {
            Script = Interpolate(step.Script),
            Setenv = Interpolate(step.Setenv),
            Skipif = step.Skipif is { } skip ? skip with { Argument = Interpolate(skip.Argument) } : null,
            Timeout = timeout,
            TimeoutExpression = timeoutExpression,
        };
    }

    private IReadOnlyDictionary<string, string> Interpolate(IReadOnlyDictionary<string, string> variables)
    {
        Dictionary<string, string>? result = null;
        foreach (var (name, value) in variables)
        {
            var interpolated = Interpolate(value);
            if (result is null && !ReferenceEquals(interpolated, value) && interpolated != value)
            {
                result = new Dictionary<string, string>(variables, StringComparer.Ordinal);
            }

            if (result is not null)
            {
                result[name] = interpolated;
            }
        }

        // The same instance when nothing changed, so that an unchanged step stays equal to the original.
        return result ?? variables;
    }

    private string Replace(string value, bool includeConfiguration)
    {
        var result = value;
        foreach (Match match in SameComponentPattern().Matches(value))
        {
            var ns = match.Groups[1].Value;
            var key = match.Groups[2].Value;
            string? replacement;
            if (includeConfiguration && ns == "configuration")
            {
                replacement = LookupConfiguration(_context.ComponentName, key, match.Value);
            }
            else if (IsSystemNamespace(ns))
            {
                replacement = LookupSystem(_context.ComponentName, ns, key, match.Value);
            }
            else
            {
                RecipeLog.UnknownNamespace(_logger, _context.ComponentName, match.Value, ns);
                continue;
            }

            if (replacement is not null)
            {
                result = result.Replace(match.Value, replacement, StringComparison.Ordinal);
            }
        }

        foreach (Match match in CrossComponentPattern().Matches(result))
        {
            var target = match.Groups[1].Value;
            var ns = match.Groups[2].Value;
            var key = match.Groups[3].Value;
            if (!_context.DirectDependencies.Contains(target))
            {
                RecipeLog.NotDirectDependency(_logger, _context.ComponentName, match.Value, target);
                continue;
            }

            if (!_context.Components.ContainsKey(target))
            {
                RecipeLog.NotResolved(_logger, _context.ComponentName, match.Value, target);
                continue;
            }

            string? replacement;
            if (includeConfiguration && ns == "configuration")
            {
                replacement = LookupConfiguration(target, key, match.Value);
            }
            else if (IsSystemNamespace(ns))
            {
                replacement = LookupSystem(target, ns, key, match.Value);
            }
            else
            {
                RecipeLog.UnknownNamespace(_logger, _context.ComponentName, match.Value, ns);
                continue;
            }

            if (replacement is not null)
            {
                result = result.Replace(match.Value, replacement, StringComparison.Ordinal);
            }
        }

        return result;
    }

    private static bool IsSystemNamespace(string ns) => ns is "artifacts" or "work" or "kernel" or "iot";

    private string? LookupSystem(string component, string ns, string key, string placeholder)
    {
        _context.Components.TryGetValue(component, out var variables);
        var value = (ns, key) switch
        {
            ("artifacts", "path") => variables?.Paths.ArtifactsPath,
            ("artifacts", "decompressedPath") => variables?.Paths.DecompressedPath,
            ("work", "path") => variables?.Paths.WorkPath,
            ("kernel", "rootPath") => _context.RootPath,
            ("iot", "thingName") => _context.ThingName,
            _ => null,
        };
        if (value is null)
        {
            RecipeLog.NoValue(_logger, _context.ComponentName, placeholder);
        }

        return value;
    }

    private string? LookupConfiguration(string component, string pointer, string placeholder)
    {
        if (!_context.Components.TryGetValue(component, out var variables) || variables.Configuration is null)
        {
            RecipeLog.NoValue(_logger, _context.ComponentName, placeholder);
            return null;
        }

        if (pointer.Length > 0 && pointer[0] != '/')
        {
            throw new RecipeInterpolationException(
                $"{_context.ComponentName}: {placeholder}: '{pointer}' is not a JSON pointer (it must start with '/'); the Nucleus fails the deployment on this");
        }

        if (!TryNavigate(variables.Configuration, pointer, out var node))
        {
            RecipeLog.NoValue(_logger, _context.ComponentName, placeholder);
            return null;
        }

        return node is JsonObject or JsonArray ? JavaText.ContainerText(node) : JavaText.ValueText((JsonValue?)node);
    }

    /// <summary>Jackson's <c>JsonNode.at(pointer)</c>: false for a missing node; a JSON null is found (as null).</summary>
    internal static bool TryNavigate(JsonNode root, string pointer, out JsonNode? node)
    {
        node = root;
        if (pointer.Length == 0)
        {
            return true;
        }

        foreach (var rawSegment in pointer[1..].Split('/'))
        {
            var segment = Unescape(rawSegment);
            switch (node)
            {
                case JsonObject obj:
                    if (!obj.TryGetPropertyValue(segment, out node))
                    {
                        return false;
                    }

                    break;
                case JsonArray array:
                    var index = ParseIndex(segment);
                    if (index < 0 || index >= array.Count)
                    {
                        return false;
                    }

                    node = array[index];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static string Unescape(string segment)
    {
        if (!segment.Contains('~', StringComparison.Ordinal))
        {
            return segment;
        }

        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '~' && i + 1 < segment.Length && segment[i + 1] is '0' or '1')
            {
                sb.Append(segment[i + 1] == '0' ? '~' : '/');
                i++;
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }

    /// <summary>Jackson's array index rule: digits only, no leading zero, at most int.MaxValue; -1 otherwise.</summary>
    private static int ParseIndex(string segment)
    {
        if (segment.Length is 0 or > 10)
        {
            return -1;
        }

        if (segment[0] == '0')
        {
            return segment.Length == 1 ? 0 : -1;
        }

        foreach (var c in segment)
        {
            if (c is < '0' or > '9')
            {
                return -1;
            }
        }

        return long.Parse(segment, CultureInfo.InvariantCulture) is var l && l <= int.MaxValue ? (int)l : -1;
    }

    // The Nucleus's patterns; Java's \w is ASCII [a-zA-Z0-9_].
    [GeneratedRegex(@"\{([.A-Za-z0-9_-]+):([^:}]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex SameComponentPattern();

    [GeneratedRegex(@"\{([.A-Za-z0-9_-]+):([.A-Za-z0-9_-]+):([^:}]*)\}", RegexOptions.CultureInvariant)]
    private static partial Regex CrossComponentPattern();
}

/// <summary>Log messages of recipe handling, with stable event ids (1200-1299).</summary>
internal static partial class RecipeLog
{
    [LoggerMessage(1200, LogLevel.Warning, "{Component}: {Placeholder} stays as written: unknown namespace '{Namespace}'")]
    public static partial void UnknownNamespace(ILogger logger, string component, string placeholder, string @namespace);

    [LoggerMessage(1201, LogLevel.Warning, "{Component}: {Placeholder} stays as written: {Target} is not a direct dependency")]
    public static partial void NotDirectDependency(ILogger logger, string component, string placeholder, string target);

    [LoggerMessage(1202, LogLevel.Warning, "{Component}: {Placeholder} stays as written: {Target} is not among the resolved components")]
    public static partial void NotResolved(ILogger logger, string component, string placeholder, string target);

    [LoggerMessage(1203, LogLevel.Warning, "{Component}: {Placeholder} stays as written: there is no value for it")]
    public static partial void NoValue(ILogger logger, string component, string placeholder);
}
