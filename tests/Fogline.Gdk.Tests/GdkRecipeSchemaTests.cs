using System.Diagnostics;
using System.Text.Json;

namespace Fogline.Gdk.Tests;

/// <summary>GDK's recipe check: read as PyYAML/json read it, keys lowercased, Draft 7 against GDK's recipe schema.</summary>
public class GdkRecipeSchemaTests
{
    private const string Head = "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: '1.0.0'\n";

    [Test]
    public void KeysAreLoweredBeforeTheCheck()
    {
        Assert.That(GdkRecipeSchema.Validate("RECIPEFORMATVERSION: '2020-01-25'\ncomponentNAME: a\nComponentVersion: '1.0.0'\nmanifests:\n  - LIFECYCLE:\n      RUN: x\n", "r.yaml"), Is.Empty);
    }

    [TestCase("RecipeFormatVersion: 2020-01-25\nComponentName: a\nComponentVersion: '1.0.0'\nManifests: []\n", "RecipeFormatVersion: 2020-01-25 is a YAML timestamp")]
    [TestCase(Head + "Manifests:\n  - Artifacts:\n      - URI: s3://b/k\n        UNARCHIVE: TAR\n", "manifests/0/artifacts/0/unarchive: 'TAR' does not match '(?i)^(ZIP|NONE)$'")]
    [TestCase(Head + "Manifests: []\nArtifacts: []\n", "Additional properties are not allowed ('artifacts' was unexpected)")]
    [TestCase(Head, "'manifests' is a required property")]
    [TestCase("RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: 1.0\nManifests: []\n", "componentversion: 1.0 is not of type 'string'")]
    [TestCase(Head + "ComponentDescription: yes\nManifests: []\n", "componentdescription: True is not of type 'string'")]
    [TestCase(Head + "Manifests:\n  - Lifecycle:\n      Run: [\n", "YAML syntax error")]
    public void WhatGdkRejects_IsReported(string recipe, string error)
    {
        Assert.That(GdkRecipeSchema.Validate(recipe, "r.yaml"), Has.Some.Contains(error));
    }

    [Test]
    public void YamlIsReadAsPyYamlReadsIt()
    {
        var problems = new List<string>();
        var doc = GdkRecipeSchema.Read("a: yes\nb: 0755\nc: 1e3\nd: 1_000\ne: ~\nf: 1:30\ng: &x {k: 1}\nh:\n  <<: *x\n  j: 2\ni: '0755'\n", "r.yaml", problems)!;
        Assert.That(problems, Is.Empty);
        Assert.That(doc.ToJsonString(), Is.EqualTo("""{"a":true,"b":493,"c":"1e3","d":1000,"e":null,"f":90,"g":{"k":1},"h":{"k":1,"j":2},"i":"0755"}"""));
    }

    [Test]
    public void JsonRecipes_AreCheckedToo_ADuplicateKeyKeepsTheLastValue()
    {
        Assert.That(GdkRecipeSchema.Validate("""{"RecipeFormatVersion": "2020-01-25", "ComponentName": "a b", "ComponentVersion": "1", "Manifests": [], "ComponentName": "a"}""", "r.json"), Is.Empty);
        Assert.That(GdkRecipeSchema.Validate("""{"RecipeFormatVersion": "2020-01-25", "ComponentName": "a b", "ComponentVersion": "1", "Manifests": []}""", "r.json"),
            Is.EqualTo(new[] { "componentname: 'a b' does not match '^[a-zA-Z0-9-_.]+$'" }));
    }

    [Test]
    public void TheVendoredSchemas_AreGdksUnchanged()
    {
        foreach (var name in new[] { "gdk-config.schema.json", "recipe.schema.json" })
        {
            var vendored = Path.Combine(Repository.Root, "src", "Fogline.Gdk", "Schemas", name);
            Assert.That(GdkSchemaValidator.ReadResource(name), Is.EqualTo(File.ReadAllText(vendored)), $"the embedded {name} is the file in Schemas/");
            var shared = Path.Combine(Repository.Shared, "reference", name);
            if (File.Exists(shared))
            {
                Assert.That(File.ReadAllBytes(vendored), Is.EqualTo(File.ReadAllBytes(shared)), name);
            }
        }

        Assert.That(File.ReadAllBytes(Path.Combine(Repository.Root, "src", "Fogline.Gdk", "Schemas", "recipe.schema.json")),
            Is.EqualTo(File.ReadAllBytes(Path.Combine(Repository.Root, "tests", "Fogline.Greengrass.Recipes.Tests", "Schema", "recipe.schema.json"))));
    }

