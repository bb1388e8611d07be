namespace Fogline.Greengrass.Ipc.Tests.Infrastructure;

/// <summary>Paths in the repository, found from the test binaries.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string SharedReference => Path.GetFullPath(Path.Combine(Root, "..", "shared", "reference"));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "GreengrassComponents.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("GreengrassComponents.sln not found above the test directory.");
    }
}
