using System.CommandLine;
using Fogline.Gdk.Publishing;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline component build</c>: <c>gdk component build</c> for the project in the current folder (or
/// <c>--project</c>/<c>--all</c>): greengrass-build/ wiped, the custom build command run in the project folder, and
/// GDK's custom-build contract checked.
/// </summary>
internal static class ComponentBuildCommand
{
    public static Command Create(GlobalOptions options)
    {
        var projects = new ProjectOptions();
        var command = new Command("build", "Build the component as GDK does (build_system custom: the project's own build command).");
        projects.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            foreach (var project in projects.Load(parse))
            {
                await ComponentBuilder.BuildAsync(project, cli.Out, ct);
            }

            return 0;
        });
        return command;
    }
}
