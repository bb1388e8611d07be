using System.Text;
using System.Text.Json;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Configuration;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>
/// The Greengrass CLI's component operations (ListComponents, GetComponentDetails, RestartComponent, StopComponent),
/// as its <c>CLIEventStreamAgent</c> serves them; PutComponentMetric as the Nucleus's
/// <c>ComponentMetricIPCEventStreamAgent</c>; ValidateAuthorizationToken as its <c>AuthorizationIPCAgent</c>.
/// </summary>
public sealed partial class NucleusIpcService
{
    /// <summary>Principals with this prefix are the CLI's own clients, allowed every CLI operation.</summary>
    private const string CliClientIdPrefix = "greengrass-cli#";

    /// <inheritdoc />
    protected override ValueTask<ListComponentsResponse> ListComponentsAsync(ListComponentsRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            AuthorizeCli(context, "*");

            // The CLI lists the Nucleus's services except "main": the built-in ones, then the components.
            var registered = _nucleus.Components.All.OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            var components = BuiltIns.All.Where(s => !_nucleus.Components.TryGet(s.Name, out _)).Concat(registered);
            return new ListComponentsResponse { Components = [.. components.Select(Details)] };
        });

    /// <inheritdoc />
    protected override ValueTask<GetComponentDetailsResponse> GetComponentDetailsAsync(GetComponentDetailsRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var target = LocateForCli(request.ComponentName, context);
            return new GetComponentDetailsResponse { ComponentDetails = Details(target) };
        });

    /// <inheritdoc />
    protected override ValueTask<RestartComponentResponse> RestartComponentAsync(RestartComponentRequest request, IpcCallContext context) =>
        Translate<RestartComponentResponse>(context, async () =>
        {
            var target = LocateForCli(request.ComponentName, context);
            ComponentsLog.ControlRequested(Logger, Caller(context).Name, "restart", target.Name);

            // Success means the restart was requested; FAILED (without a message, as the CLI answers) when the
            // Nucleus will not restart it.
            var requested = await _nucleus.Controller.RestartAsync(target).ConfigureAwait(false);
            return new RestartComponentResponse { RestartStatus = requested ? RequestStatus.Succeeded : RequestStatus.Failed };
        });

    /// <inheritdoc />
    protected override ValueTask<StopComponentResponse> StopComponentAsync(StopComponentRequest request, IpcCallContext context) =>
        Translate<StopComponentResponse>(context, async () =>
        {
            var target = LocateForCli(request.ComponentName, context);
            ComponentsLog.ControlRequested(Logger, Caller(context).Name, "stop", target.Name);
            await _nucleus.Controller.StopAsync(target).ConfigureAwait(false);
            return new StopComponentResponse { StopStatus = RequestStatus.Succeeded };
        });

    /// <inheritdoc />
    protected override ValueTask<PutComponentMetricResponse> PutComponentMetricAsync(PutComponentMetricRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var caller = Caller(context).Name;
            var operation = context.Operation.Name;

            // Only aws.* components may report metrics (the Nucleus's message ends with a space).
            if (!caller.StartsWith("aws.", StringComparison.Ordinal))
            {
                ComponentsLog.NotAuthorized(Logger, caller, operation);
                throw new UnauthorizedException($"Principal {caller} is not authorized to perform {IpcServices.ComponentMetric}:{operation} ");
            }

            var metrics = request.Metrics;
            if (metrics is null || metrics.Count == 0)
            {
                throw RejectMetric(caller, "Null or Empty list of metrics found in PutComponentMetricRequest");
            }

            foreach (var metric in metrics)
            {
                if (string.IsNullOrEmpty(metric.Name) || Encoding.UTF8.GetByteCount(metric.Name) > ComponentMetrics.MaxNameBytes || string.IsNullOrEmpty(metric.Unit?.Value))
                {
                    throw RejectMetric(caller, "Invalid argument found in PutComponentMetricRequest");
                }

                // A missing value fails in the Nucleus with a NullPointerException: a ServiceError without a message.
                if (metric.Value is not { } value)
                {
                    throw new ServiceException((string?)null);
                }

                if (value < 0)
                {
                    throw RejectMetric(caller, "Invalid argument found in PutComponentMetricRequest");
                }

                // Stream manager reports without a policy; everyone else needs one per metric name.
                if (caller != IpcServices.StreamManager)
                {
                    Authorize(IpcServices.ComponentMetric, context, metric.Name);
                }
            }

            // As the Nucleus emits them: one by one, so metrics before one with an unknown unit are recorded.
            foreach (var metric in metrics)
            {
                var unit = ComponentMetrics.TelemetryUnit(metric.Unit!.Value.Value)
                    ?? throw RejectMetric(caller, "Invalid telemetry unit: No matching TelemetryUnit type found");
                _nucleus.Metrics.Record(caller, metric.Name!, unit, metric.Value!.Value);
                ComponentsLog.MetricRecorded(Logger, caller, metric.Name!, unit);
            }

            return new PutComponentMetricResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<ValidateAuthorizationTokenResponse> ValidateAuthorizationTokenAsync(ValidateAuthorizationTokenRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var caller = Caller(context).Name;
            if (caller != IpcServices.StreamManager)
            {
                ComponentsLog.NotAuthorized(Logger, caller, context.Operation.Name);
                throw new UnauthorizedException($"{caller} is not authorized to perform {context.Operation.Name}");
            }

            if (request.Token is null)
            {
                ComponentsLog.TokenInvalid(Logger, caller);
                throw new InvalidTokenException("Invalid authentication token");
            }

            if (!_nucleus.Components.TryGetByToken(request.Token, out _))
            {
                ComponentsLog.TokenInvalid(Logger, caller);
                throw new InvalidTokenException("Authentication token not found");
            }

            ComponentsLog.TokenValid(Logger, caller);
            return new ValidateAuthorizationTokenResponse { IsValid = true };
        });

    private InvalidArgumentsException RejectMetric(string caller, string message)
    {
        ComponentsLog.MetricRejected(Logger, caller, message);
        return new InvalidArgumentsException(message);
    }

    /// <summary>Validates the component name, authorizes the CLI operation on it and finds it, as the CLI does.</summary>
    private ComponentRecord LocateForCli(string? componentName, IpcCallContext context)
    {
        if (string.IsNullOrEmpty(componentName))
        {
            throw new InvalidArgumentsException("Component name cannot be empty");
        }

        AuthorizeCli(context, componentName);
        return Locate(componentName) ?? throw new ResourceNotFoundException($"Component with name {componentName} not found in Greengrass");
    }

    /// <summary>The CLI's authorization: its own clients and the CLI itself may do anything; others need an aws.greengrass.Cli policy.</summary>
    private void AuthorizeCli(IpcCallContext context, string resource)
    {
        var principal = Caller(context).Name;
        if (principal.StartsWith(CliClientIdPrefix, StringComparison.Ordinal) || principal == IpcServices.Cli)
        {
            return;
        }

        Authorize(IpcServices.Cli, context, resource);
    }

    /// <summary>ComponentDetails as the CLI builds them: name, version, state and the configuration (accessControl included).</summary>
    private ComponentDetails Details(ComponentRecord component)
    {
        var registered = _nucleus.Components.TryGet(component.Name, out var record) && ReferenceEquals(record, component);
        var configuration = _nucleus.Configuration.Snapshot(component.Name) ?? (registered ? [] : null);
        return new ComponentDetails
        {
            ComponentName = component.Name,
            Version = component.Version,
            State = component.State,
            Configuration = configuration is null ? null : JsonSerializer.SerializeToElement(configuration, ConfigurationJson.Default.JsonObject),
        };
    }
}
