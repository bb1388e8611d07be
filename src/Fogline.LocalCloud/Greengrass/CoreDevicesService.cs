using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Aws.GreengrassV2;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.Iot;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.Greengrass;

/// <summary>What a core device last reported of itself and one of its components.</summary>
internal sealed class CoreDeviceRecord
{
    public required string Thing { get; init; }

    public string Status { get; set; } = "HEALTHY";

    public string? CoreVersion { get; set; }

    public string? Platform { get; set; }

    public string? Architecture { get; set; }

    public DateTimeOffset LastStatusUpdate { get; set; }

    public long Sequence { get; set; }

    public List<InstalledComponentRecord> Components { get; set; } = [];
}

internal sealed class InstalledComponentRecord
{
    public required string Name { get; init; }

    public required string Version { get; set; }

    public required string State { get; set; }

    public bool IsRoot { get; set; }

    public DateTimeOffset LastStatusChange { get; set; }

    public DateTimeOffset LastReported { get; set; }

    public string? LastInstallationSource { get; set; }
}

/// <summary>
/// Greengrass V2's core-device APIs, from what the devices report on <c>$aws/things/THING/greengrassv2/health/json</c>
/// (the Nucleus's fleet status): GetCoreDevice, ListCoreDevices (by thing group and status), ListInstalledComponents
/// (ROOT or ALL) and ListEffectiveDeployments (the device's executions of the Greengrass jobs, with the reason it
/// reported). Reports older than the last one (by sequence number) are ignored.
/// </summary>
internal sealed class CoreDevicesService : IDisposable
{
    private const int DefaultPageSize = 50;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _dataDirectory;
    private readonly TimeProvider _time;
    private readonly IotRegistryService _registry;
    private readonly IotJobsService _jobs;
    private readonly DeploymentsService _deployments;
    private readonly ConcurrentDictionary<(string Account, string Region), (Lock Sync, Dictionary<string, CoreDeviceRecord> Devices)> _stores = new();
    private readonly ConcurrentDictionary<(string Account, string Region), WriteBehind> _writers = new();

    public CoreDevicesService(string dataDirectory, TimeProvider time, IotRegistryService registry, IotJobsService jobs, DeploymentsService deployments)
    {
        _dataDirectory = dataDirectory;
        _time = time;
        _registry = registry;
        _jobs = jobs;
        _deployments = deployments;
    }

    public void Register(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(GreengrassV2Operations.GetCoreDevice, (input, request) => Task.FromResult(Get(input, request)));
        endpoint.Handle(GreengrassV2Operations.ListCoreDevices, (input, request) => Task.FromResult(List(input, request)));
        endpoint.Handle(GreengrassV2Operations.ListInstalledComponents, (input, request) => Task.FromResult(Installed(input, request)));
        endpoint.Handle(GreengrassV2Operations.ListEffectiveDeployments, (input, request) => Task.FromResult(Effective(input, request)));
    }

