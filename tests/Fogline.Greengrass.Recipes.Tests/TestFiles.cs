namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>Where the test fixtures and the repository are.</summary>
internal static class TestFiles
{
    /// <summary>The sample recipes copied next to the test assembly.</summary>
    public static string RecipesDirectory => Path.Combine(AppContext.BaseDirectory, "Recipes");

    /// <summary>The vendored GDK schema and validation script.</summary>
    public static string SchemaDirectory => Path.Combine(AppContext.BaseDirectory, "Schema");

    public static string Recipe(string name) => Path.Combine(RecipesDirectory, name);

    /// <summary>The repository root: the first parent of the test assembly that holds GreengrassComponents.sln.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GreengrassComponents.sln")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("GreengrassComponents.sln not found above " + AppContext.BaseDirectory);
        }
    }
}
