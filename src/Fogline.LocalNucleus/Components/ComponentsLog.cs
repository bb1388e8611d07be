using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Components;

/// <summary>
/// Log messages of component state, control, updates, metrics and token validation (event ids 2500-2549; secrets
/// use 2550-2599 in <c>SecretsLog</c>). Tokens are never logged.
/// </summary>
internal static partial class ComponentsLog
{
    [LoggerMessage(2500, LogLevel.Debug, "{Component} reported state {Reported}; it is now {State}")]
    public static partial void StateReported(ILogger logger, string component, string reported, string state);

    [LoggerMessage(2503, LogLevel.Debug, "{Component} reported state {Reported}, which it is in already")]
    public static partial void StateReportRedundant(ILogger logger, string component, string reported);

    [LoggerMessage(2501, LogLevel.Warning, "Invalid reported state {Reported} from {Component} in state {State}; ignored")]
    public static partial void StateReportIgnored(ILogger logger, string component, string reported, string state);

    [LoggerMessage(2502, LogLevel.Warning, "{Component} errored {Count} times in a row; it is BROKEN")]
    public static partial void ComponentBroken(ILogger logger, string component, int count);

    [LoggerMessage(2510, LogLevel.Debug, "{Component} subscribed to component updates")]
    public static partial void UpdatesSubscribed(ILogger logger, string component);

    [LoggerMessage(2511, LogLevel.Debug, "{Component} unsubscribed from component updates")]
    public static partial void UpdatesUnsubscribed(ILogger logger, string component);

    [LoggerMessage(2512, LogLevel.Information, "Sent preUpdateEvent of deployment {DeploymentId} (round {Round}) to {Count} subscriptions")]
    public static partial void PreUpdateSent(ILogger logger, string deploymentId, int round, int count);

    [LoggerMessage(2513, LogLevel.Error, "Failed to send the pre component update of deployment {DeploymentId} to {Component}")]
    public static partial void PreUpdateSendFailed(ILogger logger, string component, string deploymentId, Exception exception);

    [LoggerMessage(2514, LogLevel.Information, "{Component} deferred deployment {DeploymentId} for {RecheckAfterMs} ms with message {Message}")]
    public static partial void UpdateDeferred(ILogger logger, string component, string deploymentId, long recheckAfterMs, string? message);

    [LoggerMessage(2515, LogLevel.Warning, "Deferral of deployment {DeploymentId} from {Component} has no recheckAfterMs; ignoring it")]
    public static partial void DeferralWithoutRecheck(ILogger logger, string component, string deploymentId);

    [LoggerMessage(2516, LogLevel.Information, "Deployment {DeploymentId} deferred; sending preUpdateEvent again in {WaitMs} ms")]
    public static partial void PreUpdateWaiting(ILogger logger, string deploymentId, long waitMs);

    [LoggerMessage(2517, LogLevel.Information, "Deployment {DeploymentId} may proceed after {Rounds} rounds of preUpdateEvent ({Unanswered} subscriptions did not answer)")]
    public static partial void PreUpdateProceeding(ILogger logger, string deploymentId, int rounds, int unanswered);

    [LoggerMessage(2518, LogLevel.Information, "Sent postUpdateEvent of deployment {DeploymentId} to {Count} subscriptions")]
    public static partial void PostUpdateSent(ILogger logger, string deploymentId, int count);

    [LoggerMessage(2519, LogLevel.Error, "Failed to send the post component update of deployment {DeploymentId} to {Component}")]
    public static partial void PostUpdateSendFailed(ILogger logger, string component, string deploymentId, Exception exception);

    [LoggerMessage(2520, LogLevel.Information, "Update notification of deployment {DeploymentId} cancelled; components are told with a postUpdateEvent")]
    public static partial void PreUpdateCancelled(ILogger logger, string deploymentId);

    [LoggerMessage(2521, LogLevel.Debug, "Deferral of deployment {DeploymentId} from {Component} accepted")]
    public static partial void DeferralAccepted(ILogger logger, string component, string deploymentId);

    [LoggerMessage(2530, LogLevel.Information, "{Caller} requested {Operation} of {Target}")]
    public static partial void ControlRequested(ILogger logger, string caller, string operation, string target);

    [LoggerMessage(2531, LogLevel.Warning, "{Operation} of {Target} failed: {Reason}")]
    public static partial void ControlFailed(ILogger logger, string operation, string target, string reason);

    [LoggerMessage(2540, LogLevel.Debug, "Recorded metric {Name} ({Unit}) from {Component}")]
    public static partial void MetricRecorded(ILogger logger, string component, string name, string unit);

    [LoggerMessage(2541, LogLevel.Warning, "Rejected PutComponentMetric from {Component}: {Reason}")]
    public static partial void MetricRejected(ILogger logger, string component, string reason);

    [LoggerMessage(2545, LogLevel.Debug, "Authorization token validated for {Caller}")]
    public static partial void TokenValid(ILogger logger, string caller);

    [LoggerMessage(2546, LogLevel.Debug, "Invalid token used when {Caller} validated an authorization token")]
    public static partial void TokenInvalid(ILogger logger, string caller);

    [LoggerMessage(2547, LogLevel.Debug, "{Caller} is not authorized to perform {Operation}")]
    public static partial void NotAuthorized(ILogger logger, string caller, string operation);
}
