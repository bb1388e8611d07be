using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.Aws.Iot;

namespace Fogline.Rollout.Deployments;

/// <summary>What one core device of a group reports to the cloud.</summary>
/// <param name="Thing">The thing name.</param>
/// <param name="Core">GetCoreDevice (status HEALTHY/UNHEALTHY, last report, Nucleus version), or null when the device never reported.</param>
/// <param name="Deployments">Its effective deployments (ListEffectiveDeployments), latest first.</param>
/// <param name="Components">Its installed root components (ListInstalledComponents, ROOT).</param>
public sealed record DeviceReport(string Thing, GetCoreDeviceResponse? Core, IReadOnlyList<EffectiveDeployment> Deployments, IReadOnlyList<InstalledComponent> Components)
{
    /// <summary>Its latest effective deployment, or null.</summary>
    public EffectiveDeployment? Effective => Deployments.Count > 0 ? Deployments[0] : null;
}

/// <summary>
/// The core devices of a thing group (and of the groups under it) and what each reports to Greengrass: its core
/// device status, its latest effective deployment with the reason, its installed root components and their lifecycle
/// states. Devices are read a few at a time.
/// </summary>
public sealed class GroupDevices
{
    private readonly IotClient _iot;
    private readonly GreengrassV2Client _greengrass;

    /// <summary>Works through the IoT and Greengrass clients.</summary>
    public GroupDevices(IotClient iot, GreengrassV2Client greengrass)
    {
        _iot = iot ?? throw new ArgumentNullException(nameof(iot));
        _greengrass = greengrass ?? throw new ArgumentNullException(nameof(greengrass));
    }

    /// <summary>The things in <paramref name="group"/> and its subgroups, in name order.</summary>
    public async Task<IReadOnlyList<string>> ThingsAsync(string group, CancellationToken cancellationToken = default)
    {
        var things = new SortedSet<string>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await _iot.ListThingsInThingGroupAsync(new ListThingsInThingGroupRequest { ThingGroupName = group, Recursive = true, NextToken = next }, cancellationToken).ConfigureAwait(false);
            things.UnionWith(page.Things ?? []);
            next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (next is not null);
        return [.. things];
    }

    /// <summary>What each device of <paramref name="group"/> reports, in thing name order.</summary>
    public async Task<IReadOnlyList<DeviceReport>> ReportsAsync(string group, int parallelism = 8, CancellationToken cancellationToken = default)
    {
        var things = await ThingsAsync(group, cancellationToken).ConfigureAwait(false);
        var reports = new DeviceReport[things.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, things.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken }, async (i, ct) =>
            reports[i] = await ReportAsync(things[i], ct).ConfigureAwait(false)).ConfigureAwait(false);
        return reports;
    }

    /// <summary>What <paramref name="thing"/> reports.</summary>
    public async Task<DeviceReport> ReportAsync(string thing, CancellationToken cancellationToken = default)
    {
        GetCoreDeviceResponse core;
        try
        {
            core = await _greengrass.GetCoreDeviceAsync(new GetCoreDeviceRequest { CoreDeviceThingName = thing }, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException ex) when (ex.Code == "ResourceNotFoundException")
        {
            return new DeviceReport(thing, null, [], []);
        }

        var effective = new List<EffectiveDeployment>();
        string? next = null;
        do
        {
            var page = await _greengrass.ListEffectiveDeploymentsAsync(new ListEffectiveDeploymentsRequest { CoreDeviceThingName = thing, NextToken = next }, cancellationToken).ConfigureAwait(false);
            effective.AddRange(page.EffectiveDeployments ?? []);
            next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (next is not null);

        var components = new List<InstalledComponent>();
        next = null;
        do
        {
            var page = await _greengrass.ListInstalledComponentsAsync(new ListInstalledComponentsRequest { CoreDeviceThingName = thing, TopologyFilter = "ROOT", NextToken = next }, cancellationToken).ConfigureAwait(false);
            components.AddRange(page.InstalledComponents ?? []);
            next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (next is not null);

        return new DeviceReport(thing, core, [.. effective.OrderByDescending(e => e.ModifiedTimestamp ?? e.CreationTimestamp)], [.. components.OrderBy(c => c.ComponentName, StringComparer.Ordinal)]);
    }
}
