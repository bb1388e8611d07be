using System.Diagnostics;
using System.Text.Json;
using Fogline.Gdk;

namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>
/// Every recipe of the repository (recipes/) and every sample recipe passes the GDK's recipe schema, validated as the
/// GDK does it (Schema/validate_recipes.py, run by Debian's Python with python3-jsonschema and python3-yaml), and
/// parses here; so do the recipes a GDK custom build writes from the GDK projects' templates (components/*/recipe.yaml
/// and the root's recipe.yaml, which are templates, not recipes: <c>'{COMPONENT_NAME}'</c> is no component name), and
/// every gdk-config.json passes GDK's config schema (Schema/validate_gdk_config.py, as gdk/common/configuration.py
/// validates it).
/// </summary>
public class GdkSchemaTests
{
    private const string Python = "/usr/bin/python3";
    private const string InstallHint = "apt-get install python3-jsonschema python3-yaml";

    private static string SchemaFile => Path.Combine(TestFiles.SchemaDirectory, "recipe.schema.json");

    private static string Validator => Path.Combine(TestFiles.SchemaDirectory, "validate_recipes.py");

    private static string ConfigValidator => Path.Combine(TestFiles.SchemaDirectory, "validate_gdk_config.py");

    /// <summary>GDK's config schema, as vendored in src/Fogline.Gdk (one copy in the repository).</summary>
    private static string ConfigSchemaFile => Path.Combine(Repository.Root, "src", "Fogline.Gdk", "Schemas", "gdk-config.schema.json");

    /// <summary>The GDK projects: the root (the Pipeline bundle) and every components/ folder with a gdk-config.json.</summary>
    private static List<string> GdkProjects()
    {
        var projects = new List<string> { Repository.Root };
        projects.AddRange(Directory.EnumerateDirectories(Path.Combine(Repository.Root, "components"))
            .Where(d => File.Exists(Path.Combine(d, "gdk-config.json")))
            .Order(StringComparer.Ordinal));
        return projects;
    }

    /// <summary>The recipes of the repository, then the samples of this project.</summary>
    private static List<string> RecipeFiles()
    {
        var root = Repository.Root;
        var files = new List<string>();
        var recipes = Path.Combine(root, "recipes");
        if (Directory.Exists(recipes))
        {
            files.AddRange(Directory.EnumerateFiles(recipes, "*", SearchOption.AllDirectories).Where(IsRecipeFile).Order(StringComparer.Ordinal));
        }

        files.AddRange(Directory.EnumerateFiles(TestFiles.RecipesDirectory).Where(IsRecipeFile).Order(StringComparer.Ordinal));
        return files;
    }

