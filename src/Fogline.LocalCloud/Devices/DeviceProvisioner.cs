using System.Globalization;
using Fogline.Aws;
using Fogline.Aws.Iot;

namespace Fogline.LocalCloud.Devices;

/// <summary>
/// Gives a device what the Greengrass installer gives a core device (<c>--provision true</c>): its certificate and
/// private key, the root CA, and an initial Nucleus configuration naming them with the endpoints of the local cloud,
/// in <c>devices/things/THING/</c> of the cloud directory. Start the device with
/// <c>local-nucleus start --init-config THAT/config.yaml</c>. <see cref="AddAsync"/> also registers the thing and
/// its groups through the IoT registry API, as the installer calls CreateThing and AddThingToThingGroup.
/// </summary>
public static class DeviceProvisioner
{
    /// <summary>A device added: its thing's ARN, the groups made for it, and its files.</summary>
    /// <param name="ThingArn">The thing's ARN.</param>
    /// <param name="CreatedGroups">The thing groups that did not exist and were made.</param>
    /// <param name="Device">Its certificate, key, root CA and configuration.</param>
    public sealed record AddedDevice(string ThingArn, IReadOnlyList<string> CreatedGroups, ProvisionedDevice Device);

    /// <summary>
    /// Registers <paramref name="thingName"/> (CreateThing with <paramref name="attributes"/>; added again without
    /// attributes, the existing thing stays as it is), puts it in <paramref name="groups"/> (made when missing) and
    /// provisions it (<see cref="Provision"/>).
    /// </summary>
    public static async Task<AddedDevice> AddAsync(IotClient iot, string cloudDirectory, string thingName, string region, IReadOnlyDictionary<string, string> attributes, IReadOnlyList<string> groups, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(iot);
        ArgumentNullException.ThrowIfNull(attributes);
        ArgumentNullException.ThrowIfNull(groups);
        string arn;
        try
        {
            arn = (await iot.CreateThingAsync(new CreateThingRequest
            {
                ThingName = thingName,
                AttributePayload = attributes.Count == 0 ? null : new AttributePayload { Attributes = new Dictionary<string, string>(attributes, StringComparer.Ordinal) },
            }, cancellationToken).ConfigureAwait(false)).ThingArn!;
        }
        catch (AwsServiceException ex) when (ex.Code == "ResourceAlreadyExistsException" && attributes.Count == 0)
        {
            // Added again (a new certificate): the thing stays as it is.
            arn = (await iot.DescribeThingAsync(new DescribeThingRequest { ThingName = thingName }, cancellationToken).ConfigureAwait(false)).ThingArn!;
        }

        var created = new List<string>();
        foreach (var group in groups)
        {
            try
            {
                await iot.DescribeThingGroupAsync(new DescribeThingGroupRequest { ThingGroupName = group }, cancellationToken).ConfigureAwait(false);
            }
            catch (AwsServiceException ex) when (ex.Code == "ResourceNotFoundException")
            {
                try
                {
                    await iot.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = group }, cancellationToken).ConfigureAwait(false);
                    created.Add(group);
                }
                catch (AwsServiceException raced) when (raced.Code == "ResourceAlreadyExistsException")
                {
                    // Made meanwhile by a device added beside this one.
                }
            }

            await iot.AddThingToThingGroupAsync(new AddThingToThingGroupRequest { ThingName = thingName, ThingGroupName = group }, cancellationToken).ConfigureAwait(false);
        }

        return new AddedDevice(arn, created, Provision(cloudDirectory, thingName, region));
    }

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
