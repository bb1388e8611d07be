using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Components;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>
/// Lifecycle operations, as the Nucleus's <c>LifecycleIPCEventStreamAgent</c> serves them: UpdateState,
/// SubscribeToComponentUpdates, DeferComponentUpdate, PauseComponent and ResumeComponent.
/// </summary>
public sealed partial class NucleusIpcService
{
    private ComponentStateReports? _stateReports;
    private BuiltInServices? _builtInServices;

    private ComponentStateReports StateReports => LazyInitializer.EnsureInitialized(
        ref _stateReports,
        () => new ComponentStateReports(_nucleus.Components, _nucleus.Context.Time, _nucleus.Options.Lifecycle, _nucleus.Context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.Components")));

    private BuiltInServices BuiltIns => LazyInitializer.EnsureInitialized(
        ref _builtInServices,
        () => new BuiltInServices(_nucleus.Options.NucleusVersion, _nucleus.Context.Time));

    /// <summary>
    /// Applies a state reported by (or for) a component as the Nucleus's <c>reportState</c> does; returns the state it
    /// is in afterwards. For the process supervisor too.
    /// </summary>
    internal LifecycleState ReportState(ComponentRecord component, LifecycleState state) =>
        StateReports.Report(component, state, startedWithoutSupervisor: !_nucleus.Supervisor.Manages(component));

    /// <summary>A component or built-in service by name (the Nucleus's <c>kernel.locate</c>), or null.</summary>
    internal ComponentRecord? Locate(string name) =>
        _nucleus.Components.TryGet(name, out var component) ? component
        : BuiltIns.TryGet(name, out var service) ? service
        : null;

    /// <summary>Whether a located component is a generic component (every registered one; of the built-ins only the Nucleus component).</summary>
    private bool IsGeneric(ComponentRecord component) =>
        !BuiltIns.TryGet(component.Name, out var service) || !ReferenceEquals(service, component) || BuiltInServices.IsGeneric(service);

    /// <inheritdoc />
    protected override ValueTask<UpdateStateResponse> UpdateStateAsync(UpdateStateRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var name = Caller(context).Name;
            if (!_nucleus.Components.TryGet(name, out var component))
            {
                throw new ResourceNotFoundException(new ResourceNotFoundError
                {
                    Message = "Component with given name not found",
                    ResourceType = "Component",
                    ResourceName = name,
                });
            }

            // The Nucleus turns the state into its own enum; a missing or unknown state fails there with a
            // NullPointerException, answered as a ServiceError without a message.
            if (request.State is not { IsKnown: true } state)
            {
                throw new ServiceException((string?)null);
            }

            ReportState(component, LifecycleState.FromValue(state.Value));
            return new UpdateStateResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<SubscribeToComponentUpdatesResponse> SubscribeToComponentUpdatesAsync(SubscribeToComponentUpdatesRequest request, IpcEventStream<ComponentUpdatePolicyEvents> events, IpcCallContext context) =>
        Translate(context, () =>
        {
            var subscription = _nucleus.Updates.Subscribe(Caller(context).Name, (update, cancellationToken) => events.SendAsync(update, cancellationToken));
            context.CallEnded.Register(static s => ((IDisposable)s!).Dispose(), subscription);
            return new SubscribeToComponentUpdatesResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<DeferComponentUpdateResponse> DeferComponentUpdateAsync(DeferComponentUpdateRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            _nucleus.Updates.Defer(Caller(context).Name, request);
            return new DeferComponentUpdateResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<PauseComponentResponse> PauseComponentAsync(PauseComponentRequest request, IpcCallContext context) =>
        Translate<PauseComponentResponse>(context, async () =>
        {
            var target = LocatePauseTarget(request.ComponentName, context, "paused");
            if (target.State != LifecycleState.Running)
            {
                throw new InvalidArgumentsException($"Component {target.Name} is not running");
            }

            // Pausing a paused component does nothing, as in the Nucleus.
            if (!target.IsPaused)
            {
                await ControlAsync(context, target, "pause", () => _nucleus.Controller.PauseAsync(target)).ConfigureAwait(false);
            }

            return new PauseComponentResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<ResumeComponentResponse> ResumeComponentAsync(ResumeComponentRequest request, IpcCallContext context) =>
        Translate<ResumeComponentResponse>(context, async () =>
        {
            var target = LocatePauseTarget(request.ComponentName, context, "resumed");
            if (!target.IsPaused)
            {
                throw new InvalidArgumentsException($"Component {target.Name} is not paused");
            }

            await ControlAsync(context, target, "resume", () => _nucleus.Controller.ResumeAsync(target)).ConfigureAwait(false);
            return new ResumeComponentResponse();
        });

    private ComponentRecord LocatePauseTarget(string? componentName, IpcCallContext context, string verb)
    {
        // The Nucleus pauses by freezing the component's cgroup, which only its Linux platform supports.
        if (!OperatingSystem.IsLinux())
        {
            throw new ServiceException("Pause/resume component not supported on this platform.");
        }

        if (string.IsNullOrEmpty(componentName))
        {
            throw new InvalidArgumentsException("Component name is required.");
        }

        Authorize(IpcServices.Lifecycle, context, componentName);
        var target = Locate(componentName) ?? throw new ResourceNotFoundException(new ResourceNotFoundError());
        if (!IsGeneric(target))
        {
            throw new InvalidArgumentsException($"Only generic components can be {verb}.");
        }

        return target;
    }

    private async ValueTask ControlAsync(IpcCallContext context, ComponentRecord target, string verb, Func<ValueTask> action)
    {
        ComponentsLog.ControlRequested(Logger, Caller(context).Name, verb, target.Name);
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (ComponentControlException ex)
        {
            ComponentsLog.ControlFailed(Logger, verb, target.Name, ex.Message);
            throw new ServiceException($"Failed to {verb} component {target.Name} due to : {ex.Message}");
        }
    }
}
