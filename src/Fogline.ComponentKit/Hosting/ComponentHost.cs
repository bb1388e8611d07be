using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Messages;
using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// Runs a <see cref="FoglineComponent{TOptions}"/> as the Nucleus expects a component to behave:
/// <list type="number">
/// <item>connects over IPC from the environment the Nucleus gives (exit code 2 with one log line if it cannot);</item>
/// <item>reads the component's configuration with GetConfiguration and validates it; an invalid value is logged with its
/// JSON pointer, ERRORED is reported with UpdateState, and the process exits with code 1 (the Nucleus then runs Recover
/// and retries, and after three errors the component is BROKEN: garbage is never run);</item>
/// <item>starts the component, then reports RUNNING;</item>
/// <item>while running: configuration updates (SubscribeToConfigurationUpdate) are re-read, validated and applied live,
/// an invalid one is rejected and the previous configuration kept; proposed configurations of deployments
/// (SubscribeToValidateConfigurationUpdates) are answered ACCEPTED or REJECTED with the reason; component updates
/// (SubscribeToComponentUpdates) are deferred while a critical section is open and acknowledged otherwise; counters are
/// published on <c>fogline/metrics/{component}</c>;</item>
/// <item>on SIGTERM or SIGINT: stops taking messages, handles those already queued, calls DrainAsync, waits for
/// publishes in flight, all within <see cref="ComponentHostOptions.DrainTimeout"/>, and exits with code 0.</item>
/// </list>
/// </summary>
public static class ComponentHost
{
    /// <summary>Exit code when the configuration is invalid.</summary>
    public const int ExitInvalidConfiguration = 1;

    /// <summary>Exit code when the Nucleus cannot be reached.</summary>
    public const int ExitNoNucleus = 2;

    /// <summary>Exit code when the component failed to start (e.g. a subscription was not authorized).</summary>
    public const int ExitStartFailed = 4;

    /// <summary>Exit code when the IPC connection was lost while running.</summary>
    public const int ExitConnectionLost = 3;

    /// <summary>Runs <paramref name="component"/> until it is stopped; returns the process exit code.</summary>
    public static async Task<int> RunAsync<TOptions>(FoglineComponent<TOptions> component, ComponentHostOptions? options = null, CancellationToken cancellationToken = default)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(component);
        options ??= new ComponentHostOptions();
        if (options.InlineSocketCompletions)
        {
            Fogline.EventStream.Transport.SocketCompletions.PreferInline();
        }

