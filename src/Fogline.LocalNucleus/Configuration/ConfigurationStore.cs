using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.Configuration;

/// <summary>
/// The configuration of every component (<c>services.&lt;name&gt;.configuration</c> in the Nucleus's config tree), kept
/// as the Nucleus keeps it: a tree of containers and leaves, each leaf with the time it was last modified, merged
/// with the Nucleus's timestamp rule (a leaf only takes a value proposed at or after its own time). Arrays are leaf
/// values. Watchers are told the key path of every node that changed.
/// </summary>
public sealed class ConfigurationStore
{
    private readonly Dictionary<string, ConfigObject> _components = new(StringComparer.Ordinal);
    private readonly List<Watcher> _watchers = [];
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    internal ConfigurationStore(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Whether the component has a configuration.</summary>
    public bool HasComponent(string component)
    {
        lock (_lock)
        {
            return _components.ContainsKey(component);
        }
    }

    /// <summary>Replaces a component's whole configuration (a deployment with RESET of the root). Watchers are told what changed.</summary>
    public void SetConfiguration(string component, JsonObject? configuration)
    {
        List<Change> changes = [];
        lock (_lock)
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (!_components.TryGetValue(component, out var root))
            {
                root = new ConfigObject(string.Empty, null, now);
                _components[component] = root;
            }

            ReplaceChildren(component, root, configuration ?? [], now, changes);
        }

        Notify(changes);
    }

    /// <summary>Forgets a component's configuration.</summary>
    public void RemoveComponent(string component)
    {
        lock (_lock)
        {
            _components.Remove(component);
        }
    }

    /// <summary>
    /// What GetConfiguration returns for <paramref name="keyPath"/>: the container as an object, or, for a leaf, an
    /// object with the leaf's name as its only key (as the Nucleus answers). Null when the component or key is unknown.
    /// </summary>
    public JsonObject? Get(string component, IReadOnlyList<string>? keyPath)
    {
        lock (_lock)
        {
            var node = Find(component, keyPath);
            return node switch
            {
                null => null,
                ConfigObject container => container.ToJson(),
                ConfigValue leaf => new JsonObject { [leaf.Name] = leaf.Value?.DeepClone() },
                _ => null,
            };
        }
    }

    /// <summary>The raw value at <paramref name="keyPath"/> (an object for containers), or null when absent.</summary>
    public JsonNode? GetValue(string component, IReadOnlyList<string>? keyPath)
    {
        lock (_lock)
        {
            return Find(component, keyPath) switch
            {
                ConfigObject container => container.ToJson(),
                ConfigValue leaf => leaf.Value?.DeepClone(),
                _ => null,
            };
        }
    }

    /// <summary>The whole configuration of a component (a copy), or null when unknown.</summary>
    public JsonObject? Snapshot(string component) => Get(component, null);

    /// <summary>
    /// Merges <paramref name="valueToMerge"/> at <paramref name="keyPath"/> (UpdateConfiguration). Leaves modified after
    /// <paramref name="timestamp"/> keep their value. Throws <see cref="ConfigurationTimestampException"/> when the node
    /// at the key path ends up modified later than <paramref name="timestamp"/>, and <see cref="ArgumentException"/> when
    /// the value would turn a leaf into a container or back.
    /// </summary>
    public void Merge(string component, IReadOnlyList<string>? keyPath, JsonNode? valueToMerge, DateTimeOffset timestamp)
    {
        List<Change> changes = [];
        try
        {
            lock (_lock)
            {
                var ts = timestamp.ToUnixTimeMilliseconds();
                if (!_components.TryGetValue(component, out var root))
                {
                    root = new ConfigObject(string.Empty, null, ts);
                    _components[component] = root;
                }

                var path = keyPath ?? [];
                ConfigTreeNode target;
                if (path.Count == 0)
                {
                    if (valueToMerge is not JsonObject rootObject)
                    {
                        throw new ArgumentException("The value to merge at the root of the configuration must be an object.");
                    }

                    MergeObject(component, root, rootObject, ts, changes);
                    target = root;
                }
                else
                {
                    var parent = EnsureContainers(component, root, path.Take(path.Count - 1).ToArray(), ts, changes);
                    var name = path[^1];
                    var existing = parent.Get(name);
                    if (existing is ConfigValue || (existing is null && valueToMerge is not JsonObject))
                    {
                        SetLeaf(component, parent, name, valueToMerge, ts, changes);
                    }
                    else if (valueToMerge is JsonObject obj)
                    {
                        var container = existing as ConfigObject ?? AddContainer(component, parent, name, ts, changes);
                        MergeObject(component, container, obj, ts, changes);
                    }
                    else
                    {
                        throw new ArgumentException($"Key path {string.Join("/", path)} is a container; only an object can be merged into it.");
                    }

                    target = parent.Get(name)!;
                }

                if (ts < target.Modified)
                {
                    throw new ConfigurationTimestampException("Proposed timestamp is older than the config's latest modified timestamp");
                }
            }
        }
        finally
        {
            Notify(changes);
        }
    }

