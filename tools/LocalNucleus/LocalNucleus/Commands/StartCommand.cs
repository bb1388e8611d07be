using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>start</c>: runs a local Nucleus on a root directory in the foreground until SIGINT or SIGTERM. Components come
/// from an initial configuration file in the Nucleus's own <c>--init-config</c> format
/// (<c>services.&lt;name&gt;.version</c> and <c>services.&lt;name&gt;.configuration</c>).
/// </summary>
internal static class StartCommand
{
    private static readonly HashSet<string> NotComponents = new(StringComparer.Ordinal) { "aws.greengrass.Nucleus", "main", "DeploymentService", "FleetStatusService", "TelemetryAgent", "UpdateSystemPolicyService" };

    public static Command Create(Option<string> rootOption)
    {
        var initConfig = new Option<FileInfo?>("--init-config") { Description = "A Nucleus configuration file (YAML or JSON) whose services become components." };
        var thingName = new Option<string?>("--thing-name") { Description = "The core device's thing name (default: system.thingName of the init config, else LocalCoreDevice)." };
        var command = new Command("start", "Run the local Nucleus in the foreground until SIGINT/SIGTERM.");
        command.Options.Add(rootOption);
        command.Options.Add(initConfig);
        command.Options.Add(thingName);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = Path.GetFullPath(parse.GetRequiredValue(rootOption));
            JsonObject? config = null;
            if (parse.GetValue(initConfig) is { } file)
            {
                if (!file.Exists)
                {
                    return Cli.Fail($"the init config {file.FullName} does not exist");
                }

                try
                {
                    config = YamlJson.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken), file.FullName) as JsonObject;
                }
                catch (FormatException ex)
                {
                    return Cli.Fail(ex.Message);
                }
            }

            var thing = parse.GetValue(thingName) ?? config?["system"]?["thingName"]?.GetValue<string>() ?? "LocalCoreDevice";
            using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Information));
            var log = loggerFactory.CreateLogger("local-nucleus");
            await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, ThingName = thing }, loggerFactory);
            CliLog.Started(log, nucleus.SocketPath, thing);

            if (config?["services"] is JsonObject services)
            {
                foreach (var (name, node) in services)
                {
                    if (NotComponents.Contains(name) || node is not JsonObject service)
                    {
                        continue;
                    }

                    var version = service["version"]?.GetValue<string>() ?? "0.0.0";
                    var record = nucleus.AddComponent(name, version, service["configuration"] as JsonObject);
                    var envFile = Path.Combine(nucleus.WorkPath(name), ".ipc.env");
                    await WriteEnvironmentFileAsync(envFile, nucleus.EnvironmentFor(record), cancellationToken);
                    CliLog.ComponentAdded(log, name, version, envFile);
                }
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stop.Cancel();
            });
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            CliLog.Stopping(log);
            return 0;
        });
        return command;
    }

    private static async Task WriteEnvironmentFileAsync(string path, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in environment)
        {
            text.Append("export ").Append(name).Append("='").Append(value.Replace("'", "'\\''", StringComparison.Ordinal)).Append("'\n");
        }

        // The file holds the component's token: readable by its owner only.
        await File.WriteAllTextAsync(path, string.Empty, cancellationToken);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(path, text.ToString(), cancellationToken);
    }
}
