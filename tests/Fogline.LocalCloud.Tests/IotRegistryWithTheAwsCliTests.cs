namespace Fogline.LocalCloud.Tests;

/// <summary>AWS IoT's registry of the local cloud driven by Debian's AWS CLI v2: things, thing groups with parents, membership.</summary>
[Category("Conformance")]
public class IotRegistryWithTheAwsCliTests
{
    private LocalCloudFixture _cloud = null!;

    [SetUp]
    public async Task Start() => _cloud = await LocalCloudFixture.StartAsync();

    [TearDown]
    public async Task Stop() => await _cloud.DisposeAsync();

    [Test]
    public async Task ThingsAndGroups_AreCreatedDescribedAndListed_AsTheCliExpects()
    {
        var created = await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", "gateway-1", "--attribute-payload", """{"attributes":{"site":"farm-7"}}""");
        Assert.That(created!["thingArn"]!.GetValue<string>(), Is.EqualTo($"arn:aws:iot:us-east-1:{_cloud.Account}:thing/gateway-1"));
        var again = await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", "gateway-1", "--attribute-payload", """{"attributes":{"site":"farm-7"}}""");
        Assert.That(again!["thingId"]!.GetValue<string>(), Is.EqualTo(created["thingId"]!.GetValue<string>()), "the same thing asked again is the same thing");
        var different = await _cloud.Cli.RunAsync("iot", "create-thing", "--thing-name", "gateway-1");
        Assert.That((different.ExitCode, different.Error), Is.EqualTo((254, "\nAn error occurred (ResourceAlreadyExistsException) when calling the CreateThing operation: Thing gateway-1 already exists in account with different attributes\n")));

        await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", "gateway-2");
        await _cloud.Cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms");
        var child = await _cloud.Cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farm-7", "--parent-group-name", "farms", "--thing-group-properties", """{"thingGroupDescription":"the north farm"}""");
        Assert.That(child!["thingGroupArn"]!.GetValue<string>(), Is.EqualTo($"arn:aws:iot:us-east-1:{_cloud.Account}:thinggroup/farm-7"));
        await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gateway-1", "--thing-group-name", "farm-7");
        await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gateway-2", "--thing-group-name", "farms");

        var described = await _cloud.Cli.SucceedAsync("iot", "describe-thing", "--thing-name", "gateway-1");
        Assert.That((described!["thingName"]!.GetValue<string>(), described["defaultClientId"]!.GetValue<string>(), described["attributes"]!["site"]!.GetValue<string>(), described["version"]!.GetValue<long>()),
            Is.EqualTo(("gateway-1", "gateway-1", "farm-7", 1L)));
        var group = await _cloud.Cli.SucceedAsync("iot", "describe-thing-group", "--thing-group-name", "farm-7");
        Assert.That(group!["thingGroupMetadata"]!["parentGroupName"]!.GetValue<string>(), Is.EqualTo("farms"));
        Assert.That(group["thingGroupMetadata"]!["rootToParentThingGroups"]![0]!["groupName"]!.GetValue<string>(), Is.EqualTo("farms"));
        Assert.That(group["thingGroupProperties"]!["thingGroupDescription"]!.GetValue<string>(), Is.EqualTo("the north farm"));

        var direct = await _cloud.Cli.SucceedAsync("iot", "list-things-in-thing-group", "--thing-group-name", "farms");
        var recursive = await _cloud.Cli.SucceedAsync("iot", "list-things-in-thing-group", "--thing-group-name", "farms", "--recursive");
        Assert.That(direct!["things"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "gateway-2" }));
        Assert.That(recursive!["things"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "gateway-1", "gateway-2" }));
        var groups = await _cloud.Cli.SucceedAsync("iot", "list-thing-groups-for-thing", "--thing-name", "gateway-1");
        Assert.That(groups!["thingGroups"]!.AsArray().Select(g => g!["groupName"]!.GetValue<string>()), Is.EqualTo(new[] { "farm-7" }));
        var things = await _cloud.Cli.SucceedAsync("iot", "list-things", "--max-items", "1");
        Assert.That(things!["things"]!.AsArray(), Has.Count.EqualTo(1));
        Assert.That(things["NextToken"], Is.Not.Null, "the CLI pages with the service's tokens");

        await _cloud.Cli.SucceedAsync("iot", "remove-thing-from-thing-group", "--thing-name", "gateway-1", "--thing-group-name", "farm-7");
        var after = await _cloud.Cli.SucceedAsync("iot", "list-things-in-thing-group", "--thing-group-name", "farms", "--recursive");
        Assert.That(after!["things"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "gateway-2" }));
    }

    [Test]
    public async Task WhatIsMissingOrMisnamed_IsTheServicesError_AndTheRegistrySurvivesARestart()
    {
        var missing = await _cloud.Cli.RunAsync("iot", "describe-thing", "--thing-name", "nobody");
        Assert.That((missing.ExitCode, missing.Error), Is.EqualTo((254, "\nAn error occurred (ResourceNotFoundException) when calling the DescribeThing operation: Thing nobody cannot be found.\n")));
        var badName = await _cloud.Cli.RunAsync("iot", "create-thing", "--thing-name", "has space");
        Assert.That(badName.Error, Does.Contain("(InvalidRequestException)").And.Contain("[a-zA-Z0-9:_-]+"));
        var noGroup = await _cloud.Cli.RunAsync("iot", "add-thing-to-thing-group", "--thing-name", "nobody", "--thing-group-name", "none");
        Assert.That(noGroup.Error, Does.Contain("(ResourceNotFoundException)"));
        var otherAccount = await _cloud.OtherCli.RunAsync("iot", "describe-thing", "--thing-name", "gateway-1");

        await _cloud.Cli.SucceedAsync("iot", "create-thing", "--thing-name", "gateway-1");
        await _cloud.Cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms");
        await _cloud.Cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gateway-1", "--thing-group-name", "farms");
        var foreign = await _cloud.OtherCli.RunAsync("iot", "describe-thing", "--thing-name", "gateway-1");
        Assert.That(foreign.Error, Does.Contain("(ResourceNotFoundException)"), "another account's registry is its own");
        await _cloud.RestartAsync();

        var listed = await _cloud.Cli.SucceedAsync("iot", "list-things-in-thing-group", "--thing-group-name", "farms");
        Assert.That(listed!["things"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EqualTo(new[] { "gateway-1" }));
        Assert.That(otherAccount.ExitCode, Is.EqualTo(254));
    }
}
