using System.Text.Json.Nodes;

namespace Fogline.Greengrass.Recipes.Tests;

public class RecipeParsingTests
{
    private static readonly string[] SampleFiles =
        ["Complete.yaml", "Complete.json", "HelloWorld.yaml", "SensorPublisher.yaml", "GlobalLifecycle.yaml", "Selections.yaml", "LambdaFunction.json"];

    [Test]
    public void CompleteYamlRecipeHasEveryField()
    {
        AssertComplete(ComponentRecipe.Load(TestFiles.Recipe("Complete.yaml")));
    }

    [Test]
    public void CompleteJsonRecipeHasEveryField()
    {
        AssertComplete(ComponentRecipe.Load(TestFiles.Recipe("Complete.json")));
    }

    [Test]
    public void YamlAndJsonOfTheSameRecipeGiveTheSameModel()
    {
        var yaml = ComponentRecipe.Load(TestFiles.Recipe("Complete.yaml"));
        var json = ComponentRecipe.Load(TestFiles.Recipe("Complete.json"));
        Assert.That(RecipeDump.Describe(json), Is.EqualTo(RecipeDump.Describe(yaml)));
    }

    [TestCaseSource(nameof(SampleFiles))]
    public void RoundTripThroughJsonKeepsEveryField(string file)
    {
        var original = ComponentRecipe.Load(TestFiles.Recipe(file));
        var json = original.ToJson();
        var again = ComponentRecipe.Parse(json, "again.json");
        Assert.That(RecipeDump.Describe(again), Is.EqualTo(RecipeDump.Describe(original)), json);
    }

    [TestCaseSource(nameof(SampleFiles))]
    public void RoundTripThroughYamlKeepsEveryField(string file)
    {
        var original = ComponentRecipe.Load(TestFiles.Recipe(file));
        var yaml = original.ToYaml();
        var again = ComponentRecipe.Parse(yaml, "again.yaml");
        Assert.That(RecipeDump.Describe(again), Is.EqualTo(RecipeDump.Describe(original)), yaml);
    }

    [Test]
    public void WrittenJsonUsesTheCanonicalKeyNames()
    {
        var recipe = ComponentRecipe.Load(TestFiles.Recipe("LambdaFunction.json"));
        var written = JsonNode.Parse(recipe.ToJson())!.AsObject();
        Assert.Multiple(() =>
        {
            Assert.That(written.Select(p => p.Key), Is.EqualTo(new[]
            {
                "RecipeFormatVersion", "ComponentName", "ComponentVersion", "ComponentDescription", "ComponentPublisher",
                "ComponentType", "ComponentSource", "ComponentConfiguration", "ComponentDependencies", "Manifests", "Lifecycle",
            }));
            var artifact = written["Manifests"]![0]!["Artifacts"]![0]!.AsObject();
            Assert.That(artifact.Select(p => p.Key), Is.EqualTo(new[] { "URI", "Digest", "Algorithm", "Unarchive", "Permission" }));
            Assert.That(written["ComponentType"]!.GetValue<string>(), Is.EqualTo("aws.greengrass.lambda"));
        });
    }

