using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Components;

[CancelAfter(30_000)]
public class ComponentControlTests
{
    private const string Cli = "aws.greengrass.Cli";
    private const string Lifecycle = "aws.greengrass.ipc.lifecycle";

    private TestNucleus _nucleus = null!;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task ListComponents_ListsTheNucleusServicesAndTheComponents_NotMain()
    {
        _nucleus.Add("com.example.B", """{"x":1}""", version: "2.0.0");
        _nucleus.Add("com.example.A");
        var caller = _nucleus.Add("com.example.Caller", TestNucleus.Policy(Cli, "list", ["aws.greengrass#ListComponents"], ["*"]));
        var client = await _nucleus.ConnectAsync(caller);

        var list = (await client.ListComponentsAsync(new ListComponentsRequest())).Components!;

        Assert.That(list.Select(c => c.ComponentName), Is.EqualTo(new[]
        {
            "aws.greengrass.Nucleus", "DeploymentService", "UpdateSystemPolicyService", "FleetStatusService", "TelemetryAgent",
            "com.example.A", "com.example.B", "com.example.Caller",
        }));
        var nucleus = list[0];
        Assert.That((nucleus.Version, nucleus.State), Is.EqualTo(("2.14.0", (LifecycleState?)LifecycleState.Finished)));
        var b = list.Single(c => c.ComponentName == "com.example.B");
        Assert.That((b.Version, b.State), Is.EqualTo(("2.0.0", (LifecycleState?)LifecycleState.New)));
        Assert.That(b.Configuration!.Value.GetRawText(), Is.EqualTo("""{"x":1}"""));
        Assert.That(list.Single(c => c.ComponentName == "com.example.Caller").Configuration!.Value.TryGetProperty("accessControl", out _), Is.True, "the whole configuration, as the CLI gives it");
    }