    /// <summary>
    /// Watches the node at <paramref name="keyPath"/> (the whole configuration when empty) and every node below it.
    /// Returns null when the component or the node does not exist (the Nucleus answers ResourceNotFoundError).
    /// </summary>
    public IDisposable? Watch(string component, IReadOnlyList<string>? keyPath, Action<string, IReadOnlyList<string>> onChange)
    {
        ArgumentNullException.ThrowIfNull(onChange);
        lock (_lock)
        {
            if (Find(component, keyPath) is null)
            {
                return null;
            }

            var watcher = new Watcher(this, component, [.. keyPath ?? []], onChange);
            _watchers.Add(watcher);
            return watcher;
        }
    }

    /// <summary>Number of active watchers (for leak checks).</summary>
    public int WatcherCount
    {
        get
        {
            lock (_lock)
            {
                return _watchers.Count;
            }
        }
    }

    private ConfigTreeNode? Find(string component, IReadOnlyList<string>? keyPath)
    {
        if (!_components.TryGetValue(component, out var root))
        {
            return null;
        }

        ConfigTreeNode node = root;
        foreach (var key in keyPath ?? [])
        {
            if (node is not ConfigObject container || container.Get(key) is not { } child)
            {
                return null;
            }

            node = child;
        }

        return node;
    }

    private void Notify(List<Change> changes)
    {
        if (changes.Count == 0)
        {
            return;
        }

        Watcher[] watchers;
        lock (_lock)
        {
            watchers = [.. _watchers];
        }

        foreach (var change in changes)
        {
            foreach (var watcher in watchers)
            {
                if (watcher.Component == change.Component && IsPrefix(watcher.Path, change.Path))
                {
                    watcher.OnChange(change.Component, change.Path);
                }
            }
        }
    }

    private static bool IsPrefix(string[] prefix, string[] path)
    {
        if (prefix.Length > path.Length)
        {
            return false;
        }

        for (var i = 0; i < prefix.Length; i++)
        {
            if (prefix[i] != path[i])
            {
                return false;
            }
        }

        return true;
    }

    private ConfigObject EnsureContainers(string component, ConfigObject root, string[] path, long ts, List<Change> changes)
    {
        var node = root;
        for (var i = 0; i < path.Length; i++)
        {
            var child = node.Get(path[i]);
            node = child switch
            {
                ConfigObject container => container,
                null => AddContainer(component, node, path[i], ts, changes),
                _ => throw new ArgumentException($"Key path {string.Join("/", path.Take(i + 1))} is a value, not a container."),
            };
        }

        return node;
    }

    private ConfigObject AddContainer(string component, ConfigObject parent, string name, long ts, List<Change> changes)
    {
        var container = new ConfigObject(name, parent, ts);
        parent.Set(name, container);
        Touch(parent, ts);
        changes.Add(new Change(component, container.Path));
        return container;
    }