    [Test]
    public void KeysAndEnumValuesAreCaseInsensitiveAndNormalised()
    {
        const string lower = """
            recipeformatversion: '2020-01-25'
            COMPONENTNAME: com.example.Case
            componentVersion: 1.0.0
            componenttype: AWS.GREENGRASS.GENERIC
            componentdependencies:
              com.example.Dep:
                versionrequirement: ~1.2
                DEPENDENCYTYPE: soft
            manifests:
              - platform:
                  os: linux
                lifecycle:
                  SETENV:
                    A: b
                  run:
                    script: ./run.sh
                    TIMEOUT: 5
                    skipIf: onpath sh
                    requiresprivilege: TRUE
                artifacts:
                  - uri: s3://b/k/file.zip
                    unarchive: zip
                    permission:
                      READ: all
                      execute: owner
            """;
        const string canonical = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Case
            ComponentVersion: 1.0.0
            ComponentType: aws.greengrass.generic
            ComponentDependencies:
              com.example.Dep:
                VersionRequirement: ~1.2
                DependencyType: SOFT
            Manifests:
              - Platform:
                  os: linux
                Lifecycle:
                  Setenv:
                    A: b
                  Run:
                    Script: ./run.sh
                    Timeout: 5
                    Skipif: onpath sh
                    RequiresPrivilege: true
                Artifacts:
                  - URI: s3://b/k/file.zip
                    Unarchive: ZIP
                    Permission:
                      Read: ALL
                      Execute: OWNER
            """;
        var a = ComponentRecipe.Parse(lower, "lower.yaml");
        var b = ComponentRecipe.Parse(canonical, "canonical.yaml");
        Assert.Multiple(() =>
        {
            Assert.That(RecipeDump.Describe(a), Is.EqualTo(RecipeDump.Describe(b)));
            Assert.That(a.ComponentDependencies[0].DependencyType, Is.EqualTo(DependencyType.Soft));
            Assert.That(a.Manifests[0].Artifacts[0].Unarchive, Is.EqualTo(Unarchive.Zip));
            Assert.That(a.Manifests[0].Lifecycle!.Run!.RequiresPrivilege, Is.True);
        });
    }

    [Test]
    public void ManifestWithoutLifecycleUsesTheGlobalLifecycleFilteredBySelections()
    {
        var recipe = ComponentRecipe.Load(TestFiles.Recipe("Selections.yaml"));
        var windows = recipe.Manifests[0].EffectiveLifecycle;
        var linux = recipe.Manifests[1].EffectiveLifecycle;
        var posix = recipe.Manifests[2].EffectiveLifecycle;
        Assert.Multiple(() =>
        {
            Assert.That(windows.Install, Is.Null);
            Assert.That(windows.Run!.Script, Is.EqualTo(@"{artifacts:decompressedPath}\agent-windows\agent.exe --thing {iot:thingName}"));

            // Linux selects [linux, posix]: no "linux" key at the top, so "posix"; inside Script "linux" wins over "all".
            Assert.That(linux.Install!.Script, Is.EqualTo("chmod +x {artifacts:decompressedPath}/agent-linux/agent"));
            Assert.That(linux.Install.Skipif, Is.EqualTo(new SkipIf(SkipIfCheck.Exists, "{artifacts:decompressedPath}/agent-linux", Negated: true)));
            Assert.That(linux.Run!.Script, Is.EqualTo("exec {artifacts:decompressedPath}/agent-linux/agent --thing {iot:thingName} --systemd"));
            Assert.That(linux.Run.Timeout, Is.EqualTo(30));

            // [posix]: "posix" at the top, then "all" inside Script.
            Assert.That(posix.Run!.Script, Is.EqualTo("exec {artifacts:path}/agent --thing {iot:thingName}"));
        });
    }

    [Test]
    public void ManifestLifecycleWinsAndAnEmptyOneFallsBackToTheGlobalLifecycle()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Fallback
            ComponentVersion: 1.0.0
            Manifests:
              - Platform: { os: linux }
                Lifecycle:
                  Run: own
              - Platform: { os: windows }
                Lifecycle: {}
              - Platform: { os: darwin }
            Lifecycle:
              Run: global
            """;
        var recipe = ComponentRecipe.Parse(text, "fallback.yaml");
        Assert.Multiple(() =>
        {
            Assert.That(recipe.Manifests[0].EffectiveLifecycle.Run!.Script, Is.EqualTo("own"));
            Assert.That(recipe.Manifests[1].EffectiveLifecycle.Run!.Script, Is.EqualTo("global"));
            Assert.That(recipe.Manifests[2].EffectiveLifecycle.Run!.Script, Is.EqualTo("global"));
        });
    }

