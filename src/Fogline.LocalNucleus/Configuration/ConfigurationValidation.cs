using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Configuration;

/// <summary>
/// Configuration validation as the Nucleus does it: a component subscribes (SubscribeToValidateConfigurationUpdates,
/// one subscription per component, the first one wins), a deployment asks it to validate a proposed configuration
/// with <see cref="RequestAsync"/>, and the component answers with SendConfigurationValidityReport.
/// </summary>
public sealed class ConfigurationValidation
{
    private readonly ConcurrentDictionary<string, Func<string, JsonObject, ValueTask>> _listeners = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Component, string DeploymentId), TaskCompletionSource<ConfigurationValidityReport>> _pending = new();

    /// <summary>Whether the component listens for validation requests.</summary>
    public bool HasListener(string component) => _listeners.ContainsKey(component);

    /// <summary>
    /// Asks the component to validate <paramref name="proposed"/> for <paramref name="deploymentId"/>. Returns its report,
    /// or null when it does not listen or does not answer within <paramref name="timeout"/> (the deployment then goes
    /// on, as with the Nucleus).
    /// </summary>
    public async Task<ConfigurationValidityReport?> RequestAsync(string component, string deploymentId, JsonObject proposed, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!_listeners.TryGetValue(component, out var listener))
        {
            return null;
        }

        var key = (component, deploymentId);
        var report = new TaskCompletionSource<ConfigurationValidityReport>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[key] = report;
        try
        {
            await listener(deploymentId, proposed).ConfigureAwait(false);
            return await report.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
        finally
        {
            _pending.TryRemove(key, out _);
        }
    }

    /// <summary>Registers a component's listener; false when it already has one.</summary>
    internal bool AddListener(string component, Func<string, JsonObject, ValueTask> listener) => _listeners.TryAdd(component, listener);

    /// <summary>Removes a component's listener (when its subscription stream closes).</summary>
    internal void RemoveListener(string component, Func<string, JsonObject, ValueTask> listener) =>
        _listeners.TryRemove(new KeyValuePair<string, Func<string, JsonObject, ValueTask>>(component, listener));

    /// <summary>Completes a pending request with a component's report; false when no request is pending.</summary>
    internal bool Report(string component, ConfigurationValidityReport report)
    {
        if (!_pending.TryRemove((component, report.DeploymentId!), out var pending))
        {
            return false;
        }

        pending.TrySetResult(report);
        return true;
    }
}
