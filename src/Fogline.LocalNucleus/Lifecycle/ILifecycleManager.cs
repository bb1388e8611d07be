using System.Text.Json.Nodes;
using Fogline.Greengrass.Recipes;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>
/// A component as a deployment resolved it for this device: the recipe's manifest for this platform, the version the
/// dependency resolution chose, and the effective configuration (default configuration with the deployment's MERGE
/// and RESET applied). This is what the supervisor runs.
/// </summary>
/// <param name="Name">Component name.</param>
/// <param name="Version">The resolved version.</param>
/// <param name="Recipe">The whole recipe.</param>
/// <param name="Platform">The manifest selected for this device, with its effective lifecycle and artifacts.</param>
/// <param name="Configuration">The effective configuration (also what the ConfigurationStore holds for the component).</param>
/// <param name="Paths">Where its artifacts, unarchived artifacts and work directory are.</param>
public sealed record ResolvedComponent(
    string Name,
    SemVersion Version,
    ComponentRecipe Recipe,
    PlatformRecipe Platform,
    JsonObject Configuration,
    ComponentPaths Paths);

/// <summary>What came of applying a set of components.</summary>
/// <param name="Succeeded">Whether every component reached RUNNING or FINISHED (or was left unchanged).</param>
/// <param name="Broken">Components that went BROKEN (or failed to install/start) while applying.</param>
/// <param name="Errors">What went wrong, one line each, for the deployment's error stack.</param>
public sealed record LifecycleApplyResult(bool Succeeded, IReadOnlyList<string> Broken, IReadOnlyList<string> Errors);

/// <summary>
/// Runs components from their resolved recipes, as the Nucleus's lifecycle manager does. A deployment hands it the
/// complete desired set; it works out what changed.
/// </summary>
public interface ILifecycleManager
{
    /// <summary>The components it runs now, by name.</summary>
    IReadOnlyDictionary<string, ResolvedComponent> Current { get; }

    /// <summary>
    /// Makes <paramref name="desired"/> the running set: components no longer in it are stopped (Shutdown, then the
    /// process group is signalled) and forgotten; new components, and components whose version, recipe or
    /// configuration changed, are (re)installed and started in dependency order (HARD dependencies first); unchanged
    /// components keep running. Returns once every component of the set is RUNNING or FINISHED, or one of the changed
    /// ones went BROKEN, or <paramref name="timeout"/> passed (which counts as failure).
    /// </summary>
    Task<LifecycleApplyResult> ApplyAsync(IReadOnlyList<ResolvedComponent> desired, TimeSpan timeout, CancellationToken cancellationToken = default);
}
