using System.Runtime.InteropServices;

namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>Manifest selection as the Nucleus's PlatformHelper.findBestMatch does it: the first manifest that matches.</summary>
public class PlatformSelectionTests
{
    private static readonly DevicePlatform LinuxAmd64 = new("linux", "amd64");

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case("by os", LinuxAmd64, 1, "{os: windows}", "{os: linux}");
        yield return Case("by architecture", LinuxAmd64, 1, "{os: linux, architecture: aarch64}", "{os: linux, architecture: amd64}");
        yield return Case("no platform matches all", LinuxAmd64, 0, (string?)null);
        yield return Case("empty platform matches all", LinuxAmd64, 0, "{}");
        yield return Case("the first match wins, not the most specific", LinuxAmd64, 0, "{os: linux}", "{os: linux, architecture: amd64}");
        yield return Case("wildcards", LinuxAmd64, 0, "{os: '*', architecture: '*'}");
        yield return Case("all and any for os and architecture", LinuxAmd64, 0, "{os: all, architecture: any}");
        yield return Case("all is a label for other attributes", new DevicePlatform("linux", "amd64", [new("runtime", "aws_nucleus_classic")]), -1, "{runtime: all}");
        yield return Case("attribute the device lacks", LinuxAmd64, -1, "{os: linux, runtime: aws_nucleus_lite}");
        yield return Case("attribute the device has", new DevicePlatform("linux", "amd64", [new("runtime", "aws_nucleus_lite")]), 0, "{os: linux, runtime: aws_nucleus_lite}");
        yield return Case("wildcard matches a missing attribute", LinuxAmd64, 0, "{os: linux, runtime: '*'}");
        yield return Case("regex", LinuxAmd64, 0, "{os: /darwin|linux/}");
        yield return Case("regex must match the whole value", LinuxAmd64, -1, "{os: /lin/}");
        yield return Case("regex does not match a missing attribute", LinuxAmd64, -1, "{runtime: /.*/}");
        yield return Case("labels are case-sensitive", LinuxAmd64, -1, "{os: Linux}");
        yield return Case("arm", new DevicePlatform("linux", "arm", [new("architecture.detail", "armv7l")]), 1, "{os: linux, architecture: aarch64}", "{os: linux, architecture: arm, architecture.detail: armv7l}");
        yield return Case("platform override replaces os", new DevicePlatform("linux", "amd64", [new("os", "debian")]), 1, "{os: linux}", "{os: debian}");
        yield return Case("darwin", new DevicePlatform("darwin", "aarch64"), 2, "{os: windows}", "{os: linux}", "{os: darwin}");
        yield return Case("windows x86", new DevicePlatform("windows", "x86"), 1, "{os: windows, architecture: amd64}", "{os: windows}");
    }

    [TestCaseSource(nameof(Cases))]
    public void SelectsTheFirstMatchingManifest(DevicePlatform device, int expected, string?[] platforms)
    {
        var recipe = Recipe(platforms);
        if (expected >= 0)
        {
            Assert.That(recipe.SelectManifest(device).Index, Is.EqualTo(expected));
        }
        else
        {
            Assert.Throws<RecipeException>(() => recipe.SelectManifest(device));
        }

        for (var i = 0; i < recipe.Manifests.Count; i++)
        {
            if (i < expected || expected < 0)
            {
                Assert.That(recipe.Manifests[i].Matches(device), Is.False, $"manifest {i} comes before the selected one and must not match");
            }
        }
    }

    [Test]
    public void NoMatchSaysWhatIsOfferedAndWhatTheDeviceIs()
    {
        const string text = """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Picky
            ComponentVersion: 1.0.0
            Manifests:
              - Name: Windows
                Platform:
                  os: windows
              - Platform:
                  os: darwin
                  architecture: aarch64
            """;
        var recipe = ComponentRecipe.Parse(text, "picky.yaml");
        var device = new DevicePlatform("linux", "amd64", [new("runtime", "aws_nucleus_classic")]);
        var e = Assert.Throws<RecipeException>(() => recipe.SelectManifest(device));
        Assert.That(e!.Errors.Single().ToString(), Is.EqualTo(
            "picky.yaml:5:5: no manifest of com.example.Picky 1.0.0 matches this device (os=linux, architecture=amd64, runtime=aws_nucleus_classic); " +
            "the recipe offers Manifests[0] 'Windows': os=windows; Manifests[1]: os=darwin, architecture=aarch64"));
    }

    [Test]
    public void ResolveForGivesTheSelectedManifestsLifecycleAndArtifacts()
    {
        var recipe = ComponentRecipe.Load(TestFiles.Recipe("GlobalLifecycle.yaml"));
        var resolved = recipe.ResolveFor(new DevicePlatform("linux", "aarch64"));
        Assert.Multiple(() =>
        {
            Assert.That(resolved.Manifest.Index, Is.EqualTo(1));
            Assert.That(resolved.Artifacts.Single().FileName, Is.EqualTo("logrotate-aarch64"));
            Assert.That(resolved.Artifacts.Single().Permission.Execute, Is.EqualTo(PermissionType.Owner));
            Assert.That(resolved.Lifecycle.Run!.Script, Does.StartWith("exec {artifacts:path}/logrotate-*"));
            Assert.That(resolved.Lifecycle.Setenv["KEEP_DAYS"], Is.EqualTo("{configuration:/KeepDays}"));
        });
    }

    [TestCase(Architecture.X64, "amd64")]
    [TestCase(Architecture.X86, "x86")]
    [TestCase(Architecture.Arm, "arm")]
    [TestCase(Architecture.Armv6, "arm")]
    [TestCase(Architecture.Arm64, "aarch64")]
    [TestCase(Architecture.Wasm, "unknown")]
    [TestCase(Architecture.S390x, "unknown")]
    [TestCase(Architecture.RiscV64, "unknown")]
    public void NamesArchitecturesAsGreengrassDoes(Architecture architecture, string name)
    {
        Assert.That(DevicePlatform.ToGreengrassArchitecture(architecture), Is.EqualTo(name));
    }

    [Test]
    public void DetectsThisMachineAndAppliesOverrides()
    {
        var detected = DevicePlatform.Detect([new("runtime", "aws_nucleus_classic")]);
        Assert.Multiple(() =>
        {
            Assert.That(detected.Os, Is.EqualTo(OperatingSystem.IsLinux() ? "linux" : DevicePlatform.DetectOs()));
            Assert.That(detected.Architecture, Is.EqualTo(DevicePlatform.ToGreengrassArchitecture(RuntimeInformation.OSArchitecture)));
            Assert.That(detected.Attributes["runtime"], Is.EqualTo("aws_nucleus_classic"));
            Assert.That(detected.ToString(), Does.StartWith($"os={detected.Os}, architecture={detected.Architecture}, runtime=aws_nucleus_classic"));
        });
    }

    private static ComponentRecipe Recipe(string?[] platforms)
    {
        var text = "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.P\nComponentVersion: 1.0.0\nManifests:\n";
        for (var i = 0; i < platforms.Length; i++)
        {
            text += platforms[i] is null ? $"  - Name: m{i}\n" : $"  - Name: m{i}\n    Platform: {platforms[i]}\n";
        }

        return ComponentRecipe.Parse(text, "p.yaml");
    }

    private static TestCaseData Case(string name, DevicePlatform device, int expected, params string?[] platforms) =>
        new TestCaseData(device, expected, platforms).SetName("Platform: " + name);
}
