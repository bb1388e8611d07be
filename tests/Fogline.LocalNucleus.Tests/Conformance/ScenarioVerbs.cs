using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>
/// Nucleus-side steps of the other areas, run by the C# harness for both clients:
/// <c>offline</c>/<c>online</c> (the IoT Core connection), <c>journal</c> (what reached the cloud, payloads as
/// text), <c>sendToDevice</c> (a cloud-to-device message) against the scenario's <see cref="ICloudSide"/>, <c>setSecrets</c>, <c>preUpdate</c>/<c>postUpdate</c>
/// (component update notifications; <c>preUpdate</c> runs in the background under "as" and is collected with
/// <c>await</c>), <c>state</c> (a component's lifecycle state), <c>metrics</c> (recorded component metrics).
/// </summary>
public static class ScenarioVerbs
{
    public static async Task<JsonNode?> RunAsync(Nucleus nucleus, ICloudSide cloud, string verb, JsonObject step, IDictionary<string, Task<JsonNode?>> background)
    {
        switch (verb)
        {
            case "offline":
                await cloud.GoOfflineAsync();
                return new JsonObject { ["online"] = nucleus.IoTCore.IsOnline };
            case "online":
                await cloud.GoOnlineAsync();
                return new JsonObject { ["online"] = nucleus.IoTCore.IsOnline };
            case "journal":
                {
                    var entries = await cloud.JournalAsync(step["count"]?.GetValue<int>() ?? 0);
                    return new JsonObject
                    {
                        ["entries"] = new JsonArray([.. entries.Select(e => (JsonNode)new JsonObject
                        {
                            ["topic"] = e.Topic,
                            ["qos"] = e.Qos,
                            ["payload"] = e.Payload,
                        })]),
                    };
                }

            case "sendToDevice":
                return new JsonObject { ["result"] = await cloud.SendToDeviceAsync(step["topic"]!.GetValue<string>(), step["payload"]!.GetValue<string>()) };
            case "setSecrets":
                // Written to <root>/secrets.json and reloaded, as a person would set up the local secret manager
                // (the store re-reads the file when asked for an ARN it does not hold).
                await File.WriteAllTextAsync(nucleus.Secrets.FilePath, step["secrets"]!.ToJsonString());
                nucleus.Secrets.Reload();
                return new JsonObject { ["ok"] = nucleus.Secrets.LastLoadError is null, ["error"] = nucleus.Secrets.LastLoadError };
            case "preUpdate":
                {
                    var deploymentId = step["deploymentId"]!.GetValue<string>();
                    var timeout = TimeSpan.FromMilliseconds(step["timeoutMs"]?.GetValue<int>() ?? 5000);
                    background[step["as"]!.GetValue<string>()] = Task.Run(async () =>
                    {
                        var outcome = await nucleus.Updates.NotifyPreUpdateAsync(deploymentId, false, timeout);
                        return (JsonNode?)new JsonObject
                        {
                            ["deploymentId"] = outcome.DeploymentId,
                            ["rounds"] = outcome.Rounds,
                            ["deferrals"] = new JsonArray([.. outcome.Deferrals.Select(d => (JsonNode)new JsonObject
                            {
                                ["component"] = d.Component,
                                ["recheckAfterMs"] = d.RecheckAfterMs,
                                ["message"] = d.Message,
                            })]),
                        };
                    });
                    return new JsonObject { ["started"] = true };
                }

            case "postUpdate":
                await nucleus.Updates.NotifyPostUpdateAsync(step["deploymentId"]!.GetValue<string>());
                return new JsonObject { ["ok"] = true };
            case "state":
                {
                    var name = step["component"]!.GetValue<string>();
                    return nucleus.Components.TryGet(name, out var record)
                        ? new JsonObject { ["state"] = record.State.Value, ["paused"] = record.IsPaused }
                        : new JsonObject { ["state"] = null };
                }

            default:
                throw new InvalidOperationException($"unknown nucleus step '{verb}' in {step.ToJsonString()}");
        }
    }
}
