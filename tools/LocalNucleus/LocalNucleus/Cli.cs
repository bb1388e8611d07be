using System.CommandLine;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Cli;

/// <summary>The command line of the local Nucleus: one command class per verb in Commands/.</summary>
internal static class Cli
{
    public static async Task<int> Main(string[] args)
    {
        var root = new Option<string>("--root", "--ggcRootPath") { Description = "The Nucleus root directory.", Required = true };
        var command = new RootCommand("Fogline's local Greengrass Nucleus: the Nucleus's IPC, on one machine, for components in any language.");
        command.Subcommands.Add(Commands.StartCommand.Create(root));
        return await command.Parse(args).InvokeAsync();
    }

    /// <summary>Prints one clear line to stderr and returns a non-zero exit code.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"local-nucleus: {message}");
        return 1;
    }
}

/// <summary>Log messages of the command line (event ids 2900-2999).</summary>
internal static partial class CliLog
{
    [LoggerMessage(2900, LogLevel.Information, "Local Nucleus listening on {SocketPath} as thing {ThingName}")]
    public static partial void Started(ILogger logger, string socketPath, string thingName);

    [LoggerMessage(2901, LogLevel.Information, "Component {Name} {Version}: environment in {EnvFile}")]
    public static partial void ComponentAdded(ILogger logger, string name, string version, string envFile);

    [LoggerMessage(2902, LogLevel.Information, "Stopping")]
    public static partial void Stopping(ILogger logger);
}
