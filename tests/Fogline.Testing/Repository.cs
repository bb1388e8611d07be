namespace Fogline.Testing;

/// <summary>Paths in the repository the tests run from.</summary>
public static class Repository
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The repository root: the first parent of the test assembly that holds GreengrassComponents.sln.</summary>
    public static string Root => RootPath.Value;

    /// <summary>The workplace's shared folder beside the repository (<c>../shared</c>: reference files, data).</summary>
    public static string Shared => Path.GetFullPath(Path.Combine(Root, "..", "shared"));

    /// <summary>The built components in the greengrass-cli artifact layout (<c>artifacts/components</c>).</summary>
    public static string ComponentArtifacts => Path.Combine(Root, "artifacts", "components");

    /// <summary>The recipes <c>./demo</c> and the tests deploy.</summary>
    public static string Recipes => Path.Combine(Root, "recipes");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GreengrassComponents.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("The repository root (GreengrassComponents.sln) was not found above " + AppContext.BaseDirectory);
    }
}