    /// <summary>A fleet-status message from a device (its thing is the one the topic names, which the broker's ACL ties to its certificate).</summary>
    public void Report(string thing, JsonObject message)
    {
        if (_registry.LocateThing(thing) is not { } place)
        {
            return;
        }

        var (sync, devices) = Store(place.Account, place.Region);
        var now = _time.GetUtcNow();
        lock (sync)
        {
            if (!devices.TryGetValue(thing, out var device))
            {
                devices[thing] = device = new CoreDeviceRecord { Thing = thing };
            }

            var sequence = message["sequenceNumber"]?.GetValue<long>() ?? 0;
            if (sequence != 0 && sequence <= device.Sequence && message["trigger"]?.GetValue<string>() != "NUCLEUS_LAUNCH")
            {
                return;
            }

            device.Sequence = sequence;
            device.Status = message["overallDeviceStatus"]?.GetValue<string>() ?? device.Status;
            device.CoreVersion = message["ggcVersion"]?.GetValue<string>() ?? device.CoreVersion;
            device.Platform = message["platform"]?.GetValue<string>() ?? device.Platform;
            device.Architecture = message["architecture"]?.GetValue<string>() ?? device.Architecture;
            device.LastStatusUpdate = now;
            if (message["components"] is JsonArray components)
            {
                var previous = device.Components.ToDictionary(c => c.Name, StringComparer.Ordinal);
                var complete = message["messageType"]?.GetValue<string>() != "PARTIAL";
                var next = complete ? new List<InstalledComponentRecord>() : [.. device.Components];
                foreach (var component in components.OfType<JsonObject>())
                {
                    var name = component["componentName"]!.GetValue<string>();
                    var state = component["status"]?.GetValue<string>() ?? "NEW";
                    var version = component["version"]?.GetValue<string>() ?? "0.0.0";
                    var record = previous.GetValueOrDefault(name);
                    var changed = record is null || record.State != state || record.Version != version;
                    next.RemoveAll(c => c.Name == name);
                    next.Add(new InstalledComponentRecord
                    {
                        Name = name,
                        Version = version,
                        State = state,
                        IsRoot = component["isRoot"]?.GetValue<bool>() ?? false,
                        LastStatusChange = changed ? now : record!.LastStatusChange,
                        LastReported = now,
                        LastInstallationSource = component["fleetConfigArns"] is JsonArray { Count: > 0 } arns ? arns[^1]!.GetValue<string>() : record?.LastInstallationSource,
                    });
                }

                device.Components = [.. next.OrderBy(c => c.Name, StringComparer.Ordinal)];
            }

            _writers.GetOrAdd(place, key => new WriteBehind(FileOf(key.Account, key.Region), sync, () =>
                new JsonObject { ["devices"] = JsonSerializer.SerializeToNode(devices.Values.OrderBy(d => d.Thing, StringComparer.Ordinal).ToList(), Json) })).Changed();
        }
    }

    /// <summary>Writes the devices' reports now (the cloud stopping).</summary>
    public void Dispose()
    {
        foreach (var writer in _writers.Values)
        {
            writer.Dispose();
        }
    }

    private (Lock Sync, Dictionary<string, CoreDeviceRecord> Devices) Store(string account, string region) => _stores.GetOrAdd((account, region), key =>
    {
        var saved = JsonFiles.Read(FileOf(key.Account, key.Region))?["devices"]?.Deserialize<List<CoreDeviceRecord>>(Json) ?? [];
        return (new Lock(), saved.ToDictionary(d => d.Thing, StringComparer.Ordinal));
    });

    private string FileOf(string account, string region) => Path.Combine(_dataDirectory, "greengrass", account, region, "core-devices.json");

    private CoreDeviceRecord Device(CloudRequest request, string? thing)
    {
        var (sync, devices) = Store(request.Caller.AccountId, request.Region);
        lock (sync)
        {
            return devices.GetValueOrDefault(thing ?? string.Empty)
                ?? throw GreengrassV2Errors.CreateResourceNotFoundException($"Core device {thing} does not exist in account {request.Caller.AccountId} ({request.Region}): it has not reported its status.", thing, "coreDevice");
        }
    }

    private GetCoreDeviceResponse Get(GetCoreDeviceRequest input, CloudRequest request)
    {
        var device = Device(request, input.CoreDeviceThingName);
        return new GetCoreDeviceResponse
        {
            CoreDeviceThingName = device.Thing,
            CoreVersion = device.CoreVersion,
            Platform = device.Platform,
            Architecture = device.Architecture,
            Status = device.Status,
            LastStatusUpdateTimestamp = device.LastStatusUpdate,
            Tags = [],
        };
    }

