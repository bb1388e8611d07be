using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>The supervisor's log lines (event ids 2700-2799).</summary>
internal static partial class SupervisorLog
{
    [LoggerMessage(2700, LogLevel.Information, "{Component}: {Step} started (pid {Pid})", EventName = "StepStarted")]
    public static partial void StepStarted(ILogger logger, string component, string step, int pid);

    [LoggerMessage(2701, LogLevel.Information, "{Component}: {Step} exited with code {ExitCode}", EventName = "StepExited")]
    public static partial void StepExited(ILogger logger, string component, string step, int exitCode);

    [LoggerMessage(2702, LogLevel.Warning, "{Component}: {Step} timed out after {TimeoutSeconds} s; its process group was killed", EventName = "StepTimedOut")]
    public static partial void StepTimedOut(ILogger logger, string component, string step, double timeoutSeconds);

    [LoggerMessage(2703, LogLevel.Information, "{Component}: {Step} skipped ({SkipIf})", EventName = "StepSkipped")]
    public static partial void StepSkipped(ILogger logger, string component, string step, string skipIf);

    [LoggerMessage(2704, LogLevel.Error, "{Component}: errored ({Reason}); {Count} error(s) within the error reset time", EventName = "ComponentErrored")]
    public static partial void ComponentErrored(ILogger logger, string component, string reason, int count);

    [LoggerMessage(2705, LogLevel.Error, "{Component}: BROKEN after {Count} errors", EventName = "ComponentBroken")]
    public static partial void ComponentBroken(ILogger logger, string component, int count);

    [LoggerMessage(2706, LogLevel.Information, "{Component}: state {State}", EventName = "StateChanged")]
    public static partial void State(ILogger logger, string component, string state);

    [LoggerMessage(2707, LogLevel.Warning, "{Component}: the process group {Pgid} did not stop after SIGTERM; sent SIGKILL", EventName = "Killed")]
    public static partial void Killed(ILogger logger, string component, int pgid);

    [LoggerMessage(2708, LogLevel.Error, "{Component}: {Step} could not start: {Reason}", EventName = "StepFailedToStart")]
    public static partial void StepFailedToStart(ILogger logger, string component, string step, string reason);

    [LoggerMessage(2709, LogLevel.Information, "{Component}: restarting because its HARD dependency {Dependency} left RUNNING/FINISHED", EventName = "DependencyRestart")]
    public static partial void DependencyRestart(ILogger logger, string component, string dependency);

    [LoggerMessage(2710, LogLevel.Information, "Applying {Count} components: {Stopping} to stop, {Starting} to (re)start", EventName = "Applying")]
    public static partial void Applying(ILogger logger, int count, int stopping, int starting);
}
