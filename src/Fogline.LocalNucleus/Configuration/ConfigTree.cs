using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.Configuration;

/// <summary>A node of a component's configuration tree.</summary>
internal abstract class ConfigTreeNode
{
    protected ConfigTreeNode(string name, ConfigObject? parent, long modified)
    {
        Name = name;
        Parent = parent;
        Modified = modified;
        Path = parent is null ? [] : [.. parent.Path, name];
    }

    public string Name { get; }

    public ConfigObject? Parent { get; }

    /// <summary>Milliseconds since the epoch of the last modification (for containers: of anything below).</summary>
    public long Modified { get; set; }

    /// <summary>Key path from the configuration root.</summary>
    public string[] Path { get; }
}

/// <summary>A container: named children in insertion order.</summary>
internal sealed class ConfigObject : ConfigTreeNode
{
    private readonly OrderedDictionary<string, ConfigTreeNode> _children = new(StringComparer.Ordinal);

    public ConfigObject(string name, ConfigObject? parent, long modified)
        : base(name, parent, modified)
    {
    }

    public IEnumerable<string> Names => _children.Keys;

    public ConfigTreeNode? Get(string name) => _children.TryGetValue(name, out var child) ? child : null;

    public void Set(string name, ConfigTreeNode node) => _children[name] = node;

    public void Remove(string name) => _children.Remove(name);

    public JsonObject ToJson()
    {
        var result = new JsonObject();
        foreach (var (name, child) in _children)
        {
            result[name] = child switch
            {
                ConfigObject container => container.ToJson(),
                ConfigValue leaf => leaf.Value?.DeepClone(),
                _ => null,
            };
        }

        return result;
    }
}

/// <summary>A leaf: a scalar, an array, or null.</summary>
internal sealed class ConfigValue : ConfigTreeNode
{
    public ConfigValue(string name, ConfigObject parent, long modified, JsonNode? value)
        : base(name, parent, modified)
    {
        Value = value;
    }

    public JsonNode? Value { get; set; }
}
