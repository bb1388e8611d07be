using System.Globalization;

namespace Fogline.Fleet;

/// <summary>What a stand-in component version does on the simulated devices (its faults).</summary>
public sealed record StandInBehaviour
{
    /// <summary>The share of its synthetic payloads it rejects (a degraded version rejects more).</summary>
    public double RejectedShare { get; init; } = 0.01;

    /// <summary>Exits with code 1 this long after each start (a late crash); zero: never.</summary>
    public TimeSpan CrashAfter { get; init; }

    /// <summary>Fails at once at every start (a crash loop): no process of the stand-in runs at all.</summary>
    public bool CrashLoop { get; init; }

    /// <summary>How often its counters go to IoT Core (retained, for the rollout's metric gates).</summary>
    public TimeSpan CloudMetricsInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Synthetic payloads per second.</summary>
    public int PayloadsPerSecond { get; init; } = 10;
}

/// <summary>
/// The simulated fleet's stand-in components: recipes of versions that run the FleetWorkload binary
/// (<c>components/samples/FleetWorkload</c>, NativeAOT, about 10 MB per device) with the faults of the version on its
/// command line (a deployment keeps a component's configuration across versions, so faults in the configuration
/// would outlive their version), its counters sent to IoT Core, and only the IPC permissions that needs. The versions of a
/// stand-in share the binary on this machine (no artifact to download per device): the fleet rehearses deployments,
/// not downloads.
/// </summary>
public static class StandInComponents
{
    /// <summary>The FleetWorkload binary built by <c>dotnet cake --target=FleetWorkload</c> in a repository.</summary>
    public static string BinaryIn(string repositoryRoot) => Path.Combine(repositoryRoot, "artifacts", "fleet", "FleetWorkload");

    /// <summary>The recipe (YAML) of <paramref name="component"/> at <paramref name="version"/>.</summary>
    /// <param name="component">The component's name.</param>
    /// <param name="version">Its version.</param>
    /// <param name="binary">The FleetWorkload binary.</param>
    /// <param name="behaviour">What the version does.</param>
    /// <param name="inputFaultFile">The fleet's input-fault file (<see cref="SimulatedFleet.InputFaultFile"/>), or null.</param>
    public static string Recipe(string component, string version, string binary, StandInBehaviour behaviour, string? inputFaultFile)
    {
        ArgumentNullException.ThrowIfNull(behaviour);
        var run = behaviour.CrashLoop
            ? $"echo '{component} {version} fails at start'; exit 1"
            : string.Create(CultureInfo.InvariantCulture, $"exec '{binary}' {component} --rejected-share {behaviour.RejectedShare} --crash-after {behaviour.CrashAfter.TotalSeconds}");
        return string.Create(CultureInfo.InvariantCulture, $"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: {component}
            ComponentVersion: '{version}'
            ComponentDescription: A stand-in of the simulated fleet (FleetWorkload).
            ComponentPublisher: Fogline
            ComponentConfiguration:
              DefaultConfiguration:
                payloadsPerSecond: {behaviour.PayloadsPerSecond}
                inputFaultFile: {(inputFaultFile is null ? "null" : "'" + inputFaultFile + "'")}
                cloudMetrics:
                  intervalSeconds: {behaviour.CloudMetricsInterval.TotalSeconds}
                accessControl:
                  aws.greengrass.ipc.mqttproxy:
                    {component}:mqttproxy:1:
                      policyDescription: its counters to IoT Core
                      operations: [aws.greengrass#PublishToIoTCore]
                      resources: ['fogline/*/metrics/{component}']
                  aws.greengrass.ipc.pubsub:
                    {component}:pubsub:1:
                      policyDescription: its counters on local pub/sub
                      operations: [aws.greengrass#PublishToTopic]
                      resources: ['fogline/metrics/{component}']
            Manifests:
              - Platform:
                  os: linux
                Lifecycle:
                  Run: {run}

            """);
    }
}
