using System.Diagnostics;

namespace Fogline.Gdk.Tests;

/// <summary>
/// The real custom build of a component, run as `gdk component build` runs it (gdk/commands/component/BuildCommand.py):
/// greengrass-build/ wiped and its two folders made, then gdk-config.json's custom_build_command started as an argv
/// (no shell) in the project folder, with the environment inherited. It compiles NativeAOT binaries when the
/// component changed (a minute), and takes seconds otherwise.
/// </summary>
[NonParallelizable]
[CancelAfter(600_000)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class CustomBuildTests
{
    [Test]
    public async Task TheCustomBuildCommand_WritesWhatGdksCustomBuildContractExpects()
    {
        var directory = Path.Combine(Repository.Root, "components", "EdgeFilter");
        var project = GdkProject.Load(directory);
        var config = project.Config;

        // create_gg_build_directories(): rmtree, then recipes/ and artifacts/NAME/VERSION/.
        if (Directory.Exists(project.BuildDirectory))
        {
            Directory.Delete(project.BuildDirectory, recursive: true);
        }

        Directory.CreateDirectory(project.BuildRecipesDirectory);
        Directory.CreateDirectory(project.ComponentArtifactsDirectory);

        // subprocess.run(custom_build_command, check=True): argv as is, cwd inherited (the project folder).
        var command = config.Build.CustomBuildCommand;
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Eventually.TestToken);
        var stderr = process.StandardError.ReadToEndAsync(Eventually.TestToken);
        try
        {
            await process.WaitForExitAsync(Eventually.TestToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout + await stderr;
        Assert.That(process.ExitCode, Is.Zero, $"{string.Join(' ', command)} failed in {directory}:\n{output}");

        // The recipe: the template filled for a build, under the project recipe's own file name.
        Assert.That(Directory.GetFiles(project.BuildRecipesDirectory).Select(Path.GetFileName), Is.EqualTo(new[] { "recipe.yaml" }));
        var recipe = File.ReadAllText(project.BuildRecipeFile);
        Assert.That(recipe, Is.EqualTo(RecipeTemplate.Load(project.RecipeFile).FillForBuild(config)));
        Assert.That(recipe, Does.Contain("ComponentName: 'com.fogline.EdgeFilter'").And.Contain("ComponentVersion: 'NEXT_PATCH'").And.Contain("ComponentPublisher: 'Fogline'"));
        Assert.That(recipe, Does.Contain("URI: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/EdgeFilter-linux-x64"));
        Assert.That(GdkRecipeSchema.Validate(recipe, project.BuildRecipeFile), Is.Empty);

        // The artifacts: both binaries, in artifacts/NAME/NEXT_PATCH/, as Components built them.
        Assert.That(project.ComponentArtifactsDirectory, Does.EndWith(Path.Combine("greengrass-build", "artifacts", "com.fogline.EdgeFilter", "NEXT_PATCH")));
        Assert.That(Directory.GetFiles(Path.Combine(project.BuildArtifactsDirectory)), Is.Empty);
        Assert.That(Directory.GetDirectories(project.BuildArtifactsDirectory).Select(Path.GetFileName), Is.EqualTo(new[] { "com.fogline.EdgeFilter" }));
        Assert.That(Directory.GetFiles(project.ComponentArtifactsDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal),
            Is.EqualTo(new[] { "EdgeFilter-linux-arm64", "EdgeFilter-linux-x64" }));
        foreach (var file in new[] { "EdgeFilter-linux-x64", "EdgeFilter-linux-arm64" })
        {
            var built = Path.Combine(project.ComponentArtifactsDirectory, file);
            var original = Path.Combine(Repository.ComponentArtifacts, "com.fogline.EdgeFilter", "1.0.0", file);
            Assert.That(File.ReadAllBytes(built), Is.EqualTo(File.ReadAllBytes(original)), $"{file} is the binary Components built");
            Assert.That(File.GetUnixFileMode(built) & UnixFileMode.UserExecute, Is.EqualTo(UnixFileMode.UserExecute), file);
        }
    }
}
