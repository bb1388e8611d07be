using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>Nucleus-side steps of the other areas (cloud side of IoT Core, component updates, shadows on disk...).</summary>
public static class ScenarioVerbs
{
    public static Task<JsonNode?> RunAsync(Nucleus nucleus, string verb, JsonObject step)
    {
        _ = nucleus;
        throw new InvalidOperationException($"unknown nucleus step '{verb}' in {step.ToJsonString()}");
    }
}