    /// <summary>
    /// The same verdicts as GDK's own reader and validator (Debian's Python with PyYAML and jsonschema, through the
    /// reference script tests/Fogline.Greengrass.Recipes.Tests/Schema/validate_recipes.py) on valid and invalid recipes.
    /// </summary>
    [Test]
    public void VerdictsMatchPythonJsonschema()
    {
        var dir = Directory.CreateTempSubdirectory("fogline-gdk-verdicts-");
        try
        {
            var cases = new Dictionary<string, string>
            {
                ["ok.yaml"] = Head + "Manifests:\n  - Lifecycle:\n      Run: x\n",
                ["date.yaml"] = "RecipeFormatVersion: 2020-01-25\nComponentName: a\nComponentVersion: '1.0.0'\nManifests: []\n",
                ["float.yaml"] = "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: 1.0\nManifests: []\n",
                ["sci.yaml"] = "RecipeFormatVersion: '2020-01-25'\nComponentName: a\nComponentVersion: 1e3\nManifests: []\n",
                ["bool.yaml"] = Head + "ComponentDescription: on\nManifests: []\n",
                ["unarchive.yaml"] = Head + "Manifests:\n  - Artifacts:\n      - URI: s3://b/k\n        Unarchive: zip\n",
                ["badunarchive.yaml"] = Head + "Manifests:\n  - Artifacts:\n      - URI: s3://b/k\n        Unarchive: tar\n",
                ["lifecycle.yaml"] = Head + "Manifests: []\nLifecycle:\n  run: 5\n",
                ["deps.yaml"] = Head + "ComponentDependencies:\n  b:\n    VersionRequirement: '>=1.0.0 <2.0.0'\n    DependencyType: hard\nManifests: []\n",
                ["baddeps.yaml"] = Head + "ComponentDependencies:\n  b:\n    DependencyType: HARD\nManifests: []\n",
                ["ok.json"] = """{"RecipeFormatVersion": "2020-01-25", "ComponentName": "a", "ComponentVersion": "x", "Manifests": [{"Platform": {"os": "linux"}}]}""",
                ["platform.json"] = """{"RecipeFormatVersion": "2020-01-25", "ComponentName": "a", "ComponentVersion": "x", "Manifests": [{"Platform": {"os": 1}}]}""",
            };
            foreach (var (name, text) in cases)
            {
                File.WriteAllText(Path.Combine(dir.FullName, name), text);
            }

            var python = PythonVerdicts(cases.Keys.Select(k => Path.Combine(dir.FullName, k)).ToList());
            foreach (var (name, text) in cases)
            {
                var ours = GdkRecipeSchema.Validate(text, name);
                Assert.That(ours.Count == 0, Is.EqualTo(python[Path.Combine(dir.FullName, name)]), $"{name}: ours {string.Join("; ", ours)}");
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static Dictionary<string, bool> PythonVerdicts(List<string> files)
    {
        const string Python = "/usr/bin/python3";
        if (!File.Exists(Python))
        {
            Assert.Fail($"{Python} is missing (apt-get install python3-jsonschema python3-yaml)");
        }

        var schema = Path.Combine(Repository.Root, "src", "Fogline.Gdk", "Schemas", "recipe.schema.json");
        var script = Path.Combine(Repository.Root, "tests", "Fogline.Greengrass.Recipes.Tests", "Schema", "validate_recipes.py");
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(schema);
        files.ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.AnyOf(0, 1), output + process.StandardError.ReadToEnd());
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(e => e.GetProperty("file").GetString()!, e => e.GetProperty("valid").GetBoolean());
    }
}
