using System.IO.Compression;
using Fogline.Greengrass.Recipes;

namespace Fogline.LocalNucleus.Deployments;

/// <summary>A recipe or artifact problem that rejects a deployment before anything changes.</summary>
public sealed class DeploymentValidationException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeploymentValidationException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentValidationException(string message)
        : base(message)
    {
        Errors = [message];
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentValidationException(string message, Exception innerException)
        : base(message, innerException)
    {
        Errors = [message];
    }

    /// <summary>Creates the exception from the problems, one line each.</summary>
    public DeploymentValidationException(IReadOnlyList<string> errors)
        : base(errors.Count == 0 ? "The deployment is invalid." : string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    /// <summary>Every problem found, one line each (file:line:col: what is wrong, where a recipe is at fault).</summary>
    public IReadOnlyList<string> Errors { get; }
}

/// <summary>
/// The local component store, laid out as the Nucleus lays it out under its root: recipes in
/// <c>packages/recipes/</c>, artifacts in <c>packages/artifacts/NAME/VERSION/</c>, unarchived ZIP artifacts in
/// <c>packages/artifacts-unarchived/NAME/VERSION/</c>. Local deployments import a recipe directory and an artifact
/// directory (greengrass-cli's layout: <c>ARTIFACTS/NAME/VERSION/file</c>) into it, all or nothing.
/// </summary>
public sealed class ComponentStore
{
    private readonly string _root;
    private readonly Dictionary<string, string> _origins = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <summary>Creates the store under <paramref name="rootPath"/>.</summary>
    public ComponentStore(string rootPath)
    {
        _root = Path.GetFullPath(rootPath);
        Directory.CreateDirectory(RecipesPath);
    }

    /// <summary><c>&lt;root&gt;/packages/recipes</c>.</summary>
    public string RecipesPath => Path.Combine(_root, "packages", "recipes");

    /// <summary>Where a component version's artifacts are.</summary>
    public ComponentPaths PathsOf(string name, SemVersion version) => ComponentPaths.ForNucleusRoot(_root, name, version.ToString());

    /// <summary>
    /// Reads every recipe in <paramref name="recipeDirectory"/> (.yaml, .yml, .json), checks that the artifacts each
    /// one names are in <paramref name="artifactDirectory"/>, and only when all of it is valid copies the recipes and
    /// artifacts into the store. Returns the imported recipes.
    /// </summary>
    /// <exception cref="DeploymentValidationException">Any recipe or artifact problem; nothing was copied.</exception>
    public IReadOnlyList<ComponentRecipe> Import(string? recipeDirectory, string? artifactDirectory, DevicePlatform device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var errors = new List<string>();
        var recipes = new List<(ComponentRecipe Recipe, string Text, string Path)>();
        if (recipeDirectory is not null)
        {
            if (!Directory.Exists(recipeDirectory))
            {
                throw new DeploymentValidationException($"The recipe directory {recipeDirectory} does not exist.");
            }

            foreach (var file in Directory.EnumerateFiles(recipeDirectory).Order(StringComparer.Ordinal))
            {
                var extension = Path.GetExtension(file).ToLowerInvariant();
                if (extension is not (".yaml" or ".yml" or ".json"))
                {
                    continue;
                }

                try
                {
                    var text = File.ReadAllText(file);
                    recipes.Add((ComponentRecipe.Parse(text, file), text, file));
                }
                catch (RecipeException e)
                {
                    errors.AddRange(e.Errors.Select(r => r.ToString()));
                }
                catch (IOException e)
                {
                    errors.Add($"{file}: cannot be read: {e.Message}");
                }
            }

            foreach (var duplicate in recipes.GroupBy(r => (r.Recipe.ComponentName, Version: r.Recipe.ComponentVersion.ToString())).Where(g => g.Count() > 1))
            {
                errors.Add($"{duplicate.Last().Path}: {duplicate.Key.ComponentName} {duplicate.Key.Version} is also defined by {duplicate.First().Path}; each version may have one recipe");
            }
        }

        if (artifactDirectory is not null && !Directory.Exists(artifactDirectory))
        {
            errors.Add($"The artifact directory {artifactDirectory} does not exist.");
        }

        var copies = new List<(string From, string To, ComponentArtifact Artifact)>();
        foreach (var (recipe, _, path) in recipes)
        {
            PlatformManifest manifest;
            try
            {
                manifest = recipe.SelectManifest(device);
            }
            catch (RecipeException e)
            {
                errors.AddRange(e.Errors.Select(r => r.ToString()));
                continue;
            }

            {
                foreach (var artifact in manifest.Artifacts)
                {
                    var fileName = ArtifactFileName(artifact);
                    var source = artifactDirectory is null ? null : Path.Combine(artifactDirectory, recipe.ComponentName, recipe.ComponentVersion.ToString(), fileName);
                    var target = Path.Combine(PathsOf(recipe.ComponentName, recipe.ComponentVersion).ArtifactsPath, fileName);
                    if (source is not null && File.Exists(source))
                    {
                        copies.Add((source, target, artifact));
                    }
                    else if (!File.Exists(target) && !artifact.Uri.StartsWith("docker:", StringComparison.Ordinal))
                    {
                        var where = artifact.Location is { } l ? $"{path}:{l.Line}:{l.Column}" : path;
                        var expected = source ?? $"--artifactDir/{recipe.ComponentName}/{recipe.ComponentVersion}/{fileName}";
                        errors.Add($"{where}: artifact {artifact.Uri} is not in the artifact directory (expected {expected}); a local deployment cannot download it");
                    }
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new DeploymentValidationException(errors);
        }

        lock (_lock)
        {
            // As the Nucleus does for a local deployment: the whole artifact directory is copied into the store,
            // recursively, replacing what is there (recipes may read files they do not list, such as AWS's
            // HelloWorld reading {artifacts:path}/hello_world.py). Then the artifacts the recipes list get their
            // permissions.
            var changed = artifactDirectory is null ? [] : CopyTree(artifactDirectory, ArtifactsRoot);
            foreach (var (_, to, artifact) in copies.DistinctBy(c => c.To))
            {
                ApplyPermission(to, artifact.Permission);
            }

            foreach (var (recipe, text, path) in recipes)
            {
                foreach (var zip in recipe.SelectManifest(device).Artifacts.Where(a => a.Unarchive == Unarchive.Zip))
                {
                    var paths = PathsOf(recipe.ComponentName, recipe.ComponentVersion);
                    var archive = Path.Combine(paths.ArtifactsPath, ArtifactFileName(zip));
                    var into = Path.Combine(paths.DecompressedPath, Path.GetFileNameWithoutExtension(archive));
                    if (Directory.Exists(into) && !changed.Contains(archive))
                    {
                        continue;
                    }

                    // Unpacked beside and swapped in, so a running version keeps the files it has open.
                    var unpacking = into + ".unpacking";
                    if (Directory.Exists(unpacking))
                    {
                        Directory.Delete(unpacking, recursive: true);
                    }

                    ZipFile.ExtractToDirectory(archive, unpacking);
                    if (Directory.Exists(into))
                    {
                        Directory.Delete(into, recursive: true);
                    }

                    Directory.Move(unpacking, into);
                }

                var extension = recipe.File.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? ".json" : ".yaml";
                File.WriteAllText(RecipeFile(recipe.ComponentName, recipe.ComponentVersion, extension), text);
                File.Delete(RecipeFile(recipe.ComponentName, recipe.ComponentVersion, extension == ".json" ? ".yaml" : ".json"));
                _origins[Key(recipe.ComponentName, recipe.ComponentVersion)] = path;
            }
        }

        return [.. recipes.Select(r => r.Recipe)];
    }

    /// <summary>The versions of <paramref name="name"/> the store has recipes for, lowest first.</summary>
    public IReadOnlyList<SemVersion> Versions(string name)
    {
        var prefix = name + "@";
        var versions = new List<SemVersion>();
        foreach (var file in Directory.EnumerateFiles(RecipesPath, prefix + "*.recipe.*"))
        {
            var fileName = Path.GetFileName(file);
            var end = fileName.LastIndexOf(".recipe.", StringComparison.Ordinal);
            if (end > prefix.Length && SemVersion.TryParse(fileName[prefix.Length..end], out var version))
            {
                versions.Add(version);
            }
        }

        versions.Sort();
        return versions;
    }

    /// <summary>
    /// The stored recipe of a component version, with <see cref="ComponentRecipe.File"/> the file it was imported
    /// from when this process imported it (so errors point at what the user wrote), or null.
    /// </summary>
    public ComponentRecipe? Load(string name, SemVersion version)
    {
        foreach (var extension in (string[])[".yaml", ".json"])
        {
            var file = RecipeFile(name, version, extension);
            if (File.Exists(file))
            {
                string? origin;
                lock (_lock)
                {
                    _origins.TryGetValue(Key(name, version), out origin);
                }

                var shown = origin ?? file;
                return ComponentRecipe.Parse(File.ReadAllText(file), shown, extension == ".json" ? RecipeFormat.Json : RecipeFormat.Yaml);
            }
        }

        return null;
    }

    /// <summary>The file name of an artifact in the store: the last segment of its URI (greengrass:, s3:, https:).</summary>
    public static string ArtifactFileName(ComponentArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        return artifact.FileName;
    }

    /// <summary><c>&lt;root&gt;/packages/artifacts</c>.</summary>
    public string ArtifactsRoot => Path.Combine(_root, "packages", "artifacts");

    /// <summary>
    /// Copies every file under <paramref name="from"/> to the same relative path under <paramref name="to"/> and
    /// returns the targets that changed. A component version's artifacts may be running: an identical file is left
    /// alone, a different one replaced by a rename (a running program keeps the file it started from; writing into it
    /// would fail with "text file busy" or corrupt it). File modes are kept.
    /// </summary>
    private static HashSet<string> CopyTree(string from, string to)
    {
        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in Directory.EnumerateFiles(from, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false }))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, source));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (SameContent(source, target))
            {
                continue;
            }

            var temporary = target + ".importing";
            File.Copy(source, temporary, overwrite: true);
            File.Move(temporary, target, overwrite: true);
            changed.Add(target);
        }

        return changed;
    }

    private static string Key(string name, SemVersion version) => name + "@" + version;

    private static bool SameContent(string a, string b)
    {
        if (!File.Exists(b) || new FileInfo(a).Length != new FileInfo(b).Length)
        {
            return false;
        }

        using var x = File.OpenRead(a);
        using var y = File.OpenRead(b);
        return System.Security.Cryptography.SHA256.HashData(x).AsSpan().SequenceEqual(System.Security.Cryptography.SHA256.HashData(y));
    }

    private string RecipeFile(string name, SemVersion version, string extension) => Path.Combine(RecipesPath, $"{name}@{version}.recipe{extension}");

    private static void ApplyPermission(string file, ArtifactPermission permission)
    {
        var mode = UnixFileMode.UserWrite;
        mode |= permission.Read switch
        {
            PermissionType.All => UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            PermissionType.Owner => UnixFileMode.UserRead,
            _ => UnixFileMode.None,
        };
        mode |= permission.Execute switch
        {
            PermissionType.All => UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute,
            PermissionType.Owner => UnixFileMode.UserExecute,
            _ => UnixFileMode.None,
        };
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, mode);
        }
    }
}
