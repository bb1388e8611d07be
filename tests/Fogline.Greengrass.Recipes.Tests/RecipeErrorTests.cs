namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>Every class of recipe error, with its exact file, line, column and message.</summary>
public class RecipeErrorTests
{
    private const string Head = "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.A\nComponentVersion: 1.0.0\n";

    private static IEnumerable<TestCaseData> Cases()
    {
        // Unknown keys, with "did you mean".
        yield return Case("unknown top-level key", "a.yaml",
            "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.A\nComponentVerison: 1.0.0\nManifests:\n  - Lifecycle:\n      Run: x\n",
            "a.yaml:1:1: ComponentVersion is required",
            "a.yaml:3:1: unknown key 'ComponentVerison'; did you mean 'ComponentVersion'?");
        yield return Case("unknown manifest key", "a.yaml",
            Head + "Manifests:\n  - Lifecyle:\n      Run: x\n",
            "a.yaml:5:5: Manifests[0]: unknown key 'Lifecyle'; did you mean 'Lifecycle'?");
        yield return Case("unknown step key", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Run:\n        Script: x\n        Timout: 5\n",
            "a.yaml:8:9: Manifests[0].Lifecycle.Run: unknown key 'Timout'; did you mean 'Timeout'?");
        yield return Case("unknown lifecycle step", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Uninstall: x\n",
            "a.yaml:6:7: Manifests[0].Lifecycle: unknown key 'Uninstall' (expected Setenv, Bootstrap, Install, Startup, Run, Shutdown, Recover)");
        yield return Case("key of a manifest at the top level", "a.yaml",
            Head + "Manifests:\n  - Lifecycle: {Run: x}\nArtifacts: []\n",
            "a.yaml:6:1: unknown key 'Artifacts'; Artifacts belongs in a manifest (under Manifests)");
        yield return Case("unknown artifact key", "a.yaml",
            Head + "Manifests:\n  - Artifacts:\n      - URI: s3://b/k\n        Unarchve: ZIP\n",
            "a.yaml:7:9: Manifests[0].Artifacts[0]: unknown key 'Unarchve'; did you mean 'Unarchive'?");
        yield return Case("unknown key in JSON", "a.json",
            "{\n  \"RecipeFormatVersion\": \"2020-01-25\",\n  \"ComponentName\": \"com.example.A\",\n  \"ComponentVersion\": \"1.0.0\",\n  \"Manifests\": [ { \"Platfrom\": { \"os\": \"linux\" } } ]\n}\n",
            "a.json:5:20: Manifests[0]: unknown key 'Platfrom'; did you mean 'Platform'?");

        // Wrong types.
        yield return Case("number where a string is expected", "a.yaml",
            Head + "ComponentPublisher: 2024\nManifests: [{}]\n",
            "a.yaml:4:21: ComponentPublisher: expected a string, found an integer (2024); quote it to make it a string");
        yield return Case("mapping where a list is expected", "a.yaml",
            Head + "Manifests: {os: linux}\n",
            "a.yaml:4:12: Manifests: expected a list of manifests, found a mapping");
        yield return Case("list where a step is expected", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Run: [a, b]\n",
            "a.yaml:6:12: Manifests[0].Lifecycle.Run: expected a script (a string) or a mapping with Script, Timeout, Setenv, Skipif, RequiresPrivilege, found a list");
        yield return Case("Setenv that is not a mapping", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Setenv: A=b\n",
            "a.yaml:6:15: Manifests[0].Lifecycle.Setenv: expected a mapping of environment variable names to values, found a string");
        yield return Case("Timeout that is not a number", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Run:\n        Script: x\n        Timeout: soon\n",
            "a.yaml:8:18: Manifests[0].Lifecycle.Run.Timeout: 'soon' is not a whole number of seconds");
        yield return Case("integer in a JSON step", "a.json",
            "{\n  \"RecipeFormatVersion\": \"2020-01-25\",\n  \"ComponentName\": \"a\",\n  \"ComponentVersion\": \"1.0.0\",\n  \"Manifests\": [ { \"Lifecycle\": { \"Run\": 5 } } ]\n}\n",
            "a.json:5:42: Manifests[0].Lifecycle.Run: expected a script (a string) or a mapping with Script, Timeout, Setenv, Skipif, RequiresPrivilege, found an integer");
        yield return Case("Selections that is not a list", "a.yaml",
            Head + "Manifests:\n  - Selections: linux\n",
            "a.yaml:5:17: Manifests[0].Selections: expected a list of selection keys, found a string");
        yield return Case("platform value that is not a string", "a.yaml",
            Head + "Manifests:\n  - Platform:\n      architecture: 64\n",
            "a.yaml:6:21: Manifests[0].Platform.architecture: expected a string, found an integer (64); quote it to make it a string");

        // Missing required fields.
        yield return Case("missing ComponentName and Manifests", "a.yaml",
            "RecipeFormatVersion: '2020-01-25'\nComponentVersion: 1.0.0\n",
            "a.yaml:1:1: ComponentName is required",
            "a.yaml:1:1: Manifests is required: a recipe needs at least one manifest (one without Platform matches every device)");
        yield return Case("missing Script", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Install:\n        Timeout: 10\n",
            "a.yaml:7:9: Manifests[0].Lifecycle.Install: Script is required");
        yield return Case("missing URI", "a.yaml",
            Head + "Manifests:\n  - Artifacts:\n      - Unarchive: ZIP\n",
            "a.yaml:6:9: Manifests[0].Artifacts[0]: URI is required");
        yield return Case("missing VersionRequirement", "a.yaml",
            Head + "ComponentDependencies:\n  com.example.B:\n    DependencyType: SOFT\nManifests: [{}]\n",
            "a.yaml:6:5: ComponentDependencies.com.example.B: VersionRequirement is required");
        yield return Case("empty Manifests", "a.yaml",
            Head + "Manifests: []\n",
            "a.yaml:4:12: Manifests: the list is empty; a recipe needs at least one manifest (one without Platform matches every device)");
        yield return Case("empty step", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Run:\n",
            "a.yaml:6:7: Manifests[0].Lifecycle.Run: the step is empty; write a script, or a mapping with Script");

        // Invalid versions, pointing at the offending character.
        yield return Case("version with two numbers", "a.yaml",
            "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.A\nComponentVersion: 1.0\nManifests: [{}]\n",
            "a.yaml:3:22: ComponentVersion: '1.0' is not a valid version (MAJOR.MINOR.PATCH as in semver.org): a version has three numbers (MAJOR.MINOR.PATCH); the patch number is missing");
        yield return Case("version with a leading zero", "a.yaml",
            "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.A\nComponentVersion: '1.02.3'\nManifests: [{}]\n",
            "a.yaml:3:22: ComponentVersion: '1.02.3' is not a valid version (MAJOR.MINOR.PATCH as in semver.org): '02' has a leading zero");
        yield return Case("version with a bad prerelease", "a.json",
            "{\"RecipeFormatVersion\": \"2020-01-25\", \"ComponentName\": \"a\", \"ComponentVersion\": \"1.0.0-beta..1\", \"Manifests\": [{}]}",
            "a.json:1:93: ComponentVersion: '1.0.0-beta..1' is not a valid version (MAJOR.MINOR.PATCH as in semver.org): prerelease identifier '' is empty");
        yield return Case("version too large for Greengrass", "a.yaml",
            "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.A\nComponentVersion: 1000000.0.0\nManifests: [{}]\n",
            "a.yaml:3:19: ComponentVersion: '1000000.0.0': Greengrass allows at most 999999 for major, minor and patch");
        yield return Case("unknown recipe format version", "a.yaml",
            "RecipeFormatVersion: 2021-01-25\nComponentName: com.example.A\nComponentVersion: 1.0.0\nManifests: [{}]\n",
            "a.yaml:1:22: RecipeFormatVersion: '2021-01-25' is not a recipe format version; the only one is 2020-01-25");

        // Invalid enumeration values.
        yield return Case("invalid Unarchive", "a.yaml",
            Head + "Manifests:\n  - Artifacts:\n      - URI: s3://b/k.tar\n        Unarchive: TAR\n",
            "a.yaml:7:20: Manifests[0].Artifacts[0].Unarchive: 'TAR' is not one of NONE, ZIP");
        yield return Case("invalid DependencyType with a suggestion", "a.yaml",
            Head + "ComponentDependencies:\n  com.example.B:\n    VersionRequirement: ^1.0.0\n    DependencyType: HRAD\nManifests: [{}]\n",
            "a.yaml:7:21: ComponentDependencies.com.example.B.DependencyType: 'HRAD' is not one of HARD, SOFT; did you mean 'HARD'?");
        yield return Case("invalid ComponentType", "a.yaml",
            Head + "ComponentType: aws.greengrass.generik\nManifests: [{}]\n",
            "a.yaml:4:16: ComponentType: 'aws.greengrass.generik' is not one of aws.greengrass.generic, aws.greengrass.lambda, aws.greengrass.plugin, aws.greengrass.nucleus; did you mean 'aws.greengrass.generic'?");
        yield return Case("invalid permission", "a.yaml",
            Head + "Manifests:\n  - Artifacts:\n      - URI: s3://b/k\n        Permission: {Read: EVERYONE}\n",
            "a.yaml:7:28: Manifests[0].Artifacts[0].Permission.Read: 'EVERYONE' is not one of NONE, OWNER, ALL");
        yield return Case("invalid RequiresPrivilege", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Run:\n        Script: x\n        RequiresPrivilege: 'TRUE'\n",
            "a.yaml:8:28: Manifests[0].Lifecycle.Run.RequiresPrivilege: 'TRUE' is not true or false (the Nucleus would read it as false)");

        // Bad version ranges, pointing inside the range.
        yield return Case("range with four numbers", "a.yaml",
            Head + "ComponentDependencies:\n  com.example.B:\n    VersionRequirement: '>=1.0.0 <2.0.0.1'\nManifests: [{}]\n",
            "a.yaml:6:40: ComponentDependencies.com.example.B.VersionRequirement: '>=1.0.0 <2.0.0.1' is not a valid version range (npm style, e.g. ^1.2.0 or >=1.0.0 <2.0.0): a version has at most three numbers (MAJOR.MINOR.PATCH)");
        yield return Case("range with a single bar", "a.yaml",
            Head + "ComponentDependencies:\n  com.example.B:\n    VersionRequirement: 1.0.0 | 2.0.0\nManifests: [{}]\n",
            "a.yaml:6:31: ComponentDependencies.com.example.B.VersionRequirement: '1.0.0 | 2.0.0' is not a valid version range (npm style, e.g. ^1.2.0 or >=1.0.0 <2.0.0): a single '|' is not an operator; alternatives are separated by '||'");
        yield return Case("range with an operator and no version", "a.json",
            "{\"RecipeFormatVersion\": \"2020-01-25\", \"ComponentName\": \"a\", \"ComponentVersion\": \"1.0.0\",\n \"ComponentDependencies\": {\"b\": {\"VersionRequirement\": \"^1.0.0 >=\"}}, \"Manifests\": [{}]}",
            "a.json:2:64: ComponentDependencies.b.VersionRequirement: '^1.0.0 >=' is not a valid version range (npm style, e.g. ^1.2.0 or >=1.0.0 <2.0.0): '>=' must be followed by a version");

        // Other values the Nucleus would reject or never match.
        yield return Case("invalid Skipif", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Install:\n        Script: x\n        Skipif: exist /x\n",
            "a.yaml:8:17: Manifests[0].Lifecycle.Install.Skipif: 'exist /x' is not a Skipif expression: write 'onpath <executable>' or 'exists <file>' (lowercase, optionally after '!')");
        yield return Case("platform attribute in the wrong case", "a.yaml",
            Head + "Manifests:\n  - Platform:\n      OS: linux\n",
            "a.yaml:6:7: Manifests[0].Platform: 'OS' never matches: platform attributes are case-sensitive and the Nucleus names it 'os'");
        yield return Case("invalid platform regex", "a.yaml",
            Head + "Manifests:\n  - Platform:\n      os: /lin(ux/\n",
            "a.yaml:6:11: Manifests[0].Platform.os: '/lin(ux/' is not a valid regular expression: Invalid pattern 'lin(ux' at offset 6. Not enough )'s.");
        yield return Case("component name with a space", "a.yaml",
            "RecipeFormatVersion: '2020-01-25'\nComponentName: com.ex ample\nComponentVersion: 1.0.0\nManifests: [{}]\n",
            "a.yaml:2:22: ComponentName: 'com.ex ample' contains ' '; a component name has only letters, digits, '-', '_' and '.'");
        yield return Case("relative artifact URI", "a.yaml",
            Head + "Manifests:\n  - Artifacts:\n      - URI: bin/app\n",
            "a.yaml:6:14: Manifests[0].Artifacts[0].URI: 'bin/app' is not an absolute URI (s3://bucket/key, greengrass:…, docker:…)");
        yield return Case("selection keys mixed with steps", "a.yaml",
            Head + "Manifests:\n  - Selections: [linux]\nLifecycle:\n  linux:\n    Run: x\n  Run: y\n",
            "a.yaml:9:3: Lifecycle: selection keys (linux) and other keys (Run) at the same level; the Nucleus uses a selection and ignores the other keys");
        yield return Case("error inside the selected global lifecycle", "a.yaml",
            Head + "Manifests:\n  - Selections: [linux]\nLifecycle:\n  linux:\n    Rnu: x\n",
            "a.yaml:8:5: Lifecycle: unknown key 'Rnu'; did you mean 'Run'?");

        // Duplicates.
        yield return Case("duplicate key", "a.yaml",
            Head + "ComponentName: com.example.B\nManifests: [{}]\n",
            "a.yaml:4:1: duplicate key 'ComponentName' (first at line 2)");
        yield return Case("keys differing only in case", "a.yaml",
            Head + "Manifests:\n  - Lifecycle:\n      Run: x\n      run: y\n",
            "a.yaml:7:7: Manifests[0].Lifecycle: 'run' repeats 'Run' (line 6); keys are case-insensitive");

        // Syntax.
        yield return Case("YAML syntax", "a.yaml",
            Head + "Manifests:\n  - Lifecycle: {Run: x\n",
            "a.yaml:6:1: YAML syntax error: While parsing a flow mapping, did not find expected ',' or '}'.");
        yield return Case("JSON syntax", "a.json",
            "{\n  \"RecipeFormatVersion\": \"2020-01-25\",\n  \"ComponentName\": \"a\"\n  \"ComponentVersion\": \"1.0.0\"\n}\n",
            "a.json:4:3: JSON syntax error: '\"' is invalid after a value. Expected either ',', '}', or ']'.");
        yield return Case("JSON trailing comma", "a.json",
            "{\"RecipeFormatVersion\": \"2020-01-25\",\n \"Manifests\": [{}],\n}",
            "a.json:3:1: JSON syntax error: The JSON object contains a trailing comma at the end which is not supported in this mode. Change the reader options.");
        yield return Case("not a mapping", "a.yaml",
            "- just\n- a list\n",
            "a.yaml:1:1: a recipe is a mapping (RecipeFormatVersion, ComponentName, ComponentVersion, Manifests, …), not a list");
        yield return Case("empty file", "a.json",
            "  \n",
            "a.json:1:1: the recipe is empty");
    }

