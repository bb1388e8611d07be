using System.CommandLine;
using Fogline.Cli.Commands;

namespace Fogline.Cli;

/// <summary>
/// The <c>fogline</c> command line: <c>component build|publish|list</c> with GDK's semantics, and <c>cloud start|env|device add</c>
/// for the local Greengrass cloud, <c>deployment show|set|status</c>, <c>rollout run|resume|pause|status|abort</c>, <c>fleet up|down</c>. One class per verb in Commands/. Exit codes: 0 success, 1 failure (one
/// <c>error: </c> line on stderr), 2 argument errors.
/// </summary>
public static class Cli
{
    /// <summary>Exit code of argument errors.</summary>
    public const int ArgumentErrorExitCode = 2;

    /// <summary>The process entry point.</summary>
    public static Task<int> Main(string[] args)
    {
        using var interrupt = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            interrupt.Cancel();
        };
        // SIGTERM (fogline fleet down, a service manager) stops the long-running verbs as Ctrl-C does.
        using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            interrupt.Cancel();
        });
        return RunAsync(args, Console.Out, Console.Error, interrupt.Token);
    }

    /// <summary>Runs the command line in-process; cancelling stops long-running verbs (<c>cloud start</c>) with exit code 0.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var options = new GlobalOptions();
        var command = new RootCommand("Build and publish AWS IoT Greengrass V2 components as GDK does, to AWS or to a local Greengrass cloud.");
        options.AddTo(command);
        var component = new Command("component", "Build, publish and list components (GDK's `gdk component` verbs).");
        component.Subcommands.Add(ComponentBuildCommand.Create(options));
        component.Subcommands.Add(ComponentPublishCommand.Create(options));
        component.Subcommands.Add(ComponentListCommand.Create(options));
        command.Subcommands.Add(component);
        var cloud = new Command("cloud", "The local Greengrass cloud: S3, STS and Greengrass V2 on loopback, state on disk.");
        cloud.Subcommands.Add(CloudStartCommand.Create(options));
        cloud.Subcommands.Add(CloudEnvCommand.Create(options));
        cloud.Subcommands.Add(CloudDeviceCommand.Create(options));
        command.Subcommands.Add(cloud);
        command.Subcommands.Add(DeploymentCommands.Create(options));
        command.Subcommands.Add(RolloutCommands.Create(options));
        command.Subcommands.Add(FleetCommands.Create(options));

        var parse = command.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var parseError in parse.Errors)
            {
                await error.WriteLineAsync($"error: {parseError.Message}");
            }

            return ArgumentErrorExitCode;
        }

        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }
}
