using System.CommandLine;
using System.Globalization;
using Fogline.Aws;
using Fogline.Aws.Iot;
using Fogline.Fleet;
using Fogline.LocalCloud.Devices;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline fleet up|down</c>: a simulated fleet for the running local cloud (<c>fogline cloud start</c>).
/// <c>up</c> registers N things in a thing group (attributes <c>site</c> and <c>architecture</c>, a certificate each)
/// and runs their local Nucleus devices in this process until interrupted (<see cref="SimulatedFleet"/>);
/// <c>down</c> stops a running <c>up</c> and removes the things, the group and the devices' roots.
/// </summary>
internal static class FleetCommands
{
    public static Command Create(GlobalOptions options)
    {
        var fleet = new Command("fleet", "A simulated fleet of local Nucleus devices connected to the local cloud, to rehearse deployments and rollouts.");
        fleet.Subcommands.Add(Up(options));
        fleet.Subcommands.Add(Down(options));
        return fleet;
    }

    private static string PidFile(string cloudDirectory, string group) => Path.Combine(cloudDirectory, "fleet", group + ".pid");

    private static Command Up(GlobalOptions options)
    {
        var devices = new Option<int>("--devices", "-n") { Description = "How many devices (default 10).", DefaultValueFactory = _ => 10 };
        var group = new Option<string>("--group", "-g") { Description = "The thing group they join (default fleet).", DefaultValueFactory = _ => "fleet" };
        var prefix = new Option<string>("--prefix") { Description = "Thing names are PREFIX-0001… (default sim).", DefaultValueFactory = _ => "sim" };
        var offline = new Option<double>("--offline") { Description = "The share of devices (percent) registered but offline." };
        var silent = new Option<double>("--silent") { Description = "The share of devices (percent) connected but never answering deployments." };
        var command = new Command("up", "Register N devices in the running local cloud and run them here until interrupted.") { devices, group, prefix, offline, silent };
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var directory = options.CloudDirectory(parse);
            if (DeviceEndpoints.Load(directory) is null || !File.Exists(Path.Combine(directory, "endpoint")))
            {
                throw new CliException($"no local cloud with devices is running on {directory}: start one with `fogline cloud start`");
            }

            var count = parse.GetValue(devices);
            if (count is < 1 or > 10_000)
            {
                throw new CliException($"--devices: from 1 to 10000, not {count}");
            }

            foreach (var share in new[] { ("--offline", parse.GetValue(offline)), ("--silent", parse.GetValue(silent)) })
            {
                if (share.Item2 is < 0 or > 100)
                {
                    throw new CliException($"{share.Item1}: a percentage from 0 to 100, not {share.Item2}");
                }
            }

            await using var target = await CloudTarget.OpenLocalAsync(directory, "us-east-1", ct);
            var pid = PidFile(directory, parse.GetValue(group)!);
            Directory.CreateDirectory(Path.GetDirectoryName(pid)!);
            await File.WriteAllTextAsync(pid, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), ct);
            try
            {
                await using var fleet = await SimulatedFleet.StartAsync(new FleetOptions
                {
                    CloudDirectory = directory,
                    Group = parse.GetValue(group)!,
                    Devices = count,
                    Prefix = parse.GetValue(prefix)!,
                    OfflineShare = parse.GetValue(offline) / 100,
                    SilentShare = parse.GetValue(silent) / 100,
                }, target.Clients.Iot, progress: line => cli.Out.WriteLine(line), cancellationToken: ct);
                await cli.Out.WriteLineAsync($"fleet of {count} in thing group {parse.GetValue(group)} running (Ctrl-C or `fogline fleet down` to stop)");
                await cli.Out.FlushAsync(ct);
                try
                {
                    await Task.Delay(Timeout.Infinite, ct);
                }
                catch (OperationCanceledException)
                {
                }

                await cli.Out.WriteLineAsync("fleet stopped");
            }
            finally
            {
                File.Delete(pid);
            }

            return 0;
        });
        return command;
    }

    private static Command Down(GlobalOptions options)
    {
        var group = new Option<string>("--group", "-g") { Description = "The fleet's thing group (default fleet).", DefaultValueFactory = _ => "fleet" };
        var command = new Command("down", "Stop the fleet running in another process and remove its things, group and device roots.") { group };
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var directory = options.CloudDirectory(parse);
            var name = parse.GetValue(group)!;
            var pid = PidFile(directory, name);
            if (File.Exists(pid) && int.TryParse(await File.ReadAllTextAsync(pid, ct), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                try
                {
                    using var process = System.Diagnostics.Process.GetProcessById(id);
                    using var signal = System.Diagnostics.Process.Start("kill", ["-TERM", id.ToString(CultureInfo.InvariantCulture)]);
                    await signal.WaitForExitAsync(ct);
                    await process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
                    await cli.Out.WriteLineAsync($"stopped the fleet (process {id})");
                }
                catch (ArgumentException)
                {
                    // Not running any more.
                }
            }

            await using var target = await CloudTarget.OpenLocalAsync(directory, "us-east-1", ct);
            var iot = target.Clients.Iot;
            var removed = 0;
            string? next = null;
            var things = new List<string>();
            try
            {
                do
                {
                    var page = await iot.ListThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = name, NextToken = next }, ct);
                    things.AddRange(page.Things ?? []);
                    next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
                }
                while (next is not null);
            }
            catch (AwsServiceException ex) when (ex.Code == "ResourceNotFoundException")
            {
                throw new CliException($"no thing group {name} in the local cloud");
            }

            foreach (var thing in things)
            {
                await iot.RemoveThingFromThingGroupAsync(new RemoveThingFromThingGroupRequest { ThingName = thing, ThingGroupName = name }, ct);
                await iot.DeleteThingAsync(new DeleteThingRequest { ThingName = thing }, ct);
                var root = Path.Combine(directory, "fleet", thing);
                if (Directory.Exists(root))
                {
                    Directory.Delete(root, recursive: true);
                }

                var device = Path.Combine(directory, "devices", "things", thing);
                if (Directory.Exists(device))
                {
                    Directory.Delete(device, recursive: true);
                }

                removed++;
            }

            await iot.DeleteThingGroupAsync(new DeleteThingGroupRequest { ThingGroupName = name }, ct);
            await cli.Out.WriteLineAsync($"removed {removed} thing(s) and thing group {name}");
            return 0;
        });
        return command;
    }
}
