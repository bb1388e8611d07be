using System.CommandLine;
using Fogline.LocalCloud.Devices;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline cloud device add THING [--group GROUP]… [--attribute KEY=VALUE]…</c>: what the Greengrass installer's
/// <c>--provision true</c> does for a core device, against the local cloud: registers the thing (CreateThing, with its
/// attributes), puts it in its thing groups (made when missing: CreateThingGroup, AddThingToThingGroup), issues its
/// certificate from the devices' CA and writes its initial Nucleus configuration with the cloud's endpoints. Start
/// the device with the <c>local-nucleus start</c> line it prints.
/// </summary>
internal static class CloudDeviceCommand
{
    public static Command Create(GlobalOptions options)
    {
        var device = new Command("device", "Core devices of the local cloud: certificates and initial configurations.");
        var thing = new Argument<string>("THING") { Description = "The core device's thing name." };
        var groups = new Option<string[]>("--group", "-g") { Description = "A thing group to put it in (made when missing; repeatable).", AllowMultipleArgumentsPerToken = false };
        var attributes = new Option<string[]>("--attribute") { Description = "A thing attribute KEY=VALUE (repeatable), e.g. site=north." };
        var region = new Option<string>("--region") { Description = "The region it registers in (default us-east-1).", DefaultValueFactory = _ => "us-east-1" };
        var add = new Command("add", "Register a core device in the local cloud and write its certificate and initial Nucleus configuration.") { thing, groups, attributes, region };
        CliContext.SetAction(add, async (cli, parse, ct) =>
        {
            var directory = options.CloudDirectory(parse);
            var name = parse.GetValue(thing)!;
            var thingAttributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(attributes) ?? [])
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    throw new CliException($"--attribute takes KEY=VALUE, not '{pair}'");
                }

                thingAttributes[pair[..equals]] = pair[(equals + 1)..];
            }

            if (DeviceEndpoints.Load(directory) is null)
            {
                throw new CliException($"no local cloud has served devices from {directory} yet: run `fogline cloud start` first (it starts the MQTT broker and the data plane)");
            }

            await using var target = await CloudTarget.OpenLocalAsync(directory, parse.GetValue(region), ct);
            var added = await DeviceProvisioner.AddAsync(target.Clients.Iot, directory, name, parse.GetValue(region)!, thingAttributes, parse.GetValue(groups) ?? [], ct);
            foreach (var group in added.CreatedGroups)
            {
                await cli.Out.WriteLineAsync($"thing group {group} created");
            }

            var provisioned = added.Device;
            var inGroups = parse.GetValue(groups) is { Length: > 0 } g ? " in " + string.Join(", ", g) : string.Empty;
            await cli.Out.WriteLineAsync($"core device {name} registered ({added.ThingArn}){inGroups}; certificate, key and configuration in {provisioned.Directory}");
            await cli.Out.WriteLineAsync($"start it: local-nucleus start --root {Path.Combine(provisioned.Directory, "root")} --init-config {provisioned.ConfigFile}");
            return 0;
        });
        device.Subcommands.Add(add);
        return device;
    }
}