        var started = Stopwatch.GetTimestamp();
        var logOutput = options.LogOutput ?? Console.OpenStandardOutput();
        using var loggerFactory = new SingleProviderLoggerFactory(new JsonLinesLoggerProvider(component.Name, logOutput, options.Time));
        var logger = loggerFactory.CreateLogger("Fogline.ComponentKit.Host");
        HostLog.Starting(logger, component.Name, Environment.ProcessId);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = options.HandleSignals ? PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal) : null;
        using var sigint = options.HandleSignals ? PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal) : null;

        GreengrassIpcClient ipc;
        try
        {
            ipc = await GreengrassIpcClient.ConnectAsync(options.Ipc, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GreengrassIpcException or InvalidOperationException or IOException or OperationCanceledException)
        {
            HostLog.ConnectFailed(logger, e.Message);
            return ExitNoNucleus;
        }

        await using (ipc.ConfigureAwait(false))
        {
            TOptions parsed;
            CloudMetrics? cloudMetrics;
            try
            {
                var configuration = await ReadConfigurationAsync(ipc, stop.Token).ConfigureAwait(false);
                parsed = component.ParseOptions(configuration);
                cloudMetrics = CloudMetrics.Read(configuration, component.Name, Environment.GetEnvironmentVariable("AWS_IOT_THING_NAME"));
            }
            catch (ConfigurationException e)
            {
                HostLog.InvalidConfiguration(logger, e.Message);
                await TryReportErroredAsync(ipc).ConfigureAwait(false);
                return ExitInvalidConfiguration;
            }

            var context = new ComponentContext<TOptions>(component.Name, ipc, parsed, loggerFactory, options, stop.Token);
            var loop = Task.Run(() => ProcessAsync(context, logger));

            // Start on the processing loop, so that messages arriving meanwhile wait until StartAsync has returned.
            var startedOnLoop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await context.PostAsync(WorkItem.ForControl(async ct =>
            {
                try
                {
                    await component.StartAsync(context, stop.Token).ConfigureAwait(false);
                    startedOnLoop.TrySetResult();
                }
                catch (Exception e)
                {
                    startedOnLoop.TrySetException(e);
                }
            })).ConfigureAwait(false);

            var hostStreams = new List<IAsyncDisposable>();
            try
            {
                await startedOnLoop.Task.ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                HostLog.StartFailed(logger, e.Message);
                await TryReportErroredAsync(ipc).ConfigureAwait(false);
                return ExitStartFailed;
            }

            try
            {
                hostStreams.Add(await ipc.SubscribeToConfigurationUpdateAsync(
                    new SubscribeToConfigurationUpdateRequest { KeyPath = [] },
                    evt => OnConfigurationUpdate(component, context, logger, evt),
                    stop.Token).ConfigureAwait(false));
                hostStreams.Add(await ipc.SubscribeToValidateConfigurationUpdatesAsync(
                    new SubscribeToValidateConfigurationUpdatesRequest(),
                    evt => _ = ValidateAsync(component, ipc, logger, evt),
                    stop.Token).ConfigureAwait(false));
                hostStreams.Add(await ipc.SubscribeToComponentUpdatesAsync(
                    new SubscribeToComponentUpdatesRequest(),
                    evt => _ = OnComponentUpdateAsync(context, options, logger, evt),
                    stop.Token).ConfigureAwait(false));
                if (options.MetricsInterval > TimeSpan.Zero)
                {
                    var metricsWriter = new PayloadWriter();
                    var metricsTopic = Topics.Metrics(component.Name);
                    context.Every(options.MetricsInterval, ct => PublishCountersAsync(context, metricsWriter, metricsTopic, ct));
                }

                if (cloudMetrics is not null)
                {
                    var cloudWriter = new PayloadWriter();
                    var startedMs = context.Time.GetUtcNow().ToUnixTimeMilliseconds();
                    context.Every(cloudMetrics.Interval, ct => PublishCloudCountersAsync(context, cloudWriter, cloudMetrics.Topic, startedMs, logger, ct));
                }

                await ipc.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running }, stop.Token).ConfigureAwait(false);
                HostLog.Running(logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds);

                var lost = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
                ipc.ConnectionLost += (_, error) => lost.TrySetResult(error);
                if (!ipc.IsConnected)
                {
                    lost.TrySetResult(new GreengrassIpcConnectionException("closed by the Nucleus"));
                }

                var stopped = Task.Delay(Timeout.Infinite, stop.Token);
                if (await Task.WhenAny(stopped, lost.Task).ConfigureAwait(false) == lost.Task && !stop.IsCancellationRequested)
                {
                    HostLog.ConnectionLost(logger, lost.Task.Result.Message);
                    return ExitConnectionLost;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Asked to stop while starting: fall through to the drain.
            }
            catch (GreengrassIpcException e) when (!stop.IsCancellationRequested)
            {
                HostLog.ConnectionLost(logger, e.Message);
                return ExitConnectionLost;
            }

            foreach (var hostStream in hostStreams)
            {
                try
                {
                    await hostStream.DisposeAsync().ConfigureAwait(false);
                }
                catch (GreengrassIpcException)
                {
                    // Closing politely is best effort; the connection closes right after.
                }
            }

            await DrainAsync(component, context, options, logger, loop).ConfigureAwait(false);
            var c = context.Counters;
            HostLog.Stopped(logger, c.Received.Value, c.Published.Value, c.Dropped.Value, c.Rejected.Value, c.Errors.Value);
            return 0;
        }

        void OnSignal(PosixSignalContext signal)
        {
            signal.Cancel = true;
            stop.Cancel();
        }
    }

    /// <summary>Reads this component's whole configuration (an empty object when it has none).</summary>
    public static async Task<ConfigNode> ReadConfigurationAsync(GreengrassIpcClient ipc, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ipc);
        var response = await ipc.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = [] }, cancellationToken).ConfigureAwait(false);
        return new ConfigNode(response.Value ?? EmptyObject());
    }

    private static JsonElement EmptyObject()
    {
        using var doc = JsonDocument.Parse("{}");
        return doc.RootElement.Clone();
    }

    private static async Task ProcessAsync<TOptions>(ComponentContext<TOptions> context, ILogger logger)
        where TOptions : class
    {
        var reader = context.Work;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                try
                {
                    switch (item.Kind)
                    {
                        case WorkKind.Message:
                            context.MessageHandled();
                            await item.Handler!(item.Topic!, item.Payload).ConfigureAwait(false);
                            break;
                        default:
                            await item.Action!(CancellationToken.None).ConfigureAwait(false);
                            break;
                    }
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    context.Counters.Errors.Increment();
                    HostLog.HandlerFailed(logger, item.Topic ?? item.Kind.ToString(), e.Message);
                }
            }
        }
    }

    private static void OnConfigurationUpdate<TOptions>(FoglineComponent<TOptions> component, ComponentContext<TOptions> context, ILogger logger, ConfigurationUpdateEvents evt)
        where TOptions : class
    {
        if (evt.ConfigurationUpdateEvent is not { } update)
        {
            return;
        }

        var keyPath = "/" + string.Join('/', update.KeyPath ?? []);
        _ = context.PostAsync(WorkItem.ForControl(async ct =>
        {
            TOptions next;
            try
            {
                next = component.ParseOptions(await ReadConfigurationAsync(context.Ipc, context.Stopping).ConfigureAwait(false));
            }
            catch (ConfigurationException e)
            {
                context.Counters.Get("config_rejected").Increment();
                HostLog.ConfigurationRejected(logger, e.Message);
                return;
            }

            var previous = context.Options;
            context.Options = next;
            await component.OnOptionsChangedAsync(previous, next, context.Stopping).ConfigureAwait(false);
            context.Counters.Get("config_applied").Increment();
            HostLog.ConfigurationApplied(logger, keyPath);
        }));
    }

    private static async Task ValidateAsync<TOptions>(FoglineComponent<TOptions> component, GreengrassIpcClient ipc, ILogger logger, ValidateConfigurationUpdateEvents evt)
        where TOptions : class
    {
        if (evt.ValidateConfigurationUpdateEvent is not { } proposal)
        {
            return;
        }

        var deploymentId = proposal.DeploymentId ?? string.Empty;
        var status = ConfigurationValidityStatus.Accepted;
        var reason = string.Empty;
        try
        {
            component.ParseOptions(new ConfigNode(proposal.Configuration ?? EmptyObject()));
        }
        catch (ConfigurationException e)
        {
            status = ConfigurationValidityStatus.Rejected;
            reason = e.Message;
        }

        HostLog.ConfigurationValidated(logger, deploymentId, status.Value, reason);
        try
        {
            await ipc.SendConfigurationValidityReportAsync(new SendConfigurationValidityReportRequest
            {
                ConfigurationValidityReport = new ConfigurationValidityReport { DeploymentId = deploymentId, Status = status, Message = reason.Length == 0 ? null : reason },
            }).ConfigureAwait(false);
        }
        catch (GreengrassIpcException e)
        {
            HostLog.ConfigurationRejected(logger, "could not send the validity report: " + e.Message);
        }
    }

    private static async Task OnComponentUpdateAsync<TOptions>(ComponentContext<TOptions> context, ComponentHostOptions options, ILogger logger, ComponentUpdatePolicyEvents evt)
        where TOptions : class
    {
        if (evt.PreUpdateEvent is not { } pre)
        {
            return;
        }

        var busy = context.InCriticalSection;
        var recheck = busy ? (long)options.DeferUpdateBy.TotalMilliseconds : 0;
        HostLog.UpdateNotified(logger, pre.DeploymentId ?? string.Empty, busy ? $"deferred by {recheck} ms (critical section open)" : "ready");
        try
        {
            await context.Ipc.DeferComponentUpdateAsync(new DeferComponentUpdateRequest
            {
                DeploymentId = pre.DeploymentId,
                Message = busy ? "critical section in progress" : "ready",
                RecheckAfterMs = recheck,
            }).ConfigureAwait(false);
        }
        catch (GreengrassIpcException e)
        {
            HostLog.PublishFailed(logger, "DeferComponentUpdate", e.Message);
        }
    }

    private static async ValueTask PublishCountersAsync<TOptions>(ComponentContext<TOptions> context, PayloadWriter writer, string topic, CancellationToken cancellationToken)
        where TOptions : class
    {
        var json = writer.Begin();
        json.WriteStartObject();
        json.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        json.WriteString("component"u8, context.ComponentName);
        json.WriteNumber("ts"u8, Math.Round(context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0, 3));
        json.WritePropertyName("counters"u8);
        context.Counters.WriteJson(json);
        json.WriteEndObject();
        await context.PublishAsync(topic, writer.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The counters to IoT Core (<see cref="CloudMetrics"/>), retained; a refusal is counted and logged, never fatal.</summary>
    private static async ValueTask PublishCloudCountersAsync<TOptions>(ComponentContext<TOptions> context, PayloadWriter writer, string topic, long startedMs, ILogger logger, CancellationToken cancellationToken)
        where TOptions : class
    {
        var json = writer.Begin();
        json.WriteStartObject();
        json.WriteNumber("v"u8, ReadingCodec.CurrentVersion);
        json.WriteString("component"u8, context.ComponentName);
        json.WriteString("thing"u8, Environment.GetEnvironmentVariable("AWS_IOT_THING_NAME"));
        json.WriteNumber("startedMs"u8, startedMs);
        json.WriteNumber("ts"u8, Math.Round(context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0, 3));
        json.WritePropertyName("counters"u8);
        context.Counters.WriteJson(json);
        json.WriteEndObject();
        try
        {
            await context.Ipc.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = topic, Qos = QOS.AtMostOnce, Retain = true, Payload = writer.WrittenMemory }, cancellationToken).ConfigureAwait(false);
            context.Counters.Get("cloud_metrics_sent").Increment();
        }
        catch (GreengrassIpcException e)
        {
            context.Counters.Get("cloud_metrics_failed").Increment();
            HostLog.PublishFailed(logger, topic, e.Message);
        }
    }

    private static async Task DrainAsync<TOptions>(FoglineComponent<TOptions> component, ComponentContext<TOptions> context, ComponentHostOptions options, ILogger logger, Task loop)
        where TOptions : class
    {
        using var deadline = new CancellationTokenSource(options.DrainTimeout);
        var queued = (int)context.Counters.Get("inbound_depth").Value;
        HostLog.Stopping(logger, queued, options.DrainTimeout.TotalMilliseconds);
        try
        {
            await context.StopAcceptingAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
            await context.PostAsync(WorkItem.ForControl(ct => component.DrainAsync(deadline.Token))).ConfigureAwait(false);
            context.CompleteWork();
            await loop.WaitAsync(deadline.Token).ConfigureAwait(false);
            await context.WaitForPublishesAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            HostLog.DrainTimedOut(logger, (int)context.Counters.Get("inbound_depth").Value);
        }
    }

    private static async Task TryReportErroredAsync(GreengrassIpcClient ipc)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await ipc.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored }, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is GreengrassIpcException or OperationCanceledException)
        {
            // Exiting non-zero reports the error to the Nucleus anyway.
        }
    }
}
