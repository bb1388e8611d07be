using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.IoTCore;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Deployments.Cloud;

/// <summary>
/// The core device's status as the Nucleus's FleetStatusService reports it, on
/// <c>$aws/things/THING/greengrassv2/health/json</c>: after a cloud deployment (with its deploymentInformation), when
/// a component becomes RUNNING, FINISHED, ERRORED or BROKEN, and after each connection (the first one of a run as
/// NUCLEUS_LAUNCH, which the cloud takes even though the sequence numbers started again). Every message is COMPLETE
/// (all components: name, version, status, isRoot, fleetConfigArns); the device is UNHEALTHY while a component is
/// ERRORED or BROKEN. The cloud answers GetCoreDevice, ListInstalledComponents and ListEffectiveDeployments from it.
/// </summary>
internal sealed class FleetStatusReporter : IDisposable
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Nucleus _nucleus;
    private readonly string _thing;
    private readonly ILogger _logger;
    private readonly Dictionary<string, string> _groupConfigurations = new(StringComparer.Ordinal);
    private long _sequence;
    private int _launched;

    public FleetStatusReporter(Nucleus nucleus, string thing, ILogger logger)
    {
        _nucleus = nucleus;
        _thing = thing;
        _logger = logger;
        nucleus.Components.StateChanged += OnComponentState;
        nucleus.IoTCore.StateChanged += OnConnection;
    }

    public void Dispose()
    {
        _nucleus.Components.StateChanged -= OnComponentState;
        _nucleus.IoTCore.StateChanged -= OnConnection;
    }

    /// <summary>Reports a cloud deployment's outcome; <paramref name="configurationArn"/> becomes its group's configuration.</summary>
    public void DeploymentFinished(string group, string configurationArn, string deploymentId, string status, string? detailed, string? cause)
    {
        lock (_groupConfigurations)
        {
            if (status == "SUCCEEDED")
            {
                _groupConfigurations[group] = configurationArn;
            }
        }

        var information = new JsonObject
        {
            ["status"] = status,
            ["fleetConfigurationArnForStatus"] = configurationArn,
            ["deploymentId"] = deploymentId,
            ["statusDetails"] = new JsonObject { ["detailedStatus"] = detailed, ["failureCause"] = cause },
        };
        Report(group.StartsWith("thinggroup/", StringComparison.Ordinal) ? "THING_GROUP_DEPLOYMENT" : "THING_DEPLOYMENT", information);
    }

    private void OnComponentState(object? sender, ComponentStateChange e)
    {
        if (e.Current.Value is "RUNNING" or "FINISHED" or "ERRORED" or "BROKEN")
        {
            Report("COMPONENT_STATUS_CHANGE", null);
        }
    }

    private void OnConnection(object? sender, IoTCoreConnectionChangedEventArgs e)
    {
        if (e.IsOnline)
        {
            // The first report of a run says NUCLEUS_LAUNCH: its sequence numbers start again, and the cloud takes
            // it whatever sequence number it saw before the restart.
            Report(Interlocked.Exchange(ref _launched, 1) == 0 ? "NUCLEUS_LAUNCH" : "RECONNECT", null);
        }
    }

    private void Report(string trigger, JsonObject? deploymentInformation)
    {
        var roots = _nucleus.Deployments.Roots;
        Dictionary<string, string> configurations;
        lock (_groupConfigurations)
        {
            configurations = new Dictionary<string, string>(_groupConfigurations, StringComparer.Ordinal);
        }

        var components = new JsonArray();
        var healthy = true;
        foreach (var record in _nucleus.Components.All.Where(c => c.Name != _nucleus.CliComponent?.Name).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var state = record.State.Value;
            healthy &= state is not ("ERRORED" or "BROKEN");
            var groups = configurations.Where(g => _nucleus.Deployments.RootsOf(g.Key).ContainsKey(record.Name)).Select(g => (JsonNode?)g.Value).ToList();
            components.Add(new JsonObject
            {
                ["componentName"] = record.Name,
                ["version"] = record.Version,
                ["status"] = state,
                ["isRoot"] = roots.ContainsKey(record.Name),
                ["fleetConfigArns"] = new JsonArray([.. groups.Count > 0 ? groups : configurations.Values.Select(v => (JsonNode?)v)]),
            });
        }

        var message = new JsonObject
        {
            ["ggcVersion"] = _nucleus.Options.NucleusVersion,
            ["platform"] = _nucleus.Deployments.Platform.Os,
            ["architecture"] = _nucleus.Deployments.Platform.Architecture,
            ["thing"] = _thing,
            ["overallDeviceStatus"] = healthy ? "HEALTHY" : "UNHEALTHY",
            ["sequenceNumber"] = Interlocked.Increment(ref _sequence),
            ["timestamp"] = _nucleus.Context.Time.GetUtcNow().ToUnixTimeMilliseconds(),
            ["messageType"] = "COMPLETE",
            ["trigger"] = trigger,
            ["components"] = components,
        };
        if (deploymentInformation is not null)
        {
            message["deploymentInformation"] = deploymentInformation;
        }

        try
        {
            _nucleus.IoTCore.Publish(new CloudMessage
            {
                Topic = $"$aws/things/{_thing}/greengrassv2/health/json",
                Payload = JsonSerializer.SerializeToUtf8Bytes(message, Relaxed),
                Qos = MqttQos.AtLeastOnce,
            });
        }
        catch (Exception ex) when (ex is MqttRequestException or SpoolerStoreException or ObjectDisposedException)
        {
            CloudDeploymentLog.BadMessage(_logger, "fleet status", ex.Message);
        }
    }
}
