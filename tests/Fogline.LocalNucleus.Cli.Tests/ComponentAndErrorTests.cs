using Fogline.LocalNucleus.CliAccess;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Tests;

[CancelAfter(60_000)]
public class ComponentAndErrorTests
{
    private CliHarness _cli = null!;

    [SetUp]
    public async Task SetUp() => _cli = await CliHarness.StartAsync();

    [TearDown]
    public async Task TearDown() => await _cli.DisposeAsync();

    [Test]
    public async Task ComponentList_ShowsARegisteredComponent_AsGreengrassCliPrintsIt()
    {
        _cli.Add("com.example.Hello", "1.2.3", """{"greeting":"it's hi"}""");

        var result = await _cli.RunAsync("component", "list");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Does.StartWith("Components currently running in Greengrass:\n"));
        Assert.That(result.Output, Does.Contain("Component Name: com.example.Hello\n    Version: 1.2.3\n    State: NEW\n    Configuration: {\"greeting\":\"it's hi\"}\n"));
        Assert.That(result.Output, Does.Contain("Component Name: aws.greengrass.Cli\n    Version: 2.14.0\n    State: RUNNING\n"));
    }

    [Test]
    public async Task ComponentDetails_PrintsOneComponent()
    {
        _cli.Add("com.example.Hello", "2.0.0");

        var result = await _cli.RunAsync("component", "details", "-n", "com.example.Hello");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Is.EqualTo("Component Name: com.example.Hello\n    Version: 2.0.0\n    State: NEW\n    Configuration: {}\n"));
    }

    [Test]
    public async Task ComponentDetails_OfAnUnknownComponent_FailsWithTheNucleusMessage()
    {
        var result = await _cli.RunAsync("component", "details", "--name", "com.example.Missing");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Output, Is.Empty);
        Assert.That(result.Error, Is.EqualTo("error: ResourceNotFoundError: Component with name com.example.Missing not found in Greengrass\n"));
    }

    [Test]
    public async Task ComponentRestartAndStop_ReachTheComponentController()
    {
        var component = _cli.Add("com.example.Hello");
        _cli.Nucleus.Components.SetState(component, LifecycleState.Running);

        var stop = await _cli.RunAsync("component", "stop", "-n", "com.example.Hello");
        Assert.That(stop.ExitCode, Is.Zero, stop.Error);
        Assert.That(stop.Output, Is.Empty);
        Assert.That(component.State, Is.EqualTo(LifecycleState.Finished));

        var restart = await _cli.RunAsync("component", "restart", "--names", "com.example.Hello");
        Assert.That(restart.ExitCode, Is.Zero, restart.Error);
        Assert.That(component.State, Is.EqualTo(LifecycleState.Running));
    }

    [Test]
    public async Task AMissingRoot_IsOneClearErrorLine()
    {
        var root = CliHarness.NewRoot();

        var result = await CliHarness.RunInAsync(root, "component", "list");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Is.EqualTo($"error: no local Nucleus is running at {root} (no cli_ipc_info found)\n"));
    }

    [Test]
    public async Task AStoppedNucleus_LeavesNoCliAccessBehind()
    {
        var root = CliHarness.NewRoot();
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root });
        nucleus.EnableCliAccess();
        Assert.That(Directory.Exists(CliIpcInfo.DirectoryFor(root)), Is.True);
        await nucleus.DisposeAsync();

        var result = await CliHarness.RunInAsync(root, "pubsub", "pub", "-t", "a", "-m", "b");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.StartWith($"error: no local Nucleus is running at {root}"));
        Directory.Delete(root, recursive: true);
    }

    [TestCase(new[] { "component", "details" }, "--name")]
    [TestCase(new[] { "iotcore", "pub", "-t", "a", "-m", "b", "-q", "2" }, "2")]
    [TestCase(new[] { "cloud", "outage", "down", "--for", "soon" }, "soon")]
    [TestCase(new[] { "deployment", "create", "--merge", "com.example.Hello" }, "NAME=VERSION")]
    [TestCase(new[] { "deployment", "create", "-fp", "MAYBE" }, "MAYBE")]
    [TestCase(new[] { "component", "frobnicate" }, "frobnicate")]
    public async Task BadArguments_ExitWith2AndNameTheProblem(string[] args, string mentioned)
    {
        var result = await _cli.RunAsync(args);

        Assert.That(result.ExitCode, Is.EqualTo(2));
        Assert.That(result.Output, Is.Empty);
        Assert.That(result.Error, Does.StartWith("error: ").And.Contain(mentioned));
    }

    [Test]
    public void CliIpcInfo_IsOwnerOnly_AndInTheCliComponentsFormat()
    {
        var files = Directory.GetFiles(CliIpcInfo.DirectoryFor(_cli.Root));

        Assert.That(files, Has.Length.EqualTo(1));
        Assert.That(Path.GetFileName(files[0]), Does.StartWith("user-"));
        Assert.That(File.GetUnixFileMode(files[0]), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(files[0]))!;
        Assert.That(json["domain_socket_path"]!.GetValue<string>(), Is.EqualTo(_cli.Nucleus.SocketPath));
        Assert.That(json["cli_auth_token"]!.GetValue<string>(), Is.EqualTo(_cli.Nucleus.CliComponent!.Token));
    }
}
