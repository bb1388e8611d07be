using System.Threading.Channels;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Components;

[CancelAfter(60_000)]
public class ComponentUpdatesTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(5);

    private TestNucleus _nucleus = null!;

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task Deferral_BringsASecondPreUpdateEventAfterRecheck_ThenZeroLetsTheUpdateProceed_AndPostUpdateFollows()
    {
        _nucleus = await TestNucleus.StartAsync();
        var (client, events) = await SubscribeAsync("com.example.A");

        var notifying = _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-1", isGgcRestarting: false, Generous);
        var first = await events.ReadAsync();
        Assert.That(first.PreUpdateEvent!.DeploymentId, Is.EqualTo("deployment-1"));
        Assert.That(first.PreUpdateEvent.IsGgcRestarting, Is.False);
        await client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-1", RecheckAfterMs = 100, Message = "busy" });

        var second = await events.ReadAsync();
        Assert.That(second.PreUpdateEvent!.DeploymentId, Is.EqualTo("deployment-1"));
        Assert.That(notifying.IsCompleted, Is.False, "the update waits for the answer to the second event");
        await client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-1", RecheckAfterMs = 0 });

        var outcome = await notifying;
        Assert.That(outcome.Rounds, Is.EqualTo(2));
        Assert.That(outcome.Deferrals, Is.EqualTo(new[]
        {
            new ComponentDeferral("com.example.A", "deployment-1", 1, 100, "busy"),
            new ComponentDeferral("com.example.A", "deployment-1", 2, 0, null),
        }));
        Assert.That(outcome.Unanswered, Is.Empty);

        await _nucleus.Nucleus.Updates.NotifyPostUpdateAsync("deployment-1");
        var post = await events.ReadAsync();
        Assert.That(post.PostUpdateEvent!.DeploymentId, Is.EqualTo("deployment-1"));
        Assert.That(post.PreUpdateEvent, Is.Null);
    }

    [Test]
    public async Task TheLongestRecheckOfAllSubscribersIsUsed_AndEveryoneGetsTheNextRound()
    {
        _nucleus = await TestNucleus.StartAsync();
        var (a, aEvents) = await SubscribeAsync("com.example.A");
        var (b, bEvents) = await SubscribeAsync("com.example.B");

        var notifying = _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-2", isGgcRestarting: true, Generous);
        Assert.That((await aEvents.ReadAsync()).PreUpdateEvent!.IsGgcRestarting, Is.True);
        Assert.That((await bEvents.ReadAsync()).PreUpdateEvent!.IsGgcRestarting, Is.True);
        await a.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-2", RecheckAfterMs = 0 });
        await b.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-2", RecheckAfterMs = 50 });

        Assert.That((await aEvents.ReadAsync()).PreUpdateEvent!.DeploymentId, Is.EqualTo("deployment-2"));
        Assert.That((await bEvents.ReadAsync()).PreUpdateEvent!.DeploymentId, Is.EqualTo("deployment-2"));
        await a.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-2", RecheckAfterMs = 0 });
        await b.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-2", RecheckAfterMs = 0 });

        var outcome = await notifying;
        Assert.That(outcome.Rounds, Is.EqualTo(2));
        Assert.That(outcome.Deferrals.Select(d => (d.Component, d.Round, d.RecheckAfterMs)), Is.EquivalentTo(new (string, int, long?)[]
        {
            ("com.example.A", 1, 0), ("com.example.B", 1, 50), ("com.example.A", 2, 0), ("com.example.B", 2, 0),
        }));
    }

    [Test]
    public async Task DeferComponentUpdate_Errors_AreTheNucleus()
    {
        _nucleus = await TestNucleus.StartAsync();
        var loner = await _nucleus.ConnectAsync(_nucleus.Add("com.example.Loner"));
        var notSubscribed = await Assert.ThrowsAsync<InvalidArgumentsException>(() => loner.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "d", RecheckAfterMs = 10 }));
        Assert.That(notSubscribed!.Error.Message, Is.EqualTo("Component is not subscribed to component update events"));

        var (client, events) = await SubscribeAsync("com.example.A");
        _nucleus.Nucleus.Components.TryGet("com.example.A", out var a);
        var noId = await RawIpc.CallAsync(_nucleus.Nucleus, a, GreengrassCoreIpc.DeferComponentUpdate, """{"recheckAfterMs":10}""");
        Assert.That(noId.ModelType, Is.EqualTo("aws.greengrass#InvalidArgumentsError"));
        Assert.That(noId.Message, Is.EqualTo("Cannot defer the update, the deployment ID provided was null"));

        var unknown = await Assert.ThrowsAsync<ServiceException>(() => client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "no-such-deployment", RecheckAfterMs = 10 }));
        Assert.That(unknown!.Error.Message, Is.EqualTo("Time limit to respond to PreComponentUpdateEvent exceeded"));

        var notifying = _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-3", false, Generous);
        await events.ReadAsync();
        await client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-3", RecheckAfterMs = 0 });
        var twice = await Assert.ThrowsAsync<ServiceException>(() => client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-3", RecheckAfterMs = 0 }));
        Assert.That(twice!.Error.Message, Is.EqualTo("Time limit to respond to PreComponentUpdateEvent exceeded"), "an event is answered once");
        Assert.That((await notifying).Rounds, Is.EqualTo(1));
    }

    [Test]
    public async Task ASubscriberThatNeverAnswers_IsGivenUpOnAtTheTimeout()
    {
        var time = new ManualClock();
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, TimeProvider = time });
        var (client, events) = await SubscribeAsync("com.example.Silent");

        var notifying = _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-4", false, ComponentUpdates.DefaultTimeout);
        await events.ReadAsync();
        var advanced = await AdvanceUntilCompletedAsync(time, notifying);

        var outcome = await notifying;
        Assert.That(advanced, Is.GreaterThanOrEqualTo(ComponentUpdates.DefaultTimeout));
        Assert.That(outcome.Rounds, Is.EqualTo(1));
        Assert.That(outcome.Unanswered, Is.EqualTo(new[] { "com.example.Silent" }));
        var late = await Assert.ThrowsAsync<ServiceException>(() => client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-4", RecheckAfterMs = 1000 }));
        Assert.That(late!.Error.Message, Is.EqualTo("Time limit to respond to PreComponentUpdateEvent exceeded"));
    }

    [Test]
    public async Task AnAnswerWithoutRecheckAfterMs_IsIgnored_AndTheRoundLastsUntilTheTimeout()
    {
        var time = new ManualClock();
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions { RootPath = root, TimeProvider = time });
        var (client, events) = await SubscribeAsync("com.example.A");

        var notifying = _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-5", false, TimeSpan.FromSeconds(30));
        await events.ReadAsync();
        await client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "deployment-5", Message = "no number" });
        var advanced = await AdvanceUntilCompletedAsync(time, notifying);

        var outcome = await notifying;
        Assert.That(advanced, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(outcome.Rounds, Is.EqualTo(1));
        Assert.That(outcome.Deferrals, Is.EqualTo(new[] { new ComponentDeferral("com.example.A", "deployment-5", 1, null, "no number") }));
        Assert.That(outcome.Unanswered, Is.Empty);
    }

    [Test]
    public async Task WithoutSubscribers_TheUpdateProceedsAtOnce()
    {
        _nucleus = await TestNucleus.StartAsync();
        _nucleus.Add("com.example.A");

        var outcome = await _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-6", false, Generous);

        Assert.That(outcome.DeploymentId, Is.EqualTo("deployment-6"));
        Assert.That(outcome.Rounds, Is.EqualTo(1));
        Assert.That(outcome.Deferrals, Is.Empty);
        Assert.That(outcome.Unanswered, Is.Empty);
    }

    [Test]
    public async Task CancellingTheNotification_SendsAPostUpdateEvent()
    {
        _nucleus = await TestNucleus.StartAsync();
        var (_, events) = await SubscribeAsync("com.example.A");
        using var cancel = new CancellationTokenSource();

        var notifying = _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("deployment-7", false, Generous, cancel.Token);
        await events.ReadAsync();
        await cancel.CancelAsync();

        await Assert.CatchAsync<OperationCanceledException>(async () => await notifying);
        var post = await events.ReadAsync();
        Assert.That(post.PostUpdateEvent!.DeploymentId, Is.EqualTo("deployment-7"));
    }

    [Test]
    public async Task ClosingTheSubscription_Unsubscribes()
    {
        _nucleus = await TestNucleus.StartAsync();
        var a = _nucleus.Add("com.example.A");
        var client = await _nucleus.ConnectAsync(a);
        var stream = await client.SubscribeToComponentUpdatesAsync(new SubscribeToComponentUpdatesRequest(), _ => { });
        Assert.That(_nucleus.Nucleus.Updates.IsSubscribed("com.example.A"), Is.True);

        await stream.DisposeAsync();
        await Eventually.UntilAsync(() => !_nucleus.Nucleus.Updates.IsSubscribed("com.example.A"), "the subscription to go");

        var ex = await Assert.ThrowsAsync<InvalidArgumentsException>(() => client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = "d", RecheckAfterMs = 1 }));
        Assert.That(ex!.Error.Message, Is.EqualTo("Component is not subscribed to component update events"));
        Assert.That((await _nucleus.Nucleus.Updates.NotifyPreUpdateAsync("d", false, Generous)).Unanswered, Is.Empty);
    }

    private async Task<(GreengrassIpcClient Client, ChannelReader<ComponentUpdatePolicyEvents> Events)> SubscribeAsync(string component)
    {
        var client = await _nucleus.ConnectAsync(_nucleus.Add(component));
        var channel = Channel.CreateUnbounded<ComponentUpdatePolicyEvents>();
        await client.SubscribeToComponentUpdatesAsync(new SubscribeToComponentUpdatesRequest(), e => channel.Writer.TryWrite(e));
        return (client, channel.Reader);
    }

    /// <summary>Moves the fake clock a second at a time until the task completes; returns how far it moved.</summary>
    private static async Task<TimeSpan> AdvanceUntilCompletedAsync(ManualClock time, Task task)
    {
        var advanced = TimeSpan.Zero;
        while (!task.IsCompleted)
        {
            Assert.That(advanced, Is.LessThan(TimeSpan.FromMinutes(10)), "the notification never completed");
            time.Advance(TimeSpan.FromSeconds(1));
            advanced += TimeSpan.FromSeconds(1);
            await Task.Delay(5);
        }

        return advanced;
    }
}
