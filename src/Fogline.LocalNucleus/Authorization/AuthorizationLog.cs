using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Authorization;

/// <summary>
/// Log messages of authorization (event ids 2100-2199). Each names the Nucleus log event it stands for, so a log of
/// the local Nucleus reads like the real one's. Resources and operations are not secret (the Nucleus logs them too).
/// </summary>
internal static partial class AuthorizationLog
{
    /// <summary>load-authorization-config-deserialization-error.</summary>
    [LoggerMessage(2100, LogLevel.Error, "Unable to read the accessControl configuration of {Component}: {Reason}; none of its policies are loaded (load-authorization-config-deserialization-error)")]
    public static partial void AccessControlUnreadable(ILogger logger, string component, string reason);

    /// <summary>load-authorization-missing-policy-component-operations.</summary>
    [LoggerMessage(2101, LogLevel.Error, "Policy {PolicyId} of {Component} for {Destination} has no operations and is skipped (load-authorization-missing-policy-component-operations)")]
    public static partial void PolicyOperationsMissing(ILogger logger, string component, string destination, string policyId);

    /// <summary>load-authorization-config-invalid-component.</summary>
    [LoggerMessage(2102, LogLevel.Error, "Authorization policies for {Destination} are not loaded: {Reason} (load-authorization-config-invalid-component)")]
    public static partial void InvalidDestination(ILogger logger, string destination, string reason);

    /// <summary>load-authorization-config-invalid-policy.</summary>
    [LoggerMessage(2103, LogLevel.Error, "Authorization policies for {Destination} are not loaded: {Reason} (load-authorization-config-invalid-policy)")]
    public static partial void InvalidPolicy(ILogger logger, string destination, string reason);

    /// <summary>load-authorization-config-invalid-principal.</summary>
    [LoggerMessage(2104, LogLevel.Error, "Policy {PolicyId} for {Destination} has an invalid principal: {Reason} (load-authorization-config-invalid-principal)")]
    public static partial void InvalidPrincipal(ILogger logger, string destination, string policyId, string reason);

    /// <summary>load-authorization-config-invalid-operation.</summary>
    [LoggerMessage(2105, LogLevel.Error, "Policy {PolicyId} for {Destination} has an invalid operation: {Reason} (load-authorization-config-invalid-operation)")]
    public static partial void InvalidOperation(ILogger logger, string destination, string policyId, string reason);

    /// <summary>load-authorization-config-add-resource-error.</summary>
    [LoggerMessage(2106, LogLevel.Error, "Resource {Resource} of policy {PolicyId} is not granted to {Principal} for {Destination} operation {Operation}: {Reason} (load-authorization-config-add-resource-error)")]
    public static partial void ResourceRejected(ILogger logger, string destination, string policyId, string principal, string operation, string? resource, string reason);

    /// <summary>load-authorization-config-add-permission-error.</summary>
    [LoggerMessage(2107, LogLevel.Error, "Policy {PolicyId} for {Destination} could not be loaded completely: {Reason} (load-authorization-config-add-permission-error)")]
    public static partial void PermissionRejected(ILogger logger, string destination, string policyId, string reason);

    /// <summary>load-authorization-config-success.</summary>
    [LoggerMessage(2108, LogLevel.Debug, "Loaded {Count} authorization policies for {Destination} (load-authorization-config-success)")]
    public static partial void DestinationLoaded(ILogger logger, string destination, int count);

    /// <summary>Permissions of a destination that no component declares any more are dropped.</summary>
    [LoggerMessage(2109, LogLevel.Debug, "No policies left for {Destination}; its permissions are removed")]
    public static partial void DestinationRemoved(ILogger logger, string destination);

    /// <summary>The Nucleus's "Hit policy" debug line.</summary>
    [LoggerMessage(2110, LogLevel.Debug, "Authorized {Destination}:{Operation} on {Resource} for {Principal} by the permission of principal {PolicyPrincipal}, operation {PolicyOperation}")]
    public static partial void Allowed(ILogger logger, string destination, string operation, string? resource, string principal, string policyPrincipal, string policyOperation);

    /// <summary>A request was refused.</summary>
    [LoggerMessage(2111, LogLevel.Debug, "Not authorized: {Message}")]
    public static partial void Denied(ILogger logger, string message);

    /// <summary>A component's policies were (re)read from its configuration.</summary>
    [LoggerMessage(2112, LogLevel.Debug, "Read the accessControl configuration of {Component}: policies for {DestinationCount} destinations")]
    public static partial void ComponentPoliciesRead(ILogger logger, string component, int destinationCount);

    /// <summary>Operations were registered for a destination.</summary>
    [LoggerMessage(2113, LogLevel.Debug, "Registered operations {Operations} for {Destination}")]
    public static partial void DestinationRegistered(ILogger logger, string destination, string operations);
}
