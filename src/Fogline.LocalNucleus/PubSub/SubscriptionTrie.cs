namespace Fogline.LocalNucleus.PubSub;

/// <summary>
/// Subscriptions by topic filter, matched as the Nucleus's SubscriptionTrie matches them. Topics and filters are split
/// on <c>/</c> as Java's <c>String.split("/")</c> does (trailing empty levels are dropped, so <c>a/b/</c> is <c>a/b</c>,
/// and <c>/</c> has no level at all). A filter level <c>+</c> matches any one level (an empty one too); a filter level
/// <c>#</c> matches the rest of the topic from that level on (<c>a/#</c> matches <c>a/b</c> and <c>a/b/c</c> but not
/// <c>a</c>; <c>#</c> matches every topic); <c>#</c> in the middle of a filter matches one level, like <c>+</c>.
/// Anything else matches literally. Not thread-safe: the owner locks.
/// </summary>
internal sealed class SubscriptionTrie
{
    private const string SingleLevelWildcard = "+";
    private const string MultiLevelWildcard = "#";

    private readonly Node _root = new();
    private List<Node> _paths = [];
    private List<Node> _nextPaths = [];
    private long _stamp;

    /// <summary>Filters that have at least one subscription.</summary>
    public int TopicCount { get; private set; }

    /// <summary>Nodes below the root (for tests: removal prunes the trie back).</summary>
    public int NodeCount { get; private set; }

    /// <summary>Java's <c>topic.split("/")</c>.</summary>
    public static string[] Split(string topic)
    {
        if (topic.Length == 0)
        {
            return [string.Empty];
        }

        var parts = topic.Split('/');
        var count = parts.Length;
        while (count > 0 && parts[count - 1].Length == 0)
        {
            count--;
        }

        return count == parts.Length ? parts : parts[..count];
    }

    /// <summary>
    /// Whether a filter has MQTT wildcards as the Nucleus decides it (for the default receive mode): a level that is
    /// <c>+</c>, or a last level that is <c>#</c>.
    /// </summary>
    public static bool IsWildcard(string topic)
    {
        var levels = Split(topic);
        for (var i = 0; i < levels.Length; i++)
        {
            if (levels[i] == SingleLevelWildcard || (levels[i] == MultiLevelWildcard && i == levels.Length - 1))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Adds a subscription under its filter levels.</summary>
    public void Add(string[] levels, PubSubSubscription subscription)
    {
        var current = _root;
        foreach (var level in levels)
        {
            current.Children ??= new Dictionary<string, Node>(StringComparer.Ordinal);
            if (!current.Children.TryGetValue(level, out var child))
            {
                child = new Node();
                current.Children[level] = child;
                NodeCount++;
            }

            current = child;
        }

        current.Subscriptions ??= [];
        if (current.Subscriptions.Add(subscription) && current.Subscriptions.Count == 1)
        {
            TopicCount++;
        }
    }

    /// <summary>Removes a subscription and prunes the nodes left with neither children nor subscriptions.</summary>
    public bool Remove(string[] levels, PubSubSubscription subscription)
    {
        var removed = false;
        RemoveRecursively(levels, _root, subscription, 0, ref removed);
        return removed;
    }

    /// <summary>
    /// Appends to <paramref name="result"/> every subscription whose filter matches <paramref name="levels"/>, each
    /// once, leaving out those that do not take messages from <paramref name="source"/> (their receive mode). Throws as the Nucleus does for a topic with no level.
    /// </summary>
    public void Match(string[] levels, List<PubSubSubscription> result, string? source)
    {
        if (levels.Length == 0)
        {
            // The Nucleus reads topicLevels[0] unconditionally.
            throw new IndexOutOfRangeException("Index 0 out of bounds for length 0");
        }

        var stamp = ++_stamp;
        var paths = _paths;
        var next = _nextPaths;
        paths.Clear();
        paths.Add(_root);
        try
        {
            for (var level = 0; level < levels.Length && paths.Count > 0; level++)
            {
                next.Clear();
                foreach (var node in paths)
                {
                    AddMatchingPaths(node, levels[level], next, result, stamp, source);
                }

                (paths, next) = (next, paths);
            }

            foreach (var node in paths)
            {
                AddAll(node, result, stamp, source);
            }
        }
        finally
        {
            paths.Clear();
            next.Clear();
        }
    }

    private static void AddMatchingPaths(Node node, string level, List<Node> next, List<PubSubSubscription> result, long stamp, string? source)
    {
        if (node.Children is not { } children)
        {
            return;
        }

        // Published topics hold no wildcard; a level equal to one would reach the same child twice.
        if (level is not (SingleLevelWildcard or MultiLevelWildcard) && children.TryGetValue(level, out var exact))
        {
            next.Add(exact);
        }

        if (children.TryGetValue(SingleLevelWildcard, out var plus))
        {
            next.Add(plus);
        }

        if (children.TryGetValue(MultiLevelWildcard, out var pound))
        {
            next.Add(pound);
            AddAll(pound, result, stamp, source);
        }
    }

    private static void AddAll(Node node, List<PubSubSubscription> result, long stamp, string? source)
    {
        if (node.Subscriptions is not { } subscriptions)
        {
            return;
        }

        foreach (var subscription in subscriptions)
        {
            if (subscription.MatchStamp != stamp)
            {
                subscription.MatchStamp = stamp;
                if (subscription.Accepts(source))
                {
                    result.Add(subscription);
                }
            }
        }
    }

    // The Nucleus's removeRecursively: true when the node can go (no children, no subscriptions).
    private bool RemoveRecursively(string[] levels, Node node, PubSubSubscription subscription, int index, ref bool removed)
    {
        if (index == levels.Length)
        {
            removed = node.Subscriptions?.Remove(subscription) == true;
            if (removed && node.Subscriptions!.Count == 0)
            {
                node.Subscriptions = null;
                TopicCount--;
            }

            return removed && CanRemove(node);
        }

        if (node.Children is null || !node.Children.TryGetValue(levels[index], out var child))
        {
            return false;
        }

        if (RemoveRecursively(levels, child, subscription, index + 1, ref removed))
        {
            node.Children.Remove(levels[index]);
            NodeCount--;
            if (node.Children.Count == 0)
            {
                node.Children = null;
            }

            return CanRemove(node);
        }

        return false;
    }

    private static bool CanRemove(Node node) => node.Children is null && node.Subscriptions is null;

    private sealed class Node
    {
        public Dictionary<string, Node>? Children { get; set; }

        public HashSet<PubSubSubscription>? Subscriptions { get; set; }
    }
}
