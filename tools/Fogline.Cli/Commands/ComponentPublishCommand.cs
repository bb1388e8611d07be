using System.CommandLine;
using System.Globalization;
using Fogline.Gdk;
using Fogline.Gdk.Publishing;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline component publish</c>: <c>gdk component publish</c> with GDK's flags (<c>--bucket</c>, <c>--region</c>,
/// <c>--options</c>), to AWS or to the local Greengrass cloud (see <see cref="CloudTarget"/>). A project that is not
/// built is built first, as GDK does. Prints a line per artifact and a summary table.
/// </summary>
internal static class ComponentPublishCommand
{
    public static Command Create(GlobalOptions options)
    {
        var projects = new ProjectOptions();
        var bucket = new Option<string?>("--bucket", "-b") { Description = "The artifact bucket, used as given (default: publish.bucket-REGION-ACCOUNT)." };
        var region = new Option<string?>("--region", "-r") { Description = "The region (default: publish.region of gdk-config.json, else the AWS settings')." };
        var publishOptions = new Option<string?>("--options", "-o") { Description = "publish.options as a JSON object or a .json file (replaces gdk-config.json's)." };
        var command = new Command("publish", "Publish the component as GDK does: artifacts to S3, CreateComponentVersion, then wait until it is DEPLOYABLE.")
        {
            bucket, region, publishOptions,
        };
        projects.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var loaded = projects.Load(parse);
            var results = new List<PublishResult>();
            // Every version is created first and then waited for: the service makes them DEPLOYABLE side by side.
            var flags = new PublishOptions(parse.GetValue(bucket), parse.GetValue(region), parse.GetValue(publishOptions)) { WaitUntilDeployable = false };
            foreach (var group in loaded.GroupBy(p => FirstNonEmpty(flags.Region, p.Config.Publish.Region)))
            {
                await using var target = await CloudTarget.OpenAsync(parse, options, group.Key, ct);
                await cli.Out.WriteLineAsync($"publishing to {target.Description}");
                var publisher = new ComponentPublisher(target.Clients, cli.Out);
                var created = new List<PublishResult>();
                foreach (var project in group)
                {
                    if (!Directory.Exists(project.ComponentArtifactsDirectory))
                    {
                        await cli.Out.WriteLineAsync($"{project.Config.ComponentName} is not built; building it before publishing it");
                        await ComponentBuilder.BuildAsync(project, cli.Out, ct);
                    }

                    created.Add(await publisher.PublishAsync(project, flags, ct));
                }

                results.AddRange(await Task.WhenAll(created.Select(c => publisher.WaitDeployableAsync(c, flags.DeployableTimeout, ct))));
            }

            await cli.Out.WriteLineAsync();
            await Table.WriteAsync(cli.Out, ["Component", "Version", "Artifacts", "Uploaded", "State", "Time"], results.Select(r => new[]
            {
                r.ComponentName,
                r.Version,
                ComponentPublisher.Size(r.Artifacts.Sum(a => a.Bytes)) + $" in {r.Artifacts.Count}",
                r.Artifacts.Count(a => a.Uploaded) + " of " + r.Artifacts.Count,
                r.State,
                r.Elapsed.TotalSeconds.ToString("0.0 s", CultureInfo.InvariantCulture),
            }));
            return 0;
        });
        return command;
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));
}
