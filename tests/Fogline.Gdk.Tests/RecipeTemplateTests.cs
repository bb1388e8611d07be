using Fogline.Codegen;

namespace Fogline.Gdk.Tests;

/// <summary>Recipe templates filled for a GDK build and rendered for recipes/, textually, by the one renderer.</summary>
public class RecipeTemplateTests
{
    private static readonly GdkConfig Config = GdkConfig.Parse(TempProject.ValidConfig);

    [Test]
    public void ForABuild_NameVersionAndAuthorAreFilled_UrisStayAsGdksBuildWritesThem_TheRestIsUntouched()
    {
        var filled = RecipeTemplate.Parse(TempProject.Template, "recipe.yaml").FillForBuild(Config);
        var expected = TempProject.Template
            .Replace("'{COMPONENT_NAME}'", "'com.example.Hello'", StringComparison.Ordinal)
            .Replace("'{COMPONENT_VERSION}'", "'NEXT_PATCH'", StringComparison.Ordinal)
            .Replace("'{COMPONENT_AUTHOR}'", "'Example'", StringComparison.Ordinal);
        Assert.That(filled, Is.EqualTo(expected));
        Assert.That(filled, Does.Contain("URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/hello.sh   # the script"));
        Assert.That(GdkRecipeSchema.Validate(filled, "recipe.yaml"), Is.Empty);
    }