    private void MergeObject(string component, ConfigObject container, JsonObject value, long ts, List<Change> changes)
    {
        foreach (var (key, child) in value)
        {
            var existing = container.Get(key);
            if (child is JsonObject obj)
            {
                var target = existing switch
                {
                    ConfigObject c => c,
                    null => AddContainer(component, container, key, ts, changes),
                    _ => throw new ArgumentException($"Key {string.Join("/", [.. container.Path, key])} is a value; an object cannot be merged into it."),
                };
                MergeObject(component, target, obj, ts, changes);
            }
            else
            {
                if (existing is ConfigObject)
                {
                    throw new ArgumentException($"Key {string.Join("/", [.. container.Path, key])} is a container; a value cannot replace it by merging.");
                }

                SetLeaf(component, container, key, child, ts, changes);
            }
        }
    }

    private void SetLeaf(string component, ConfigObject parent, string name, JsonNode? value, long ts, List<Change> changes)
    {
        var existing = parent.Get(name) as ConfigValue;
        if (existing is null)
        {
            var leaf = new ConfigValue(name, parent, ts, value?.DeepClone());
            parent.Set(name, leaf);
            Touch(parent, ts);
            changes.Add(new Change(component, leaf.Path));
            return;
        }

        if (ts < existing.Modified)
        {
            // The Nucleus keeps the newer value; the caller sees a conflict if this was the target.
            return;
        }

        var same = JsonNode.DeepEquals(existing.Value, value);
        existing.Modified = ts;
        Touch(parent, ts);
        if (!same)
        {
            existing.Value = value?.DeepClone();
            changes.Add(new Change(component, existing.Path));
        }
    }

    private void ReplaceChildren(string component, ConfigObject container, JsonObject value, long ts, List<Change> changes)
    {
        foreach (var name in container.Names.ToArray())
        {
            if (!value.ContainsKey(name))
            {
                var removed = container.Get(name)!;
                container.Remove(name);
                changes.Add(new Change(component, removed.Path));
            }
        }

        foreach (var (key, child) in value)
        {
            var existing = container.Get(key);
            if (child is JsonObject obj)
            {
                if (existing is not ConfigObject target)
                {
                    if (existing is not null)
                    {
                        container.Remove(key);
                    }

                    target = AddContainer(component, container, key, ts, changes);
                }

                ReplaceChildren(component, target, obj, ts, changes);
            }
            else
            {
                if (existing is ConfigObject)
                {
                    container.Remove(key);
                }

                var leaf = container.Get(key) as ConfigValue;
                if (leaf is null)
                {
                    SetLeaf(component, container, key, child, ts, changes);
                }
                else if (!JsonNode.DeepEquals(leaf.Value, child))
                {
                    leaf.Value = child?.DeepClone();
                    leaf.Modified = ts;
                    changes.Add(new Change(component, leaf.Path));
                }
            }
        }

        Touch(container, ts);
    }

    private static void Touch(ConfigObject? node, long ts)
    {
        for (; node is not null; node = node.Parent)
        {
            if (node.Modified < ts)
            {
                node.Modified = ts;
            }
        }
    }

    private readonly record struct Change(string Component, string[] Path);

    private sealed class Watcher : IDisposable
    {
        private readonly ConfigurationStore _store;

        public Watcher(ConfigurationStore store, string component, string[] path, Action<string, IReadOnlyList<string>> onChange)
        {
            _store = store;
            Component = component;
            Path = path;
            OnChange = onChange;
        }

        public string Component { get; }

        public string[] Path { get; }

        public Action<string, IReadOnlyList<string>> OnChange { get; }

        public void Dispose()
        {
            lock (_store._lock)
            {
                _store._watchers.Remove(this);
            }
        }
    }
}

/// <summary>An UpdateConfiguration whose timestamp is older than the configuration it would change.</summary>
public sealed class ConfigurationTimestampException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ConfigurationTimestampException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationTimestampException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ConfigurationTimestampException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
