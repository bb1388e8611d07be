using System.Text.Json;
using Fogline.Greengrass.Recipes;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.Greengrass;

/// <summary>
/// The component versions of every account and region, on disk under <c>&lt;data&gt;/greengrass/components/ACCOUNT/REGION/NAME/</c>:
/// <c>VERSION.json</c> (the record) and <c>VERSION.recipe.json</c> (the recipe as the cloud serves it), both written
/// atomically, the recipe first, so a cloud stopped at any moment has either the whole version or none of it.
/// </summary>
public sealed class ComponentStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _root;
    private readonly Lock _lock = new();

    /// <summary>Opens (or creates) the store under <paramref name="dataDirectory"/>.</summary>
    public ComponentStore(string dataDirectory)
    {
        _root = Path.Combine(dataDirectory, "greengrass", "components");
        Directory.CreateDirectory(_root);
    }

    /// <summary>The lock that orders creation, processing and deletion.</summary>
    public Lock Sync => _lock;

    /// <summary>A version, or null.</summary>
    public ComponentVersionRecord? Find(string account, string region, string name, string version)
    {
        var file = RecordFile(account, region, name, version);
        return File.Exists(file) ? JsonSerializer.Deserialize<ComponentVersionRecord>(File.ReadAllBytes(file), Json) : null;
    }

    /// <summary>Every version of a component, newest (highest semantic version) first.</summary>
    public IReadOnlyList<ComponentVersionRecord> Versions(string account, string region, string name)
    {
        var directory = Path.Combine(_root, account, region, name);
        if (!Directory.Exists(directory))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(directory, "*.json")
            .Where(f => !f.EndsWith(".recipe.json", StringComparison.Ordinal))
            .Select(f => JsonSerializer.Deserialize<ComponentVersionRecord>(File.ReadAllBytes(f), Json)!)
            .OrderByDescending(r => SemVersion.Parse(r.Version))];
    }

    /// <summary>The names of an account's components in a region, in ordinal order.</summary>
    public IReadOnlyList<string> Names(string account, string region)
    {
        var directory = Path.Combine(_root, account, region);
        return Directory.Exists(directory)
            ? [.. Directory.EnumerateDirectories(directory).Select(Path.GetFileName).Where(n => Versions(account, region, n!).Count > 0).Order(StringComparer.Ordinal)!]
            : [];
    }

    /// <summary>Every record in the store (to finish processing after a restart).</summary>
    public IEnumerable<ComponentVersionRecord> All() =>
        Directory.EnumerateFiles(_root, "*.json", SearchOption.AllDirectories)
            .Where(f => !f.EndsWith(".recipe.json", StringComparison.Ordinal))
            .Select(f => JsonSerializer.Deserialize<ComponentVersionRecord>(File.ReadAllBytes(f), Json)!);

    /// <summary>Writes a version: its recipe (when given), then its record.</summary>
    public void Save(ComponentVersionRecord record, ComponentRecipe? recipe)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (recipe is not null)
        {
            JsonFiles.WriteBytes(RecipeFile(record.Account, record.Region, record.Name, record.Version), System.Text.Encoding.UTF8.GetBytes(recipe.ToJson()));
        }

        JsonFiles.WriteBytes(RecordFile(record.Account, record.Region, record.Name, record.Version), JsonSerializer.SerializeToUtf8Bytes(record, Json));
    }

    /// <summary>The recipe of a version as the cloud serves it.</summary>
    public ComponentRecipe Recipe(ComponentVersionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var file = RecipeFile(record.Account, record.Region, record.Name, record.Version);
        return ComponentRecipe.Parse(File.ReadAllBytes(file), file, RecipeFormat.Json);
    }

    /// <summary>Deletes a version (record first, so a half-deleted version is gone).</summary>
    public void Delete(ComponentVersionRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        File.Delete(RecordFile(record.Account, record.Region, record.Name, record.Version));
        File.Delete(RecipeFile(record.Account, record.Region, record.Name, record.Version));
    }

    private string RecordFile(string account, string region, string name, string version) => Path.Combine(_root, account, region, name, version + ".json");

    private string RecipeFile(string account, string region, string name, string version) => Path.Combine(_root, account, region, name, version + ".recipe.json");
}
