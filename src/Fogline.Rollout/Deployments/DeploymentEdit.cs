using Fogline.Aws.GreengrassV2;

namespace Fogline.Rollout.Deployments;

/// <summary>
/// What to change in a target's deployment; everything it does not name is kept: the other components (with their
/// configuration updates and runWith), the deployment's name, policies, IoT job configuration and tags.
/// </summary>
public sealed record DeploymentEdit
{
    /// <summary>Components to add or move to a version.</summary>
    public IReadOnlyDictionary<string, string> Versions { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Components to remove.</summary>
    public IReadOnlyList<string> Remove { get; init; } = [];

    /// <summary>Configuration updates to send with a component (replacing the one the deployment carried for it).</summary>
    public IReadOnlyDictionary<string, ComponentConfigurationUpdate> ConfigurationUpdates { get; init; } = new Dictionary<string, ComponentConfigurationUpdate>(StringComparer.Ordinal);

    /// <summary>A new failure handling policy (ROLLBACK or DO_NOTHING), or null to keep the deployment's.</summary>
    public string? FailureHandlingPolicy { get; init; }

    /// <summary>Whether the edit changes nothing at all.</summary>
    public bool IsEmpty => Versions.Count == 0 && Remove.Count == 0 && ConfigurationUpdates.Count == 0 && FailureHandlingPolicy is null;
}
