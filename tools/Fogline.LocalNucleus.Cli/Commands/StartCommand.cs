using Fogline.LocalNucleus.CliAccess;
using System.CommandLine;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>start</c>: runs a local Nucleus on a root directory in the foreground until SIGINT or SIGTERM. Components come
/// from an initial configuration file in the Nucleus's own <c>--init-config</c> format
/// (<c>services.&lt;name&gt;.version</c> and <c>services.&lt;name&gt;.configuration</c>). The Nucleus serves CLI access
/// (<c>&lt;root&gt;/cli_ipc_info</c>, <c>&lt;root&gt;/cloud-control.socket</c>) so the other verbs can drive it. When
/// stdout is a terminal it shows a live status view (<see cref="StatusView"/>); otherwise it logs plain lines.
/// </summary>
internal static class StartCommand
{
    private static readonly HashSet<string> NotComponents = new(StringComparer.Ordinal) { "aws.greengrass.Nucleus", "main", "DeploymentService", "FleetStatusService", "TelemetryAgent", "UpdateSystemPolicyService" };

    public static Command Create(Option<string> rootOption)
    {
        var initConfig = new Option<FileInfo?>("--init-config") { Description = "A Nucleus configuration file (YAML or JSON) whose services become components." };
        var thingName = new Option<string?>("--thing-name") { Description = "The core device's thing name (default: system.thingName of the init config, else LocalCoreDevice)." };
        var recipeDir = new Option<string?>("--recipeDir", "-r") { Description = "Deploy at start: the directory of the recipes." };
        var artifactDir = new Option<string?>("--artifactDir", "-a") { Description = "Deploy at start: the directory of the artifacts (NAME/VERSION/file)." };
        var merge = new Option<string[]>("--merge", "-m") { Description = "Deploy at start: a root component NAME=VERSION (repeatable)." };
        var iotEndpoint = new Option<string?>("--iot-endpoint") { Description = "Connect to this MQTT broker (AWS IoT Core's data endpoint, or a test broker) with mutual TLS instead of the emulated IoT Core (iotDataEndpoint)." };
        var mqttPort = new Option<int?>("--mqtt-port") { Description = "The broker's port (mqtt.port; default 8883)." };
        var certificate = new Option<string?>("--cert") { Description = "The device certificate, PEM (system.certificateFilePath)." };
        var privateKey = new Option<string?>("--private-key") { Description = "The device's private key, PEM (system.privateKeyPath)." };
        var rootCa = new Option<string?>("--root-ca") { Description = "The CA the broker's certificate chains to, PEM (system.rootCaPath)." };
        var dataPlane = new Option<string?>("--data-plane-endpoint") { Description = "Take cloud deployments (IoT Jobs over the MQTT connection) and resolve their components at this Greengrass data plane, e.g. https://greengrass-ats.iot.us-east-1.amazonaws.com:8443 (greengrassDataPlaneEndpoint and greengrassDataPlanePort)." };
        var command = new Command("start", "Run the local Nucleus in the foreground until SIGINT/SIGTERM; with --merge, deploy components as it starts.");
        command.Options.Add(initConfig);
        command.Options.Add(thingName);
        command.Options.Add(recipeDir);
        command.Options.Add(artifactDir);
        command.Options.Add(merge);
        command.Options.Add(iotEndpoint);
        command.Options.Add(mqttPort);
        command.Options.Add(certificate);
        command.Options.Add(privateKey);
        command.Options.Add(rootCa);
        command.Options.Add(dataPlane);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var root = Path.GetFullPath(parse.GetValue(rootOption) ?? Cli.DefaultRoot);
            JsonObject? config = null;
            if (parse.GetValue(initConfig) is { } file)
            {
                if (!file.Exists)
                {
                    return await FailAsync(error, $"the init config {file.FullName} does not exist");
                }

                try
                {
                    config = Fogline.Greengrass.Recipes.ConfigurationDocument.Parse(await File.ReadAllTextAsync(file.FullName, cancellationToken), file.FullName) as JsonObject;
                }
                catch (Fogline.Greengrass.Recipes.RecipeException ex)
                {
                    return await FailAsync(error, string.Join("\n", ex.Errors));
                }
            }

            var thing = parse.GetValue(thingName) ?? config?["system"]?["thingName"]?.GetValue<string>() ?? "LocalCoreDevice";

            // The IoT Core connection: the init config's, with the flags taking precedence.
            IoTCore.IoTCoreOptions iotCore;
            Uri? dataPlaneEndpoint;
            try
            {
                config ??= [];
                var system = config["system"] as JsonObject ?? (JsonObject)(config["system"] = new JsonObject());
                var configured = config["services"] as JsonObject ?? (JsonObject)(config["services"] = new JsonObject());
                var nucleusService = configured[IoTCore.Mqtt.NucleusMqttConfiguration.NucleusComponent] as JsonObject ?? (JsonObject)(configured[IoTCore.Mqtt.NucleusMqttConfiguration.NucleusComponent] = new JsonObject());
                var nucleusConfig = nucleusService["configuration"] as JsonObject ?? (JsonObject)(nucleusService["configuration"] = new JsonObject());
                void Set(JsonObject parent, string name, string? value)
                {
                    if (value is not null)
                    {
                        parent[name] = value;
                    }
                }

                Set(nucleusConfig, "iotDataEndpoint", parse.GetValue(iotEndpoint));
                Set(system, "certificateFilePath", parse.GetValue(certificate) is { } c ? Path.GetFullPath(c) : null);
                Set(system, "privateKeyPath", parse.GetValue(privateKey) is { } k ? Path.GetFullPath(k) : null);
                Set(system, "rootCaPath", parse.GetValue(rootCa) is { } r ? Path.GetFullPath(r) : null);
                if (parse.GetValue(mqttPort) is { } port)
                {
                    var mqtt = nucleusConfig["mqtt"] as JsonObject ?? (JsonObject)(nucleusConfig["mqtt"] = new JsonObject());
                    mqtt["port"] = port;
                }

                iotCore = IoTCore.Mqtt.NucleusMqttConfiguration.Read(config, parse.GetValue(initConfig)?.DirectoryName ?? Environment.CurrentDirectory, thing);
                dataPlaneEndpoint = parse.GetValue(dataPlane) is { } flag ? new Uri(flag) : IoTCore.Mqtt.NucleusMqttConfiguration.DataPlane(config);
                if (dataPlaneEndpoint is not null && iotCore.Broker is null)
                {
                    return await FailAsync(error, "cloud deployments need the connection to IoT Core: --iot-endpoint, --cert, --private-key and --root-ca (or the init config's)");
                }
            }
            catch (Exception ex) when (ex is FormatException or UriFormatException)
            {
                return await FailAsync(error, ex.Message);
            }

            // The live view owns the terminal: it shows the state instead of log lines.
            var live = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            // The local Nucleus's own log always goes to <root>/logs/greengrass.log, as the Nucleus's does.
            Directory.CreateDirectory(Path.Combine(root, "logs"));
            using var loggerFactory = LoggerFactory.Create(b =>
            {
                b.SetMinimumLevel(LogLevel.Information);
                b.AddProvider(new Lifecycle.FileLoggerProvider(Path.Combine(root, "logs", "greengrass.log")));
                if (!live)
                {
                    b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
                }
            });
            var log = loggerFactory.CreateLogger("local-nucleus");
            Nucleus started;
            try
            {
                started = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, ThingName = thing, IoTCore = iotCore, DataPlaneEndpoint = dataPlaneEndpoint }, loggerFactory);
            }
            catch (Lifecycle.NucleusAlreadyRunningException ex)
            {
                return await FailAsync(error, ex.Message);
            }

            await using var nucleus = started;
            if (nucleus.RootLock.PreviousOwnerDied)
            {
                CliLog.StaleRoot(log, root, nucleus.RootLock.KilledLeftovers.Count);
            }

            nucleus.EnableCliAccess();
            CliLog.Started(log, nucleus.SocketPath, thing);
            CliLog.CliAccess(log, CliIpcInfo.DirectoryFor(root), CloudControlServer.SocketPathFor(root));

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

            nucleus.Components.StateChanged += (_, change) => CliLog.ComponentState(log, change.Component.Name, change.Current.Value);
            nucleus.IoTCore.StateChanged += (_, change) => CliLog.Connection(log, change.IsOnline ? "up" : "down");

            if (parse.GetValue(merge) is { Length: > 0 } roots)
            {
                var versions = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var value in roots)
                {
                    var equals = value.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0 || equals == value.Length - 1)
                    {
                        return await FailAsync(error, $"--merge takes NAME=VERSION, not '{value}'");
                    }

                    versions[value[..equals]] = value[(equals + 1)..];
                }

                try
                {
                    var id = nucleus.Deployments.Submit(new Fogline.Greengrass.Ipc.CreateLocalDeploymentRequest
                    {
                        RecipeDirectoryPath = parse.GetValue(recipeDir) is { } r ? Path.GetFullPath(r) : null,
                        ArtifactsDirectoryPath = parse.GetValue(artifactDir) is { } a ? Path.GetFullPath(a) : null,
                        RootComponentVersionsToAdd = versions,
                    });
                    CliLog.DeploymentSubmitted(log, id);
                    if (!live)
                    {
                        await output.WriteLineAsync("Local deployment submitted! Deployment Id: " + id);
                    }
                }
                catch (Deployments.DeploymentValidationException ex)
                {
                    return await FailAsync(error, "the deployment is invalid:\n" + string.Join("\n", ex.Errors));
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
                if (live)
                {
                    await StatusView.RunAsync(nucleus, stop.Token);
                }
                else
                {
                    // Without a terminal: a line every 5 s on the pipeline, once a Fogline component reports.
                    using var pipeline = new PipelineMonitor(nucleus);
                    while (!stop.IsCancellationRequested)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(5), stop.Token);
                        if (pipeline.HasData)
                        {
                            CliLog.Pipeline(log, pipeline.Summary());
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }

            CliLog.Stopping(log);
            return 0;
        });
        return command;
    }

    private static async Task<int> FailAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync("error: " + message);
        return 1;
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
