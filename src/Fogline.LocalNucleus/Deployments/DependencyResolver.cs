using System.Globalization;
using Fogline.Greengrass.Recipes;

namespace Fogline.LocalNucleus.Deployments;

/// <summary>
/// Resolves a deployment's root components and everything they depend on to one version each, as the Nucleus's
/// dependency resolver does: every requirement on a component (the deployment's own version for a root, each
/// dependent's <c>VersionRequirement</c>) must hold; among the versions in the component store that satisfy them all,
/// the version running now is kept, otherwise the newest is taken. Requirements change as versions are chosen
/// (a newer version may depend on other things), so this repeats until nothing changes.
/// </summary>
public static class DependencyResolver
{
    private const int MaxRounds = 64;

    /// <summary>A requirement on a component: who requires it, what, and where it is written.</summary>
    private sealed record Requirement(string By, VersionRange Range, string Where);

    /// <summary>
    /// Resolves <paramref name="roots"/> (name to exact version) against <paramref name="store"/>; returns the recipes
    /// with dependencies before their dependents.
    /// </summary>
    /// <exception cref="DeploymentValidationException">A requirement no stored version satisfies, a missing recipe, or a dependency cycle; each says where.</exception>
    public static IReadOnlyList<ComponentRecipe> Resolve(
        IReadOnlyDictionary<string, SemVersion> roots,
        ComponentStore store,
        IReadOnlyDictionary<string, SemVersion> running)
    {
        ArgumentNullException.ThrowIfNull(roots);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(running);

        var chosen = new Dictionary<string, ComponentRecipe>(StringComparer.Ordinal);
        for (var round = 0; round < MaxRounds; round++)
        {
            var requirements = new Dictionary<string, List<Requirement>>(StringComparer.Ordinal);
            foreach (var (name, version) in roots)
            {
                Add(requirements, name, new Requirement("the deployment", VersionRange.Exactly(version), $"root component {name}={version}"));
            }

            // Walk from the roots through the versions chosen so far: only what is reachable is required.
            var queue = new Queue<string>(roots.Keys);
            var seen = new HashSet<string>(roots.Keys, StringComparer.Ordinal);
            while (queue.Count > 0)
            {
                var name = queue.Dequeue();
                if (!chosen.TryGetValue(name, out var recipe))
                {
                    continue;
                }

                foreach (var dependency in recipe.ComponentDependencies)
                {
                    Add(requirements, dependency.Name, new Requirement($"{recipe.ComponentName} {recipe.ComponentVersion}", dependency.VersionRequirement, Where(recipe, dependency)));
                    if (seen.Add(dependency.Name))
                    {
                        queue.Enqueue(dependency.Name);
                    }
                }
            }

            var errors = new List<string>();
            var next = new Dictionary<string, ComponentRecipe>(StringComparer.Ordinal);
            foreach (var (name, required) in requirements)
            {
                var available = store.Versions(name);
                var satisfying = available.Where(v => required.All(r => r.Range.IsSatisfiedBy(v))).ToList();
                if (satisfying.Count == 0)
                {
                    errors.Add(Unsatisfiable(name, required, available));
                    continue;
                }

                var pick = running.TryGetValue(name, out var current) && satisfying.Contains(current) ? current : satisfying[^1];
                next[name] = chosen.TryGetValue(name, out var previous) && previous.ComponentVersion == pick
                    ? previous
                    : store.Load(name, pick) ?? throw new DeploymentValidationException($"The recipe of {name} {pick} disappeared from the component store.");
            }

            if (errors.Count > 0)
            {
                throw new DeploymentValidationException(errors);
            }

            if (next.Count == chosen.Count && next.All(n => chosen.TryGetValue(n.Key, out var c) && ReferenceEquals(c, n.Value)))
            {
                return Order(chosen);
            }

            chosen = next;
        }

        throw new DeploymentValidationException($"The dependency versions did not settle after {MaxRounds} rounds: the requirements keep changing as versions are chosen.");
    }

    private static void Add(Dictionary<string, List<Requirement>> requirements, string name, Requirement requirement)
    {
        if (!requirements.TryGetValue(name, out var list))
        {
            list = [];
            requirements[name] = list;
        }

        list.Add(requirement);
    }

    private static string Where(ComponentRecipe recipe, ComponentDependency dependency) =>
        dependency.Location is { } l ? string.Create(CultureInfo.InvariantCulture, $"{recipe.File}:{l.Line}:{l.Column}") : recipe.File;

    private static string Unsatisfiable(string name, List<Requirement> required, IReadOnlyList<SemVersion> available)
    {
        var where = required.FirstOrDefault(r => r.Where.Contains(':', StringComparison.Ordinal))?.Where ?? required[0].Where;
        var asked = string.Join("; ", required.Select(r => $"{r.By} requires {r.Range}" + (r.Where.Contains(':', StringComparison.Ordinal) ? $" ({r.Where})" : string.Empty)));
        return available.Count == 0
            ? $"{where}: no recipe of {name} is available: add it to --recipeDir ({asked})"
            : $"{where}: no version of {name} satisfies every requirement: {asked}; available: {string.Join(", ", available)}";
    }

    /// <summary>Dependencies before dependents; a cycle is an error that names it.</summary>
    private static List<ComponentRecipe> Order(Dictionary<string, ComponentRecipe> chosen)
    {
        var ordered = new List<ComponentRecipe>();
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();

        void Visit(ComponentRecipe recipe)
        {
            state[recipe.ComponentName] = 1;
            path.Add(recipe.ComponentName);
            foreach (var dependency in recipe.ComponentDependencies)
            {
                if (!chosen.TryGetValue(dependency.Name, out var target))
                {
                    continue;
                }

                state.TryGetValue(dependency.Name, out var s);
                if (s == 1)
                {
                    // Name the cycle from where it starts, with where each of its dependencies is written.
                    var members = path.Skip(path.IndexOf(dependency.Name)).ToList();
                    var edges = members.Select((m, i) => Where(chosen[m], chosen[m].FindDependency(i + 1 < members.Count ? members[i + 1] : dependency.Name)!)).ToList();
                    throw new DeploymentValidationException([$"{edges[0]}: dependency cycle: {string.Join(" -> ", members.Append(dependency.Name))}; components cannot depend on each other in a circle (the dependencies: {string.Join(", ", edges)})"]);
                }

                if (s == 0)
                {
                    Visit(target);
                }
            }

            path.RemoveAt(path.Count - 1);
            state[recipe.ComponentName] = 2;
            ordered.Add(recipe);
        }

        foreach (var recipe in chosen.Values.OrderBy(r => r.ComponentName, StringComparer.Ordinal))
        {
            if (!state.ContainsKey(recipe.ComponentName))
            {
                Visit(recipe);
            }
        }

        return ordered;
    }
}