    [Test]
    public void EveryRecipePassesTheGdkSchema()
    {
        var files = RecipeFiles();
        Assert.That(files.Count(f => f.StartsWith(TestFiles.RecipesDirectory, StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(7), "the sample recipes are there");
        var results = Validate(files);
        Assert.That(results.Select(r => r.File), Is.EqualTo(files));
        foreach (var result in results)
        {
            Assert.That(result.Errors, Is.Empty, $"{result.File} does not pass the GDK recipe schema");
            Assert.That(result.Valid, Is.True, result.File);
        }
    }

    [Test]
    public void EveryGdkConfigPassesGdksConfigSchema()
    {
        var files = GdkProjects().Select(p => Path.Combine(p, "gdk-config.json")).ToList();
        Assert.That(files, Has.Count.EqualTo(9), "the Pipeline bundle and the eight components");
        var results = Validate(files, ConfigValidator, ConfigSchemaFile);
        Assert.That(results.Select(r => r.File), Is.EqualTo(files));
        foreach (var result in results)
        {
            Assert.That(result.Errors, Is.Empty, $"{result.File} does not pass GDK's config schema");
        }
    }

    [Test]
    public void TheConfigValidatorRejectsWhatTheGdkRejects_InGdksWords_AsFoglineGdkDoes()
    {
        var dir = Directory.CreateTempSubdirectory("gdk-config-");
        try
        {
            var cases = new[]
            {
                """{"component": {"a": {"author": "x", "version": "1.0", "build": {"build_system": "custom"}, "publish": {}}, "b": {}}, "gdk_version": "1.6.0"}""",
                """{"component": {"a": {"author": 1, "version": "NEXT_PATCH", "build": {"build_system": "cmake", "custom_build_command": []}, "publish": {"bucket": "b"}}}, "gdk_version": "1.6.0"}""",
                """{"component": {"a": {"author": "x", "version": "NEXT_PATCH", "build": {"build_system": "custom"}, "publish": {"bucket": "b"}}}, "gdk_version": "1.6.0"}""",
                """{"component": {}}""",
            };
            var files = cases.Select((c, i) => Path.Combine(dir.FullName, $"{i}.json")).ToList();
            for (var i = 0; i < cases.Length; i++)
            {
                File.WriteAllText(files[i], cases[i]);
            }

            var results = Validate(files, ConfigValidator, ConfigSchemaFile);
            for (var i = 0; i < cases.Length; i++)
            {
                Assert.That(results[i].Valid, Is.False, cases[i]);
                var ours = Assert.Throws<GdkException>(() => GdkConfig.Parse(cases[i]))!;
                Assert.That(ours.Message, Is.EqualTo(results[i].Errors.Single()), "Fogline.Gdk words it as GDK does");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void RecipesBuiltFromTheGdkTemplatesPassTheGdkSchema()
    {
        var dir = Directory.CreateTempSubdirectory("gdk-built-");
        try
        {
            var built = new List<string>();
            foreach (var directory in GdkProjects())
            {
                // What build.cake's GdkBuild writes to greengrass-build/recipes/ (tools/Codegen gdk-build: the same
                // renderer), written elsewhere.
                var project = GdkProject.Load(directory);
                var recipe = RecipeTemplate.Load(project.RecipeFile).FillForBuild(project.Config);
                var file = Path.Combine(dir.FullName, project.Config.ComponentName, Path.GetFileName(project.RecipeFile));
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                File.WriteAllText(file, recipe);
                built.Add(file);
            }

            Assert.That(built, Has.Count.EqualTo(9));
            var results = Validate(built);
            Assert.That(results.Select(r => r.File), Is.EqualTo(built));
            foreach (var result in results)
            {
                Assert.That(result.Errors, Is.Empty, $"{result.File} does not pass the GDK recipe schema");
            }

            Assert.That(built.Select(f => GdkRecipeSchema.ValidateFile(f)), Is.All.Empty, "Fogline.Gdk's check agrees");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void EveryRecipeParses()
    {
        foreach (var file in RecipeFiles())
        {
            Assert.DoesNotThrow(() => ComponentRecipe.Load(file), file);
        }
    }

    [Test]
    public void RecipesWrittenByTheLibraryPassTheGdkSchema()
    {
        var dir = Directory.CreateTempSubdirectory("gdk-written-");
        try
        {
            var written = new List<string>();
            foreach (var file in Directory.EnumerateFiles(TestFiles.RecipesDirectory).Where(IsRecipeFile).Order(StringComparer.Ordinal))
            {
                var recipe = ComponentRecipe.Load(file);
                var name = Path.GetFileNameWithoutExtension(file);
                var yaml = Path.Combine(dir.FullName, name + ".written.yaml");
                var json = Path.Combine(dir.FullName, name + ".written.json");
                File.WriteAllText(yaml, recipe.ToYaml());
                File.WriteAllText(json, recipe.ToJson());
                written.Add(yaml);
                written.Add(json);
            }

            foreach (var result in Validate(written))
            {
                Assert.That(result.Errors, Is.Empty, $"{result.File} does not pass the GDK recipe schema");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void TheValidatorRejectsWhatTheGdkRejects()
    {
        var dir = Directory.CreateTempSubdirectory("gdk-schema-");
        try
        {
            var unquotedDate = Path.Combine(dir.FullName, "date.yaml");
            File.WriteAllText(unquotedDate, "RecipeFormatVersion: 2020-01-25\nComponentName: a\nComponentVersion: '1.0.0'\nManifests:\n  - Lifecycle:\n      Run: x\n");
            var noManifests = Path.Combine(dir.FullName, "nomanifests.json");
            File.WriteAllText(noManifests, """{"RecipeFormatVersion": "2020-01-25", "ComponentName": "a", "ComponentVersion": "1.0.0"}""");
            var badUnarchive = Path.Combine(dir.FullName, "unarchive.yaml");
            File.WriteAllText(badUnarchive, "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: '1.0.0'\nManifests:\n  - Artifacts:\n      - URI: s3://b/k\n        UNARCHIVE: TAR\n");
            var unknownTopLevel = Path.Combine(dir.FullName, "unknown.yaml");
            File.WriteAllText(unknownTopLevel, "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: '1.0.0'\nManifests: []\nArtifacts: []\n");

            var results = Validate([unquotedDate, noManifests, badUnarchive, unknownTopLevel]);
            Assert.Multiple(() =>
            {
                Assert.That(results.Select(r => r.Valid), Is.All.False);
                Assert.That(results[0].Errors, Has.Some.Contains("recipeformatversion: datetime.date(2020, 1, 25) is not of type 'string'"));
                Assert.That(results[1].Errors, Has.Some.Contains("'manifests' is a required property"));
                Assert.That(results[2].Errors, Has.Some.Contains("manifests/0/artifacts/0/unarchive: 'TAR' does not match"));
                Assert.That(results[3].Errors, Has.Some.Contains("Additional properties are not allowed ('artifacts' was unexpected)"));
            });
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public void TheVendoredSchemaEqualsTheSharedOne()
    {
        var shared = Path.GetFullPath(Path.Combine(Repository.Root, "..", "shared", "reference", "recipe.schema.json"));
        if (!File.Exists(shared))
        {
            Assert.Ignore($"{shared} is not on this machine; nothing to compare the vendored schema with");
        }

        Assert.That(File.ReadAllBytes(SchemaFile), Is.EqualTo(File.ReadAllBytes(shared)));
    }

    private sealed record Result(string File, bool Valid, string[] Errors);

    private static List<Result> Validate(IReadOnlyList<string> files) => Validate(files, Validator, SchemaFile);

    private static List<Result> Validate(IReadOnlyList<string> files, string validator, string schema)
    {
        if (!File.Exists(Python))
        {
            Assert.Fail($"{Python} is missing; the GDK schema check needs Debian's Python with jsonschema: {InstallHint}");
        }

        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(validator);
        start.ArgumentList.Add(schema);
        foreach (var file in files)
        {
            start.ArgumentList.Add(file);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("the GDK schema validation did not finish in 2 minutes");
        }

        var output = stdout.Result;
        if (process.ExitCode == 3 || output.Contains("\"import_error\"", StringComparison.Ordinal))
        {
            Assert.Fail($"{Python} cannot import jsonschema or yaml ({output.Trim()}): {InstallHint}");
        }

        if (process.ExitCode is not (0 or 1))
        {
            Assert.Fail($"the GDK schema validation failed (exit code {process.ExitCode}): {stderr.Result}");
        }

        var results = new List<Result>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            results.Add(new Result(
                root.GetProperty("file").GetString()!,
                root.GetProperty("valid").GetBoolean(),
                root.GetProperty("errors").EnumerateArray().Select(e => e.GetString()!).ToArray()));
        }

        return results;
    }

    private static bool IsRecipeFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".yaml" or ".yml" or ".json";
}
