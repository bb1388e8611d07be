using System.CommandLine;
using Fogline.Gdk;

namespace Fogline.Cli.Commands;

/// <summary>
/// Which GDK projects a verb works on: the current folder, as GDK does; <c>--project DIR…</c> for others;
/// <c>--all</c> for every folder with a gdk-config.json under the current one (deepest first, so a bundle at the top
/// comes after the components it depends on).
/// </summary>
internal sealed class ProjectOptions
{
    private static readonly HashSet<string> Skipped = new(StringComparer.Ordinal) { GdkProject.BuildFolderName, "bin", "obj", "node_modules", ".git", "artifacts" };

    public Option<string[]> Projects { get; } = new("--project", "-p")
    {
        Description = "A GDK project folder (repeatable; default the current folder).",
        AllowMultipleArgumentsPerToken = true,
    };

    public Option<bool> All { get; } = new("--all") { Description = "Every GDK project (gdk-config.json) under the current folder." };

    public void AddTo(Command command)
    {
        command.Options.Add(Projects);
        command.Options.Add(All);
    }

    /// <summary>The projects, loaded (their gdk-config.json validated).</summary>
    public IReadOnlyList<GdkProject> Load(ParseResult parse)
    {
        var folders = parse.GetValue(All)
            ? Discover(Directory.GetCurrentDirectory())
            : parse.GetValue(Projects) is { Length: > 0 } given ? [.. given.Select(Path.GetFullPath)] : [Directory.GetCurrentDirectory()];
        if (folders.Count == 0)
        {
            throw new CliException($"no gdk-config.json under {Directory.GetCurrentDirectory()}");
        }

        return [.. folders.Select(GdkProject.Load)];
    }

    private static List<string> Discover(string root)
    {
        var found = new List<string>();
        void Walk(string directory)
        {
            if (File.Exists(Path.Combine(directory, GdkConfig.FileName)))
            {
                found.Add(directory);
            }

            foreach (var child in Directory.EnumerateDirectories(directory).Where(d => !Skipped.Contains(Path.GetFileName(d)) && !Path.GetFileName(d).StartsWith('.')))
            {
                Walk(child);
            }
        }

        Walk(root);
        return [.. found.OrderByDescending(d => d.Count(c => c == Path.DirectorySeparatorChar)).ThenBy(d => d, StringComparer.Ordinal)];
    }
}
