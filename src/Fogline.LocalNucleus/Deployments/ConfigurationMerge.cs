using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.Deployments;

/// <summary>A deployment's configuration update of one component: RESET pointers, then MERGE.</summary>
/// <param name="Merge">The object merged into the configuration (MERGE), or null.</param>
/// <param name="Reset">JSON pointers reset to the default configuration's value (or removed when the default has none); "" resets everything.</param>
public sealed record ConfigurationUpdate(JsonObject? Merge, IReadOnlyList<string>? Reset);

/// <summary>How a deployment computes a component's configuration, as the Nucleus does.</summary>
public static class ConfigurationMerge
{
    /// <summary>
    /// The configuration to apply: the configuration the component has now (or, for a component new to the device,
    /// its default configuration), with keys the new version's default configuration adds filled in; then the
    /// update's RESET pointers reset to the default; then its MERGE merged in (objects key by key, everything else
    /// replaced).
    /// </summary>
    /// <exception cref="DeploymentValidationException">A RESET entry is not a JSON pointer.</exception>
    public static JsonObject Effective(JsonObject defaults, JsonObject? current, ConfigurationUpdate? update, string component)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        var result = (JsonObject)defaults.DeepClone();
        if (current is not null)
        {
            MergeInto(result, current);
        }

        foreach (var pointer in update?.Reset ?? [])
        {
            if (pointer.Length == 0)
            {
                result = (JsonObject)defaults.DeepClone();
                continue;
            }

            if (pointer[0] != '/')
            {
                throw new DeploymentValidationException($"--update-config {component}.RESET: '{pointer}' is not a JSON pointer (it must start with '/', or be \"\" for the whole configuration)");
            }

            var keys = pointer[1..].Split('/').Select(k => k.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToArray();
            Reset(result, defaults, keys);
        }

        if (update?.Merge is { } merge)
        {
            MergeInto(result, merge);
        }

        return result;
    }

    /// <summary>Merges <paramref name="source"/> into <paramref name="target"/>: objects merge key by key; anything else replaces.</summary>
    public static void MergeInto(JsonObject target, JsonObject source)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        foreach (var (key, value) in source)
        {
            if (value is JsonObject child && target[key] is JsonObject existing)
            {
                MergeInto(existing, child);
            }
            else
            {
                target[key] = value?.DeepClone();
            }
        }
    }

    private static void Reset(JsonObject target, JsonObject defaults, string[] keys)
    {
        JsonNode? parent = target;
        JsonNode? defaultParent = defaults;
        for (var i = 0; i < keys.Length - 1; i++)
        {
            parent = (parent as JsonObject)?[keys[i]];
            defaultParent = (defaultParent as JsonObject)?[keys[i]];
        }

        if (parent is not JsonObject parentObject)
        {
            return;
        }

        var last = keys[^1];
        if (defaultParent is JsonObject d && d.TryGetPropertyValue(last, out var value))
        {
            parentObject[last] = value?.DeepClone();
        }
        else
        {
            parentObject.Remove(last);
        }
    }
}
