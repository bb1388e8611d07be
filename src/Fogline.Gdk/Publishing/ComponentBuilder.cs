using System.Diagnostics;
using System.Globalization;

namespace Fogline.Gdk.Publishing;

/// <summary>
/// <c>gdk component build</c> for <c>build_system: custom</c>, as GDK runs it (gdk/commands/component/BuildCommand.py):
/// <c>greengrass-build/</c> wiped, <c>greengrass-build/recipes/</c> and <c>greengrass-build/artifacts/NAME/VERSION/</c>
/// made, then the command run as an argument list (no shell) in the project folder. GDK checks nothing after it; this
/// builder also checks the custom-build contract publish relies on, so a broken build is told at build time: the
/// command wrote <c>greengrass-build/recipes/&lt;project recipe name&gt;</c> naming the project's component.
/// The other build systems (zip, maven, gradle) are not supported: an error says so.
/// </summary>
public static class ComponentBuilder
{
    /// <summary>Builds <paramref name="project"/>; the command's output goes to <paramref name="log"/>.</summary>
    /// <exception cref="GdkException">The build system is not custom, the command failed, or it broke the contract.</exception>
    public static async Task<TimeSpan> BuildAsync(GdkProject project, TextWriter log, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(log);
        var config = project.Config;
        if (config.Build.BuildSystem != "custom")
        {
            throw new GdkException($"{project.Directory}: build_system '{config.Build.BuildSystem}' is not supported by fogline; use \"custom\" with a custom_build_command");
        }

        var argv = config.Build.CustomBuildCommand;
        if (argv.Count == 0)
        {
            throw new GdkException($"{project.Directory}: custom_build_command is empty");
        }

        if (Directory.Exists(project.BuildDirectory))
        {
            Directory.Delete(project.BuildDirectory, recursive: true);
        }

        Directory.CreateDirectory(project.BuildRecipesDirectory);
        Directory.CreateDirectory(project.ComponentArtifactsDirectory);
        await log.WriteLineAsync($"{config.ComponentName}: building in {project.Directory}: {string.Join(' ', argv.Select(Quote))}").ConfigureAwait(false);
        var watch = Stopwatch.StartNew();
        var start = new ProcessStartInfo(argv[0])
        {
            WorkingDirectory = project.Directory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in argv.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new GdkException($"the build command {argv[0]} could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new GdkException($"{project.Directory}: the build command '{argv[0]}' could not be started: {e.Message}", e);
        }

        using (process)
        {
            var sync = new Lock();
            async Task Pump(StreamReader reader)
            {
                while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    lock (sync)
                    {
                        log.WriteLine("  | " + line);
                    }
                }
            }

            try
            {
                await Task.WhenAll(Pump(process.StandardOutput), Pump(process.StandardError), process.WaitForExitAsync(cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            if (process.ExitCode != 0)
            {
                throw new GdkException(string.Create(CultureInfo.InvariantCulture, $"{config.ComponentName}: the build command exited with code {process.ExitCode} ({string.Join(' ', argv.Select(Quote))} in {project.Directory})"));
            }
        }

        if (!File.Exists(project.BuildRecipeFile))
        {
            throw new GdkException($"{config.ComponentName}: the build command did not write {project.BuildRecipeFile}, which GDK's custom-build contract asks of it");
        }

        await log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{config.ComponentName}: built in {watch.Elapsed.TotalSeconds:0.0} s ({Directory.GetFiles(project.ComponentArtifactsDirectory).Length} artifacts)")).ConfigureAwait(false);
        return watch.Elapsed;
    }

    private static string Quote(string argument) => argument.Any(char.IsWhiteSpace) ? "'" + argument + "'" : argument;
}
