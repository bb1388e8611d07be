using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.Iot;

/// <summary>A thing in the registry.</summary>
internal sealed record ThingRecord
{
    public required string Name { get; init; }

    public required string Id { get; init; }

    public string? TypeName { get; init; }

    public Dictionary<string, string> Attributes { get; init; } = new(StringComparer.Ordinal);

    public long Version { get; init; } = 1;

    /// <summary>The static thing groups it belongs to.</summary>
    public SortedSet<string> Groups { get; init; } = new(StringComparer.Ordinal);
}

/// <summary>A static thing group.</summary>
internal sealed record ThingGroupRecord
{
    public required string Name { get; init; }

    public required string Id { get; init; }

    public string? Parent { get; init; }

    public string? Description { get; init; }

    public Dictionary<string, string> Attributes { get; init; } = new(StringComparer.Ordinal);

    public long Version { get; init; } = 1;

    public DateTimeOffset Created { get; init; }
}

/// <summary>
/// The IoT registry of one account in one region: things and static thing groups with their memberships, kept in
/// <c>&lt;data&gt;/iot/&lt;account&gt;/&lt;region&gt;/registry.json</c> (written whole and atomically after each
/// change). Callers hold <see cref="Sync"/> while they read and change it.
/// </summary>
internal sealed class ThingRegistry
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _file;

    private ThingRegistry(string file, Dictionary<string, ThingRecord> things, Dictionary<string, ThingGroupRecord> groups)
    {
        _file = file;
        Things = things;
        Groups = groups;
    }

    /// <summary>The lock every reader and writer holds.</summary>
    public Lock Sync { get; } = new();

    public Dictionary<string, ThingRecord> Things { get; }

    public Dictionary<string, ThingGroupRecord> Groups { get; }

    /// <summary>Loads the registry of <paramref name="account"/> in <paramref name="region"/> (empty when new).</summary>
    public static ThingRegistry Load(string dataDirectory, string account, string region)
    {
        var file = Path.Combine(dataDirectory, "iot", account, region, "registry.json");
        var things = new Dictionary<string, ThingRecord>(StringComparer.Ordinal);
        var groups = new Dictionary<string, ThingGroupRecord>(StringComparer.Ordinal);
        if (JsonFiles.Read(file) is { } saved)
        {
            foreach (var thing in saved["things"]?.Deserialize<List<ThingRecord>>(Json) ?? [])
            {
                things[thing.Name] = thing with { Attributes = new(thing.Attributes, StringComparer.Ordinal), Groups = new(thing.Groups, StringComparer.Ordinal) };
            }

            foreach (var group in saved["groups"]?.Deserialize<List<ThingGroupRecord>>(Json) ?? [])
            {
                groups[group.Name] = group with { Attributes = new(group.Attributes, StringComparer.Ordinal) };
            }
        }

        return new ThingRegistry(file, things, groups);
    }

    /// <summary>Writes the registry (call with <see cref="Sync"/> held).</summary>
    public void Save() => JsonFiles.Write(_file, new JsonObject
    {
        ["things"] = JsonSerializer.SerializeToNode(Things.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList(), Json),
        ["groups"] = JsonSerializer.SerializeToNode(Groups.Values.OrderBy(g => g.Name, StringComparer.Ordinal).ToList(), Json),
    });

    /// <summary>A group and every group under it, the group first.</summary>
    public IEnumerable<string> Subtree(string group)
    {
        yield return group;
        foreach (var child in Groups.Values.Where(g => g.Parent == group).Select(g => g.Name).Order(StringComparer.Ordinal))
        {
            foreach (var name in Subtree(child))
            {
                yield return name;
            }
        }
    }

    /// <summary>The groups from the root down to <paramref name="group"/>'s parent.</summary>
    public List<string> Ancestors(string group)
    {
        var chain = new List<string>();
        for (var parent = Groups.GetValueOrDefault(group)?.Parent; parent is not null; parent = Groups.GetValueOrDefault(parent)?.Parent)
        {
            chain.Insert(0, parent);
        }

        return chain;
    }
}
