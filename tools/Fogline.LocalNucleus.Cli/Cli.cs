using System.CommandLine;
using Fogline.LocalNucleus.Cli.Commands;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Cli;

/// <summary>
/// The command line of the local Nucleus, mirroring greengrass-cli: one command class per verb in Commands/. Every
/// verb finds the running Nucleus by its root (<c>--root</c>/<c>--ggcRootPath</c>, default <see cref="DefaultRoot"/>).
/// Exit codes: 0 success, 1 usage or server errors, 2 argument errors; errors are one line on stderr starting with
/// <c>error: </c>.
/// </summary>
public static class Cli
{
    /// <summary>The root directory used when none is given.</summary>
    public const string DefaultRoot = ".local-nucleus";

    /// <summary>Exit code of argument errors.</summary>
    public const int ArgumentErrorExitCode = 2;

    /// <summary>The process entry point.</summary>
    public static Task<int> Main(string[] args)
    {
        // Before any socket: IPC messages are handled on the socket event threads (see SocketCompletions).
        Fogline.EventStream.Transport.SocketCompletions.PreferInline();
        return RunAsync(args, Console.Out, Console.Error);
    }

    /// <summary>Runs the command line in-process with its output and errors going to the given writers; cancelling stops long-running verbs (start, sub, --follow) with exit code 0.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var root = new Option<string>("--root", "--ggcRootPath")
        {
            Description = $"The Nucleus root directory (default {DefaultRoot}).",
            DefaultValueFactory = _ => DefaultRoot,
            Recursive = true,
        };
        var command = new RootCommand("Fogline's local Greengrass Nucleus: the Nucleus's IPC, on one machine, for components in any language.");
        command.Options.Add(root);
        command.Subcommands.Add(StartCommand.Create(root));
        command.Subcommands.Add(DeploymentCommand.Create(root));
        command.Subcommands.Add(ComponentCommand.Create(root));
        command.Subcommands.Add(LogsCommand.Create(root));
        command.Subcommands.Add(PubSubCommand.Create(root));
        command.Subcommands.Add(IoTCoreCommand.Create(root));
        command.Subcommands.Add(CloudCommand.Create(root));

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

/// <summary>Log messages of the command line (event ids 2900-2999).</summary>
internal static partial class CliLog
{
    [LoggerMessage(2911, LogLevel.Information, "{Summary}")]
    public static partial void Pipeline(ILogger logger, string summary);

    [LoggerMessage(2910, LogLevel.Information, "Deployment {DeploymentId} submitted")]
    public static partial void DeploymentSubmitted(ILogger logger, string deploymentId);

    [LoggerMessage(2900, LogLevel.Information, "Local Nucleus listening on {SocketPath} as thing {ThingName}")]
    public static partial void Started(ILogger logger, string socketPath, string thingName);

    [LoggerMessage(2901, LogLevel.Information, "Component {Name} {Version}: environment in {EnvFile}")]
    public static partial void ComponentAdded(ILogger logger, string name, string version, string envFile);

    [LoggerMessage(2902, LogLevel.Information, "Stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(2903, LogLevel.Information, "CLI access: {IpcInfoDirectory}; cloud control: {CloudControlSocket}")]
    public static partial void CliAccess(ILogger logger, string ipcInfoDirectory, string cloudControlSocket);

    [LoggerMessage(2904, LogLevel.Information, "Component {Name} is {State}")]
    public static partial void ComponentState(ILogger logger, string name, string state);

    [LoggerMessage(2905, LogLevel.Information, "IoT Core connection {State}")]
    public static partial void Connection(ILogger logger, string state);

    [LoggerMessage(2906, LogLevel.Warning, "The previous local Nucleus at {Root} did not stop cleanly; started over its files ({Killed} process groups it left were killed)")]
    public static partial void StaleRoot(ILogger logger, string root, int killed);
}
