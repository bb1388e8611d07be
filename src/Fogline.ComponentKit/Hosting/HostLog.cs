using Microsoft.Extensions.Logging;

namespace Fogline.ComponentKit.Hosting;

/// <summary>The host's log lines (event ids 100-199).</summary>
internal static partial class HostLog
{
    [LoggerMessage(100, LogLevel.Information, "Starting {Component} (pid {Pid})", EventName = "Starting")]
    public static partial void Starting(ILogger logger, string component, int pid);

    [LoggerMessage(101, LogLevel.Critical, "Cannot connect to the Nucleus over IPC: {Reason}", EventName = "ConnectFailed")]
    public static partial void ConnectFailed(ILogger logger, string reason);

    [LoggerMessage(102, LogLevel.Critical, "Invalid configuration, reporting ERRORED: {Reason}", EventName = "InvalidConfiguration")]
    public static partial void InvalidConfiguration(ILogger logger, string reason);

    [LoggerMessage(103, LogLevel.Information, "Running after {StartupMs} ms", EventName = "Running")]
    public static partial void Running(ILogger logger, double startupMs);

    [LoggerMessage(104, LogLevel.Information, "Configuration updated at {KeyPath}", EventName = "ConfigurationApplied")]
    public static partial void ConfigurationApplied(ILogger logger, string keyPath);

    [LoggerMessage(105, LogLevel.Error, "Configuration update rejected, keeping the previous configuration: {Reason}", EventName = "ConfigurationRejected")]
    public static partial void ConfigurationRejected(ILogger logger, string reason);

    [LoggerMessage(106, LogLevel.Information, "Validation of deployment {DeploymentId}: {Status} {Reason}", EventName = "ConfigurationValidated")]
    public static partial void ConfigurationValidated(ILogger logger, string deploymentId, string status, string reason);

    [LoggerMessage(107, LogLevel.Information, "Component update of deployment {DeploymentId}: {Decision}", EventName = "UpdateNotified")]
    public static partial void UpdateNotified(ILogger logger, string deploymentId, string decision);

    [LoggerMessage(108, LogLevel.Information, "Stopping: draining {Queued} queued messages (timeout {TimeoutMs} ms)", EventName = "Stopping")]
    public static partial void Stopping(ILogger logger, int queued, double timeoutMs);

    [LoggerMessage(109, LogLevel.Information, "Stopped: received {Received}, published {Published}, dropped {Dropped}, rejected {Rejected}, errors {Errors}", EventName = "Stopped")]
    public static partial void Stopped(ILogger logger, long received, long published, long dropped, long rejected, long errors);

    [LoggerMessage(110, LogLevel.Warning, "Shutdown did not finish within the drain timeout; {Queued} messages were not handled", EventName = "DrainTimedOut")]
    public static partial void DrainTimedOut(ILogger logger, int queued);

    [LoggerMessage(111, LogLevel.Error, "Handler for {Topic} failed: {Reason}", EventName = "HandlerFailed")]
    public static partial void HandlerFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(112, LogLevel.Warning, "Publish to {Topic} failed: {Reason}", EventName = "PublishFailed")]
    public static partial void PublishFailed(ILogger logger, string topic, string reason);

    [LoggerMessage(113, LogLevel.Critical, "The IPC connection to the Nucleus was lost: {Reason}", EventName = "ConnectionLost")]
    public static partial void ConnectionLost(ILogger logger, string reason);

    [LoggerMessage(115, LogLevel.Critical, "Start failed, reporting ERRORED: {Reason}", EventName = "StartFailed")]
    public static partial void StartFailed(ILogger logger, string reason);

    [LoggerMessage(114, LogLevel.Warning, "Rejected a payload on {Topic}: {Reason}", EventName = "PayloadRejected")]
    public static partial void PayloadRejected(ILogger logger, string topic, string reason);
}
