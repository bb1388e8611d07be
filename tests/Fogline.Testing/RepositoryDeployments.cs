using System.Text.Json;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Deployments;

namespace Fogline.Testing;

/// <summary>Local deployments of the repository's components (recipes/, artifacts/components), as the tests make them.</summary>
public static class RepositoryDeployments
{
    /// <summary>
    /// Deploys each named component at 1.0.0 from the repository's recipes and built artifacts, with its configuration
    /// update (<c>{"MERGE": …, "RESET": […]}</c>), and waits for the result. A failure rolls back unless
    /// <paramref name="expectFailure"/> (then the failed state stays, to be looked at).
    /// </summary>
    public static async Task<DeploymentRecord> DeployFromRepositoryAsync(this Nucleus nucleus, IReadOnlyDictionary<string, string> configurations, bool expectFailure = false)
    {
        ArgumentNullException.ThrowIfNull(nucleus);
        ArgumentNullException.ThrowIfNull(configurations);
        var id = nucleus.Deployments.Submit(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = Repository.Recipes,
            ArtifactsDirectoryPath = Repository.ComponentArtifacts,
            RootComponentVersionsToAdd = configurations.Keys.ToDictionary(n => n, _ => "1.0.0"),
            ComponentToConfiguration = configurations.ToDictionary(p => p.Key, p => JsonDocument.Parse(p.Value).RootElement.Clone()),
            FailureHandlingPolicy = expectFailure ? FailureHandlingPolicy.DoNothing : FailureHandlingPolicy.Rollback,
        });
        return await nucleus.Deployments.WaitAsync(id).ConfigureAwait(false);
    }
}
