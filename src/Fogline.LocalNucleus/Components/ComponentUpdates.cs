using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Components;

/// <summary>A component's answer to a preUpdateEvent (DeferComponentUpdate).</summary>
/// <param name="Component">The component that answered.</param>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="Round">Which preUpdateEvent it answered (1 for the first).</param>
/// <param name="RecheckAfterMs">How long it asked to wait; 0 (or less) lets the update go on; null is ignored by the Nucleus.</param>
/// <param name="Message">Its message, if any.</param>
public sealed record ComponentDeferral(string Component, string DeploymentId, int Round, long? RecheckAfterMs, string? Message);

/// <summary>How the notification of a deployment's update ended: the update may proceed.</summary>
/// <param name="DeploymentId">The deployment.</param>
/// <param name="Rounds">How many preUpdateEvents were sent (one more after each deferral).</param>
/// <param name="Deferrals">Every answer, in order.</param>
/// <param name="Unanswered">The components that did not answer the last preUpdateEvent within the timeout.</param>
public sealed record PreUpdateOutcome(string DeploymentId, int Rounds, IReadOnlyList<ComponentDeferral> Deferrals, IReadOnlyList<string> Unanswered);

/// <summary>
/// Component update notifications (SubscribeToComponentUpdates, DeferComponentUpdate), as the Nucleus's
/// <c>LifecycleIPCEventStreamAgent</c> and <c>UpdateSystemPolicyService</c> do them. Deployments call
/// <see cref="NotifyPreUpdateAsync"/> before they apply a NOTIFY_COMPONENTS update and <see cref="NotifyPostUpdateAsync"/>
/// after it.
/// </summary>
/// <remarks>
/// The rules, from <c>UpdateSystemPolicyService</c>:
/// <list type="bullet">
/// <item>Each round sends a preUpdateEvent to every subscription (each send may take up to 5 seconds, else that
/// subscription is skipped), then waits until every subscription has answered with DeferComponentUpdate or the
/// timeout (the deployment's <c>componentUpdatePolicy.timeoutInSeconds</c>, 60 s by default) has passed since the
/// round began. The timeout bounds each round, not the deferrals: a component may keep deferring.</item>
/// <item>The round's wait is the largest <c>recheckAfterMs</c> answered; when it is more than 0 the Nucleus waits that
/// long after the round and starts a new round; otherwise the update proceeds. An answer with recheckAfterMs 0 (or
/// less) thus only says "go ahead"; a subscription that never answers is given up on at the timeout.</item>
/// <item>An answer without recheckAfterMs is ignored and, as in the Nucleus, keeps the round waiting until its timeout.</item>
/// <item>Only the latest preUpdateEvent per component and deployment can be answered; each can be answered once. A
/// component subscribed twice gets two events but only one can be answered, so the round waits for its timeout (as in
/// the Nucleus).</item>
/// <item>One deployment is notified at a time. A cancelled notification tells the subscribers with a postUpdateEvent,
/// as the Nucleus does when a pending update action is discarded.</item>
/// </list>
/// </remarks>
public sealed class ComponentUpdates
{
    /// <summary>The default <c>componentUpdatePolicy.timeoutInSeconds</c> of a deployment.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long sending one event may take (the Nucleus's DEFAULT_STREAM_MESSAGE_TIMEOUT_SECONDS).</summary>
    public static readonly TimeSpan SendTimeout = TimeSpan.FromSeconds(5);

    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<Subscription>> _subscriptions = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Component, string DeploymentId), TaskCompletionSource<DeferComponentUpdateRequest>> _awaitingAnswers = [];
    private readonly SemaphoreSlim _oneDeploymentAtATime = new(1, 1);
    private readonly ComponentRegistry _components;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    internal ComponentUpdates(NucleusContext context)
    {
        _components = context.Components;
        _time = context.Time;
        _logger = context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.Components");
    }

    /// <summary>How many subscriptions there are.</summary>
    public int SubscriptionCount
    {
        get
        {
            lock (_lock)
            {
                return _subscriptions.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>Whether a component has a subscription.</summary>
    public bool IsSubscribed(string component)
    {
        lock (_lock)
        {
            return _subscriptions.ContainsKey(component);
        }
    }

    /// <summary>
    /// Subscribes <paramref name="component"/> to update events (what SubscribeToComponentUpdates does; in-process
    /// subscribers such as plugins use it directly). <paramref name="onEvent"/> is called for each event; dispose the
    /// result to unsubscribe. Throws <see cref="ResourceNotFoundException"/> when the component is unknown.
    /// </summary>
    public IDisposable Subscribe(string component, Func<ComponentUpdatePolicyEvents, CancellationToken, ValueTask> onEvent)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(onEvent);
        if (!_components.TryGet(component, out _))
        {
            throw new ResourceNotFoundException(new ResourceNotFoundError
            {
                Message = "Component with given name not found currently in Greengrass",
                ResourceType = "Component",
                ResourceName = component,
            });
        }

        var subscription = new Subscription(this, component, onEvent);
        lock (_lock)
        {
            if (!_subscriptions.TryGetValue(component, out var list))
            {
                list = [];
                _subscriptions[component] = list;
            }

            list.Add(subscription);
        }

        ComponentsLog.UpdatesSubscribed(_logger, component);
        return subscription;
    }

    /// <summary>
    /// A component's DeferComponentUpdate, with the Nucleus's errors: InvalidArgumentsError when the component has no
    /// subscription or the deployment id is missing, ServiceError "Time limit to respond to PreComponentUpdateEvent
    /// exceeded" when no preUpdateEvent of that deployment awaits its answer (unknown deployment, answered already, or
    /// its round is over).
    /// </summary>
    public void Defer(string component, DeferComponentUpdateRequest request)
    {
        ArgumentNullException.ThrowIfNull(component);
        ArgumentNullException.ThrowIfNull(request);
        TaskCompletionSource<DeferComponentUpdateRequest>? answer;
        lock (_lock)
        {
            if (!_subscriptions.ContainsKey(component))
            {
                throw new InvalidArgumentsException("Component is not subscribed to component update events");
            }

            if (request.DeploymentId is null)
            {
                throw new InvalidArgumentsException("Cannot defer the update, the deployment ID provided was null");
            }

            if (!_awaitingAnswers.Remove((component, request.DeploymentId), out answer))
            {
                throw new ServiceException("Time limit to respond to PreComponentUpdateEvent exceeded");
            }
        }

        ComponentsLog.DeferralAccepted(_logger, component, request.DeploymentId);
        answer.TrySetResult(request);
    }

    /// <summary>
    /// Tells the subscribers that <paramref name="deploymentId"/> is about to update components (a preUpdateEvent) and
    /// waits, applying their deferrals, until the update may proceed. See the class remarks for the rules.
    /// <paramref name="timeout"/> is the deployment's <c>componentUpdatePolicy.timeoutInSeconds</c>
    /// (<see cref="DefaultTimeout"/> by default). Cancelling sends a postUpdateEvent and throws <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<PreUpdateOutcome> NotifyPreUpdateAsync(string deploymentId, bool isGgcRestarting, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deploymentId);
        ArgumentOutOfRangeException.ThrowIfLessThan(timeout, TimeSpan.Zero);
        await _oneDeploymentAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var deferrals = new List<ComponentDeferral>();
            for (var round = 1; ; round++)
            {
                var awaiting = await SendPreUpdateAsync(deploymentId, isGgcRestarting, round, cancellationToken).ConfigureAwait(false);
                var (recheckAfterMs, unanswered) = await CollectAnswersAsync(deploymentId, round, awaiting, timeout, deferrals, cancellationToken).ConfigureAwait(false);
                if (recheckAfterMs > 0)
                {
                    ComponentsLog.PreUpdateWaiting(_logger, deploymentId, recheckAfterMs);
                    await Task.Delay(TimeSpan.FromMilliseconds(recheckAfterMs), _time, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                DiscardAwaitingAnswers();
                ComponentsLog.PreUpdateProceeding(_logger, deploymentId, round, unanswered.Count);
                return new PreUpdateOutcome(deploymentId, round, deferrals, unanswered);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            DiscardAwaitingAnswers();
            ComponentsLog.PreUpdateCancelled(_logger, deploymentId);
            await NotifyPostUpdateAsync(deploymentId, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        finally
        {
            _oneDeploymentAtATime.Release();
        }
    }

    /// <summary>
    /// Tells the subscribers that <paramref name="deploymentId"/> has updated components, or will not (a
    /// postUpdateEvent). A subscription that cannot be sent to is skipped.
    /// </summary>
    public async Task NotifyPostUpdateAsync(string deploymentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(deploymentId);
        var events = new ComponentUpdatePolicyEvents { PostUpdateEvent = new PostComponentUpdateEvent { DeploymentId = deploymentId } };
        var subscriptions = Snapshot();
        foreach (var subscription in subscriptions)
        {
            try
            {
                await subscription.SendAsync(events, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                ComponentsLog.PostUpdateSendFailed(_logger, subscription.Component, deploymentId, ex);
            }
        }

        ComponentsLog.PostUpdateSent(_logger, deploymentId, subscriptions.Count);
    }

    private async Task<List<(string Component, Task<DeferComponentUpdateRequest> Answer)>> SendPreUpdateAsync(string deploymentId, bool isGgcRestarting, int round, CancellationToken cancellationToken)
    {
        // As sendPreComponentUpdateEvent: earlier rounds' answers are discarded, then each subscription gets the event
        // and an answer slot (the latest one per component), registered before sending so a quick answer finds it.
        DiscardAwaitingAnswers();
        var events = new ComponentUpdatePolicyEvents
        {
            PreUpdateEvent = new PreComponentUpdateEvent { DeploymentId = deploymentId, IsGgcRestarting = isGgcRestarting },
        };
        var awaiting = new List<(string, Task<DeferComponentUpdateRequest>)>();
        var subscriptions = Snapshot();
        foreach (var subscription in subscriptions)
        {
            var key = (subscription.Component, deploymentId);
            var answer = new TaskCompletionSource<DeferComponentUpdateRequest>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_lock)
            {
                _awaitingAnswers[key] = answer;
            }

            try
            {
                await subscription.SendAsync(events, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                ComponentsLog.PreUpdateSendFailed(_logger, subscription.Component, deploymentId, ex);
                lock (_lock)
                {
                    _awaitingAnswers.Remove(key);
                }

                continue;
            }

            awaiting.Add((subscription.Component, answer.Task));
        }

        ComponentsLog.PreUpdateSent(_logger, deploymentId, round, awaiting.Count);
        return awaiting;
    }

    private async Task<(long RecheckAfterMs, List<string> Unanswered)> CollectAnswersAsync(
        string deploymentId,
        int round,
        List<(string Component, Task<DeferComponentUpdateRequest> Answer)> awaiting,
        TimeSpan timeout,
        List<ComponentDeferral> deferrals,
        CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + timeout;
        long recheckAfterMs = 0;
        var answeredWithoutRecheck = new List<string>();
        while (awaiting.Count > 0 || answeredWithoutRecheck.Count > 0)
        {
            var remaining = deadline - _time.GetUtcNow();
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            if (awaiting.Count == 0)
            {
                // Only answers without recheckAfterMs are left: the Nucleus keeps polling them until the timeout.
                await Task.Delay(remaining, _time, cancellationToken).ConfigureAwait(false);
                break;
            }

            using (var stopTimer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var timer = Task.Delay(remaining, _time, stopTimer.Token);
                await Task.WhenAny(awaiting.Select(a => (Task)a.Answer).Append(timer)).ConfigureAwait(false);
                await stopTimer.CancelAsync().ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            for (var i = 0; i < awaiting.Count; i++)
            {
                var (component, answer) = awaiting[i];
                if (!answer.IsCompleted)
                {
                    continue;
                }

                awaiting.RemoveAt(i--);
                var request = await answer.ConfigureAwait(false);
                deferrals.Add(new ComponentDeferral(component, deploymentId, round, request.RecheckAfterMs, request.Message));
                if (request.RecheckAfterMs is not { } recheck)
                {
                    ComponentsLog.DeferralWithoutRecheck(_logger, component, deploymentId);
                    answeredWithoutRecheck.Add(component);
                    continue;
                }

                if (recheck > recheckAfterMs)
                {
                    recheckAfterMs = recheck;
                    ComponentsLog.UpdateDeferred(_logger, component, deploymentId, recheck, request.Message);
                }
            }
        }

        return (recheckAfterMs, [.. awaiting.Select(a => a.Component)]);
    }

    private void DiscardAwaitingAnswers()
    {
        lock (_lock)
        {
            _awaitingAnswers.Clear();
        }
    }

    private List<Subscription> Snapshot()
    {
        lock (_lock)
        {
            return [.. _subscriptions.Values.SelectMany(l => l)];
        }
    }

    private void Remove(Subscription subscription)
    {
        lock (_lock)
        {
            if (!_subscriptions.TryGetValue(subscription.Component, out var list) || !list.Remove(subscription))
            {
                return;
            }

            if (list.Count == 0)
            {
                _subscriptions.Remove(subscription.Component);
            }
        }

        ComponentsLog.UpdatesUnsubscribed(_logger, subscription.Component);
    }

    private sealed class Subscription : IDisposable
    {
        private readonly ComponentUpdates _owner;
        private readonly Func<ComponentUpdatePolicyEvents, CancellationToken, ValueTask> _onEvent;
        private int _disposed;

        public Subscription(ComponentUpdates owner, string component, Func<ComponentUpdatePolicyEvents, CancellationToken, ValueTask> onEvent)
        {
            _owner = owner;
            Component = component;
            _onEvent = onEvent;
        }

        public string Component { get; }

        public async Task SendAsync(ComponentUpdatePolicyEvents events, TimeProvider time, CancellationToken cancellationToken)
        {
            var sending = _onEvent(events, cancellationToken);
            if (!sending.IsCompleted)
            {
                await sending.AsTask().WaitAsync(SendTimeout, time, cancellationToken).ConfigureAwait(false);
                return;
            }

            await sending.ConfigureAwait(false);
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                _owner.Remove(this);
            }
        }
    }
}
