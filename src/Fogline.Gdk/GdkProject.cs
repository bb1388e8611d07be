namespace Fogline.Gdk;

/// <summary>
/// A GDK project folder as GDK sees it (gdk/common/config/GDKProject.py): gdk-config.json and exactly one recipe,
/// <c>recipe.json</c> or <c>recipe.yaml</c> (no other name is found), and the build layout under
/// <c>greengrass-build/</c> that the build writes and publish reads.
/// </summary>
public sealed class GdkProject
{
    /// <summary>The folder GDK builds into, wiped at the start of every <c>gdk component build</c>.</summary>
    public const string BuildFolderName = "greengrass-build";

    private GdkProject(string directory, GdkConfig config, string recipeFile)
    {
        Directory = directory;
        Config = config;
        RecipeFile = recipeFile;
    }

    /// <summary>The project folder (absolute).</summary>
    public string Directory { get; }

    /// <summary>gdk-config.json.</summary>
    public GdkConfig Config { get; }

    /// <summary>The project recipe (the template of the built recipe).</summary>
    public string RecipeFile { get; }

    /// <summary><c>greengrass-build/</c>.</summary>
    public string BuildDirectory => Path.Combine(Directory, BuildFolderName);

    /// <summary><c>greengrass-build/recipes/</c>.</summary>
    public string BuildRecipesDirectory => Path.Combine(BuildDirectory, "recipes");

    /// <summary><c>greengrass-build/artifacts/</c>.</summary>
    public string BuildArtifactsDirectory => Path.Combine(BuildDirectory, "artifacts");

    /// <summary>
    /// <c>greengrass-build/artifacts/NAME/VERSION/</c> with the configured version as written (literally
    /// <c>NEXT_PATCH</c> when so), in build and publish alike.
    /// </summary>
    public string ComponentArtifactsDirectory => Path.Combine(BuildArtifactsDirectory, Config.ComponentName, Config.Version);

    /// <summary><c>greengrass-build/recipes/</c> + the project recipe's file name: what a build writes and publish reads.</summary>
    public string BuildRecipeFile => Path.Combine(BuildRecipesDirectory, Path.GetFileName(RecipeFile));

    /// <summary>Reads the project in <paramref name="directory"/>.</summary>
    /// <exception cref="GdkException">gdk-config.json is missing or invalid, or there is not exactly one recipe.</exception>
    public static GdkProject Load(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var full = Path.GetFullPath(directory);
        var config = GdkConfig.Load(Path.Combine(full, GdkConfig.FileName));
        var recipes = new[] { "recipe.json", "recipe.yaml" }.Select(n => Path.Combine(full, n)).Where(File.Exists).ToList();
        if (recipes.Count != 1)
        {
            throw new GdkException("No valid component recipe is found. Please include a valid recipe file of the component to build with default.");
        }

        return new GdkProject(full, config, recipes[0]);
    }
}
