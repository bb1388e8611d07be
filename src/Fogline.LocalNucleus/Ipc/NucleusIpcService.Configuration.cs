using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Configuration;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>Configuration operations, as the Nucleus's ConfigStoreIPCEventStreamAgent serves them.</summary>
public sealed partial class NucleusIpcService
{
    private const string KeyNotFound = "Key not found";
    private const string AccessControlKey = "accessControl";

    /// <inheritdoc />
    protected override ValueTask<GetConfigurationResponse> GetConfigurationAsync(GetConfigurationRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var component = request.ComponentName ?? Caller(context).Name;
            var value = _nucleus.Configuration.Get(component, request.KeyPath) ?? throw new ResourceNotFoundException(KeyNotFound);
            return new GetConfigurationResponse { ComponentName = component, Value = JsonSerializer.SerializeToElement(value, ConfigurationJson.Default.JsonObject) };
        });

    /// <inheritdoc />
    protected override ValueTask<UpdateConfigurationResponse> UpdateConfigurationAsync(UpdateConfigurationRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var component = Caller(context).Name;
            if (request.Timestamp is null)
            {
                throw new InvalidArgumentsException("Timestamp is required");
            }

            if (request.ValueToMerge is not { } element || element.ValueKind == JsonValueKind.Null)
            {
                throw new InvalidArgumentsException("ValueToMerge is required");
            }

            if (element.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidArgumentsException("ValueToMerge must be an object");
            }

            var value = JsonNode.Parse(element.GetRawText())!.AsObject();
            var keyPath = request.KeyPath ?? [];
            if ((keyPath.Count == 0 && value.ContainsKey(AccessControlKey)) || (keyPath.Count > 0 && keyPath[0] == AccessControlKey))
            {
                throw new InvalidArgumentsException($"Config update is not allowed for following fields [{AccessControlKey}]");
            }

            try
            {
                if (keyPath.Count > 0 && _nucleus.Configuration.GetValue(component, keyPath) is { } existing and not JsonObject)
                {
                    // The key path names a leaf: the Nucleus merges {leaf: value} into its parent, and a leaf cannot
                    // take an object.
                    throw new InvalidArgumentsException($"Key path {string.Join("/", keyPath)} is a value; an object cannot be merged into it");
                }

                _nucleus.Configuration.Merge(component, keyPath, value, request.Timestamp.Value);
            }
            catch (ConfigurationTimestampException ex)
            {
                throw new FailedUpdateConditionCheckException(ex.Message);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidArgumentsException(ex.Message);
            }

            return new UpdateConfigurationResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<SubscribeToConfigurationUpdateResponse> SubscribeToConfigurationUpdateAsync(SubscribeToConfigurationUpdateRequest request, IpcEventStream<ConfigurationUpdateEvents> events, IpcCallContext context) =>
        Translate(context, () =>
        {
            var component = request.ComponentName ?? Caller(context).Name;
            var watch = _nucleus.Configuration.Watch(component, request.KeyPath, (changedComponent, keyPath) =>
            {
                var update = new ConfigurationUpdateEvents
                {
                    ConfigurationUpdateEvent = new ConfigurationUpdateEvent { ComponentName = changedComponent, KeyPath = [.. keyPath] },
                };
                _ = SendQuietlyAsync(events, update);
            }) ?? throw new ResourceNotFoundException(KeyNotFound);
            context.CallEnded.Register(static w => ((IDisposable)w!).Dispose(), watch);
            return new SubscribeToConfigurationUpdateResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<SubscribeToValidateConfigurationUpdatesResponse> SubscribeToValidateConfigurationUpdatesAsync(SubscribeToValidateConfigurationUpdatesRequest request, IpcEventStream<ValidateConfigurationUpdateEvents> events, IpcCallContext context) =>
        Translate(context, () =>
        {
            var component = Caller(context).Name;
            Func<string, JsonObject, ValueTask> listener = (deploymentId, configuration) => events.SendAsync(new ValidateConfigurationUpdateEvents
            {
                ValidateConfigurationUpdateEvent = new ValidateConfigurationUpdateEvent
                {
                    DeploymentId = deploymentId,
                    Configuration = JsonSerializer.SerializeToElement(configuration, ConfigurationJson.Default.JsonObject),
                },
            });

            // As the Nucleus: one listener per component; a second subscription is accepted but the first one is asked.
            if (_nucleus.ConfigurationValidation.AddListener(component, listener))
            {
                context.CallEnded.Register(() => _nucleus.ConfigurationValidation.RemoveListener(component, listener));
            }

            return new SubscribeToValidateConfigurationUpdatesResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<SendConfigurationValidityReportResponse> SendConfigurationValidityReportAsync(SendConfigurationValidityReportRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var report = request.ConfigurationValidityReport!;
            if (report.DeploymentId is null)
            {
                throw new InvalidArgumentsException("Cannot accept configuration validity report, the deployment ID provided was null");
            }

            if (!_nucleus.ConfigurationValidation.Report(Caller(context).Name, report))
            {
                throw new InvalidArgumentsException("Validation request either timed out or was never made");
            }

            return new SendConfigurationValidityReportResponse();
        });

    private static async Task SendQuietlyAsync<T>(IpcEventStream<T> events, T value)
        where T : class, IIpcShape
    {
        try
        {
            await events.SendAsync(value).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // The subscriber is gone; its watch is released when the stream ends.
        }
    }
}
