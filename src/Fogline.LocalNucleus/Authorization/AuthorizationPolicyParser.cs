using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Authorization;

/// <summary>
/// Reads a component's <c>accessControl</c> configuration into policies, as the Nucleus's AuthorizationPolicyParser
/// does: <c>{destination: {policyId: {policyDescription, operations: [...], resources: [...]}}}</c>, the principal of
/// every policy being the component. The Nucleus turns the configuration container into plain maps (its
/// <c>toPOJO</c>: keys sorted case-insensitively, keys starting with <c>_</c> left out) or, when accessControl is a
/// string, reads that string as JSON; then Jackson binds it with case-insensitive property names, strict about unknown
/// properties, types and explicit nulls. Any binding failure drops the whole accessControl of the component (logged);
/// a policy without operations is skipped (logged); everything else is kept for validation when loading.
/// </summary>
internal static class AuthorizationPolicyParser
{
    /// <summary>The configuration key holding the policies.</summary>
    public const string AccessControlKey = "accessControl";

    /// <summary>
    /// The policies of <paramref name="component"/> per destination, in the order the Nucleus lists them. Empty when
    /// there is no accessControl or it cannot be read.
    /// </summary>
    public static List<KeyValuePair<string, List<AuthorizationPolicy>>> ParseComponent(string component, JsonNode? accessControl, ILogger logger)
    {
        if (accessControl is null)
        {
            return [];
        }

        JsonObject tree;
        if (accessControl is JsonObject container)
        {
            tree = ToPojo(container);
        }
        else if (accessControl is JsonValue value && value.TryGetValue<string>(out var text))
        {
            // A leaf: the Nucleus reads its text as JSON.
            try
            {
                if (Fogline.Greengrass.Recipes.JsonMaps.Parse(text) is not JsonObject parsed)
                {
                    AuthorizationLog.AccessControlUnreadable(logger, component, "the accessControl value is not a JSON object");
                    return [];
                }

                tree = parsed;
            }
            catch (JsonException ex)
            {
                AuthorizationLog.AccessControlUnreadable(logger, component, ex.Message);
                return [];
            }
        }
        else
        {
            AuthorizationLog.AccessControlUnreadable(logger, component, "the accessControl value is neither an object nor a JSON string");
            return [];
        }

        var bound = Bind(tree, out var error);
        if (bound is null)
        {
            AuthorizationLog.AccessControlUnreadable(logger, component, error!);
            return [];
        }

        var result = new List<KeyValuePair<string, List<AuthorizationPolicy>>>(bound.Count);
        foreach (var (destination, policies) in bound)
        {
            var list = new List<AuthorizationPolicy>(policies.Count);
            foreach (var policy in policies)
            {
                if (policy.Operations is null || policy.Operations.Count == 0)
                {
                    AuthorizationLog.PolicyOperationsMissing(logger, component, destination, policy.PolicyId);
                    continue;
                }

                list.Add(new AuthorizationPolicy(
                    policy.PolicyId,
                    policy.Description,
                    [component],
                    [.. JavaHashOrder.HashSetOrder(policy.Operations).Select(o => o!)],
                    policy.Resources is null ? null : JavaHashOrder.HashSetOrder(policy.Resources)));
            }

            result.Add(new(destination, list));
        }

        return result;
    }

    /// <summary>Java's <c>String.CASE_INSENSITIVE_ORDER</c>.</summary>
    internal static int CompareIgnoreCaseJava(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        var n = Math.Min(x.Length, y.Length);
        for (var i = 0; i < n; i++)
        {
            var c1 = x[i];
            var c2 = y[i];
            if (c1 == c2)
            {
                continue;
            }

            c1 = char.ToUpperInvariant(c1);
            c2 = char.ToUpperInvariant(c2);
            if (c1 == c2)
            {
                continue;
            }

            c1 = char.ToLowerInvariant(c1);
            c2 = char.ToLowerInvariant(c2);
            if (c1 != c2)
            {
                return c1 - c2;
            }
        }

        return x.Length - y.Length;
    }

