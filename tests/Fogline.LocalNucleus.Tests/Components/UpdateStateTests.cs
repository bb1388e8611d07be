using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Components;

[CancelAfter(30_000)]
public class UpdateStateTests
{
    private TestNucleus _nucleus = null!;
    private ManualClock _time = null!;

    [SetUp]
    public async Task SetUp()
    {
        _time = new ManualClock();
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, TimeProvider = _time });
    }

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task Running_ThenErrored_MoveTheCallingComponent_AndRaiseStateChanged()
    {
        var a = _nucleus.Add("com.example.A");
        var b = _nucleus.Add("com.example.B");
        var client = await _nucleus.ConnectAsync(a);
        var changes = new List<(string, LifecycleState, LifecycleState)>();
        _nucleus.Nucleus.Components.StateChanged += (_, c) =>
        {
            lock (changes)
            {
                changes.Add((c.Component.Name, c.Previous, c.Current));
            }
        };

        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        Assert.That(a.State, Is.EqualTo(LifecycleState.Running));
        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored });

        Assert.That(a.State, Is.EqualTo(LifecycleState.Errored));
        Assert.That(b.State, Is.EqualTo(LifecycleState.New), "only the caller's state changes");
        Assert.That(changes, Is.EqualTo(new[]
        {
            ("com.example.A", LifecycleState.New, LifecycleState.Starting),
            ("com.example.A", LifecycleState.Starting, LifecycleState.Running),
            ("com.example.A", LifecycleState.Running, LifecycleState.Errored),
        }));
    }

    [Test]
    public async Task ReportsTheNucleusDoesNotTakeFromTheCurrentState_AreIgnored_AndTheCallSucceeds()
    {
        var a = _nucleus.Add("com.example.A");
        var client = await _nucleus.ConnectAsync(a);
        var changes = 0;
        _nucleus.Nucleus.Components.StateChanged += (_, _) => Interlocked.Increment(ref changes);

        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Finished);
        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored });
        Assert.That(a.State, Is.EqualTo(LifecycleState.Finished), "FINISHED takes no report");

        _nucleus.Nucleus.Components.SetState(a, LifecycleState.Running);
        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        Assert.That(a.State, Is.EqualTo(LifecycleState.Running));
        Assert.That(changes, Is.EqualTo(2), "only the two SetState calls changed anything");
    }

    [Test]
    public async Task ErroredThreeTimesInARow_FromRunning_MakesTheComponentBroken()
    {
        var a = _nucleus.Add("com.example.A");
        var client = await _nucleus.ConnectAsync(a);
        var controller = _nucleus.Nucleus.Controller;

        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        for (var i = 1; i <= 2; i++)
        {
            await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored });
            Assert.That(a.State, Is.EqualTo(LifecycleState.Errored), $"error {i}");
            Assert.That(await controller.RestartAsync(a), Is.True);
            Assert.That(a.State, Is.EqualTo(LifecycleState.Running));
        }

        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored });

        Assert.That(a.State, Is.EqualTo(LifecycleState.Broken));
        Assert.That(await controller.RestartAsync(a), Is.True, "the Nucleus accepts the restart request");
        Assert.That(a.State, Is.EqualTo(LifecycleState.Broken), "but a broken component needs a deployment");
    }

    [Test]
    public async Task ErrorsMoreThanTheErrorResetTimeApart_DoNotBreakTheComponent()
    {
        var a = _nucleus.Add("com.example.A");
        var client = await _nucleus.ConnectAsync(a);

        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        for (var i = 1; i <= 4; i++)
        {
            await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored });
            Assert.That(a.State, Is.EqualTo(LifecycleState.Errored), $"error {i}");
            await _nucleus.Nucleus.Controller.RestartAsync(a);
            _time.Advance(TimeSpan.FromMinutes(61));
        }
    }

    [Test]
    public async Task MissingOrUnknownState_IsAServiceErrorWithoutMessage_AndChangesNothing()
    {
        var a = _nucleus.Add("com.example.A");
        var client = await _nucleus.ConnectAsync(a);

        var missing = await RawIpc.CallAsync(_nucleus.Nucleus, a, GreengrassCoreIpc.UpdateState, "{}");
        var unknown = await RawIpc.CallAsync(_nucleus.Nucleus, a, GreengrassCoreIpc.UpdateState, """{"state":"FINISHED"}""");

        Assert.That(missing.ModelType, Is.EqualTo("aws.greengrass#ServiceError"));
        Assert.That(missing.Message, Is.Null);
        Assert.That(unknown.ModelType, Is.EqualTo("aws.greengrass#ServiceError"));
        Assert.That(a.State, Is.EqualTo(LifecycleState.New));
        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        Assert.That(a.State, Is.EqualTo(LifecycleState.Running));
    }

    private sealed class NoProcessesController : IComponentController
    {
        public ValueTask<bool> RestartAsync(ComponentRecord component, CancellationToken cancellationToken = default) => ValueTask.FromResult(false);

        public ValueTask StopAsync(ComponentRecord component, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask PauseAsync(ComponentRecord component, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask ResumeAsync(ComponentRecord component, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