    [Test]
    public void GlobalLifecycleWithoutAMatchingSelectionIsEmpty()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.NoSelection
            ComponentVersion: 1.0.0
            Manifests:
              - Selections: [linux]
              - Selections: [other]
            Lifecycle:
              linux:
                Run: on linux
            """;
        var recipe = ComponentRecipe.Parse(text, "noselection.yaml");
        Assert.Multiple(() =>
        {
            Assert.That(recipe.Manifests[0].EffectiveLifecycle.Run!.Script, Is.EqualTo("on linux"));
            Assert.That(recipe.Manifests[1].EffectiveLifecycle.IsEmpty, Is.True);
        });
    }

    [Test]
    public void EveryNodeKeepsItsLineAndColumn()
    {
        var recipe = ComponentRecipe.Load(TestFiles.Recipe("Complete.yaml"));
        var file = TestFiles.Recipe("Complete.yaml");
        Assert.Multiple(() =>
        {
            Assert.That(recipe.Location, Is.EqualTo(new SourceLocation(file, 2, 1)));
            Assert.That(recipe.ComponentConfiguration!.Location, Is.EqualTo(new SourceLocation(file, 10, 3)));
            Assert.That(recipe.ComponentDependencies[1].Location, Is.EqualTo(new SourceLocation(file, 33, 3)));
            Assert.That(recipe.Manifests[0].Location, Is.EqualTo(new SourceLocation(file, 37, 5)));
            Assert.That(recipe.Manifests[0].Lifecycle!.Bootstrap!.Location, Is.EqualTo(new SourceLocation(file, 47, 9)));
            Assert.That(recipe.Manifests[0].Lifecycle!.Startup!.Location, Is.EqualTo(new SourceLocation(file, 56, 16)));
            Assert.That(recipe.Manifests[0].Artifacts[1].Location, Is.EqualTo(new SourceLocation(file, 73, 9)));
            Assert.That(recipe.Lifecycle!.Entries[1].Key.Location, Is.EqualTo(new SourceLocation(file, 80, 3)));
        });
    }

    [Test]
    public void JsonNodesKeepTheirLineAndColumn()
    {
        var file = TestFiles.Recipe("LambdaFunction.json");
        var recipe = ComponentRecipe.Load(file);
        Assert.Multiple(() =>
        {
            Assert.That(recipe.Location, Is.EqualTo(new SourceLocation(file, 1, 1)));
            Assert.That(recipe.ComponentDependencies[2].Location, Is.EqualTo(new SourceLocation(file, 18, 5)));
            Assert.That(recipe.Manifests[0].Artifacts[0].Location, Is.EqualTo(new SourceLocation(file, 60, 9)));
            Assert.That(recipe.Manifests[0].EffectiveLifecycle.Startup!.Location, Is.EqualTo(new SourceLocation(file, 74, 16)));
        });
    }

    private static void AssertComplete(ComponentRecipe r)
    {
        var expectedConfiguration = JsonNode.Parse("""
            {
              "Name": "complete", "Count": 42, "Ratio": 1.5, "Enabled": true, "Nothing": null, "Tags": ["a", "b"],
              "Nested": { "Deep": { "Value": "x" } },
              "accessControl": {
                "aws.greengrass.ipc.pubsub": {
                  "com.example.Complete:pubsub:1": {
                    "policyDescription": "Publish status",
                    "operations": ["aws.greengrass#PublishToTopic"],
                    "resources": ["status/complete"]
                  }
                }
              }
            }
            """);
        Assert.Multiple(() =>
        {
            Assert.That(r.RecipeFormatVersion, Is.EqualTo("2020-01-25"));
            Assert.That(r.ComponentName, Is.EqualTo("com.example.Complete"));
            Assert.That(r.ComponentVersion, Is.EqualTo(SemVersion.Parse("1.2.3-beta.4+build.567")));
            Assert.That(r.ComponentVersion.Build, Is.EqualTo(new[] { "build", "567" }));
            Assert.That(r.ComponentDescription, Is.EqualTo("Every field of a recipe."));
            Assert.That(r.ComponentPublisher, Is.EqualTo("Fogline"));
            Assert.That(r.ComponentType, Is.EqualTo(ComponentType.Generic));
            Assert.That(r.ComponentSource, Is.EqualTo("arn:aws:lambda:us-east-1:123456789012:function:complete:1"));
            Assert.That(JsonNode.DeepEquals(r.ComponentConfiguration!.DefaultConfiguration, expectedConfiguration), Is.True,
                r.ComponentConfiguration.DefaultConfiguration.ToJsonString());
            Assert.That(r.ComponentConfiguration.DefaultConfiguration["Ratio"]!.ToJsonString(), Is.EqualTo("1.5"));

            Assert.That(r.ComponentDependencies.Select(d => d.Name), Is.EqualTo(new[] { "com.example.Hard", "com.example.Soft" }));
            Assert.That(r.ComponentDependencies[0].VersionRequirement.Normalized, Is.EqualTo(">=1.0.0 <2.0.0-0"));
            Assert.That(r.ComponentDependencies[0].DependencyType, Is.EqualTo(DependencyType.Hard));
            Assert.That(r.ComponentDependencies[1].VersionRequirement.Text, Is.EqualTo(">=2.0.0 <3.0.0 || 4.x"));
            Assert.That(r.ComponentDependencies[1].VersionRequirement.Normalized, Is.EqualTo(">=2.0.0 <3.0.0 || >=4.0.0 <5.0.0-0"));
            Assert.That(r.ComponentDependencies[1].DependencyType, Is.EqualTo(DependencyType.Soft));

            Assert.That(r.Manifests, Has.Count.EqualTo(2));
            var m = r.Manifests[0];
            Assert.That(m.Name, Is.EqualTo("Linux x86-64"));
            Assert.That(m.Platform, Is.EqualTo(new KeyValuePair<string, string>[] { new("os", "linux"), new("architecture", "amd64"), new("runtime", "aws_nucleus_classic") }));
            Assert.That(m.Os, Is.EqualTo("linux"));
            Assert.That(m.Architecture, Is.EqualTo("amd64"));
            Assert.That(m.Attribute("runtime"), Is.EqualTo("aws_nucleus_classic"));
            Assert.That(m.Attribute("Runtime"), Is.Null);
            Assert.That(m.Selections, Is.Null);
            var l = m.Lifecycle!;
            Assert.That(l.Setenv, Is.EqualTo(new Dictionary<string, string> { ["GLOBAL_VAR"] = "global", ["NUMBER"] = "7" }));
            Assert.That(l.Bootstrap, Is.EqualTo(new LifecycleStep { Script = "echo bootstrap", RequiresPrivilege = true, Timeout = 30, Location = l.Bootstrap!.Location }));
            Assert.That(l.Install!.Script, Is.EqualTo("echo install"));
            Assert.That(l.Install.Skipif, Is.EqualTo(new SkipIf(SkipIfCheck.OnPath, "python3")));
            Assert.That(l.Install.Timeout, Is.EqualTo(300));
            Assert.That(l.Install.Setenv, Is.EqualTo(new Dictionary<string, string> { ["STEP_VAR"] = "install" }));
            Assert.That(l.Startup!.Script, Is.EqualTo("echo startup"));
            Assert.That(l.Startup.IsScriptOnly, Is.True);
            Assert.That(l.Run!.Script, Is.EqualTo("echo run {configuration:/Name}"));
            Assert.That(l.Run.IsScriptOnly, Is.False);
            Assert.That(l.Run.Timeout, Is.Null);
            Assert.That(l.Run.TimeoutExpression, Is.EqualTo("{configuration:/Count}"));
            Assert.That(l.Shutdown!.Script, Is.EqualTo("echo shutdown"));
            Assert.That(l.Recover!.Skipif, Is.EqualTo(new SkipIf(SkipIfCheck.Exists, "/tmp/recovered", Negated: true)));
            Assert.That(l.Recover.RequiresPrivilege, Is.False);
            Assert.That(m.EffectiveLifecycle, Is.SameAs(l));

            Assert.That(m.Artifacts, Has.Count.EqualTo(2));
            var a = m.Artifacts[0];
            Assert.That(a.Uri, Is.EqualTo("s3://bucket/complete/1.2.3/app.zip"));
            Assert.That(a.FileName, Is.EqualTo("app.zip"));
            Assert.That(a.Digest, Is.EqualTo("2E8vtl6gCrJEzJ6pX1cnEWsQnhZQ5a4XixwRkBdCmAE="));
            Assert.That(a.Algorithm, Is.EqualTo("SHA-256"));
            Assert.That(a.Unarchive, Is.EqualTo(Unarchive.Zip));
            Assert.That(a.Permission, Is.EqualTo(new ArtifactPermission(PermissionType.All, PermissionType.Owner)));
            var b = m.Artifacts[1];
            Assert.That(b.Uri, Is.EqualTo("s3://bucket/complete/1.2.3/run.sh"));
            Assert.That(b.Digest, Is.Null);
            Assert.That(b.Unarchive, Is.EqualTo(Unarchive.None));
            Assert.That(b.Permission, Is.EqualTo(new ArtifactPermission(PermissionType.Owner, PermissionType.None)));

            var other = r.Manifests[1];
            Assert.That(other.Name, Is.EqualTo("Everything else"));
            Assert.That(other.Platform, Is.Null);
            Assert.That(other.Os, Is.Null);
            Assert.That(other.Selections, Is.EqualTo(new[] { "other" }));
            Assert.That(other.Lifecycle, Is.Null);
            Assert.That(other.EffectiveLifecycle.Run!.Script, Is.EqualTo("echo other"));

            Assert.That(r.Lifecycle!.Entries.Select(e => e.Key.Value), Is.EqualTo(new[] { "other", "all" }));
        });
    }
}
