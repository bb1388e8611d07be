using System.Text;
using System.Text.Json.Nodes;
using Fogline.LocalNucleus.Tests.Conformance;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Shadows;

/// <summary>Local shadows through the official Greengrass IPC client for Node.js.</summary>
[CancelAfter(120_000)]
public class ShadowOfficialClientTests
{
    private TestNucleus _nucleus = null!;
    private NodeIpcRunner _node = null!;
    private int _id;

    [SetUp]
    public async Task SetUp()
    {
        _nucleus = await TestNucleus.StartAsync();
        var app = _nucleus.Add("com.example.Node", TestNucleus.Policy("aws.greengrass.ShadowManager", "shadows", ["*"], ["*"]));
        _node = await NodeIpcRunner.StartAsync(_nucleus.Nucleus.SocketPath, new Dictionary<string, string> { [app.Name] = app.Token });
    }

    [TearDown]
    public async Task TearDown()
    {
        await _node.DisposeAsync();
        await _nucleus.DisposeAsync();
    }

    [Test]
    public async Task TheOfficialClient_UpdatesGetsListsAndDeletesShadows()
    {
        var update = await CallAsync("updateThingShadow", new JsonObject
        {
            ["thingName"] = "NodeThing",
            ["shadowName"] = "cfg",
            ["payload"] = Blob("""{"state":{"desired":{"speed":3}},"clientToken":"js"}"""),
        });
        var updated = Payload(update);
        Assert.That((updated["version"]!.GetValue<long>(), updated["clientToken"]!.GetValue<string>()), Is.EqualTo((1L, "js")), update.ToJsonString());

        var get = Payload(await CallAsync("getThingShadow", new JsonObject { ["thingName"] = "NodeThing", ["shadowName"] = "cfg" }));
        Assert.That(get["state"]!["delta"]!.ToJsonString(), Is.EqualTo("""{"speed":3}"""));

        var list = await CallAsync("listNamedShadowsForThing", new JsonObject { ["thingName"] = "NodeThing", ["pageSize"] = 1 });
        Assert.That(list["ok"]!["results"]!.ToJsonString(), Is.EqualTo("""["cfg"]"""), list.ToJsonString());
        Assert.That(list["ok"]!["nextToken"]?.GetValue<string>(), Is.Not.Null.And.Not.Empty);
        Assert.That(list["ok"]!["timestamp"]!.GetValue<double>(), Is.GreaterThan(0));

        var conflict = await CallAsync("updateThingShadow", new JsonObject
        {
            ["thingName"] = "NodeThing",
            ["shadowName"] = "cfg",
            ["payload"] = Blob("""{"state":{"reported":{"speed":3}},"version":5}"""),
        });
        Assert.That((conflict["error"]?["code"]?.GetValue<string>(), conflict["error"]?["message"]?.GetValue<string>()), Is.EqualTo(("ConflictError", "Version conflict")), conflict.ToJsonString());

        var delete = await CallAsync("deleteThingShadow", new JsonObject { ["thingName"] = "NodeThing", ["shadowName"] = "cfg" });
        Assert.That(delete["ok"]?["payload"]?.GetValue<string>() ?? string.Empty, Is.Empty, delete.ToJsonString());

        var missing = await CallAsync("getThingShadow", new JsonObject { ["thingName"] = "NodeThing", ["shadowName"] = "cfg" });
        Assert.That((missing["error"]?["code"]?.GetValue<string>(), missing["error"]?["message"]?.GetValue<string>()), Is.EqualTo(("ResourceNotFoundError", "No shadow found")), missing.ToJsonString());

        var invalid = await CallAsync("updateThingShadow", new JsonObject { ["thingName"] = "NodeThing", ["payload"] = Blob("""{"state":{"desired":[1]}}""") });
        Assert.That((invalid["error"]?["code"]?.GetValue<string>(), invalid["error"]?["message"]?.GetValue<string>()), Is.EqualTo(("InvalidArgumentsError", "Invalid JSON: state.desired: array found, but [object, null] is required")), invalid.ToJsonString());
    }

    private async Task<JsonObject> CallAsync(string operation, JsonObject request) =>
        await _node.RunAsync(new JsonObject { ["id"] = ++_id, ["as"] = "com.example.Node", ["call"] = operation, ["request"] = request });

    private static JsonObject Blob(string json) => new() { ["$blob"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(json)) };

    private static JsonNode Payload(JsonObject result)
    {
        Assert.That(result["ok"]?["payload"], Is.Not.Null, result.ToJsonString());
        return JsonNode.Parse(Convert.FromBase64String(result["ok"]!["payload"]!.GetValue<string>()))!;
    }
}
