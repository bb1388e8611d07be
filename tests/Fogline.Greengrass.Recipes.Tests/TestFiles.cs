namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>Where the test fixtures and the repository are.</summary>
internal static class TestFiles
{
    /// <summary>The sample recipes copied next to the test assembly.</summary>
    public static string RecipesDirectory => Path.Combine(AppContext.BaseDirectory, "Recipes");

    /// <summary>The vendored GDK schema and validation script.</summary>
    public static string SchemaDirectory => Path.Combine(AppContext.BaseDirectory, "Schema");

    public static string Recipe(string name) => Path.Combine(RecipesDirectory, name);
}
