using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Shadows;

/// <summary>Log messages of the local shadow manager (event ids 2400-2499). Shadow documents are never logged.</summary>
internal static partial class ShadowsLog
{
    [LoggerMessage(2400, LogLevel.Information, "Loaded {Count} shadows from {Directory}")]
    public static partial void ShadowsLoaded(ILogger logger, int count, string directory);

    [LoggerMessage(2401, LogLevel.Error, "Unable to read the shadow file {Path}: {Reason}; it is left out")]
    public static partial void ShadowFileUnreadable(ILogger logger, string path, string reason);

    [LoggerMessage(2402, LogLevel.Information, "Successfully updated shadow {ThingName}/{ShadowName} to version {Version} for {Principal}")]
    public static partial void ShadowUpdated(ILogger logger, string thingName, string shadowName, long version, string principal);

    [LoggerMessage(2403, LogLevel.Debug, "Successfully deleted the local shadow {ThingName}/{ShadowName} for {Principal}")]
    public static partial void ShadowDeleted(ILogger logger, string thingName, string shadowName, string principal);

    [LoggerMessage(2404, LogLevel.Warning, "Shadow {ThingName}/{ShadowName} does not exist ({Operation} by {Principal})")]
    public static partial void ShadowNotFound(ILogger logger, string? thingName, string shadowName, string operation, string principal);

    [LoggerMessage(2405, LogLevel.Warning, "Not authorized: {Operation} of shadow {ThingName}/{ShadowName} by {Principal}")]
    public static partial void ShadowUnauthorized(ILogger logger, string operation, string? thingName, string shadowName, string principal);

    [LoggerMessage(2406, LogLevel.Warning, "Invalid {Operation} request of shadow {ThingName}/{ShadowName} by {Principal}: {Reason}")]
    public static partial void ShadowRequestInvalid(ILogger logger, string operation, string? thingName, string shadowName, string principal, string reason);

    [LoggerMessage(2407, LogLevel.Warning, "Conflicting version in shadow update message for {ThingName}/{ShadowName} (local version {Version}) by {Principal}")]
    public static partial void ShadowVersionConflict(ILogger logger, string thingName, string shadowName, long version, string principal);

    [LoggerMessage(2408, LogLevel.Error, "Could not process {Operation} request of shadow {ThingName}/{ShadowName} due to internal service error: {Reason}")]
    public static partial void ShadowServiceFailure(ILogger logger, string operation, string? thingName, string? shadowName, string reason);

    [LoggerMessage(2409, LogLevel.Warning, "Local shadow {Operation} request throttled for thing {ThingName}: {Reason}")]
    public static partial void ShadowRequestThrottled(ILogger logger, string operation, string? thingName, string reason);

    [LoggerMessage(2410, LogLevel.Error, "Unable to publish the shadow message on {Topic}")]
    public static partial void ShadowPublishFailed(ILogger logger, string topic, Exception exception);

    [LoggerMessage(2411, LogLevel.Warning, "The aws.greengrass.ShadowManager configuration is not valid ({Reason}); the previous one stays in force")]
    public static partial void ShadowConfigurationInvalid(ILogger logger, string reason);

    [LoggerMessage(2412, LogLevel.Debug, "Shadow operation message over local PubSub on {Topic}: {Outcome}")]
    public static partial void ShadowLocalPublish(ILogger logger, string topic, string outcome);

    [LoggerMessage(2413, LogLevel.Error, "Unhandled exception in the shadow {Operation} of {ThingName}/{ShadowName}; answered ServiceError")]
    public static partial void ShadowUnhandled(ILogger logger, string operation, string? thingName, string? shadowName, Exception exception);
}
