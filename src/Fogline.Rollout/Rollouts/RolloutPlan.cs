using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fogline.Greengrass.Recipes;

namespace Fogline.Rollout.Rollouts;

/// <summary>One stage of a rollout: how many of the group's devices it reaches in all, and how it is judged.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Devices">A number of devices (null when <paramref name="Percent"/> says).</param>
/// <param name="Percent">A share of the group's devices, rounded up (null when <paramref name="Devices"/> says).</param>
/// <param name="Bake">How long the stage must stay healthy once every device took it.</param>
/// <param name="Gates">Its gates.</param>
public sealed record RolloutStage(string Name, int? Devices, double? Percent, TimeSpan Bake, RolloutGates Gates)
{
    /// <summary>How many of <paramref name="groupSize"/> devices the stage reaches, counting the stages before it.</summary>
    public int Reach(int groupSize) => Math.Min(groupSize, Devices ?? (int)Math.Ceiling(groupSize * Percent!.Value / 100 - 1e-9));

    /// <summary>Whether it reaches the whole group (the parent's revision).</summary>
    public bool IsWholeGroup => Percent is >= 100;
}

/// <summary>How a stage is judged.</summary>
/// <param name="DeploymentTimeout">Every stage device's deployment must succeed within this.</param>
/// <param name="MinimumHealthy">The share of stage devices that must pass (0 to 1].</param>
/// <param name="HealthyCore">Whether the core device must report HEALTHY during the bake.</param>
/// <param name="Metrics">Metric gates: what the stage devices' components publish to IoT Core, compared with a control group.</param>
public sealed record RolloutGates(TimeSpan DeploymentTimeout, double MinimumHealthy, bool HealthyCore, IReadOnlyList<MetricGate> Metrics)
{
    /// <summary>The defaults: 10 minutes, every device, HEALTHY required, no metric gate.</summary>
    public static RolloutGates Default { get; } = new(TimeSpan.FromMinutes(10), 1.0, true, []);
}

/// <summary>
/// A rollout plan: new versions of one or several components of a thing group's deployment, taken to the group in
/// stages, each stage judged by its gates, undone on failure. Read from YAML or JSON (the schema is in the README);
/// every mistake is reported with its place before anything is deployed.
/// </summary>
public sealed partial record RolloutPlan
{
    /// <summary>The thing group whose deployment is rolled out.</summary>
    public required string Group { get; init; }

    /// <summary>The components and the versions to roll out.</summary>
    public required IReadOnlyDictionary<string, string> Components { get; init; }

    /// <summary>The stages in order; the last reaches the whole group.</summary>
    public required IReadOnlyList<RolloutStage> Stages { get; init; }

    /// <summary>A thing attribute whose values the stages' devices are spread across (site, architecture…), or null.</summary>
    public string? SpreadBy { get; init; }

    /// <summary>What to do when a gate fails: <c>revert</c> (the stage devices back to the previous revision) or <c>pause</c>.</summary>
    public string OnFailure { get; init; } = "revert";

    /// <summary>The IoT job configuration (rollout, abort, timeout) for the stages' deployments, as CreateDeployment takes it; null keeps the group's.</summary>
    public JsonObject? IotJobConfiguration { get; init; }

    /// <summary>The plan's identity (8 hex digits): running the same plan again resumes its rollout.</summary>
    public string Fingerprint()
    {
        var text = new StringBuilder().Append(Group).Append('\n').Append(SpreadBy).Append('\n');
        foreach (var (name, version) in Components.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append('=').Append(version).Append('\n');
        }

        foreach (var stage in Stages)
        {
            text.Append(CultureInfo.InvariantCulture, $"{stage.Name}:{stage.Devices}:{stage.Percent}:{stage.Bake.TotalSeconds}\n");
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..8];
    }

