using System.Globalization;
using System.Text.Json.Nodes;
using Fogline.Aws.Iot;
using Fogline.Greengrass.Recipes;
using Fogline.LocalCloud.Devices;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.IoTCore.Mqtt;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.Fleet;

/// <summary>What a simulated fleet is made of.</summary>
public sealed record FleetOptions
{
    /// <summary>The local cloud's directory (its devices' CA and endpoints; <c>fogline cloud start</c> must have run).</summary>
    public required string CloudDirectory { get; init; }

    /// <summary>The thing group every device joins (made when missing).</summary>
    public required string Group { get; init; }

    /// <summary>How many devices.</summary>
    public int Devices { get; init; } = 10;

    /// <summary>The devices' thing names are PREFIX-0001, PREFIX-0002…</summary>
    public string Prefix { get; init; } = "sim";

    /// <summary>The values of the <c>site</c> attribute, given in turn.</summary>
    public IReadOnlyList<string> Sites { get; init; } = ["north", "south", "east"];

    /// <summary>The values of the <c>architecture</c> attribute, given in turn.</summary>
    public IReadOnlyList<string> Architectures { get; init; } = ["amd64", "arm64"];

    /// <summary>The region the things are registered in.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>The share of devices registered but not started (offline until started).</summary>
    public double OfflineShare { get; init; }

    /// <summary>The share of devices connected but never answering deployments (no cloud deployments, no status reports).</summary>
    public double SilentShare { get; init; }

    /// <summary>Where the devices' Nucleus roots go (default: <c>fleet/</c> in the cloud directory).</summary>
    public string? RootDirectory { get; init; }

    /// <summary>How many devices are registered and started at once.</summary>
    public int Parallelism { get; init; } = 8;
}

/// <summary>A device of the fleet: its thing name, its fault, and its Nucleus while it runs.</summary>
public sealed class SimulatedDevice
{
    internal SimulatedDevice(string thing, string configFile, string root, string fault)
    {
        Thing = thing;
        ConfigFile = configFile;
        Root = root;
        Fault = fault;
    }

    /// <summary>The thing name.</summary>
    public string Thing { get; }

    /// <summary>Its initial Nucleus configuration.</summary>
    public string ConfigFile { get; }

    /// <summary>Its Nucleus root.</summary>
    public string Root { get; }

    /// <summary><c>none</c>, <c>offline</c> or <c>silent</c>.</summary>
    public string Fault { get; }

    /// <summary>Its Nucleus, while it runs.</summary>
    public Nucleus? Nucleus { get; internal set; }
}