    [TestCaseSource(nameof(Cases))]
    public void ReportsEveryErrorWithItsPlace(string file, string text, string[] expected)
    {
        var e = Assert.Throws<RecipeException>(() => ComponentRecipe.Parse(text, file));
        Assert.That(e!.Errors.Select(x => x.ToString()), Is.EqualTo(expected), e.Message);
    }

    [Test]
    public void ReportsAllErrorsOfARecipeAtOnce()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Many
            ComponentVersion: 1.0.0
            ComponentDependencies:
              com.example.B:
                VersionRequirement: '>>1.0.0'
            Manifests:
              - Platform:
                  os: linux
                Lifecycle:
                  Run:
                    Script: ./run
                    Timeout: -5
                Artifacts:
                  - URI: s3://b/k
                    Permission:
                      Execute: EVERYBODY
            """;
        var e = Assert.Throws<RecipeException>(() => ComponentRecipe.Parse(text, "many.yaml"));
        Assert.That(e!.Errors.Select(x => x.ToString()), Is.EqualTo(new[]
        {
            "many.yaml:6:27: ComponentDependencies.com.example.B.VersionRequirement: '>>1.0.0' is not a valid version range (npm style, e.g. ^1.2.0 or >=1.0.0 <2.0.0): '>' must be followed by a version, not '>'",
            "many.yaml:13:18: Manifests[0].Lifecycle.Run.Timeout: -5 is negative; a timeout is a number of seconds",
            "many.yaml:17:20: Manifests[0].Artifacts[0].Permission.Execute: 'EVERYBODY' is not one of NONE, OWNER, ALL",
        }));
        Assert.That(e.Message, Does.StartWith("3 errors in the recipe:\nmany.yaml:6:27: "));
    }

    [Test]
    public void ErrorsNameTheFileAsGiven()
    {
        var path = Path.Combine(Path.GetTempPath(), $"recipe-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, Head + "Manifests: 7\n");
        try
        {
            var e = Assert.Throws<RecipeException>(() => ComponentRecipe.Load(path));
            Assert.That(e!.Errors.Single(), Is.EqualTo(new RecipeError(path, 4, 12, "Manifests: expected a list of manifests, found an integer")));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void AnUnknownExtensionIsAnError()
    {
        var e = Assert.Throws<RecipeException>(() => ComponentRecipe.Parse(Head, "recipe.txt"));
        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo("recipe.txt:1:1: a recipe file ends in .yaml, .yml or .json, not '.txt'"));
    }

    private static TestCaseData Case(string name, string file, string text, params string[] expected) =>
        new TestCaseData(file, text, expected).SetName("Error: " + name);
}
