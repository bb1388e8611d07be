using System.Globalization;
using System.Text;

namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>
/// Every field of a recipe model as text, written field by field (independently of the library's writer), so that
/// two models can be compared in full and a difference shows where it is.
/// </summary>
internal static class RecipeDump
{
    public static string Describe(ComponentRecipe r)
    {
        var sb = new StringBuilder();
        Line(sb, "RecipeFormatVersion", r.RecipeFormatVersion);
        Line(sb, "ComponentName", r.ComponentName);
        Line(sb, "ComponentVersion", r.ComponentVersion.ToString());
        Line(sb, "ComponentDescription", r.ComponentDescription);
        Line(sb, "ComponentPublisher", r.ComponentPublisher);
        Line(sb, "ComponentType", r.ComponentType.ToString());
        Line(sb, "ComponentSource", r.ComponentSource);
        Line(sb, "DefaultConfiguration", r.ComponentConfiguration?.DefaultConfiguration.ToJsonString());
        foreach (var d in r.ComponentDependencies)
        {
            Line(sb, $"Dependency {d.Name}", $"{d.VersionRequirement.Text} => {d.VersionRequirement.Normalized} {d.DependencyType}");
        }

        foreach (var m in r.Manifests)
        {
            var p = $"Manifests[{m.Index}]";
            Line(sb, p + ".Name", m.Name);
            Line(sb, p + ".Platform", m.Platform is null ? null : string.Join(", ", m.Platform.Select(a => $"{a.Key}={a.Value}")));
            Line(sb, p + ".Selections", m.Selections is null ? null : string.Join(", ", m.Selections));
            Lifecycle(sb, p + ".Lifecycle", m.Lifecycle);
            Lifecycle(sb, p + ".EffectiveLifecycle", m.EffectiveLifecycle);
            for (var i = 0; i < m.Artifacts.Count; i++)
            {
                var a = m.Artifacts[i];
                Line(sb, $"{p}.Artifacts[{i}]", $"{a.Uri} digest={a.Digest} algorithm={a.Algorithm} unarchive={a.Unarchive} read={a.Permission.Read} execute={a.Permission.Execute}");
            }
        }

        Line(sb, "Lifecycle (global)", r.Lifecycle is null ? null : Node(r.Lifecycle));
        return sb.ToString();
    }

    private static void Lifecycle(StringBuilder sb, string path, Lifecycle? lifecycle)
    {
        if (lifecycle is null)
        {
            Line(sb, path, null);
            return;
        }

        Line(sb, path + ".Setenv", Variables(lifecycle.Setenv));
        foreach (var (kind, step) in lifecycle.Steps)
        {
            Line(sb, $"{path}.{kind}", string.Create(CultureInfo.InvariantCulture,
                $"script=[{step.Script}] scriptOnly={step.IsScriptOnly} timeout={step.Timeout} timeoutExpression={step.TimeoutExpression} setenv={Variables(step.Setenv)} skipif={step.Skipif} privileged={step.RequiresPrivilege}"));
        }
    }

    private static string Variables(IReadOnlyDictionary<string, string> variables) =>
        "{" + string.Join(", ", variables.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}")) + "}";

    private static string Node(RecipeNode node) => node switch
    {
        RecipeMapping map => "{" + string.Join(", ", map.Entries.Select(e => $"{e.Key.Value}: {Node(e.Value)}")) + "}",
        RecipeSequence seq => "[" + string.Join(", ", seq.Items.Select(Node)) + "]",
        RecipeScalar s => $"{s.Type}({s.Value})",
        _ => "?",
    };

    private static void Line(StringBuilder sb, string name, string? value) => sb.Append(name).Append(" = ").Append(value ?? "<null>").Append('\n');
}