    // The Nucleus's Topics.toPOJO: each container becomes a map sorted case-insensitively (two keys equal but for
    // case collapse into the first one's name with the last one's value), without the keys starting with '_'.
    // Leaves (arrays included) are taken as they are.
    private static JsonObject ToPojo(JsonObject container)
    {
        var sorted = new SortedDictionary<string, JsonNode?>(Comparer<string>.Create(CompareIgnoreCaseJava));
        foreach (var (key, child) in container)
        {
            if (key.StartsWith('_'))
            {
                continue;
            }

            sorted[key] = child is JsonObject obj ? ToPojo(obj) : child?.DeepClone();
        }

        var result = new JsonObject();
        foreach (var (key, child) in sorted)
        {
            result[key] = child;
        }

        return result;
    }

    private sealed record BoundPolicy(string PolicyId, string? Description, List<string?>? Operations, List<string?>? Resources);

    // Jackson binding to Map<String, Map<String, AuthorizationPolicyConfig>>, where the config has the non-null
    // properties policyDescription, operations (Set<String>) and resources (Set<String>).
    private static List<KeyValuePair<string, List<BoundPolicy>>>? Bind(JsonObject tree, out string? error)
    {
        error = null;
        var result = new List<KeyValuePair<string, List<BoundPolicy>>>();
        foreach (var (destination, destinationNode) in tree)
        {
            if (destinationNode is not JsonObject policies)
            {
                error = $"the policies of destination {destination} are not an object";
                return null;
            }

            var list = new List<BoundPolicy>();
            foreach (var (policyId, policyNode) in policies)
            {
                if (policyNode is not JsonObject policy)
                {
                    error = $"policy {policyId} of destination {destination} is not an object";
                    return null;
                }

                string? description = null;
                List<string?>? operations = null;
                List<string?>? resources = null;
                foreach (var (property, value) in policy)
                {
                    switch (BeanProperty(property))
                    {
                        case "policyDescription":
                            if (!TryBindString(value, out description) || description is null)
                            {
                                error = $"policy {policyId}: policyDescription must be a non-null string";
                                return null;
                            }

                            break;
                        case "operations":
                            if (!TryBindStringSet(value, out operations) || operations!.Contains(null))
                            {
                                error = $"policy {policyId}: operations must be a list of strings";
                                return null;
                            }

                            break;
                        case "resources":
                            if (!TryBindStringSet(value, out resources))
                            {
                                error = $"policy {policyId}: resources must be a list of strings";
                                return null;
                            }

                            break;
                        default:
                            error = $"policy {policyId}: unrecognized field \"{property}\"";
                            return null;
                    }
                }

                list.Add(new BoundPolicy(policyId, description, operations, resources));
            }

            result.Add(new(destination, list));
        }

        return result;
    }

    // Jackson with ACCEPT_CASE_INSENSITIVE_PROPERTIES: the property a JSON key names, whatever its case.
    private static string BeanProperty(string key) =>
        key.Equals("policyDescription", StringComparison.OrdinalIgnoreCase) ? "policyDescription"
        : key.Equals("operations", StringComparison.OrdinalIgnoreCase) ? "operations"
        : key.Equals("resources", StringComparison.OrdinalIgnoreCase) ? "resources"
        : string.Empty;

    // Jackson's String binding: text, or a number or boolean as its text; not an object or array.
    private static bool TryBindString(JsonNode? node, out string? value)
    {
        value = null;
        switch (node)
        {
            case null:
                return true;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                value = v.GetValue<string>();
                return true;
            case JsonValue v when v.GetValueKind() is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                value = v.ToJsonString();
                return true;
            default:
                return false;
        }
    }

    // A Set<String> property: must be an array (null is refused by the non-null property); elements bind as strings,
    // a null element stays null.
    private static bool TryBindStringSet(JsonNode? node, out List<string?>? values)
    {
        values = null;
        if (node is not JsonArray array)
        {
            return false;
        }

        var list = new List<string?>(array.Count);
        foreach (var item in array)
        {
            if (!TryBindString(item, out var text))
            {
                return false;
            }

            list.Add(text);
        }

        values = list;
        return true;
    }
}