    /// <summary>Reads a plan from YAML or JSON text.</summary>
    /// <exception cref="RolloutPlanException">The plan is not valid; every problem with its place.</exception>
    public static RolloutPlan Parse(string text, string file)
    {
        JsonNode? root;
        try
        {
            root = ConfigurationDocument.Parse(text, file);
        }
        catch (RecipeException ex)
        {
            throw new RolloutPlanException(ex.Errors.Count > 0 ? [.. ex.Errors.Select(e => e.ToString())] : [ex.Message]);
        }

        var problems = new List<string>();
        if (root is not JsonObject plan)
        {
            throw new RolloutPlanException([$"{file}: a rollout plan is an object (group, components, stages), not {root?.GetValueKind().ToString() ?? "empty"}"]);
        }

        foreach (var (key, _) in plan)
        {
            if (key is not ("group" or "components" or "stages" or "spreadBy" or "gates" or "onFailure" or "iotJobConfiguration"))
            {
                problems.Add($"{key}: not a plan setting (group, components, stages, spreadBy, gates, onFailure, iotJobConfiguration)");
            }
        }

        var group = Text(plan, "group", "group", problems, required: true);
        if (group is not null && !GroupName().IsMatch(group))
        {
            problems.Add($"group: '{group}' is not a thing group name ([a-zA-Z0-9:_-], 1 to 128 characters)");
        }

        var components = new Dictionary<string, string>(StringComparer.Ordinal);
        if (plan["components"] is JsonObject componentNodes && componentNodes.Count > 0)
        {
            foreach (var (name, version) in componentNodes)
            {
                var text2 = version is JsonValue v && v.GetValueKind() is System.Text.Json.JsonValueKind.String or System.Text.Json.JsonValueKind.Number ? v.ToString() : null;
                if (text2 is null || !SemanticVersion().IsMatch(text2))
                {
                    problems.Add($"components.{name}: the version must be a semantic version like 1.2.0, not {version?.ToJsonString() ?? "null"}");
                }
                else
                {
                    components[name] = text2;
                }
            }
        }
        else
        {
            problems.Add("components: give the components to roll out as NAME: VERSION (at least one)");
        }

        var defaults = Gates(plan["gates"], "gates", RolloutGates.Default, problems);
        var stages = new List<RolloutStage>();
        if (plan["stages"] is JsonArray stageNodes && stageNodes.Count > 0)
        {
            for (var i = 0; i < stageNodes.Count; i++)
            {
                var where = $"stages[{i}]";
                if (stageNodes[i] is not JsonObject stage)
                {
                    problems.Add($"{where}: a stage is an object (devices or percent, bake, gates)");
                    continue;
                }

                var devices = Number(stage, "devices", where, problems);
                var percent = Percent(stage["percent"], $"{where}.percent", problems);
                if ((devices is null) == (percent is null))
                {
                    problems.Add($"{where}: give either devices (a count) or percent (a share of the group)");
                }

                if (devices is { } count && (count < 1 || count != Math.Floor(count)))
                {
                    problems.Add($"{where}.devices: a whole number of at least 1, not {count}");
                }

                if (percent is <= 0 or > 100)
                {
                    problems.Add($"{where}.percent: more than 0 and at most 100, not {percent}");
                }

                var bake = Duration(stage["bake"], $"{where}.bake", problems) ?? TimeSpan.Zero;
                stages.Add(new RolloutStage(Text(stage, "name", where, problems) ?? (i == 0 ? "canary" : $"stage-{i + 1}"), devices is { } d ? (int)d : null, percent, bake, Gates(stage["gates"], $"{where}.gates", defaults, problems)));
            }

            if (stages.Count > 0 && !stages[^1].IsWholeGroup)
            {
                problems.Add($"stages[{stages.Count - 1}]: the last stage must reach the whole group (percent: 100): it is the group's own revision");
            }

            for (var i = 1; i < stages.Count; i++)
            {
                if (stages[i].Percent is { } p && stages[i - 1].Percent is { } before && p <= before)
                {
                    problems.Add($"stages[{i}].percent: stages overlap: {p} % does not go beyond the {before} % of stages[{i - 1}]");
                }
            }
        }
        else
        {
            problems.Add("stages: give the stages in order, e.g. a canary of 1 device, then percent: 25, then percent: 100");
        }

        var onFailure = Text(plan, "onFailure", "onFailure", problems) ?? "revert";
        if (onFailure is not ("revert" or "pause"))
        {
            problems.Add($"onFailure: revert or pause, not '{onFailure}'");
        }

        if (plan["iotJobConfiguration"] is { } job && job is not JsonObject)
        {
            problems.Add("iotJobConfiguration: an object, as CreateDeployment takes it (jobExecutionsRolloutConfig, abortConfig, timeoutConfig)");
        }

        if (problems.Count > 0)
        {
            throw new RolloutPlanException(problems);
        }

        return new RolloutPlan
        {
            Group = group!,
            Components = components,
            Stages = stages,
            SpreadBy = Text(plan, "spreadBy", "spreadBy", problems),
            OnFailure = onFailure,
            IotJobConfiguration = plan["iotJobConfiguration"]?.DeepClone() as JsonObject,
        };
    }