/// <summary>
/// Many cloud-connected local Nucleus devices in one process, each the real Nucleus code (deployments, lifecycle,
/// rollback, IoT Jobs, fleet status) with its own thing, certificate, attributes (<c>site</c>, <c>architecture</c>)
/// and root, registered in the local cloud as <c>fogline cloud device add</c> registers one. Devices can be stopped
/// and started (offline and back); a share can start offline or silent.
/// </summary>
public sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly FleetOptions _options;
    private readonly ILoggerFactory _loggerFactory;

    private SimulatedFleet(FleetOptions options, IReadOnlyList<SimulatedDevice> devices, ILoggerFactory loggerFactory)
    {
        _options = options;
        Devices = devices;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The devices, in thing name order.</summary>
    public IReadOnlyList<SimulatedDevice> Devices { get; }

    /// <summary>
    /// The file the stand-in components read a fleet-wide input fault from (<see cref="SetInputFaultAsync"/>): a problem
    /// every device shares, whatever version it runs.
    /// </summary>
    public string InputFaultFile => Path.Combine(_options.RootDirectory ?? Path.Combine(_options.CloudDirectory, "fleet"), "input-fault.json");

    /// <summary>
    /// Makes every device's input go bad (<paramref name="rejectedShare"/> of the stand-ins' payloads rejected on top of
    /// their version's own share), or good again with 0; the stand-ins see it within 5 s.
    /// </summary>
    public async Task SetInputFaultAsync(double rejectedShare)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(InputFaultFile)!);
        await File.WriteAllTextAsync(InputFaultFile, string.Create(CultureInfo.InvariantCulture, $"{{\"rejectedShare\": {rejectedShare}}}")).ConfigureAwait(false);
    }

    /// <summary>The thing name of device <paramref name="index"/> (from 1).</summary>
    public static string ThingName(string prefix, int index) => string.Create(CultureInfo.InvariantCulture, $"{prefix}-{index:0000}");

    /// <summary>Registers the devices (thing, attributes, group, certificate, configuration) and starts them.</summary>
    public static async Task<SimulatedFleet> StartAsync(FleetOptions options, IotClient iot, ILoggerFactory? loggerFactory = null, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(iot);
        var say = progress ?? (_ => { });
        var root = options.RootDirectory ?? Path.Combine(options.CloudDirectory, "fleet");
        var offline = (int)Math.Round(options.Devices * options.OfflineShare);
        var silent = (int)Math.Round(options.Devices * options.SilentShare);
        var devices = new SimulatedDevice[options.Devices];
        var started = DateTime.UtcNow;
        await Parallel.ForEachAsync(Enumerable.Range(0, options.Devices), new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var thing = ThingName(options.Prefix, i + 1);
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["site"] = options.Sites[i % options.Sites.Count],
                ["architecture"] = options.Architectures[i % options.Architectures.Count],
            };
            var provisioned = (await DeviceProvisioner.AddAsync(iot, options.CloudDirectory, thing, options.Region, attributes, [options.Group], ct).ConfigureAwait(false)).Device;
            // The last devices carry the faults, so that the first ones (and any canary drawn from them) are plain.
            var fault = i >= options.Devices - offline ? "offline" : i >= options.Devices - offline - silent ? "silent" : "none";
            devices[i] = new SimulatedDevice(thing, provisioned.ConfigFile, Path.Combine(root, thing), fault);
        }).ConfigureAwait(false);

        var fleet = new SimulatedFleet(options, devices, loggerFactory ?? NullLoggerFactory.Instance);
        say($"{options.Devices} device(s) registered in thing group {options.Group} ({offline} offline, {silent} silent) in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        started = DateTime.UtcNow;
        await Parallel.ForEachAsync(devices.Where(d => d.Fault != "offline"), new ParallelOptions { MaxDegreeOfParallelism = options.Parallelism, CancellationToken = cancellationToken }, async (device, _) =>
            await fleet.StartDeviceAsync(device).ConfigureAwait(false)).ConfigureAwait(false);
        say($"{devices.Count(d => d.Nucleus is not null)} device(s) started in {(DateTime.UtcNow - started).TotalSeconds:0.0} s");
        return fleet;
    }

    /// <summary>Starts a device's Nucleus (back online), unless it runs.</summary>
    public async Task StartDeviceAsync(SimulatedDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Nucleus is not null)
        {
            return;
        }

        var config = (JsonObject)ConfigurationDocument.Parse(await File.ReadAllTextAsync(device.ConfigFile).ConfigureAwait(false), device.ConfigFile)!;
        device.Nucleus = await Nucleus.StartAsync(new NucleusOptions
        {
            RootPath = device.Root,
            ThingName = device.Thing,
            AwsRegion = _options.Region,
            IoTCore = NucleusMqttConfiguration.Read(config, Path.GetDirectoryName(device.ConfigFile)!, device.Thing),
            // A silent device is connected but takes no cloud deployment and reports nothing.
            DataPlaneEndpoint = device.Fault == "silent" ? null : NucleusMqttConfiguration.DataPlane(config),
        }, _loggerFactory).ConfigureAwait(false);
    }

    /// <summary>Stops a device's Nucleus (offline), keeping its root: started again, it is the same device.</summary>
    public async Task StopDeviceAsync(SimulatedDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Nucleus is { } nucleus)
        {
            device.Nucleus = null;
            await nucleus.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Stops every device.</summary>
    public async ValueTask DisposeAsync()
    {
        await Parallel.ForEachAsync(Devices, new ParallelOptions { MaxDegreeOfParallelism = _options.Parallelism }, async (device, _) => await StopDeviceAsync(device).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
