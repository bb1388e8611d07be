using System.Text;

namespace Fogline.LocalNucleus.Authorization;

/// <summary>
/// The resources of one (destination, principal, operation) permission, matched as the Nucleus's WildcardTrie matches
/// them, behaviour for behaviour:
/// <list type="bullet">
/// <item>A resource pattern is cut into nodes at every <c>*</c>, <c>+</c> and <c>#</c>; the text between them is one
/// node. <c>${*}</c>, <c>${?}</c>, <c>${$}</c> (any <c>${c}</c>) stand for the character itself.</item>
/// <item>STANDARD lookups: <c>*</c> matches any run of characters, <c>/</c> included; <c>+</c> and <c>#</c> are
/// plain characters.</item>
/// <item>MQTT_STYLE lookups also treat <c>+</c> (a whole level) and <c>#</c> (a last level preceded by <c>/</c>) as
/// MQTT wildcards; elsewhere they are plain characters. <c>a/#</c> also matches <c>a</c>.</item>
/// <item>The pattern <c>*</c> alone matches everything, <c>#</c> alone everything under MQTT_STYLE only.</item>
/// </list>
/// The trie is built once when policies load and never changes; a lookup walks it over spans of the resource and
/// allocates nothing. Children are kept in the order the Nucleus's ConcurrentHashMap iterates them, because the
/// Nucleus resolves one ambiguity by that order (see <see cref="JavaHashOrder"/>).
/// </summary>
internal sealed class ResourceTrie
{
    private const string GlobWildcard = "*";
    private const string MultiLevelWildcard = "#";
    private const string SingleLevelWildcard = "+";
    private const char LevelSeparator = '/';

    private readonly Node _root;

    private ResourceTrie(Node root)
    {
        _root = root;
    }

    /// <summary>A trie over <paramref name="resources"/>, added in that order (nulls are ignored, as the Nucleus does).</summary>
    public static ResourceTrie Build(IEnumerable<string?> resources)
    {
        ArgumentNullException.ThrowIfNull(resources);
        var root = new Builder();
        foreach (var resource in resources)
        {
            root.Add(resource);
        }

        return new ResourceTrie(root.Compile());
    }

    /// <summary>Whether <paramref name="resource"/> is allowed; a null resource matches any permission.</summary>
    public bool Matches(string? resource, ResourceLookupPolicy lookup)
    {
        if (resource is null)
        {
            return true;
        }

        return lookup == ResourceLookupPolicy.MqttStyle ? MatchesMqtt(_root, resource) : MatchesStandard(_root, resource);
    }

