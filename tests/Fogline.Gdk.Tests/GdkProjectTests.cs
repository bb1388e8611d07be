namespace Fogline.Gdk.Tests;

/// <summary>A project folder as GDK finds it: gdk-config.json, exactly one recipe.json or recipe.yaml, greengrass-build/.</summary>
public class GdkProjectTests
{
    private const string NoRecipe = "No valid component recipe is found. Please include a valid recipe file of the component to build with default.";

    [Test]
    public void TheLayoutUsesTheConfiguredVersionLiterally()
    {
        using var project = new TempProject().With("gdk-config.json", TempProject.ValidConfig).With("recipe.yaml", TempProject.Template);
        var gdk = GdkProject.Load(project.Directory);
        Assert.Multiple(() =>
        {
            Assert.That(gdk.Config.ComponentName, Is.EqualTo("com.example.Hello"));
            Assert.That(gdk.RecipeFile, Is.EqualTo(Path.Combine(project.Directory, "recipe.yaml")));
            Assert.That(gdk.BuildRecipeFile, Is.EqualTo(Path.Combine(project.Directory, "greengrass-build", "recipes", "recipe.yaml")));
            Assert.That(gdk.ComponentArtifactsDirectory, Is.EqualTo(Path.Combine(project.Directory, "greengrass-build", "artifacts", "com.example.Hello", "NEXT_PATCH")));
        });
    }

    [Test]
    public void TwoRecipes_AreRejected()
    {
        using var project = new TempProject().With("gdk-config.json", TempProject.ValidConfig).With("recipe.yaml", TempProject.Template).With("recipe.json", "{}");
        var e = Assert.Throws<GdkException>(() => GdkProject.Load(project.Directory));
        Assert.That(e!.Message, Is.EqualTo(NoRecipe));
    }

    [TestCase(null)]
    [TestCase("recipe.yml")]
    [TestCase("Recipe.yaml")]
    [TestCase("com.example.Hello-1.0.0.yaml")]
    public void NoRecipeGdkFinds_IsRejected(string? otherName)
    {
        using var project = new TempProject().With("gdk-config.json", TempProject.ValidConfig);
        if (otherName is not null)
        {
            project.With(otherName, TempProject.Template);
        }

        var e = Assert.Throws<GdkException>(() => GdkProject.Load(project.Directory));
        Assert.That(e!.Message, Is.EqualTo(NoRecipe));
    }

    [Test]
    public void AJsonRecipe_IsTheProjectRecipe()
    {
        using var project = new TempProject().With("gdk-config.json", TempProject.ValidConfig).With("recipe.json", "{}");
        Assert.That(GdkProject.Load(project.Directory).BuildRecipeFile, Does.EndWith(Path.Combine("recipes", "recipe.json")));
    }

    /// <summary>The repository's GDK projects: the Pipeline bundle at the root and the eight components.</summary>
    public static IEnumerable<string> RepositoryProjects() =>
        new[] { "." }.Concat(new[] { "SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "AnomalyDetector", "ZoneCorrelator", "CloudUplink", "Dashboard" }.Select(n => "components/" + n));

    [TestCaseSource(nameof(RepositoryProjects))]
    public void EveryRepositoryProject_IsValidForGdk_AndBuildsWithTheRepositorysBuild(string relative)
    {
        var directory = Path.GetFullPath(Path.Combine(Repository.Root, relative));
        var project = GdkProject.Load(directory);
        var name = relative == "." ? "Pipeline" : Path.GetFileName(directory);
        var config = project.Config;
        Assert.Multiple(() =>
        {
            Assert.That(config.ComponentName, Is.EqualTo("com.fogline." + name));
            Assert.That(config.Author, Is.EqualTo("Fogline"));
            Assert.That(config.Version, Is.EqualTo("NEXT_PATCH"));
            Assert.That(config.Build.BuildSystem, Is.EqualTo("custom"));
            Assert.That(config.Publish.Bucket, Is.EqualTo("fogline-artifacts"));
            Assert.That(project.RecipeFile, Is.EqualTo(Path.Combine(directory, "recipe.yaml")));

            // The command is run with no shell, in the project folder: the Cake script is found relative to it.
            var command = config.Build.CustomBuildCommand;
            Assert.That(command.Take(2), Is.EqualTo(new[] { "dotnet", "cake" }));
            Assert.That(Path.GetFullPath(Path.Combine(directory, command[2])), Is.EqualTo(Path.Combine(Repository.Root, "build.cake")));
            Assert.That(command.Skip(3), Is.EqualTo(new[] { "--target=GdkBuild", "--component=" + name }));
        });
    }
}