    [Test]
    public void ForAVersion_UrisNameTheBucketNameAndVersion_AndAHeaderSaysWhereItComesFrom()
    {
        var rendered = RecipeTemplate.Parse(TempProject.Template, "recipe.yaml").RenderVersion(Config, "1.0.0", "components/Hello/recipe.yaml");
        var lines = rendered.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo(RecipeTemplate.GeneratedHeader("components/Hello/recipe.yaml")));
            Assert.That(lines[0], Does.StartWith("# Generated from components/Hello/recipe.yaml by tools/Codegen: do not edit."));
            Assert.That(lines[1], Is.EqualTo("# A template: the comments stay."));
            Assert.That(rendered, Does.Contain("ComponentVersion: '1.0.0'"));
            Assert.That(rendered, Does.Contain("URI: s3://example-bucket/com.example.Hello/1.0.0/hello.sh"));
            Assert.That(rendered, Does.Not.Contain("BUCKET_NAME").And.Not.Contain("{COMPONENT_"));
        });
        Assert.That(GdkRecipeSchema.Validate(rendered, "x.yaml"), Is.Empty);
    }

    [Test]
    public void AnUnfilledPlaceholder_Fails()
    {
        var template = TempProject.Template.Replace("Says hello.", "'{COMPONENT_DESCRIPTION}'", StringComparison.Ordinal);
        var e = Assert.Throws<GdkException>(() => RecipeTemplate.Parse(template, "recipe.yaml").FillForBuild(Config));
        Assert.That(e!.Message, Does.Contain("the placeholder {COMPONENT_DESCRIPTION} is not filled"));
        Assert.That(e.Message, Does.Contain("recipe.yaml:6:"), "with its line");
    }

    [Test]
    public void AnArtifactUriTokenLeftInARenderedRecipe_Fails()
    {
        var template = TempProject.Template.Replace("COMPONENT_NAME/COMPONENT_VERSION/hello.sh", "COMPONENT_NAME/hello.sh", StringComparison.Ordinal);
        var e = Assert.Throws<GdkException>(() => RecipeTemplate.Parse(template, "recipe.yaml").RenderVersion(Config, "1.0.0", "t"));
        Assert.That(e!.Message, Does.Contain("the artifact URI token s3://BUCKET_NAME/COMPONENT_NAME/hello.sh is not filled"));
    }

    [Test]
    public void AComponentNameWrittenOut_MustBeTheConfiguredOne()
    {
        var template = TempProject.Template.Replace("'{COMPONENT_NAME}'", "com.example.Other", StringComparison.Ordinal);
        var e = Assert.Throws<GdkException>(() => RecipeTemplate.Parse(template, "recipe.yaml").FillForBuild(Config));
        Assert.That(e!.Message, Does.Contain("ComponentName is 'com.example.Other' once filled, not 'com.example.Hello'"));
    }

    [Test]
    public void AMissingPlaceholderField_Fails()
    {
        var template = TempProject.Template.Replace("ComponentPublisher: '{COMPONENT_AUTHOR}'\n", string.Empty, StringComparison.Ordinal);
        var e = Assert.Throws<GdkException>(() => RecipeTemplate.Parse(template, "recipe.yaml").FillForBuild(Config));
        Assert.That(e!.Message, Does.Contain("ComponentPublisher is missing; write ComponentPublisher: '{COMPONENT_AUTHOR}'"));
    }

    [TestCase("O'Brien & \"Sons\": #1")]
    [TestCase("Ünïcode\\path")]
    public void ValuesAreEscapedForTheQuotingTheyStandIn(string author)
    {
        var config = GdkConfig.Parse(TempProject.ValidConfig.Replace("\"Example\"", System.Text.Json.JsonSerializer.Serialize(author), StringComparison.Ordinal));
        var yaml = TempProject.Template + "\nComponentConfiguration:\n  DefaultConfiguration:\n    credit: \"by {COMPONENT_AUTHOR}\"\n";
        var filled = RecipeTemplate.Parse(yaml, "recipe.yaml").FillForBuild(config);
        var problems = new List<string>();
        var recipe = GdkRecipeSchema.Read(filled, "recipe.yaml", problems)!;
        Assert.That(problems, Is.Empty);
        Assert.That(recipe["ComponentPublisher"]!.GetValue<string>(), Is.EqualTo(author));
        Assert.That(recipe["ComponentConfiguration"]!["DefaultConfiguration"]!["credit"]!.GetValue<string>(), Is.EqualTo("by " + author));

        var json = """{"RecipeFormatVersion": "2020-01-25", "ComponentName": "{COMPONENT_NAME}", "ComponentVersion": "{COMPONENT_VERSION}", "ComponentPublisher": "{COMPONENT_AUTHOR}", "Manifests": []}""";
        var filledJson = RecipeTemplate.Parse(json, "recipe.json").FillForBuild(config);
        Assert.That(System.Text.Json.Nodes.JsonNode.Parse(filledJson)!["ComponentPublisher"]!.GetValue<string>(), Is.EqualTo(author));
    }

    [Test]
    public void TheArtifactsABuildProvides_AreTheFilesTheRecipeNames()
    {
        var project = GdkProject.Load(Path.Combine(Repository.Root, "components", "EdgeFilter"));
        Assert.That(RecipeTemplate.Load(project.RecipeFile).BuildArtifactFiles(project.Config), Is.EqualTo(new[] { "EdgeFilter-linux-x64", "EdgeFilter-linux-arm64" }));
        var bundle = GdkProject.Load(Repository.Root);
        Assert.That(RecipeTemplate.Load(bundle.RecipeFile).BuildArtifactFiles(bundle.Config), Is.Empty);
    }

    [Test]
    public void TheRepositorysRecipes_AreTheTemplatesRenderedAt100()
    {
        // The same check as `Codegen --check` (build.cake's CheckGenerated) makes of recipes/.
        var generated = GdkRecipes.Generate(Repository.Root);
        Assert.That(generated.Keys, Is.EquivalentTo(new[]
        {
            "com.fogline.Aggregator-1.0.0.yaml", "com.fogline.AlertEngine-1.0.0.yaml", "com.fogline.AnomalyDetector-1.0.0.yaml",
            "com.fogline.CloudUplink-1.0.0.yaml", "com.fogline.Dashboard-1.0.0.yaml", "com.fogline.EdgeFilter-1.0.0.yaml",
            "com.fogline.Pipeline-1.0.0.yaml", "com.fogline.SensorGateway-1.0.0.yaml", "com.fogline.ZoneCorrelator-1.0.0.yaml",
        }));
        Assert.That(CodegenCommand.Differences(generated, Repository.Recipes, GdkRecipes.IsGenerated), Is.Empty,
            "recipes/ differs from the templates: run `dotnet run --project tools/Codegen`");
    }

    [Test]
    public void ARecipeEditedByHand_OrLeftBehind_IsADifference()
    {
        var dir = Directory.CreateTempSubdirectory("fogline-recipes-");
        try
        {
            var generated = GdkRecipes.Generate(Repository.Root);
            foreach (var (name, content) in generated)
            {
                File.WriteAllText(Path.Combine(dir.FullName, name), content);
            }

            File.AppendAllText(Path.Combine(dir.FullName, "com.fogline.EdgeFilter-1.0.0.yaml"), "# edited\n");
            File.WriteAllText(Path.Combine(dir.FullName, "com.fogline.Gone-1.0.0.yaml"), RecipeTemplate.GeneratedHeader("components/Gone/recipe.yaml") + "\n---\n");
            File.WriteAllText(Path.Combine(dir.FullName, "hand-written.yaml"), "---\n");
            Assert.That(CodegenCommand.Differences(generated, dir.FullName, GdkRecipes.IsGenerated), Is.EquivalentTo(new[]
            {
                "com.fogline.EdgeFilter-1.0.0.yaml: differs",
                "com.fogline.Gone-1.0.0.yaml: not generated by the model any more",
            }));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void TheGdkBuildVerb_WritesTheRecipeAndArtifacts_IntoAMissingGreengrassBuild()
    {
        using var project = new TempProject()
            .With("gdk-config.json", TempProject.ValidConfig)
            .With("recipe.yaml", TempProject.Template)
            .With("out/hello.sh", "echo hello\n");
        Assert.That(Directory.Exists(Path.Combine(project.Directory, "greengrass-build")), Is.False);
        var written = GdkRecipes.Build(project.Directory, Path.Combine(project.Directory, "out"));
        var gdk = GdkProject.Load(project.Directory);
        Assert.That(written, Is.EqualTo(new[] { gdk.BuildRecipeFile, Path.Combine(gdk.ComponentArtifactsDirectory, "hello.sh") }));
        Assert.That(File.ReadAllText(gdk.BuildRecipeFile), Is.EqualTo(RecipeTemplate.Load(gdk.RecipeFile).FillForBuild(gdk.Config)));
        Assert.That(File.ReadAllText(written[1]), Is.EqualTo("echo hello\n"));

        File.Delete(Path.Combine(project.Directory, "out", "hello.sh"));
        var e = Assert.Throws<GdkException>(() => GdkRecipes.Build(project.Directory, Path.Combine(project.Directory, "out")));
        Assert.That(e!.Message, Does.Contain("names the artifact hello.sh"));
    }
}