    /// <summary>Reads a duration: seconds as a number, or a number with s, m or h (<c>90s</c>, <c>5m</c>, <c>1.5h</c>).</summary>
    public static TimeSpan? Duration(JsonNode? node, string where, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        if (node is null)
        {
            return null;
        }

        var text = node.ToString().Trim();
        var match = DurationPattern().Match(text);
        if (!match.Success)
        {
            problems.Add($"{where}: a duration like 30s, 5m or 1h, not {node.ToJsonString()}");
            return null;
        }

        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch
        {
            "m" => TimeSpan.FromMinutes(value),
            "h" => TimeSpan.FromHours(value),
            _ => TimeSpan.FromSeconds(value),
        };
    }

    private static RolloutGates Gates(JsonNode? node, string where, RolloutGates defaults, List<string> problems)
    {
        if (node is null)
        {
            return defaults;
        }

        if (node is not JsonObject gates)
        {
            problems.Add($"{where}: an object (deploymentTimeout, minHealthy, healthyCore, metrics)");
            return defaults;
        }

        foreach (var (key, _) in gates)
        {
            if (key is not ("deploymentTimeout" or "minHealthy" or "healthyCore" or "metrics"))
            {
                problems.Add($"{where}.{key}: not a gate (deploymentTimeout, minHealthy, healthyCore, metrics)");
            }
        }

        var timeout = Duration(gates["deploymentTimeout"], $"{where}.deploymentTimeout", problems) ?? defaults.DeploymentTimeout;
        if (timeout <= TimeSpan.Zero)
        {
            problems.Add($"{where}.deploymentTimeout: longer than 0, or no device can pass");
        }

        var minimum = Percent(gates["minHealthy"], $"{where}.minHealthy", problems) is { } p ? p / 100 : defaults.MinimumHealthy;
        if (minimum is <= 0 or > 1)
        {
            problems.Add($"{where}.minHealthy: more than 0 % and at most 100 %, not {minimum * 100} %");
        }

        var healthy = defaults.HealthyCore;
        if (gates["healthyCore"] is { } flag)
        {
            if (flag.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False)
            {
                healthy = flag.GetValue<bool>();
            }
            else if (bool.TryParse(flag.ToString(), out var parsed))
            {
                healthy = parsed;
            }
            else
            {
                problems.Add($"{where}.healthyCore: true or false, not {flag.ToJsonString()}");
            }
        }

        var metrics = gates["metrics"] is { } metricNodes ? MetricGates(metricNodes, $"{where}.metrics", problems) : defaults.Metrics;
        return new RolloutGates(timeout, minimum, healthy, metrics);
    }

