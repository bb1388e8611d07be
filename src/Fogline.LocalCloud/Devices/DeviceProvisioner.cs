using System.Globalization;

namespace Fogline.LocalCloud.Devices;

/// <summary>
/// Gives a device what the Greengrass installer gives a core device (<c>--provision true</c>): its certificate and
/// private key, the root CA, and an initial Nucleus configuration naming them with the endpoints of the local cloud,
/// in <c>devices/things/THING/</c> of the cloud directory. Start the device with
/// <c>local-nucleus start --init-config THAT/config.yaml</c>. Registering the thing and its groups is the caller's
/// (the IoT registry API), as the installer calls CreateThing and AddThingToThingGroup.
/// </summary>
public static class DeviceProvisioner
{
    /// <summary>A provisioned device's folder and its configuration file.</summary>
    /// <param name="Directory">The folder with the certificate, key, root CA and configuration.</param>
    /// <param name="ConfigFile">The initial Nucleus configuration (YAML).</param>
    public sealed record ProvisionedDevice(string Directory, string ConfigFile);

    /// <summary>
    /// Issues <paramref name="thingName"/>'s certificate and writes its initial configuration; asked again, a new
    /// certificate replaces the previous one.
    /// </summary>
    /// <exception cref="InvalidOperationException">No cloud has served devices from this directory yet (no endpoints).</exception>
    public static ProvisionedDevice Provision(string cloudDirectory, string thingName, string region)
    {
        ArgumentNullException.ThrowIfNull(cloudDirectory);
        ArgumentException.ThrowIfNullOrEmpty(thingName);
        ArgumentException.ThrowIfNullOrEmpty(region);
        var endpoints = DeviceEndpoints.Load(cloudDirectory)
            ?? throw new InvalidOperationException($"no local cloud has served devices from {cloudDirectory} yet: run `fogline cloud start` first (it starts the MQTT broker and the data plane and records where they are)");
        var authority = DeviceNetwork.OpenAuthority(cloudDirectory);
        var issued = authority.IssueClient(thingName);
        var directory = Path.Combine(cloudDirectory, "devices", "things", thingName);
        Directory.CreateDirectory(directory);
        var certificate = Path.Combine(directory, "device.pem.crt");
        var key = Path.Combine(directory, "private.pem.key");
        var rootCa = Path.Combine(directory, "root.ca.pem");
        File.Move(issued.CertificateFile, certificate, overwrite: true);
        File.Move(issued.PrivateKeyFile, key, overwrite: true);
        File.Copy(endpoints.RootCaFile, rootCa, overwrite: true);
        var config = Path.Combine(directory, "config.yaml");
        File.WriteAllText(config, string.Create(CultureInfo.InvariantCulture, $"""
            # The initial Nucleus configuration of {thingName}, written by `fogline cloud device add`:
            #   local-nucleus start --root <root> --init-config {config}
            system:
              certificateFilePath: "{certificate}"
              privateKeyPath: "{key}"
              rootCaPath: "{rootCa}"
              thingName: "{thingName}"
            services:
              aws.greengrass.Nucleus:
                componentType: NUCLEUS
                configuration:
                  awsRegion: "{region}"
                  iotDataEndpoint: "{endpoints.MqttHost}"
                  greengrassDataPlaneEndpoint: "{endpoints.DataPlane.Host}"
                  greengrassDataPlanePort: {endpoints.DataPlane.Port}
                  mqtt:
                    port: {endpoints.MqttPort}

            """));
        return new ProvisionedDevice(directory, config);
    }
}