    private ListCoreDevicesResponse List(ListCoreDevicesRequest input, CloudRequest request)
    {
        HashSet<string>? members = null;
        if (input.ThingGroupArn is { } groupArn)
        {
            var group = groupArn[(groupArn.IndexOf("thinggroup/", StringComparison.Ordinal) + 11)..];
            var registry = _registry.RegistryOf(request.Caller.AccountId, request.Region);
            lock (registry.Sync)
            {
                var groups = registry.Groups.ContainsKey(group) ? registry.Subtree(group).ToHashSet(StringComparer.Ordinal) : [];
                members = [.. registry.Things.Values.Where(t => t.Groups.Overlaps(groups)).Select(t => t.Name)];
            }
        }

        var (sync, devices) = Store(request.Caller.AccountId, request.Region);
        List<CoreDeviceRecord> list;
        lock (sync)
        {
            list = [.. devices.Values.Where(d => (members?.Contains(d.Thing) ?? true) && (input.Status is null || d.Status == input.Status)).OrderBy(d => d.Thing, StringComparer.Ordinal)];
        }

        var (page, next) = Paging.Page(list, input.MaxResults, input.NextToken, DefaultPageSize, 100, (member, message) => ComponentsService.Invalid(member, message));
        return new ListCoreDevicesResponse
        {
            CoreDevices = [.. page.Select(d => new CoreDevice { CoreDeviceThingName = d.Thing, Status = d.Status, LastStatusUpdateTimestamp = d.LastStatusUpdate })],
            NextToken = next,
        };
    }

    private ListInstalledComponentsResponse Installed(ListInstalledComponentsRequest input, CloudRequest request)
    {
        var filter = input.TopologyFilter ?? "ROOT";
        if (filter is not ("ROOT" or "ALL"))
        {
            throw ComponentsService.Invalid("topologyFilter", $"topologyFilter must be ALL or ROOT, not '{filter}'.");
        }

        var device = Device(request, input.CoreDeviceThingName);
        var components = device.Components.Where(c => filter == "ALL" || c.IsRoot).ToList();
        var (page, next) = Paging.Page(components, input.MaxResults, input.NextToken, DefaultPageSize, 100, (member, message) => ComponentsService.Invalid(member, message));
        return new ListInstalledComponentsResponse
        {
            InstalledComponents = [.. page.Select(c => new InstalledComponent
            {
                ComponentName = c.Name,
                ComponentVersion = c.Version,
                LifecycleState = c.State,
                IsRoot = c.IsRoot,
                LastStatusChangeTimestamp = c.LastStatusChange,
                LastReportedTimestamp = c.LastReported,
                LastInstallationSource = c.LastInstallationSource,
                LifecycleStatusCodes = [],
            })],
            NextToken = next,
        };
    }

    private ListEffectiveDeploymentsResponse Effective(ListEffectiveDeploymentsRequest input, CloudRequest request)
    {
        var thing = input.CoreDeviceThingName ?? throw ComponentsService.Invalid("coreDeviceThingName", "coreDeviceThingName is required.");
        var account = request.Caller.AccountId;
        var deployments = _deployments.All(account, request.Region).ToDictionary(d => d.JobId, StringComparer.Ordinal);
        var store = _jobs.StoreOf(account, request.Region);
        List<EffectiveDeployment> effective;
        lock (store.Sync)
        {
            effective = [.. store.Jobs.Values
                .Where(j => deployments.ContainsKey(j.JobId) && j.Executions.ContainsKey(thing))
                .Select(j => (Job: j, Execution: j.Executions[thing], Deployment: deployments[j.JobId]))
                .OrderByDescending(p => p.Execution.LastUpdatedAt)
                .Select(p => new EffectiveDeployment
                {
                    DeploymentId = p.Deployment.DeploymentId,
                    DeploymentName = p.Deployment.Name,
                    IotJobId = p.Job.JobId,
                    IotJobArn = IotJobsService.JobArn(request.Region, account, p.Job.JobId),
                    Description = p.Job.Description,
                    TargetArn = p.Deployment.TargetArn,
                    CoreDeviceExecutionStatus = p.Execution.Status,
                    Reason = p.Execution.StatusDetails.GetValueOrDefault("deployment-failure-cause") ?? p.Execution.StatusDetails.GetValueOrDefault("detailed-deployment-status"),
                    CreationTimestamp = p.Execution.QueuedAt,
                    ModifiedTimestamp = p.Execution.LastUpdatedAt,
                    StatusDetails = new EffectiveDeploymentStatusDetails { ErrorStack = [], ErrorTypes = [] },
                })];
        }

        var (page, next) = Paging.Page(effective, input.MaxResults, input.NextToken, DefaultPageSize, 100, (member, message) => ComponentsService.Invalid(member, message));
        return new ListEffectiveDeploymentsResponse { EffectiveDeployments = [.. page], NextToken = next };
    }
}