    private static List<MetricGate> MetricGates(JsonNode node, string where, List<string> problems)
    {
        var gates = new List<MetricGate>();
        if (node is not JsonArray items)
        {
            problems.Add($"{where}: a list of metric gates (component, counter, per, maxRatio, minDifference, topic)");
            return gates;
        }

        for (var i = 0; i < items.Count; i++)
        {
            var at = $"{where}[{i}]";
            if (items[i] is not JsonObject item)
            {
                problems.Add($"{at}: an object (component, counter, per, maxRatio, minDifference, topic)");
                continue;
            }

            foreach (var (key, _) in item)
            {
                if (key is not ("name" or "component" or "counter" or "per" or "maxRatio" or "minDifference" or "topic"))
                {
                    problems.Add($"{at}.{key}: not a metric gate setting (name, component, counter, per, maxRatio, minDifference, topic)");
                }
            }

            var component = Text(item, "component", $"{at}.component", problems, required: true);
            var counter = Text(item, "counter", $"{at}.counter", problems, required: true);
            var per = Text(item, "per", $"{at}.per", problems);
            var maxRatio = Number(item, "maxRatio", at, problems) ?? 2;
            var minDifference = Number(item, "minDifference", at, problems) ?? 0;
            var topic = Text(item, "topic", $"{at}.topic", problems) ?? "fogline/{thing}/metrics/{component}";
            if (maxRatio < 1)
            {
                problems.Add($"{at}.maxRatio: at least 1, not {maxRatio.ToString(CultureInfo.InvariantCulture)}: below 1 a canary exactly as good as its control fails, so the gate can never pass");
            }

            if (minDifference < 0)
            {
                problems.Add($"{at}.minDifference: 0 or more, not {minDifference.ToString(CultureInfo.InvariantCulture)}");
            }

            if (!topic.Contains("{thing}", StringComparison.Ordinal))
            {
                problems.Add($"{at}.topic: '{topic}' must name {{thing}}: each device's figures are read from its own topic");
            }

            if (per == counter && per is not null)
            {
                problems.Add($"{at}.per: '{per}' is the counter itself (the rate would always be 1)");
            }

            if (component is not null && counter is not null)
            {
                var name = Text(item, "name", $"{at}.name", problems) ?? (per is null ? $"{counter} per second" : $"{counter} per {per}");
                gates.Add(new MetricGate(name, component, counter, per, maxRatio, minDifference, topic));
            }
        }

        return gates;
    }

    private static double? Percent(JsonNode? node, string where, List<string> problems)
    {
        if (node is null)
        {
            return null;
        }

        var text = node.ToString().Trim().TrimEnd('%').Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        problems.Add($"{where}: a percentage like 25 or 25%, not {node.ToJsonString()}");
        return null;
    }

    private static double? Number(JsonObject parent, string name, string where, List<string> problems)
    {
        if (parent[name] is not { } node)
        {
            return null;
        }

        if (double.TryParse(node.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }

        problems.Add($"{where}.{name}: a number, not {node.ToJsonString()}");
        return null;
    }

    private static string? Text(JsonObject parent, string name, string where, List<string> problems, bool required = false)
    {
        switch (parent[name])
        {
            case null:
                if (required)
                {
                    problems.Add($"{where}: required");
                }

                return null;
            case JsonValue value when value.GetValueKind() == System.Text.Json.JsonValueKind.String:
                return value.GetValue<string>();
            case var other:
                problems.Add($"{where}: a string, not {other.ToJsonString()}");
                return null;
        }
    }

    [GeneratedRegex("^[a-zA-Z0-9:_-]{1,128}$")]
    private static partial Regex GroupName();

    [GeneratedRegex(@"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")]
    private static partial Regex SemanticVersion();

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*(s|m|h)?$")]
    private static partial Regex DurationPattern();
}

/// <summary>A rollout plan that cannot be used; <see cref="Problems"/> lists every mistake with its place.</summary>
public sealed class RolloutPlanException : ProblemsException
{
    /// <summary>Creates the exception.</summary>
    public RolloutPlanException(IReadOnlyList<string> problems)
        : base("the rollout plan is not valid: ", problems)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RolloutPlanException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RolloutPlanException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RolloutPlanException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
