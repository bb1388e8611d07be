using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Shadows;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Shadows;

/// <summary>Local shadows through real IPC clients, as the shadow manager component serves them.</summary>
[CancelAfter(60_000)]
public class ShadowIpcTests
{
    private const string ShadowManager = "aws.greengrass.ShadowManager";

    private ManualClock _time = null!;
    private TestNucleus _nucleus = null!;

    private long Now => _time.EpochSeconds;

    [SetUp]
    public async Task SetUp()
    {
        _time = new ManualClock(systemTimers: true);
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, TimeProvider = _time });
    }

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task UpdateCreatesTheShadow_AndGetAnswersStateDeltaMetadataAndVersion()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);

        var response = await client.UpdateThingShadowAsync(Update("MyThing", null, """{"state":{"desired":{"color":"red","size":{"w":1,"h":2}}},"clientToken":"tok-1"}"""));

        // The answer is the update with its metadata, in the component's member order.
        Assert.That(Text(response.Payload), Is.EqualTo(
            Stamp("""{"version":1,"clientToken":"tok-1","timestamp":@t,"state":{"desired":{"color":"red","size":{"w":1,"h":2}}},"metadata":{"desired":{"color":{"timestamp":@t},"size":{"w":{"timestamp":@t},"h":{"timestamp":@t}}}}}""")));

        var get = await client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "MyThing", ShadowName = "" });
        Assert.That(Text(get.Payload), Is.EqualTo(
            Stamp("""{"state":{"desired":{"color":"red","size":{"w":1,"h":2}},"delta":{"color":"red","size":{"w":1,"h":2}}},"metadata":{"desired":{"color":{"timestamp":@t},"size":{"w":{"timestamp":@t},"h":{"timestamp":@t}}}},"version":1,"timestamp":@t}""")));
    }

    [Test]
    public async Task Reported_ClearsTheDelta_NumbersCompareByValue_ArraysAsAWhole()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        await UpdateAsync(client, "Lamp", null, """{"state":{"desired":{"color":"red","size":{"w":1,"h":2},"list":[1,2]}}}""");
        _time.Advance(TimeSpan.FromSeconds(5));

        var response = await UpdateAsync(client, "Lamp", null, """{"state":{"reported":{"color":"red","size":{"w":1,"h":2.0},"list":[1,2,3],"extra":true}}}""");
        Assert.That(response["version"]!.GetValue<long>(), Is.EqualTo(2));

        var document = await GetAsync(client, "Lamp", null);
        Assert.That(JsonNode.DeepEquals(document["state"]!["delta"], JsonNode.Parse("""{"list":[1,2]}""")), Is.True, document.ToJsonString());
        Assert.That(document["metadata"]!["reported"]!["size"]!["h"]!["timestamp"]!.GetValue<long>(), Is.EqualTo(Now), "reported metadata has the time of the report");
        Assert.That(document["metadata"]!["desired"]!["size"]!["h"]!["timestamp"]!.GetValue<long>(), Is.EqualTo(Now - 5), "desired metadata keeps the time of the request");

        await UpdateAsync(client, "Lamp", null, """{"state":{"reported":{"list":[1,2]}}}""");
        document = await GetAsync(client, "Lamp", null);
        Assert.That(document["state"]!.AsObject().ContainsKey("delta"), Is.False, document.ToJsonString());

        await UpdateAsync(client, "Lamp", null, """{"state":{"reported":{"color":"blue"}}}""");
        document = await GetAsync(client, "Lamp", null);
        Assert.That(JsonNode.DeepEquals(document["state"]!["delta"], JsonNode.Parse("""{"color":"red"}""")), Is.True, document.ToJsonString());
        Assert.That(document["version"]!.GetValue<long>(), Is.EqualTo(4));
    }

    [Test]
    public async Task NullDeletesAKeyAndItsMetadata_NullSectionsAndStateClear()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        await UpdateAsync(client, "T", "s", """{"state":{"desired":{"a":1,"b":{"c":2,"d":3}},"reported":{"a":0}}}""");

        await UpdateAsync(client, "T", "s", """{"state":{"desired":{"a":null,"b":{"c":null}}}}""");
        var document = await GetAsync(client, "T", "s");
        Assert.That(document["state"]!["desired"]!.ToJsonString(), Is.EqualTo("""{"b":{"d":3}}"""));
        Assert.That(document["metadata"]!["desired"]!.ToJsonString(), Is.EqualTo(Stamp("""{"b":{"d":{"timestamp":@t}}}""")));
        Assert.That(document["state"]!["delta"]!.ToJsonString(), Is.EqualTo("""{"b":{"d":3}}"""));

        await UpdateAsync(client, "T", "s", """{"state":{"desired":null}}""");
        document = await GetAsync(client, "T", "s");
        Assert.That(document["state"]!.ToJsonString(), Is.EqualTo("""{"reported":{"a":0}}"""));
        Assert.That(document["metadata"]!.AsObject().ContainsKey("desired"), Is.False);

        // state: null clears everything, but the shadow stays (with a new version).
        var cleared = await UpdateAsync(client, "T", "s", """{"state":null}""");
        Assert.That(cleared.ToJsonString(), Is.EqualTo(Stamp("""{"version":4,"timestamp":@t,"state":null,"metadata":{"timestamp":@t}}""")));
        document = await GetAsync(client, "T", "s");
        Assert.That(document.ToJsonString(), Is.EqualTo(Stamp("""{"state":{},"metadata":{},"version":4,"timestamp":@t}""")));
    }

    [Test]
    public async Task FirstDesired_IsKeptAsGiven_NullsIncluded_AsTheShadowManagerDoes()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        await UpdateAsync(client, "T", null, """{"state":{"desired":{"a":null,"b":1}}}""");

        var document = await GetAsync(client, "T", null);
        Assert.That(document["state"]!["desired"]!.ToJsonString(), Is.EqualTo("""{"a":null,"b":1}"""));
        Assert.That(document["metadata"]!["desired"]!.ToJsonString(), Is.EqualTo(Stamp("""{"b":{"timestamp":@t}}""")));
    }

    [Test]
    public async Task ADeltaInTheRequest_IsDropped_AndAnEmptyStateStillMakesAVersion()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);

        var response = await UpdateAsync(client, "E", null, """{"state":{"delta":{"x":1},"reported":{"x":2}}}""");
        Assert.That(response["state"]!.ToJsonString(), Is.EqualTo("""{"reported":{"x":2}}"""));

        var empty = await UpdateAsync(client, "E", null, """{"state":{}}""");
        Assert.That(empty.ToJsonString(), Is.EqualTo(Stamp("""{"version":2,"timestamp":@t,"state":{},"metadata":{}}""")));
        var created = await UpdateAsync(client, "E", "fresh", """{"state":{}}""");
        Assert.That(created["version"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That((await GetAsync(client, "E", "fresh")).ToJsonString(), Is.EqualTo(Stamp("""{"state":{},"metadata":{},"version":1,"timestamp":@t}""")));
    }

    [Test]
    public async Task VersionIncrementsOnEveryUpdate_AndAMismatchedVersionIsAConflict()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        for (var i = 1; i <= 3; i++)
        {
            var response = await UpdateAsync(client, "V", null, "{\"state\":{\"reported\":{\"n\":" + i + "}}}");
            Assert.That(response["version"]!.GetValue<long>(), Is.EqualTo(i));
        }

        Assert.That((await UpdateAsync(client, "V", null, """{"state":{"reported":{"n":4}},"version":3}"""))["version"]!.GetValue<long>(), Is.EqualTo(4));

        var conflict = await Assert.ThrowsAsync<ConflictException>(() => client.UpdateThingShadowAsync(Update("V", null, """{"state":{"reported":{"n":5}},"version":2}""")));
        Assert.That(conflict!.Error.Message, Is.EqualTo("Version conflict"));
        Assert.That((await GetAsync(client, "V", null))["version"]!.GetValue<long>(), Is.EqualTo(4), "a conflicting update changes nothing");

        // A shadow that does not exist yet only takes version 1.
        var invalid = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.UpdateThingShadowAsync(Update("V", "new", """{"state":{"reported":{"n":1}},"version":2}""")));
        Assert.That(invalid!.Error.Message, Is.EqualTo("Invalid version"));
        Assert.That((await UpdateAsync(client, "V", "new", """{"state":{"reported":{"n":1}},"version":1}"""))["version"]!.GetValue<long>(), Is.EqualTo(1));
    }

    [Test]
    public async Task Delete_ThenGetIsResourceNotFound_AndTheShadowStartsAgainAtVersion1()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        await UpdateAsync(client, "D", "gone", """{"state":{"reported":{"x":1}}}""");
        await UpdateAsync(client, "D", "gone", """{"state":{"reported":{"x":2}}}""");

        var deleted = await client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "D", ShadowName = "gone" });
        Assert.That(deleted.Payload!.Value.Length, Is.Zero, "a delete answers an empty payload");

        var notFound = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "D", ShadowName = "gone" }));
        Assert.That((notFound!.Error.Message, notFound.Error.ResourceType), Is.EqualTo(("No shadow found", "shadow")));
        var again = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "D", ShadowName = "gone" }));
        Assert.That(again!.Error.Message, Is.EqualTo("No shadow found"));

        var recreated = await UpdateAsync(client, "D", "gone", """{"state":{"reported":{"x":3}}}""");
        Assert.That(recreated["version"]!.GetValue<long>(), Is.EqualTo(1));
    }

    [Test]
    public async Task NamedAndClassicShadows_AreDistinct()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        await UpdateAsync(client, "Dev", null, """{"state":{"reported":{"which":"classic"}}}""");
        await UpdateAsync(client, "Dev", "config", """{"state":{"reported":{"which":"named"}}}""");

        Assert.That((await GetAsync(client, "Dev", ""))["state"]!["reported"]!["which"]!.GetValue<string>(), Is.EqualTo("classic"));
        Assert.That((await GetAsync(client, "Dev", null))["state"]!["reported"]!["which"]!.GetValue<string>(), Is.EqualTo("classic"));
        Assert.That((await GetAsync(client, "Dev", "config"))["state"]!["reported"]!["which"]!.GetValue<string>(), Is.EqualTo("named"));

        await client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "Dev", ShadowName = "config" });
        Assert.That((await GetAsync(client, "Dev", null))["version"]!.GetValue<long>(), Is.EqualTo(1), "the classic shadow stays");
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Dev", ShadowName = "config" }));
    }

    [Test]
    public async Task ListNamedShadows_PagesThroughTheNamesInOrder()
    {
        var shadows = _nucleus.Nucleus.Shadows;
        foreach (var name in new[] { "zeta", "alpha", "Mid", "beta", "gamma", "delta", "eps", "removed" })
        {
            shadows.UpdateThingShadow("Lister", name, Encoding.UTF8.GetBytes("""{"state":{"reported":{"on":true}}}"""));
        }

        shadows.UpdateThingShadow("Lister", null, Encoding.UTF8.GetBytes("""{"state":{"reported":{"on":true}}}"""));
        shadows.UpdateThingShadow("Other", "alpha", Encoding.UTF8.GetBytes("""{"state":{"reported":{"on":true}}}"""));
        shadows.DeleteThingShadow("Lister", "removed");
        var client = await ConnectAsync("com.example.App", ["*"]);

        var all = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Lister" });
        Assert.That(all.Results, Is.EqualTo(new[] { "Mid", "alpha", "beta", "delta", "eps", "gamma", "zeta" }), "named shadows only, in name order");
        Assert.That(all.NextToken, Is.Null);
        Assert.That(all.Timestamp, Is.EqualTo(_time.GetUtcNow()));

        var pages = new List<IReadOnlyList<string>>();
        string? token = null;
        do
        {
            var page = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Lister", PageSize = 3, NextToken = token });
            pages.Add(page.Results!);
            token = page.NextToken;
        }
        while (token is not null);

        Assert.That(pages, Is.EqualTo(new[] { new[] { "Mid", "alpha", "beta" }, new[] { "delta", "eps", "gamma" }, new[] { "zeta" } }));

        // A full page always has a token, even when nothing follows.
        var full = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Lister", PageSize = 7 });
        Assert.That(full.NextToken, Is.Not.Null);
        var after = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Lister", PageSize = 7, NextToken = full.NextToken });
        Assert.That((after.Results!.Count, after.NextToken), Is.EqualTo((0, (string?)null)));

        var none = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Nobody" });
        Assert.That(none.Results, Is.Empty);
    }

    [Test]
    public async Task ListNamedShadows_RejectsBadPageSizesAndTokens()
    {
        _nucleus.Nucleus.Shadows.UpdateThingShadow("L", "one", Encoding.UTF8.GetBytes("""{"state":{"reported":{}}}"""));
        var client = await ConnectAsync("com.example.App", ["*"]);
        var other = await ConnectAsync("com.example.Other", ["*"]);

        foreach (var size in new[] { 0, 101, -1 })
        {
            var ex = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "L", PageSize = size }));
            Assert.That(ex!.Error.Message, Is.EqualTo("pageSize argument must be between 1 and 100"));
        }

        var page = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "L", PageSize = 1 });
        Assert.That(page.NextToken, Is.Not.Null);

        // A token is only good for the component it was given to.
        var foreign = await Assert.ThrowsAsync<InvalidArgumentsException>(() => other.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "L", NextToken = page.NextToken }));
        Assert.That(foreign!.Error.Message, Is.EqualTo("Invalid nextToken argument"));

        var badBase64 = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "L", NextToken = "ab!d" }));
        Assert.That(badBase64!.Error.Message, Is.EqualTo("Illegal base64 character 21"));
        var notABlock = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "L", NextToken = "AAAA" }));
        Assert.That(notABlock!.Error.Message, Is.EqualTo("Invalid nextToken argument"));

        var badThing = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "a/b" }));
        Assert.That(badThing!.Error.Message, Is.EqualTo("ThingName must match pattern [a-zA-Z0-9:_-]+"));
    }

    [TestCase("", "", """{"state":{}}""", "ThingName is missing")]
    [TestCase("  ", "", """{"state":{}}""", "ThingName is missing")]
    [TestCase("thing/1", "", """{"state":{}}""", "ThingName must match pattern [a-zA-Z0-9:_-]+")]
    [TestCase("T", "bad name", """{"state":{}}""", "ShadowName must match pattern [a-zA-Z0-9:_-]+")]
    [TestCase("T", "", "", "Missing update payload")]
    [TestCase("T", "", "{}", "Invalid JSON: ")]
    [TestCase("T", "", "null", "Invalid JSON: ")]
    [TestCase("T", "", "[1]", "Invalid JSON: $: array found, object expected")]
    [TestCase("T", "", """{"desired":{"a":1}}""", "Invalid JSON: state: is missing but it is required")]
    [TestCase("T", "", """{"state":"on"}""", "Invalid JSON: state: string found, but [object, null] is required")]
    [TestCase("T", "", """{"state":{"desired":5}}""", "Invalid JSON: state.desired: integer found, but [object, null] is required")]
    [TestCase("T", "", """{"state":{"foo":1}}""", "Invalid JSON: state.reported: is missing but it is required. state.desired: is missing but it is required. state.foo: is not defined in the schema and the schema does not allow additional properties")]
    [TestCase("T", "", """{"state":{"desired":{"a":1}},"version":null}""", "Invalid JSON: version: null found, number expected")]
    [TestCase("T", "", """{"state":{"desired":{"a":1}},"version":-1}""", "Invalid JSON: version: must have a minimum value of 0")]
    [TestCase("T", "", """{"version":"1","state":7,"clientToken":5}""", "Invalid JSON: clientToken: integer found, string expected. state: integer found, but [object, null] is required. version: string found, number expected")]
    [TestCase("T", "", """{"state":{"reported":{"l1":{"l2":{"l3":{"l4":{"l5":{"l6":{"l7":1}}}}}}}}}""", "JSON contains too many levels of nesting; maximum is 6")]
    [TestCase("T", "", """{"state":{"desired":{"l1":[[[[[{"l7":1}]]]]]}}}""", "JSON contains too many levels of nesting; maximum is 6")]
    public async Task InvalidNamesAndPayloads_AreInvalidArguments_WithTheShadowManagersMessages(string? thing, string shadow, string payload, string message)
    {
        var client = await ConnectAsync("com.example.App", ["*"]);

        var ex = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.UpdateThingShadowAsync(Update(thing, shadow, payload)));

        Assert.That(ex!.Error.Message, Is.EqualTo(message));
        Assert.That(_nucleus.Nucleus.Shadows.Count, Is.Zero);
    }

    [Test]
    public void AMissingThingName_IsInvalid_ForEveryOperation()
    {
        // The C# client does not send a request without its required thingName; other clients can.
        var shadows = _nucleus.Nucleus.Shadows;
        foreach (var call in new Func<object>[]
        {
            () => shadows.GetThingShadow(null, null, "com.example.App"),
            () => shadows.UpdateThingShadow(null, "s", Encoding.UTF8.GetBytes("""{"state":{}}"""), "com.example.App"),
            () => shadows.DeleteThingShadow(null, null, "com.example.App"),
            () => shadows.ListNamedShadowsForThing(null, principal: "com.example.App"),
        })
        {
            var ex = Assert.Throws<InvalidArgumentsException>(() => call());
            Assert.That(ex!.Error.Message, Is.EqualTo("ThingName is missing"));
        }
    }

    [Test]
    public async Task ABlankShadowName_IsAuthorizedAsTheClassicShadow_ButKeptApart_AsInTheShadowManager()
    {
        var client = await ConnectAsync("com.example.Classic", ["$aws/things/B/shadow", "B"]);

        await UpdateAsync(client, "B", " ", """{"state":{"reported":{"blank":true}}}""");

        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "B", ShadowName = "" }));
        Assert.That((await GetAsync(client, "B", " "))["state"]!["reported"]!["blank"]!.GetValue<bool>(), Is.True);
        var list = await client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "B" });
        Assert.That(list.Results, Is.EqualTo(new[] { " " }));
    }

    [Test]
    public async Task LongNames_AndClientTokens_AreLimited()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        var longThing = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = new string('t', 129) }));
        Assert.That(longThing!.Error.Message, Is.EqualTo("ThingName has a maximum length of 128"));
        var longShadow = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "T", ShadowName = new string('s', 65) }));
        Assert.That(longShadow!.Error.Message, Is.EqualTo("ShadowName has a maximum length of 64"));
        var longToken = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.UpdateThingShadowAsync(Update("T", "", "{\"state\":{},\"clientToken\":\"" + new string('c', 65) + "\"}")));
        Assert.That(longToken!.Error.Message, Is.EqualTo("Invalid JSON: clientToken: may only be 64 characters long"));

        // The limits themselves are allowed.
        await UpdateAsync(client, new string('t', 128), new string('s', 64), "{\"state\":{\"reported\":{\"a\":1}},\"clientToken\":\"" + new string('c', 64) + "\"}");
    }

    [Test]
    public async Task JsonThatDoesNotParse_IsAServiceError()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);

        await Assert.ThrowsAsync<ServiceException>(() => client.UpdateThingShadowAsync(Update("T", "", "{not json")));

        Assert.That(_nucleus.Nucleus.Shadows.Count, Is.Zero);
    }

    [Test]
    public async Task TheDocumentSizeIsLimited_ToDesiredPlusReported_8192BytesByDefault()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);

        // {"s":"..."} is the string's length plus 8 bytes.
        await UpdateAsync(client, "Big", null, "{\"state\":{\"desired\":{\"s\":\"" + new string('x', 8184) + "\"}}}");
        var tooLarge = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.UpdateThingShadowAsync(Update("Big", null, """{"state":{"reported":{"a":1}}}""")));
        Assert.That(tooLarge!.Error.Message, Is.EqualTo("The payload exceeds the maximum size allowed"));
        Assert.That((await GetAsync(client, "Big", null))["version"]!.GetValue<long>(), Is.EqualTo(1));

        // The component's shadowDocumentSizeLimitBytes raises the limit (up to 30720).
        _nucleus.Add(ShadowManager, """{"shadowDocumentSizeLimitBytes":16384}""");
        await UpdateAsync(client, "Big", null, "{\"state\":{\"reported\":{\"s\":\"" + new string('y', 8000) + "\"}}}");
        Assert.That((await GetAsync(client, "Big", null))["version"]!.GetValue<long>(), Is.EqualTo(2));
    }

    [Test]
    public async Task Unauthorized_IsTheNucleusMessage_OnTheShadowResource()
    {
        var allowed = await ConnectAsync("com.example.Reader", ["$aws/things/Allowed/shadow"], ["aws.greengrass#GetThingShadow"]);
        var lister = await ConnectAsync("com.example.Lister", ["Allowed"], ["aws.greengrass#ListNamedShadowsForThing"]);
        var none = await _nucleus.ConnectAsync(_nucleus.Add("com.example.None"));

        // Authorized but absent, then the other operations and resources.
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => allowed.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Allowed" }));
        var update = await Assert.ThrowsAsync<UnauthorizedException>(() => allowed.UpdateThingShadowAsync(Update("Allowed", null, "{not even json")));
        Assert.That(update!.Error.Message, Is.EqualTo("Principal com.example.Reader is not authorized to perform aws.greengrass.ShadowManager:aws.greengrass#UpdateThingShadow on resource $aws/things/Allowed/shadow"));
        var named = await Assert.ThrowsAsync<UnauthorizedException>(() => allowed.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Allowed", ShadowName = "n" }));
        Assert.That(named!.Error.Message, Is.EqualTo("Principal com.example.Reader is not authorized to perform aws.greengrass.ShadowManager:aws.greengrass#GetThingShadow on resource $aws/things/Allowed/shadow/name/n"));
        var delete = await Assert.ThrowsAsync<UnauthorizedException>(() => none.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "X", ShadowName = "s" }));
        Assert.That(delete!.Error.Message, Is.EqualTo("Principal com.example.None is not authorized to perform aws.greengrass.ShadowManager:aws.greengrass#DeleteThingShadow on resource $aws/things/X/shadow/name/s"));

        // ListNamedShadowsForThing is authorized on the thing name.
        Assert.That((await lister.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Allowed" })).Results, Is.Empty);
        var list = await Assert.ThrowsAsync<UnauthorizedException>(() => allowed.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Allowed" }));
        Assert.That(list!.Error.Message, Is.EqualTo("Principal com.example.Reader is not authorized to perform aws.greengrass.ShadowManager:aws.greengrass#ListNamedShadowsForThing on resource Allowed"));

        // Names and an empty payload are checked before authorization.
        var badName = await Assert.ThrowsAsync<InvalidArgumentsException>(() => none.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "a b" }));
        Assert.That(badName!.Error.Message, Is.EqualTo("ThingName must match pattern [a-zA-Z0-9:_-]+"));
        var empty = await Assert.ThrowsAsync<InvalidArgumentsException>(() => none.UpdateThingShadowAsync(Update("X", null, "")));
        Assert.That(empty!.Error.Message, Is.EqualTo("Missing update payload"));
        Assert.That(_nucleus.Nucleus.Shadows.Count, Is.Zero);
    }

    [Test]
    public async Task RequestsPerThing_AreRateLimited_20PerSecondByDefault()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        for (var i = 0; i < 20; i++)
        {
            await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Busy" }));
        }

        var throttled = await Assert.ThrowsAsync<ServiceException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Busy" }));
        Assert.That(throttled!.Error.Message, Is.EqualTo("Too Many Requests"));
        await Assert.ThrowsAsync<ServiceException>(() => client.UpdateThingShadowAsync(Update("Busy", null, """{"state":{}}""")));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Quiet" }));

        _time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Busy" }));

        // The component's rateLimits configuration applies.
        _nucleus.Add(ShadowManager, """{"rateLimits":{"maxLocalRequestsPerSecondPerThing":2}}""");
        _time.Advance(TimeSpan.FromSeconds(1));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Busy" }));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Busy" }));
        var limited = await Assert.ThrowsAsync<ServiceException>(() => client.ListNamedShadowsForThingAsync(new ListNamedShadowsForThingRequest { ThingName = "Busy" }));
        Assert.That(limited!.Error.Message, Is.EqualTo("Too Many Requests"));
    }

    [Test]
    public async Task TheShadowManagersMessages_ArePublished()
    {
        var messages = new List<ShadowMessageEventArgs>();
        _nucleus.Nucleus.Shadows.MessagePublished += (_, e) => messages.Add(e);
        var client = await ConnectAsync("com.example.App", ["*"]);

        var response = await client.UpdateThingShadowAsync(Update("Pub", "s", """{"state":{"desired":{"on":true}},"clientToken":"c1"}"""));

        Assert.That(messages.Select(m => m.Topic), Is.EqualTo(new[]
        {
            "$aws/things/Pub/shadow/name/s/update/delta",
            "$aws/things/Pub/shadow/name/s/update/documents",
            "$aws/things/Pub/shadow/name/s/update/accepted",
        }));
        Assert.That(Text(messages[0].Payload), Is.EqualTo(Stamp("""{"version":1,"timestamp":@t,"state":{"on":true},"metadata":{"on":{"timestamp":@t}},"clientToken":"c1"}""")));
        Assert.That(Text(messages[1].Payload), Is.EqualTo(Stamp("""{"previous":null,"current":{"state":{"desired":{"on":true}},"metadata":{"desired":{"on":{"timestamp":@t}}},"version":1},"clientToken":"c1","timestamp":@t}""")));
        Assert.That(messages[2].Payload.ToArray(), Is.EqualTo(response.Payload!.Value.ToArray()));
        Assert.That(messages[2].Publisher, Is.EqualTo(ShadowManager));

        messages.Clear();
        await Assert.ThrowsAsync<ConflictException>(() => client.UpdateThingShadowAsync(Update("Pub", "s", """{"state":{"reported":{"on":true}},"version":7,"clientToken":"c2"}""")));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = "Pub" }));
        await client.DeleteThingShadowAsync(new DeleteThingShadowRequest { ThingName = "Pub", ShadowName = "s" });
        Assert.That(messages.Select(m => (m.Topic, Text(m.Payload))), Is.EqualTo(new[]
        {
            ("$aws/things/Pub/shadow/name/s/update/rejected", Stamp("""{"timestamp":@t,"clientToken":"c2","code":409,"message":"Version conflict"}""")),
            ("$aws/things/Pub/shadow/get/rejected", Stamp("""{"timestamp":@t,"code":404,"message":"No shadow exists with name: Unnamed Shadow"}""")),
            ("$aws/things/Pub/shadow/name/s/delete/accepted", Stamp("""{"version":1,"timestamp":@t}""")),
        }));
    }

    [Test]
    public async Task RequestsPublishedLocally_AreCarriedOutAsTheShadowManager()
    {
        var shadows = _nucleus.Nucleus.Shadows;
        var accepted = new List<string>();
        shadows.MessagePublished += (_, e) => accepted.Add(e.Topic);

        Assert.That(shadows.HandleLocalPublish("$aws/things/Local/shadow/name/cfg/update", Encoding.UTF8.GetBytes("""{"state":{"reported":{"v":1}}}""")), Is.True);
        Assert.That(shadows.HandleLocalPublish("$aws/things/Local/shadow/name/cfg/get", ReadOnlyMemory<byte>.Empty), Is.True);
        Assert.That(shadows.HandleLocalPublish("$aws/things/Local/shadow/name/cfg/update/accepted", Encoding.UTF8.GetBytes("{}")), Is.False, "responses are not requests");
        Assert.That(shadows.HandleLocalPublish("$aws/things/Local/shadow/update", Encoding.UTF8.GetBytes("{}")), Is.False, "an invalid request fails (and is rejected)");
        Assert.That(shadows.HandleLocalPublish("some/other/topic", Encoding.UTF8.GetBytes("{}")), Is.False);

        Assert.That(accepted, Is.EqualTo(new[]
        {
            "$aws/things/Local/shadow/name/cfg/update/documents",
            "$aws/things/Local/shadow/name/cfg/update/accepted",
            "$aws/things/Local/shadow/name/cfg/get/accepted",
            "$aws/things/Local/shadow/update/rejected",
        }));
        var client = await ConnectAsync("com.example.App", ["*"]);
        Assert.That((await GetAsync(client, "Local", "cfg"))["state"]!["reported"]!["v"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task OverLocalPubSub_ComponentsPublishRequests_AndReceiveTheShadowManagersMessages()
    {
        Assert.That(_nucleus.Nucleus.PubSub.SubscriberCount, Is.Zero, "off by default: local publish/subscribe starts without subscribers");
        _nucleus.Nucleus.Shadows.LocalRequestsEnabled = true;
        Assert.That(_nucleus.Nucleus.PubSub.GetSubscribers().Single().Component, Is.EqualTo(ShadowManager));
        var record = _nucleus.Add("com.example.Device", TestNucleus.Policy("aws.greengrass.ipc.pubsub", "shadow-topics", ["*"], ["*"]));
        var client = await _nucleus.ConnectAsync(record);
        await using var accepted = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "$aws/things/Device/shadow/update/accepted" });
        await using var delta = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "$aws/things/Device/shadow/update/delta" });
        await using var rejected = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "$aws/things/Device/shadow/name/bad/update/rejected" });

        await client.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "$aws/things/Device/shadow/update",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes("""{"state":{"desired":{"fan":"on"}},"clientToken":"dev"}""") } },
        });
        await client.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = "$aws/things/Device/shadow/name/bad/update",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes("""{"state":"off"}""") } },
        });

        Assert.That(await NextAsync(accepted), Is.EqualTo(Stamp("""{"version":1,"clientToken":"dev","timestamp":@t,"state":{"desired":{"fan":"on"}},"metadata":{"desired":{"fan":{"timestamp":@t}}}}""")));
        Assert.That(await NextAsync(delta), Is.EqualTo(Stamp("""{"version":1,"timestamp":@t,"state":{"fan":"on"},"metadata":{"fan":{"timestamp":@t}},"clientToken":"dev"}""")));
        Assert.That(await NextAsync(rejected), Is.EqualTo(Stamp("""{"timestamp":@t,"code":400,"message":"Invalid JSON: state: string found, but [object, null] is required"}""")));
        Assert.That((await GetAsync(await ConnectAsync("com.example.App", ["*"]), "Device", null))["version"]!.GetValue<long>(), Is.EqualTo(1));

        _nucleus.Nucleus.Shadows.LocalRequestsEnabled = false;
        Assert.That(_nucleus.Nucleus.PubSub.GetSubscribers().Any(s => s.Component == ShadowManager), Is.False);
    }

    [Test]
    public async Task AValueBecomingAnArray_FailsWithAServiceError_AsInTheShadowManager()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        await UpdateAsync(client, "Arr", null, """{"state":{"desired":{"a":1,"b":[1]}}}""");

        // Arrays may change, and values may replace arrays...
        await UpdateAsync(client, "Arr", null, """{"state":{"desired":{"b":[2,3]}}}""");
        await UpdateAsync(client, "Arr", null, """{"state":{"desired":{"b":4}}}""");

        // ...but the component fails (a ClassCastException on the metadata) when a value becomes an array.
        var ex = await Assert.ThrowsAsync<ServiceException>(() => client.UpdateThingShadowAsync(Update("Arr", null, """{"state":{"desired":{"a":[1]}}}""")));
        Assert.That(ex!.Error.Message, Does.StartWith("class com.fasterxml.jackson.databind.node.ObjectNode cannot be cast to class com.fasterxml.jackson.databind.node.ArrayNode"));
        var document = await GetAsync(client, "Arr", null);
        Assert.That((document["version"]!.GetValue<long>(), document["state"]!["desired"]!.ToJsonString()), Is.EqualTo((3L, """{"a":1,"b":4}""")));
    }

    [Test]
    public async Task ConcurrentUpdatesOfOneShadow_AreSerialized()
    {
        _nucleus.Add(ShadowManager, """{"rateLimits":{"maxLocalRequestsPerSecondPerThing":1000}}""");
        var clients = new List<GreengrassIpcClient>();
        for (var i = 0; i < 4; i++)
        {
            clients.Add(await ConnectAsync("com.example.Writer" + i, ["*"]));
        }

        var versions = await Task.WhenAll(clients.SelectMany((c, i) => Enumerable.Range(0, 10).Select(async j =>
            (await UpdateAsync(c, "Shared", null, "{\"state\":{\"reported\":{\"w" + i + "\":" + j + "}}}"))["version"]!.GetValue<long>())));

        Assert.That(versions.Order(), Is.EqualTo(Enumerable.Range(1, 40).Select(v => (long)v)));
        var document = await GetAsync(clients[0], "Shared", null);
        Assert.That(document["version"]!.GetValue<long>(), Is.EqualTo(40));
        Assert.That(document["state"]!["reported"]!.AsObject().Count, Is.EqualTo(4));
    }

    private async Task<GreengrassIpcClient> ConnectAsync(string component, string[] resources, string[]? operations = null)
    {
        var record = _nucleus.Add(component, TestNucleus.Policy(ShadowManager, "shadows", operations ?? ["*"], resources));
        return await _nucleus.ConnectAsync(record);
    }

    // The JSON with @t standing for the current time in epoch seconds.
    private string Stamp(string json) => json.Replace("@t", Now.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static UpdateThingShadowRequest Update(string? thing, string? shadow, string payload) =>
        new() { ThingName = thing, ShadowName = shadow, Payload = Encoding.UTF8.GetBytes(payload) };

    private static async Task<JsonNode> UpdateAsync(GreengrassIpcClient client, string thing, string? shadow, string payload) =>
        JsonNode.Parse(Text((await client.UpdateThingShadowAsync(Update(thing, shadow, payload))).Payload))!;

    private static async Task<JsonNode> GetAsync(GreengrassIpcClient client, string thing, string? shadow) =>
        JsonNode.Parse(Text((await client.GetThingShadowAsync(new GetThingShadowRequest { ThingName = thing, ShadowName = shadow })).Payload))!;

    // The next binary message of a subscription, as text.
    private static async Task<string> NextAsync(IpcStream<SubscribeToTopicResponse, SubscriptionResponseMessage> stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var message in stream.WithCancellation(timeout.Token))
        {
            return Text(message.BinaryMessage!.Message);
        }

        throw new InvalidOperationException("the subscription ended");
    }

    private static string Text(ReadOnlyMemory<byte>? payload) => Encoding.UTF8.GetString(payload!.Value.Span);
}
