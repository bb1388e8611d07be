using System.Text;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Shadows;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Shadows;

/// <summary>Shadows are kept under &lt;root&gt;/shadows and survive a restart of the Nucleus on the same root.</summary>
[CancelAfter(60_000)]
public class ShadowPersistenceTests
{
    private const string Policy = "aws.greengrass.ShadowManager";

    private string _root = null!;

    [SetUp]
    public void SetUp() => _root = Path.Combine(Path.GetTempPath(), "fogline-shadows-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Test]
    public async Task ShadowsAndVersions_SurviveARestart_AndDeletedShadowsAreGoneFromDisk()
    {
        var time = new ManualClock(systemTimers: true);
        await using (var first = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root, TimeProvider = time }))
        {
            await using var client = await ConnectAsync(first);
            await UpdateAsync(client, "Kept", null, """{"state":{"desired":{"mode":"eco"},"reported":{"mode":"off"}}}""");
            await UpdateAsync(client, "Kept", null, """{"state":{"reported":{"temp":21.5}}}""");
            await UpdateAsync(client, "Kept", "named:1", """{"state":{"reported":{"n":1}}}""");
            await UpdateAsync(client, "Kept", "removed", """{"state":{"reported":{"n":2}}}""");
            await client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "Kept", ShadowName = "removed" });

            Assert.That(Directory.GetFiles(first.Shadows.DirectoryPath, "*.json"), Has.Length.EqualTo(2), "one file per shadow, none for the deleted one");
            Assert.That(first.Shadows.DirectoryPath, Is.EqualTo(Path.Combine(Path.GetFullPath(_root), "shadows")));
        }

        time.Advance(TimeSpan.FromMinutes(1));
        await using (var second = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root, TimeProvider = time }))
        {
            await using var client = await ConnectAsync(second);
            Assert.That(second.Shadows.Count, Is.EqualTo(2));

            var classic = await GetAsync(client, "Kept", null);
            Assert.That(classic["version"]!.GetValue<long>(), Is.EqualTo(2));
            Assert.That(classic["state"]!.ToJsonString(), Is.EqualTo("""{"desired":{"mode":"eco"},"reported":{"mode":"off","temp":21.5},"delta":{"mode":"eco"}}"""));
            Assert.That(classic["metadata"]!["reported"]!["temp"]!["timestamp"]!.GetValue<long>(), Is.EqualTo(time.EpochSeconds - 60), "metadata is kept");

            var named = await GetAsync(client, "Kept", "named:1");
            Assert.That(named["version"]!.GetValue<long>(), Is.EqualTo(1));
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Kept", ShadowName = "removed" }));
            var list = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Kept" });
            Assert.That(list.Results, Is.EqualTo(new[] { "named:1" }));

            // The version carries on from the stored one.
            var updated = await UpdateAsync(client, "Kept", null, """{"state":{"reported":{"mode":"eco"}},"version":2}""");
            Assert.That(updated["version"]!.GetValue<long>(), Is.EqualTo(3));
            await client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "Kept", ShadowName = "named:1" });
        }

        await using (var third = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root, TimeProvider = time }))
        {
            await using var client = await ConnectAsync(third);
            var classic = await GetAsync(client, "Kept", null);
            Assert.That(classic["version"]!.GetValue<long>(), Is.EqualTo(3));
            Assert.That(classic["state"]!.AsObject().ContainsKey("delta"), Is.False);
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Kept", ShadowName = "named:1" }));
            Assert.That(Directory.GetFiles(third.Shadows.DirectoryPath, "*.json"), Has.Length.EqualTo(1));
        }
    }

    [Test]
    public async Task NamesDifferingOnlyInCase_AreDifferentShadows_OnDiskToo()
    {
        await using (var first = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root }))
        {
            first.Shadows.UpdateThingShadow("Thing", "a", Encoding.UTF8.GetBytes("""{"state":{"reported":{"v":"lower"}}}"""));
            first.Shadows.UpdateThingShadow("Thing", "A", Encoding.UTF8.GetBytes("""{"state":{"reported":{"v":"upper"}}}"""));
            first.Shadows.UpdateThingShadow("thing", "a", Encoding.UTF8.GetBytes("""{"state":{"reported":{"v":"other thing"}}}"""));
        }

        await using var second = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root });
        Assert.That(Reported(second, "Thing", "a"), Is.EqualTo("\"lower\""));
        Assert.That(Reported(second, "Thing", "A"), Is.EqualTo("\"upper\""));
        Assert.That(Reported(second, "thing", "a"), Is.EqualTo("\"other thing\""));
    }

    [Test]
    public async Task UnreadableFiles_AreLeftOut_AndLeftoverTemporaryFilesRemoved()
    {
        var directory = Path.Combine(_root, ShadowService.DirectoryName);
        await using (var first = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root }))
        {
            first.Shadows.UpdateThingShadow("Good", null, Encoding.UTF8.GetBytes("""{"state":{"reported":{"ok":true}}}"""));
        }

        File.WriteAllText(Path.Combine(directory, "broken.json"), "{ not json");
        File.WriteAllText(Path.Combine(directory, "wrong.json"), """{"thingName":"bad name","shadowName":"","version":1,"document":{"state":{}}}""");
        File.WriteAllText(Path.Combine(directory, "Good.0123456789abcdef.json.1234.tmp"), "partial");

        await using var second = await Nucleus.StartAsync(new NucleusOptions { RootPath = _root });
        Assert.That(second.Shadows.Count, Is.EqualTo(1));
        Assert.That(Reported(second, "Good", null), Is.EqualTo("true"));
        Assert.That(Directory.GetFiles(directory, "*.tmp"), Is.Empty);
    }

    // The JSON of the only reported value of a shadow.
    private static string Reported(Nucleus nucleus, string thing, string? shadow)
    {
        var document = JsonNode.Parse(nucleus.Shadows.GetThingShadow(thing, shadow))!;
        return document["state"]!["reported"]!.AsObject().Single().Value!.ToJsonString();
    }

    private static async Task<GreengrassIpcClient> ConnectAsync(Nucleus nucleus)
    {
        var component = nucleus.AddComponent("com.example.App", "1.0.0", JsonNode.Parse(TestNucleus.Policy(Policy, "all", ["*"], ["*"]))!.AsObject());
        return await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = component.Token });
    }

    private static async Task<JsonNode> UpdateAsync(GreengrassIpcClient client, string thing, string? shadow, string payload)
    {
        var response = await client.UpdateThingShadowAsync(new UpdateThingShadowRequest { ThingName = thing, ShadowName = shadow, Payload = Encoding.UTF8.GetBytes(payload) });
        return JsonNode.Parse(response.Payload!.Value.Span)!;
    }

    private static async Task<JsonNode> GetAsync(GreengrassIpcClient client, string thing, string? shadow)
    {
        var response = await client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = thing, ShadowName = shadow });
        return JsonNode.Parse(response.Payload!.Value.Span)!;
    }
}
