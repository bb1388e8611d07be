using System.Collections.Frozen;

namespace Fogline.LocalNucleus.Authorization;

/// <summary>
/// The permissions of one destination, as the Nucleus's AuthorizationModule keeps them: principal → operation → the
/// allowed resources, both as written (for GetAuthorizedResources) and compiled into a <see cref="ResourceTrie"/>.
/// Immutable once built: a reload builds a new table and swaps it in.
/// </summary>
internal sealed class PermissionTable
{
    private readonly FrozenDictionary<string, FrozenDictionary<string, Permission>> _permissions;

    private PermissionTable(FrozenDictionary<string, FrozenDictionary<string, Permission>> permissions)
    {
        _permissions = permissions;
    }

    /// <summary>The permission of (<paramref name="principal"/>, <paramref name="operation"/>), if any.</summary>
    public bool TryGet(string principal, string operation, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Permission? permission)
    {
        if (_permissions.TryGetValue(principal, out var operations) && operations.TryGetValue(operation, out permission))
        {
            return true;
        }

        permission = null;
        return false;
    }

    /// <summary>
    /// The Nucleus's check of a resource: null, or blank (only space separators, as Java's <c>isSpaceChar</c>) never
    /// counts as a resource; <c>?</c> must be escaped; <c>${</c> must start one of <c>${*}</c>, <c>${$}</c>,
    /// <c>${?}</c>. Returns the Nucleus's error message, or null when the resource is valid.
    /// </summary>
    public static string? ValidateResource(string? resource)
    {
        if (resource is null)
        {
            return null;
        }

        if (IsBlank(resource))
        {
            return "Resource cannot be empty";
        }

        for (var i = 0; i < resource.Length; i++)
        {
            var c = resource[i];
            if (c == '$' && i + 1 < resource.Length && resource[i + 1] == '{')
            {
                var escaped = ResourceTrie.EscapedChar(resource, i);
                if (escaped == '\0')
                {
                    return "Resource contains an invalid escape sequence. You can use ${*}, ${$}, or ${?}";
                }

                if (escaped is not ('*' or '$' or '?'))
                {
                    return "Resource contains an invalid escape sequence: ${" + escaped + "}. You can use ${*}, ${$}, or ${?}";
                }

                i += 3;
            }

            if (c == '?')
            {
                return "Resource contains invalid character: '?'. Use an escape sequence: ${?}. The '?' character isn't supported as a wildcard";
            }
        }

        return null;
    }

    /// <summary>The Nucleus's <c>Utils.isEmpty(String)</c>: null, or nothing but space separators.</summary>
    public static bool IsBlank(string? value)
    {
        if (value is null)
        {
            return true;
        }

        foreach (var c in value)
        {
            if (char.GetUnicodeCategory(c) is not (System.Globalization.UnicodeCategory.SpaceSeparator
                or System.Globalization.UnicodeCategory.LineSeparator
                or System.Globalization.UnicodeCategory.ParagraphSeparator))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>What a principal may do with one operation.</summary>
    internal sealed class Permission
    {
        public Permission(ResourceTrie trie, IReadOnlyList<string?> resources)
        {
            Trie = trie;
            Resources = resources;
        }

        /// <summary>The compiled resources.</summary>
        public ResourceTrie Trie { get; }

        /// <summary>The resources as written in the policies (null for a policy without resources).</summary>
        public IReadOnlyList<string?> Resources { get; }
    }

    /// <summary>Collects permissions while policies load.</summary>
    internal sealed class Builder
    {
        private readonly Dictionary<string, Dictionary<string, (List<string?> Added, List<string?> Distinct)>> _permissions = new(StringComparer.Ordinal);

        /// <summary>
        /// The Nucleus's addPermission: principal, operation and destination must not be blank and the resource must
        /// be valid. Returns the error message, or null when the permission was added.
        /// </summary>
        public string? Add(string destination, string principal, string operation, string? resource)
        {
            if (IsBlank(principal) || IsBlank(destination) || IsBlank(operation))
            {
                return "Invalid arguments";
            }

            if (ValidateResource(resource) is { } error)
            {
                return error;
            }

            if (!_permissions.TryGetValue(principal, out var operations))
            {
                operations = new(StringComparer.Ordinal);
                _permissions[principal] = operations;
            }

            if (!operations.TryGetValue(operation, out var resources))
            {
                resources = ([], []);
                operations[operation] = resources;
            }

            resources.Added.Add(resource);
            if (!resources.Distinct.Contains(resource))
            {
                resources.Distinct.Add(resource);
            }

            return null;
        }

        public PermissionTable Build() => new(_permissions.ToFrozenDictionary(
            p => p.Key,
            p => p.Value.ToFrozenDictionary(
                o => o.Key,
                o => new Permission(ResourceTrie.Build(o.Value.Added), o.Value.Distinct.AsReadOnly()),
                StringComparer.Ordinal),
            StringComparer.Ordinal));
    }
}