    private static bool MatchesStandard(Node node, ReadOnlySpan<char> s)
    {
        if ((node.IsWildcard && node.IsTerminal) || (node.IsTerminal && s.IsEmpty))
        {
            return true;
        }

        var keys = node.Keys;
        var children = node.Children;
        for (var i = 0; i < keys.Length; i++)
        {
            if (node.GlobChild[i])
            {
                if (MatchesStandard(children[i], s))
                {
                    return true;
                }

                continue;
            }

            if (s.StartsWith(keys[i]) && MatchesStandard(children[i], s[keys[i].Length..]))
            {
                return true;
            }
        }

        if (!node.IsWildcard)
        {
            return false;
        }

        // Under a '*', a child may start anywhere further on. The Nucleus gathers these candidates in a map keyed by
        // the rest of the resource, so for one rest only the last child (in iteration order) that leaves it is tried.
        for (var i = 0; i < keys.Length; i++)
        {
            if (node.GlobChild[i])
            {
                continue;
            }

            var key = keys[i].AsSpan();
            for (var at = s.IndexOf(key); at >= 0; at = IndexOf(s, key, at + 1))
            {
                var end = at + key.Length;
                if (!StandardCandidateLater(node, i, s, end) && MatchesStandard(children[i], s[end..]))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool StandardCandidateLater(Node node, int child, ReadOnlySpan<char> s, int end)
    {
        for (var j = child + 1; j < node.Keys.Length; j++)
        {
            if (node.GlobChild[j])
            {
                continue;
            }

            var key = node.Keys[j];
            if (end >= key.Length && s.Slice(end - key.Length, key.Length).SequenceEqual(key))
            {
                return true;
            }
        }

        return false;
    }

    private static bool MatchesMqtt(Node node, ReadOnlySpan<char> s)
    {
        if ((node.IsWildcard && node.IsTerminal) || (node.IsTerminal && s.IsEmpty))
        {
            return true;
        }

        if (node.IsMqttWildcard && (node.MatchAll || (node.IsTerminal && !s.Contains(LevelSeparator))))
        {
            return true;
        }

        var keys = node.Keys;
        var children = node.Children;
        for (var i = 0; i < keys.Length; i++)
        {
            if (node.MqttWildcardChild[i])
            {
                if (MatchesMqtt(children[i], s))
                {
                    return true;
                }

                continue;
            }

            var key = keys[i];
            if (s.StartsWith(key) && MatchesMqtt(children[i], s[key.Length..]))
            {
                return true;
            }

            // "abc/#" matches "abc": the level before a valid '#' may end the resource without its '/'.
            if (children[i].IsTerminalLevel && s.SequenceEqual(key.AsSpan(0, key.Length - 1)))
            {
                return true;
            }
        }

        if (!node.IsWildcard && !node.IsMqttWildcard)
        {
            return false;
        }

        // Under '*' (anything) or a valid '+' (anything without '/'), a child may start further on; as above, one
        // candidate per rest of the resource, the last child's.
        for (var i = 0; i < keys.Length; i++)
        {
            if (node.MqttWildcardChild[i])
            {
                continue;
            }

            var key = MqttKey(node, i, s);
            if (node.IsWildcard)
            {
                for (var at = IndexOf(s, key, 0); at >= 0 && at < s.Length; at = IndexOf(s, key, at + 1))
                {
                    var end = at + key.Length;
                    if (!MqttCandidateLater(node, i, s, end) && MatchesMqtt(children[i], s[end..]))
                    {
                        return true;
                    }
                }
            }

            if (node.IsMqttWildcard)
            {
                for (var at = IndexOf(s, key, 0); at >= 0 && at < s.Length && !s[..at].Contains(LevelSeparator); at = IndexOf(s, key, at + 1))
                {
                    var end = at + key.Length;
                    if (!MqttCandidateLater(node, i, s, end) && MatchesMqtt(children[i], s[end..]))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    // The text a child is searched by under a wildcard: its key, or, for the level before a valid '#' when the
    // resource ends with that level without its '/', the key less its last character.
    private static ReadOnlySpan<char> MqttKey(Node node, int child, ReadOnlySpan<char> s)
    {
        var key = node.Keys[child].AsSpan();
        if (node.Children[child].IsTerminalLevel)
        {
            var shorter = key[..^1];
            if (s.EndsWith(shorter))
            {
                return shorter;
            }
        }

        return key;
    }

    private static bool MqttCandidateLater(Node node, int child, ReadOnlySpan<char> s, int end)
    {
        for (var j = child + 1; j < node.Keys.Length; j++)
        {
            if (node.MqttWildcardChild[j])
            {
                continue;
            }

            var key = MqttKey(node, j, s);
            var start = end - key.Length;
            if (start < 0 || start >= s.Length || !s.Slice(start, key.Length).SequenceEqual(key))
            {
                continue;
            }

            if (node.IsWildcard || (node.IsMqttWildcard && !s[..start].Contains(LevelSeparator)))
            {
                return true;
            }
        }

        return false;
    }

    // Java's String.indexOf(key, from), an empty key included.
    private static int IndexOf(ReadOnlySpan<char> s, ReadOnlySpan<char> key, int from)
    {
        if (from >= s.Length)
        {
            return key.IsEmpty ? s.Length : -1;
        }

        var found = s[from..].IndexOf(key);
        return found < 0 ? -1 : from + found;
    }

    /// <summary>A node of the built trie.</summary>
    private sealed class Node
    {
        public required bool IsTerminal { get; init; }

        public required bool IsTerminalLevel { get; init; }

        public required bool IsWildcard { get; init; }

        public required bool IsMqttWildcard { get; init; }

        public required bool MatchAll { get; init; }

        public required string[] Keys { get; init; }

        public required Node[] Children { get; init; }

        /// <summary>Children taken as a glob wildcard by STANDARD lookups: a wildcard node under the key "*".</summary>
        public required bool[] GlobChild { get; init; }

        /// <summary>Children taken as wildcards by MQTT_STYLE lookups: glob, or a valid "+" or "#".</summary>
        public required bool[] MqttWildcardChild { get; init; }
    }

    /// <summary>The trie while resources are added: the Nucleus's WildcardTrie.add, step for step.</summary>
    private sealed class Builder
    {
        private readonly Dictionary<string, Builder> _children = new(StringComparer.Ordinal);
        // Every lookup of a child, in order: the Nucleus's map iterates in an order they all shape.
        private readonly List<string> _accesses = [];

        private bool _isTerminal;
        private bool _isTerminalLevel;
        private bool _isWildcard;
        private bool _isMqttWildcard;
        private bool _matchAll;

        public void Add(string? subject)
        {
            if (subject is null)
            {
                return;
            }

            switch (subject)
            {
                case GlobWildcard:
                    var glob = Child(GlobWildcard);
                    glob._matchAll = true;
                    glob._isTerminal = true;
                    glob._isWildcard = true;
                    return;
                case MultiLevelWildcard:
                    var all = Child(MultiLevelWildcard);
                    all._matchAll = true;
                    all._isTerminal = true;
                    all._isMqttWildcard = true;
                    return;
                case SingleLevelWildcard:
                    var level = Child(SingleLevelWildcard);
                    level._isTerminal = true;
                    level._isMqttWildcard = true;
                    return;
            }

            if (subject.StartsWith("+/", StringComparison.Ordinal))
            {
                var first = Child(SingleLevelWildcard);
                first._isMqttWildcard = true;
                first.Add(subject[1..], true);
            }

            Add(subject, true);
        }

        public Node Compile()
        {
            var order = JavaHashOrder.ConcurrentHashMapOrder(_accesses);
            var keys = new string[order.Count];
            var children = new Node[order.Count];
            var glob = new bool[order.Count];
            var mqtt = new bool[order.Count];
            for (var i = 0; i < order.Count; i++)
            {
                var key = order[i];
                var child = _children[key];
                keys[i] = key;
                children[i] = child.Compile();
                glob[i] = child._isWildcard && key == GlobWildcard;
                mqtt[i] = glob[i] || (child._isMqttWildcard && key is SingleLevelWildcard or MultiLevelWildcard);
            }

            return new Node
            {
                IsTerminal = _isTerminal,
                IsTerminalLevel = _isTerminalLevel,
                IsWildcard = _isWildcard,
                IsMqttWildcard = _isMqttWildcard,
                MatchAll = _matchAll,
                Keys = keys,
                Children = children,
                GlobChild = glob,
                MqttWildcardChild = mqtt,
            };
        }

        private Builder Child(string key)
        {
            _accesses.Add(key);
            if (!_children.TryGetValue(key, out var child))
            {
                child = new Builder();
                _children[key] = child;
            }

            return child;
        }

        // Adds the rest of a pattern below this node; the text before a wildcard is added again through this method
        // (so an escaped character in it is read a second time, as the Nucleus does).
        private Builder Add(string subject, bool isTerminal)
        {
            if (subject.Length == 0)
            {
                _isTerminal |= isTerminal;
                return this;
            }

            var last = subject.Length - 1;
            var literal = new StringBuilder(subject.Length);
            for (var i = 0; i < subject.Length; i++)
            {
                var c = subject[i];
                switch (c)
                {
                    case '*':
                        {
                            var glob = Add(literal.ToString(), false).Child(GlobWildcard);
                            glob._isWildcard = true;
                            if (i == last)
                            {
                                glob._isTerminal = isTerminal;
                                return glob;
                            }

                            return glob.Add(subject[(i + 1)..], true);
                        }

                    case '#':
                        {
                            var level = Add(literal.ToString(), false);
                            var all = level.Child(MultiLevelWildcard);
                            if (i == last)
                            {
                                all._isTerminal = true;
                                if (i > 0 && subject[i - 1] == LevelSeparator)
                                {
                                    all._isMqttWildcard = true;
                                    all._matchAll = true;
                                    level._isTerminalLevel = true;
                                }

                                return all;
                            }

                            return all.Add(subject[(i + 1)..], true);
                        }

                    case '+':
                        {
                            var single = Add(literal.ToString(), false).Child(SingleLevelWildcard);
                            if (i == last)
                            {
                                single._isTerminal = true;
                                if (i > 0 && subject[i - 1] == LevelSeparator)
                                {
                                    single._isMqttWildcard = true;
                                }

                                return single;
                            }

                            if (i > 0 && subject[i - 1] == LevelSeparator && subject[i + 1] == LevelSeparator)
                            {
                                single._isMqttWildcard = true;
                            }

                            return single.Add(subject[(i + 1)..], true);
                        }

                    case '$':
                        var escaped = EscapedChar(subject, i);
                        if (escaped != '\0')
                        {
                            literal.Append(escaped);
                            i += 3;
                            continue;
                        }

                        break;
                }

                literal.Append(c);
            }

            var node = Child(literal.ToString());
            node._isTerminal |= isTerminal;
            return node;
        }
    }

    /// <summary>The character of an escape <c>${c}</c> starting at <paramref name="at"/>, or '\0' when there is none.</summary>
    internal static char EscapedChar(string text, int at)
    {
        if (text.Length - at < 4)
        {
            return '\0';
        }

        return text[at] == '$' && text[at + 1] == '{' && text[at + 3] == '}' ? text[at + 2] : '\0';
    }
}
