using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Components;

/// <summary>
/// The services every Nucleus runs besides the deployed components, as the CLI's ListComponents and
/// GetComponentDetails see them (the CLI lists the Nucleus's <c>orderedDependencies()</c> except <c>main</c>):
/// <list type="bullet">
/// <item><c>aws.greengrass.Nucleus</c>: a generic component without lifecycle scripts, so FINISHED, with the Nucleus version.</item>
/// <item><c>DeploymentService</c>, <c>UpdateSystemPolicyService</c>, <c>FleetStatusService</c>, <c>TelemetryAgent</c>:
/// the Nucleus's autostarted built-in services, RUNNING, version <c>0.0.0</c> (the <c>@ImplementsService</c> default),
/// no configuration. They are not generic components, so they cannot be paused or resumed.</item>
/// </list>
/// They have no IPC token. A registered component of the same name takes precedence.
/// </summary>
internal sealed class BuiltInServices
{
    /// <summary>The Nucleus component's name.</summary>
    public const string NucleusComponentName = "aws.greengrass.Nucleus";

    private static readonly string[] s_builtInNames = ["DeploymentService", "UpdateSystemPolicyService", "FleetStatusService", "TelemetryAgent"];

    private readonly Dictionary<string, ComponentRecord> _byName = new(StringComparer.Ordinal);
    private readonly List<ComponentRecord> _ordered = [];

    public BuiltInServices(string nucleusVersion, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var nucleus = new ComponentRecord(NucleusComponentName, nucleusVersion, string.Empty, now);
        nucleus.SetState(LifecycleState.Finished, now);
        Add(nucleus);
        foreach (var name in s_builtInNames)
        {
            var service = new ComponentRecord(name, "0.0.0", string.Empty, now);
            service.SetState(LifecycleState.Running, now);
            Add(service);
        }
    }

    /// <summary>The built-in services, the Nucleus component first.</summary>
    public IReadOnlyList<ComponentRecord> All => _ordered;

    /// <summary>Finds a built-in service.</summary>
    public bool TryGet(string name, out ComponentRecord service) => _byName.TryGetValue(name, out service!);

    /// <summary>Whether the service is a generic component (only the Nucleus component is).</summary>
    public static bool IsGeneric(ComponentRecord service) => service.Name == NucleusComponentName;

    private void Add(ComponentRecord record)
    {
        _byName[record.Name] = record;
        _ordered.Add(record);
    }
}
