using System.Text.Json.Nodes;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>The outcome of one step that exercised an operation.</summary>
public sealed record StepOutcome(string Operation, string Client, bool Passed, string Detail, string Scenario);

/// <summary>
/// Runs a scenario file against a fresh local Nucleus with one client library: the client steps go to the runner,
/// the nucleus steps (the cloud side, deployments' validation requests, configuration changes) run here.
/// </summary>
public sealed class ScenarioRunner
{
    private readonly Dictionary<string, Task<JsonNode?>> _background = [];
    private readonly Dictionary<string, string> _streamOperations = [];

    public static string ScenarioDirectory => Path.Combine(Repository.Root, "tests", "Fogline.LocalNucleus.Tests", "Conformance", "Scenarios");

    public static IEnumerable<string> Scenarios() =>
        Directory.GetFiles(ScenarioDirectory, "*.json").Select(Path.GetFileNameWithoutExtension).Order()!;

    /// <summary>Whether a scenario runs against a real broker too: it names the topics the device's IoT policy allows (<c>brokerTopics</c>).</summary>
    public static bool UsesBroker(string scenario) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(ScenarioDirectory, scenario + ".json")))?["brokerTopics"] is JsonArray;

    /// <summary>
    /// Runs <paramref name="scenario"/> with <paramref name="client"/>; with <paramref name="broker"/> the Nucleus
    /// connects to Mosquitto with mutual TLS (the device allowed the scenario's IoT Core topics) instead of using the
    /// emulated IoT Core.
    /// </summary>
    public async Task<List<StepOutcome>> RunAsync(string scenario, string client, bool broker = false)
    {
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(ScenarioDirectory, scenario + ".json")))!.AsObject();
        var outcomes = new List<StepOutcome>();
        var brokerCloud = broker ? await BrokerCloud.StartAsync(document["brokerTopics"]!.AsArray().Select(t => t!.GetValue<string>()).ToList()) : null;
        await using var brokerLifetime = brokerCloud;
        await using var nucleus = await TestNucleus.StartAsync(brokerCloud is null ? null : root => new NucleusOptions { RootPath = root, ThingName = BrokerCloud.Thing, IoTCore = brokerCloud.DeviceOptions });
        ICloudSide cloud = brokerCloud ?? (ICloudSide)new EmulatedCloud(nucleus.Nucleus);
        if (brokerCloud is not null)
        {
            await brokerCloud.AttachAsync(nucleus.Nucleus);
        }

        var label = broker ? " [Mosquitto]" : string.Empty;
        var tokens = new Dictionary<string, string>();
        foreach (var (name, configuration) in document["components"]?.AsObject() ?? [])
        {
            tokens[name] = nucleus.Add(name, configuration?.ToJsonString()).Token;
        }

        await using IIpcRunner runner = client == "Node.js"
            ? await NodeIpcRunner.StartAsync(nucleus.Nucleus.SocketPath, tokens)
            : new CSharpIpcRunner(nucleus.Nucleus.SocketPath, tokens);
        var id = 0;
        foreach (var node in document["steps"]!.AsArray())
        {
            var step = node!.AsObject();
            JsonNode? result;
            string? operation = null;
            if (step["nucleus"] is { } verb)
            {
                result = await NucleusStepAsync(nucleus.Nucleus, cloud, verb.GetValue<string>(), step);
            }
            else
            {
                var message = step.DeepClone().AsObject();
                message.Remove("expect");
                message.Remove("op");
                message.Remove("expectByClient");
                message["id"] = ++id;
                operation = OperationOf(step);
                result = await runner.RunAsync(message);
                result.AsObject().Remove("id");
            }

            // Where the official client's own model makes it see a server answer differently (an error shape its
            // operation does not declare), the step says so with "expectByClient" and a "note"; the server's answer
            // is the same for both.
            if ((step["expectByClient"]?[client] ?? step["expect"]) is { } expect)
            {
                var differences = JsonMatch.Differences(expect, result);
                var detail = differences.Count == 0 ? "ok" : $"step {step.ToJsonString()}: {string.Join("; ", differences)} (result {result?.ToJsonString()})";
                outcomes.Add(new StepOutcome((operation ?? "(nucleus) " + step["nucleus"]) + label, client, differences.Count == 0, detail, scenario));
            }
        }

        return outcomes;
    }

    private string? OperationOf(JsonObject step)
    {
        if (step["op"] is { } op)
        {
            return op.GetValue<string>();
        }

        if (step["call"] is { } call)
        {
            return Pascal(call.GetValue<string>());
        }

        if (step["open"] is { } open)
        {
            var name = Pascal(open.GetValue<string>());
            _streamOperations[step["stream"]!.GetValue<string>()] = name;
            return name;
        }

        if ((step["events"] ?? step["close"]) is { } stream)
        {
            return _streamOperations.GetValueOrDefault(stream.GetValue<string>());
        }

        return step["disconnect"] is not null ? "(disconnect)" : null;
    }

    private static string Pascal(string name) => char.ToUpperInvariant(name[0]) + name[1..];

    private async Task<JsonNode?> NucleusStepAsync(Nucleus nucleus, ICloudSide cloud, string verb, JsonObject step)
    {
        switch (verb)
        {
            case "setConfiguration":
                nucleus.Configuration.SetConfiguration(step["component"]!.GetValue<string>(), step["configuration"]!.DeepClone().AsObject());
                return new JsonObject { ["ok"] = true };
            case "getConfiguration":
                return nucleus.Configuration.GetValue(step["component"]!.GetValue<string>(), step["keyPath"]?.AsArray().Select(k => k!.GetValue<string>()).ToArray());
            case "validateConfiguration":
                {
                    var component = step["component"]!.GetValue<string>();
                    var deployment = step["deploymentId"]!.GetValue<string>();
                    var proposed = step["configuration"]!.DeepClone().AsObject();
                    _background[step["as"]!.GetValue<string>()] = Task.Run(async () =>
                    {
                        var report = await nucleus.ConfigurationValidation.RequestAsync(component, deployment, proposed, TimeSpan.FromSeconds(20));
                        return report is null ? null : (JsonNode?)new JsonObject { ["status"] = report.Status?.Value, ["deploymentId"] = report.DeploymentId, ["message"] = report.Message };
                    });
                    return new JsonObject { ["started"] = true };
                }

            case "await":
                return await _background[step["name"]!.GetValue<string>()].WaitAsync(TimeSpan.FromSeconds(30));
            default:
                return await ScenarioVerbs.RunAsync(nucleus, cloud, verb, step, _background);
        }
    }
}
