using System.CommandLine;
using Fogline.LocalCloud;
using Fogline.LocalCloud.Devices;
using Fogline.Mqtt;
using Fogline.Mqtt.Broker;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline cloud start</c>: serves the local Greengrass cloud on loopback until interrupted, state in the cloud
/// directory (a restart loses nothing). With it the devices' side, as AWS IoT Core is: a Mosquitto broker with
/// mutual TLS and per-device topics (or a running broker it joins), the devices' CA, and the Greengrass data plane,
/// so that local Nucleus devices added with <c>fogline cloud device add</c> take deployments. Commands and tests
/// started meanwhile use it instead of starting their own.
/// </summary>
internal static class CloudStartCommand
{
    /// <summary>The port used when none is given.</summary>
    public const int DefaultPort = 4580;

    public static Command Create(GlobalOptions options)
    {
        var port = new Option<int>("--port") { Description = $"The loopback port of the AWS APIs (default {DefaultPort}; 0 for any free one).", DefaultValueFactory = _ => DefaultPort };
        var mqttPort = new Option<int>("--mqtt-port") { Description = "The port of the devices' MQTT broker (default 8883, as AWS IoT Core's; 0 for any free one).", DefaultValueFactory = _ => 8883 };
        var dataPlanePort = new Option<int>("--data-plane-port") { Description = "The port of the Greengrass data plane devices resolve components at (default 8443, as AWS's; 0 for any free one).", DefaultValueFactory = _ => 8443 };
        var noDevices = new Option<bool>("--no-devices") { Description = "Serve the AWS APIs only: no broker, no data plane (components can be published, deployments reach no device)." };
        var brokerEndpoint = new Option<string?>("--mqtt-endpoint") { Description = "Join this running broker (HOST or HOST:PORT) instead of starting Mosquitto; with --mqtt-cert, --mqtt-key and --mqtt-root-ca for the cloud's own connection, which must be allowed every topic." };
        var brokerCertificate = new Option<string?>("--mqtt-cert") { Description = "The cloud's client certificate for --mqtt-endpoint, PEM." };
        var brokerKey = new Option<string?>("--mqtt-key") { Description = "The cloud's private key for --mqtt-endpoint, PEM." };
        var brokerRootCa = new Option<string?>("--mqtt-root-ca") { Description = "The CA of --mqtt-endpoint's certificate, PEM." };
        var command = new Command("start", "Serve the local Greengrass cloud (S3, STS, AWS IoT, Greengrass V2) on 127.0.0.1 until interrupted, with the devices' MQTT broker and data plane.")
        {
            port, mqttPort, dataPlanePort, noDevices, brokerEndpoint, brokerCertificate, brokerKey, brokerRootCa,
        };
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var directory = options.CloudDirectory(parse);
            DeviceNetworkOptions? devices = null;
            if (!parse.GetValue(noDevices))
            {
                devices = new DeviceNetworkOptions
                {
                    MqttPort = parse.GetValue(mqttPort),
                    DataPlanePort = parse.GetValue(dataPlanePort),
                    ExternalBroker = ExternalBroker(parse.GetValue(brokerEndpoint), parse.GetValue(brokerCertificate), parse.GetValue(brokerKey), parse.GetValue(brokerRootCa)),
                };
                if (devices.ExternalBroker is null && !MosquittoServer.IsInstalled)
                {
                    throw new CliException($"the devices' MQTT broker needs Mosquitto ({MosquittoServer.Executable}): apt-get install mosquitto, or join a running broker with --mqtt-endpoint, or serve the AWS APIs only with --no-devices");
                }
            }

            LocalCloudDirectory cloud;
            try
            {
                cloud = await LocalCloudDirectory.OpenAsync(directory, reuseRunning: false, parse.GetValue(port), devices: devices, cancellationToken: ct);
            }
            catch (InvalidOperationException ex) when (devices is not null)
            {
                throw new CliException("the devices' side did not start: " + ex.Message);
            }

            await using (cloud)
            {
                await cli.Out.WriteLineAsync($"local Greengrass cloud on {cloud.Endpoint} (account {cloud.Keys.Default.AccountId}; state in {directory})");
                if (cloud.Network is { } network && cloud.Server is { } server)
                {
                    var (host, mqtt) = network.MqttEndpoint;
                    var broker = network.Broker is null ? "joined" : "Mosquitto, log " + network.Broker.LogFile;
                    await cli.Out.WriteLineAsync($"devices: MQTT on {host}:{mqtt} ({broker}; mutual TLS, devices' CA {network.Authority.CaCertificateFile}), Greengrass data plane on {server.DataPlaneEndpoint}");
                    await cli.Out.WriteLineAsync("add a core device: fogline cloud device add THING --group GROUP" + CloudDirFlag(parse, options, directory));
                }

                await cli.Out.WriteLineAsync($"to use it from the AWS CLI: eval \"$(fogline cloud env{CloudDirFlag(parse, options, directory)})\"");
                await cli.Out.FlushAsync(ct);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }

                await cli.Out.WriteLineAsync("local Greengrass cloud stopped");
            }

            return 0;
        });
        return command;
    }

    private static string CloudDirFlag(ParseResult parse, GlobalOptions options, string directory) =>
        parse.GetValue(options.CloudDir) is null ? string.Empty : " --cloud-dir " + directory;

    private static MqttBrokerOptions? ExternalBroker(string? endpoint, string? certificate, string? key, string? rootCa)
    {
        if (endpoint is null)
        {
            return certificate is null && key is null && rootCa is null
                ? null
                : throw new CliException("--mqtt-cert, --mqtt-key and --mqtt-root-ca go with --mqtt-endpoint");
        }

        if (certificate is null || key is null || rootCa is null)
        {
            throw new CliException("--mqtt-endpoint needs --mqtt-cert, --mqtt-key and --mqtt-root-ca (the cloud's connection to it)");
        }

        var colon = endpoint.LastIndexOf(':');
        var port = 8883;
        if (colon > 0 && !int.TryParse(endpoint[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port))
        {
            throw new CliException($"--mqtt-endpoint takes HOST or HOST:PORT, not '{endpoint}'");
        }

        return new MqttBrokerOptions
        {
            Endpoint = colon > 0 ? endpoint[..colon] : endpoint,
            Port = port,
            ClientId = DeviceNetwork.CloudClient,
            CertificateFile = Path.GetFullPath(certificate),
            PrivateKeyFile = Path.GetFullPath(key),
            RootCaFile = Path.GetFullPath(rootCa),
        };
    }
}