    [Test]
    public async Task CliOperations_WithoutPolicy_AreUnauthorized_WithTheNucleusMessage()
    {
        _nucleus.Add("com.example.A");
        var caller = _nucleus.Add("com.example.Caller", TestNucleus.Policy(Cli, "details", ["aws.greengrass#GetComponentDetails"], ["com.example.A"]));
        var client = await _nucleus.ConnectAsync(caller);

        var list = await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListComponentsAsync(new ListComponentsRequest()));
        var details = await Assert.ThrowsAsync<UnauthorizedException>(() => client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "com.example.Caller" }));
        var restart = await Assert.ThrowsAsync<UnauthorizedException>(() => client.RestartComponentAsync(new RestartComponentRequest { ComponentName = "com.example.A" }));
        var stop = await Assert.ThrowsAsync<UnauthorizedException>(() => client.StopComponentAsync(new StopComponentRequest { ComponentName = "com.example.A" }));

        Assert.That(list!.Error.Message, Is.EqualTo("Principal com.example.Caller is not authorized to perform aws.greengrass.Cli:aws.greengrass#ListComponents on resource *"));
        Assert.That(details!.Error.Message, Is.EqualTo("Principal com.example.Caller is not authorized to perform aws.greengrass.Cli:aws.greengrass#GetComponentDetails on resource com.example.Caller"));
        Assert.That(restart!.Error.Message, Is.EqualTo("Principal com.example.Caller is not authorized to perform aws.greengrass.Cli:aws.greengrass#RestartComponent on resource com.example.A"));
        Assert.That(stop!.Error.Message, Is.EqualTo("Principal com.example.Caller is not authorized to perform aws.greengrass.Cli:aws.greengrass#StopComponent on resource com.example.A"));
        Assert.That((await client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "com.example.A" })).ComponentDetails!.ComponentName, Is.EqualTo("com.example.A"));
    }

    [Test]
    public async Task TheCliComponentItself_NeedsNoPolicy()
    {
        _nucleus.Add("com.example.A");
        var client = await _nucleus.ConnectAsync(_nucleus.Add(Cli));

        var list = await client.ListComponentsAsync(new ListComponentsRequest());
        var details = await client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "com.example.A" });

        Assert.That(list.Components!.Select(c => c.ComponentName), Does.Contain("com.example.A").And.Contain(Cli));
        Assert.That(details.ComponentDetails!.Version, Is.EqualTo("1.0.0"));
    }

    [Test]
    public async Task GetComponentDetails_ValidationAndNotFound_AreTheCli()
    {
        var a = _nucleus.Add("com.example.A", """{"threshold":3}""", version: "1.2.3");
        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Running);
        var client = await _nucleus.ConnectAsync(_nucleus.Add("com.example.Caller", TestNucleus.Policy(Cli, "details", ["aws.greengrass#GetComponentDetails"], ["*"])));

        var details = (await client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "com.example.A" })).ComponentDetails!;
        var empty = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "" }));
        var missing = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "com.example.Nope" }));
        var builtIn = (await client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = "DeploymentService" })).ComponentDetails!;

        Assert.That((details.ComponentName, details.Version, details.State), Is.EqualTo(("com.example.A", "1.2.3", (LifecycleState?)LifecycleState.Running)));
        Assert.That(details.Configuration!.Value.GetProperty("threshold").GetInt32(), Is.EqualTo(3));
        Assert.That(empty!.Error.Message, Is.EqualTo("Component name cannot be empty"));
        Assert.That(missing!.Error.Message, Is.EqualTo("Component with name com.example.Nope not found in Greengrass"));
        Assert.That((builtIn.Version, builtIn.State, builtIn.Configuration), Is.EqualTo(("0.0.0", (LifecycleState?)LifecycleState.Running, (System.Text.Json.JsonElement?)null)));
    }

    [Test]
    public async Task RestartComponent_WalksTheComponentThroughTheNucleusStates_AndANewComponentFails()
    {
        var a = _nucleus.Add("com.example.A");
        var fresh = _nucleus.Add("com.example.Fresh");
        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Running);
        var client = await _nucleus.ConnectAsync(_nucleus.Add("com.example.Caller", TestNucleus.Policy(Cli, "restart", ["aws.greengrass#RestartComponent"], ["*"])));
        var states = new List<LifecycleState>();
        _nucleus.Nucleus.Components.StateChanged += (_, c) =>
        {
            if (c.Component == a)
            {
                lock (states)
                {
                    states.Add(c.Current);
                }
            }
        };

        var restarted = await client.RestartComponentAsync(new RestartComponentRequest { ComponentName = "com.example.A" });
        var refused = await client.RestartComponentAsync(new RestartComponentRequest { ComponentName = "com.example.Fresh" });
        var missing = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.RestartComponentAsync(new RestartComponentRequest { ComponentName = "com.example.Nope" }));
        var empty = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.RestartComponentAsync(new RestartComponentRequest { ComponentName = "" }));

        Assert.That(restarted.RestartStatus, Is.EqualTo(RequestStatus.Succeeded));
        Assert.That(states, Is.EqualTo(new[] { LifecycleState.Stopping, LifecycleState.Installed, LifecycleState.Starting, LifecycleState.Running }));
        Assert.That(refused.RestartStatus, Is.EqualTo(RequestStatus.Failed));
        Assert.That(refused.Message, Is.Null, "the CLI gives no message");
        Assert.That(fresh.State, Is.EqualTo(LifecycleState.New));
        Assert.That(missing!.Error.Message, Is.EqualTo("Component with name com.example.Nope not found in Greengrass"));
        Assert.That(empty!.Error.Message, Is.EqualTo("Component name cannot be empty"));
    }

    [Test]
    public async Task StopComponent_FinishesTheComponent()
    {
        var a = _nucleus.Add("com.example.A");
        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Running);
        var client = await _nucleus.ConnectAsync(_nucleus.Add("com.example.Caller", TestNucleus.Policy(Cli, "stop", ["aws.greengrass#StopComponent"], ["com.example.A"])));

        var stopped = await client.StopComponentAsync(new StopComponentRequest { ComponentName = "com.example.A" });

        Assert.That(stopped.StopStatus, Is.EqualTo(RequestStatus.Succeeded));
        Assert.That(a.State, Is.EqualTo(LifecycleState.Finished));
    }

    [Test]
    public async Task AControllerSetOnTheNucleus_IsWhatTheOperationsCall()
    {
        var a = _nucleus.Add("com.example.A");
        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Running);
        var controller = new RecordingController();
        _nucleus.Nucleus.Controller = controller;
        var caller = _nucleus.Add("com.example.Caller", """
            {"accessControl":{
              "aws.greengrass.Cli":{"p1":{"operations":["aws.greengrass#RestartComponent","aws.greengrass#StopComponent"],"resources":["com.example.A"]}},
              "aws.greengrass.ipc.lifecycle":{"p2":{"operations":["aws.greengrass#PauseComponent"],"resources":["com.example.A"]}}}}
            """);
        var client = await _nucleus.ConnectAsync(caller);

        var restart = await client.RestartComponentAsync(new RestartComponentRequest { ComponentName = "com.example.A" });
        await client.StopComponentAsync(new StopComponentRequest { ComponentName = "com.example.A" });
        var pause = await Assert.ThrowsAsync<ServiceException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.A" }));

        Assert.That(restart.RestartStatus, Is.EqualTo(RequestStatus.Failed));
        Assert.That(controller.Calls, Is.EqualTo(new[] { "restart com.example.A", "stop com.example.A", "pause com.example.A" }));
        Assert.That(pause!.Error.Message, Is.EqualTo("Failed to pause component com.example.A due to : cgroup is gone"));
    }

    [Test]
    [Platform(Include = "Linux")]
    public async Task PauseAndResume_OfARunningComponent()
    {
        var a = _nucleus.Add("com.example.A");
        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Running);
        var client = await _nucleus.ConnectAsync(_nucleus.Add("com.example.Caller",
            TestNucleus.Policy(Lifecycle, "pause", ["aws.greengrass#PauseComponent", "aws.greengrass#ResumeComponent"], ["com.example.A"])));

        await client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.A" });
        Assert.That(a.IsPaused, Is.True);
        Assert.That(a.State, Is.EqualTo(LifecycleState.Running), "a paused component is still RUNNING");
        await client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.A" });
        await client.ResumeComponentAsync(new ResumeComponentRequest { ComponentName = "com.example.A" });
        Assert.That(a.IsPaused, Is.False);

        var notPaused = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.ResumeComponentAsync(new ResumeComponentRequest { ComponentName = "com.example.A" }));
        Assert.That(notPaused!.Error.Message, Is.EqualTo("Component com.example.A is not paused"));

        await client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.A" });
        await _nucleus.Nucleus.Controller.StopAsync(a);
        Assert.That(a.IsPaused, Is.False, "stopping resumes first");
    }

    [Test]
    [Platform(Include = "Linux")]
    public async Task PauseAndResume_Errors_AreTheNucleus()
    {
        _nucleus.Add("com.example.Idle");
        _nucleus.Add("com.example.Other");
        var caller = _nucleus.Add("com.example.Caller", TestNucleus.Policy(Lifecycle, "pause", ["aws.greengrass#PauseComponent", "aws.greengrass#ResumeComponent"],
            ["com.example.Idle", "com.example.Missing", "DeploymentService", "aws.greengrass.Nucleus"]));
        var client = await _nucleus.ConnectAsync(caller);

        var notRunning = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.Idle" }));
        var unauthorized = await Assert.ThrowsAsync<UnauthorizedException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.Other" }));
        var unauthorizedResume = await Assert.ThrowsAsync<UnauthorizedException>(() => client.ResumeComponentAsync(new ResumeComponentRequest { ComponentName = "com.example.Other" }));
        var missing = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "com.example.Missing" }));
        var builtIn = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "DeploymentService" }));
        var builtInResume = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.ResumeComponentAsync(new ResumeComponentRequest { ComponentName = "DeploymentService" }));
        var nucleus = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "aws.greengrass.Nucleus" }));
        var empty = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.PauseComponentAsync(new PauseComponentRequest { ComponentName = "" }));
        var absent = await RawIpc.CallAsync(_nucleus.Nucleus, caller, GreengrassCoreIpc.ResumeComponent, "{}");

        Assert.That(notRunning!.Error.Message, Is.EqualTo("Component com.example.Idle is not running"));
        Assert.That(unauthorized!.Error.Message, Is.EqualTo("Principal com.example.Caller is not authorized to perform aws.greengrass.ipc.lifecycle:aws.greengrass#PauseComponent on resource com.example.Other"));
        Assert.That(unauthorizedResume!.Error.Message, Is.EqualTo("Principal com.example.Caller is not authorized to perform aws.greengrass.ipc.lifecycle:aws.greengrass#ResumeComponent on resource com.example.Other"));
        Assert.That(missing!.Error.Message, Is.Null, "the Nucleus sends a ResourceNotFoundError without message");
        Assert.That(builtIn!.Error.Message, Is.EqualTo("Only generic components can be paused."));
        Assert.That(builtInResume!.Error.Message, Is.EqualTo("Only generic components can be resumed."));
        Assert.That(nucleus!.Error.Message, Is.EqualTo("Component aws.greengrass.Nucleus is not running"), "the Nucleus component is generic but FINISHED");
        Assert.That(empty!.Error.Message, Is.EqualTo("Component name is required."));
        Assert.That((absent.ModelType, absent.Message), Is.EqualTo(("aws.greengrass#InvalidArgumentsError", "Component name is required.")));
    }

    private sealed class RecordingController : IComponentController
    {
        public List<string> Calls { get; } = [];

        public ValueTask<bool> RestartAsync(ComponentRecord component, CancellationToken cancellationToken = default)
        {
            Record("restart", component);
            return ValueTask.FromResult(false);
        }

        public ValueTask StopAsync(ComponentRecord component, CancellationToken cancellationToken = default)
        {
            Record("stop", component);
            return ValueTask.CompletedTask;
        }

        public ValueTask PauseAsync(ComponentRecord component, CancellationToken cancellationToken = default)
        {
            Record("pause", component);
            throw new ComponentControlException("cgroup is gone");
        }

        public ValueTask ResumeAsync(ComponentRecord component, CancellationToken cancellationToken = default)
        {
            Record("resume", component);
            return ValueTask.CompletedTask;
        }

        private void Record(string what, ComponentRecord component)
        {
            lock (Calls)
            {
                Calls.Add($"{what} {component.Name}");
            }
        }
    }
}
