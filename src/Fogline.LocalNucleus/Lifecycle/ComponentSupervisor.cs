using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.Greengrass.Recipes;
using Fogline.Greengrass.Recipes.Writing;
using Fogline.LocalNucleus.Components;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>
/// Runs components from their resolved recipes as the Nucleus's lifecycle manager does:
/// <list type="bullet">
/// <item>each lifecycle step is <c>sh -c &lt;script&gt;</c> started through <c>setsid</c>, so it leads its own process
/// group (its children included) and stopping signals the whole group; working directory <c>&lt;root&gt;/work/&lt;component&gt;</c>;
/// the environment is the Nucleus's own, then <see cref="Nucleus.EnvironmentFor"/> (SVCUID, the socket paths,
/// AWS_IOT_THING_NAME, AWS_REGION, GGC_VERSION), then the lifecycle's Setenv, then the step's Setenv, all interpolated;
/// RequiresPrivilege steps run as the current user (the Nucleus would use sudo);</item>
/// <item>states: NEW → (Install) INSTALLED → STARTING → RUNNING; Run: RUNNING while the process runs, FINISHED when it
/// exits 0, ERRORED otherwise; Startup: RUNNING when the script exits 0 (or the component reports RUNNING first);
/// neither: FINISHED after Install; a component reporting ERRORED over IPC is handled like a failed step;</item>
/// <item>ERRORED runs Recover and starts again from Install; errors are counted as the Nucleus counts them
/// (<see cref="Components.ErrorHistory"/>), and the third in a row makes it BROKEN, where it stays until a deployment or
/// a restart;</item>
/// <item>the Nucleus's default step timeouts (Install, Startup 120 s; Shutdown 15 s; Recover 60 s; Run none);</item>
/// <item>stopping runs Shutdown, then SIGTERM to every process group of the component, then SIGKILL after
/// <see cref="LifecycleOptions.ShutdownGracePeriod"/>; the component ends FINISHED;</item>
/// <item>HARD dependencies must be RUNNING or FINISHED before a component starts, and when one leaves those states its
/// dependents are restarted; SOFT dependencies only order the start;</item>
/// <item>stdout/stderr lines go to <c>&lt;root&gt;/logs/&lt;ComponentName&gt;.log</c>.</item>
/// </list>
/// Components it does not run (registered over IPC only, as tests do) are handled by the previous controller.
/// </summary>
public sealed partial class ComponentSupervisor : ILifecycleManager, IComponentController, IAsyncDisposable
{
    private const int SIGKILL = ProcessGroups.SIGKILL;
    private const int SIGTERM = ProcessGroups.SIGTERM;
    private const int SIGCONT = 18;
    private const int SIGSTOP = 19;

    private readonly Nucleus _nucleus;
    private readonly IComponentController _fallback;
    private readonly LifecycleOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Managed> _managed = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _applying = new(1, 1);

    internal ComponentSupervisor(Nucleus nucleus, IComponentController fallback, LifecycleOptions options, ILogger logger)
    {
        _nucleus = nucleus;
        _fallback = fallback;
        _options = options;
        _logger = logger;
        _time = nucleus.Context.Time;
        nucleus.Components.StateChanged += OnStateChanged;
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, ResolvedComponent> Current
    {
        get
        {
            lock (_gate)
            {
                return _managed.ToDictionary(m => m.Key, m => m.Value.Resolved, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Process ids of the component's running step processes (each leads its process group).</summary>
    public IReadOnlyList<int> ProcessIds(string component)
    {
        lock (_gate)
        {
            return _managed.TryGetValue(component, out var m) ? m.ProcessIds() : [];
        }
    }

    /// <summary>Whether the supervisor runs <paramref name="component"/>'s processes.</summary>
    public bool Manages(ComponentRecord component) => component is not null && Find(component) is not null;

    /// <summary>The log file of a component.</summary>
    public string LogPath(string component) => Path.Combine(LogDirectory, component + ".log");

    private string LogDirectory => Path.Combine(Path.GetFullPath(_nucleus.RootPath), "logs");

    /// <inheritdoc />
    public async Task<LifecycleApplyResult> ApplyAsync(IReadOnlyList<ResolvedComponent> desired, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(desired);
        await _applying.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var wanted = desired.ToDictionary(d => d.Name, StringComparer.Ordinal);
            List<Managed> toStop;
            List<ResolvedComponent> toStart;
            List<(Managed Managed, ResolvedComponent Desired)> reconfigured;
            lock (_gate)
            {
                toStop = [.. _managed.Values.Where(m => !wanted.TryGetValue(m.Name, out var d) || Changed(m.Resolved, d) || m.Record.State == LifecycleState.Broken)];
                reconfigured = [.. _managed.Values.Where(m => !toStop.Contains(m) && !JsonNode.DeepEquals(_nucleus.Configuration.Snapshot(m.Name), wanted[m.Name].Configuration)).Select(m => (m, wanted[m.Name]))];
            }

            // A configuration change alone reaches the component as configuration updates (SubscribeToConfigurationUpdate);
            // it is restarted only when the change alters its interpolated lifecycle, as with the Nucleus.
            foreach (var (m, d) in reconfigured)
            {
                _nucleus.Configuration.SetConfiguration(m.Name, (JsonObject)d.Configuration.DeepClone());
                var before = m.Lifecycle is null ? null : RecipeWriter.ToNode(m.Lifecycle).ToJsonString();
                m.Resolved = d;
                if (before is not null && RecipeWriter.ToNode(Interpolate(m)).ToJsonString() != before)
                {
                    toStop.Add(m);
                }
            }

            lock (_gate)
            {
                toStart = [.. desired.Where(d => !_managed.TryGetValue(d.Name, out var m) || toStop.Contains(m))];
            }

            SupervisorLog.Applying(_logger, desired.Count, toStop.Count, toStart.Count);

            // Stop dependents before what they depend on.
            foreach (var m in StopOrder(toStop))
            {
                await StopManagedAsync(m, forget: true).ConfigureAwait(false);
                if (!wanted.ContainsKey(m.Name))
                {
                    _nucleus.RemoveComponent(m.Name);
                }
            }

            foreach (var d in toStart)
            {
                var record = _nucleus.AddComponent(d.Name, d.Version.ToString(), (System.Text.Json.Nodes.JsonObject)d.Configuration.DeepClone());
                record.IsPaused = false;
                Directory.CreateDirectory(d.Paths.WorkPath);
                var managed = new Managed(d, record, new ComponentLogWriter(LogDirectory, d.Name, _time));
                lock (_gate)
                {
                    _managed[d.Name] = managed;
                }

                _nucleus.Components.SetState(record, LifecycleState.New);
            }

            foreach (var d in toStart)
            {
                Managed m;
                lock (_gate)
                {
                    m = _managed[d.Name];
                }

                StartLoop(m);
            }

            // Every component the deployment touched is watched for BROKEN, those it only reconfigured included: a
            // configuration that breaks a component fails the deployment as soon as it is BROKEN, not at the timeout.
            return await WaitForSettledAsync(desired, [.. toStart.Select(d => d.Name), .. reconfigured.Select(r => r.Desired.Name)], timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _applying.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> RestartAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (Find(component) is not { } m)
        {
            return await _fallback.RestartAsync(component, cancellationToken).ConfigureAwait(false);
        }

        await RestartManagedAsync(m, clearErrors: true).ConfigureAwait(false);
        return true;
    }

    /// <summary>Stops and starts a component as one step, so that restarts asked for at the same time do not interleave.</summary>
    private async Task RestartManagedAsync(Managed m, bool clearErrors)
    {
        await m.Control.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopManagedCoreAsync(m, forget: false).ConfigureAwait(false);
            bool stillManaged;
            lock (_gate)
            {
                stillManaged = _managed.TryGetValue(m.Name, out var current) && ReferenceEquals(current, m);
            }

            if (stillManaged)
            {
                if (clearErrors)
                {
                    m.Record.Errors.Clear();
                }

                StartLoop(m);
            }
        }
        finally
        {
            m.Control.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask StopAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (Find(component) is not { } m)
        {
            await _fallback.StopAsync(component, cancellationToken).ConfigureAwait(false);
            return;
        }

        await StopManagedAsync(m, forget: false).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask PauseAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (Find(component) is not { } m)
        {
            return _fallback.PauseAsync(component, cancellationToken);
        }

        if (component.State != LifecycleState.Running)
        {
            throw new ComponentControlException($"Component {component.Name} is not running");
        }

        foreach (var pid in m.ProcessIds())
        {
            Signal(pid, SIGSTOP);
        }

        component.IsPaused = true;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask ResumeAsync(ComponentRecord component, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(component);
        if (Find(component) is not { } m)
        {
            return _fallback.ResumeAsync(component, cancellationToken);
        }

        if (!component.IsPaused)
        {
            throw new ComponentControlException($"Component {component.Name} is not paused");
        }

        foreach (var pid in m.ProcessIds())
        {
            Signal(pid, SIGCONT);
        }

        component.IsPaused = false;
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops every component, dependents first, as the Nucleus does on shutdown.</summary>
    public async ValueTask DisposeAsync()
    {
        _nucleus.Components.StateChanged -= OnStateChanged;
        List<Managed> all;
        lock (_gate)
        {
            all = [.. _managed.Values];
        }

        foreach (var m in StopOrder(all))
        {
            await StopManagedAsync(m, forget: true).ConfigureAwait(false);
        }
    }

    private static bool Changed(ResolvedComponent current, ResolvedComponent desired) =>
        current.Version != desired.Version
        || current.Recipe.ToJson() != desired.Recipe.ToJson()
        || current.Paths != desired.Paths;

    private Managed? Find(ComponentRecord component)
    {
        lock (_gate)
        {
            return _managed.TryGetValue(component.Name, out var m) && ReferenceEquals(m.Record, component) ? m : null;
        }
    }

    private List<Managed> StopOrder(IEnumerable<Managed> components)
    {
        // Reverse of the start order: a component stops before the components it depends on.
        var list = components.ToList();
        var names = list.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var ordered = new List<Managed>();
        var visited = new HashSet<string>(StringComparer.Ordinal);
        void Visit(Managed m)
        {
            if (!visited.Add(m.Name))
            {
                return;
            }

            foreach (var dependent in list.Where(o => o.Resolved.Recipe.ComponentDependencies.Any(d => d.Name == m.Name)))
            {
                Visit(dependent);
            }

            ordered.Add(m);
        }

        foreach (var m in list)
        {
            Visit(m);
        }

        _ = names;
        return ordered;
    }

    private async Task<LifecycleApplyResult> WaitForSettledAsync(IReadOnlyList<ResolvedComponent> desired, HashSet<string> changed, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + timeout;
        DateTimeOffset? settledSince = null;
        while (true)
        {
            var broken = new List<string>();
            var settled = true;
            foreach (var d in desired)
            {
                if (!_nucleus.Components.TryGet(d.Name, out var record))
                {
                    settled = false;
                    continue;
                }

                var state = record.State;
                if (state == LifecycleState.Broken && changed.Contains(d.Name))
                {
                    broken.Add(d.Name);
                }
                else if (state != LifecycleState.Running && state != LifecycleState.Finished)
                {
                    settled = false;
                }
            }

            if (broken.Count > 0)
            {
                return new LifecycleApplyResult(false, broken, [.. broken.Select(b => $"{b} is BROKEN: it errored {_options.ErrorsBeforeBroken} times (see logs/{b}.log)")]);
            }

            if (!settled)
            {
                settledSince = null;
            }
            else if (settledSince is null)
            {
                settledSince = _time.GetUtcNow();
            }
            else if (_time.GetUtcNow() - settledSince >= _options.StableTime)
            {
                return new LifecycleApplyResult(true, [], []);
            }

            if (_time.GetUtcNow() > deadline)
            {
                var waiting = desired.Where(d => !_nucleus.Components.TryGet(d.Name, out var r) || (r.State != LifecycleState.Running && r.State != LifecycleState.Finished))
                    .Select(d => $"{d.Name} did not reach RUNNING or FINISHED within {timeout.TotalSeconds:0} s").ToList();
                return new LifecycleApplyResult(false, [], waiting);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(25), _time, cancellationToken).ConfigureAwait(false);
        }
    }

    private void StartLoop(Managed m)
    {
        var cts = new CancellationTokenSource();
        m.Loop = Task.Run(() => RunLoopAsync(m, cts.Token));
        m.LoopCts = cts;
    }

    private async Task StopManagedAsync(Managed m, bool forget)
    {
        // One stop at a time per component: a dependency's restart and a deployment may both stop it.
        await m.Control.WaitAsync().ConfigureAwait(false);
        try
        {
            await StopManagedCoreAsync(m, forget).ConfigureAwait(false);
        }
        finally
        {
            m.Control.Release();
        }
    }

    private async Task StopManagedCoreAsync(Managed m, bool forget)
    {
        if (m.LoopCts is { } cts)
        {
            var running = m.Loop;
            var state = m.Record.State;
            var wasActive = state == LifecycleState.Running || state == LifecycleState.Starting || state == LifecycleState.Installed || state == LifecycleState.New || state == LifecycleState.Errored;
            if (wasActive)
            {
                SetState(m, LifecycleState.Stopping);
            }

            m.Stopping = true;
            await cts.CancelAsync().ConfigureAwait(false);
            if (wasActive && m.Lifecycle?.Shutdown is { } shutdown)
            {
                await RunStepAsync(m, LifecycleStepKind.Shutdown, shutdown, CancellationToken.None).ConfigureAwait(false);
            }

            await TerminateAllAsync(m).ConfigureAwait(false);
            if (running is { } loop)
            {
                try
                {
                    await loop.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            m.LoopCts = null;
            m.Stopping = false;
            m.Record.IsPaused = false;
            if (wasActive || m.Record.State == LifecycleState.Stopping)
            {
                SetState(m, LifecycleState.Finished);
            }

            cts.Dispose();
        }

        if (forget)
        {
            lock (_gate)
            {
                if (_managed.TryGetValue(m.Name, out var current) && ReferenceEquals(current, m))
                {
                    _managed.Remove(m.Name);
                }
            }

            m.Log.Dispose();
        }
    }

    private async Task TerminateAllAsync(Managed m)
    {
        var pids = m.ProcessIds();
        foreach (var pid in pids)
        {
            Signal(pid, SIGCONT);
            Signal(pid, SIGTERM);
        }

        var deadline = _time.GetUtcNow() + _options.ShutdownGracePeriod;
        while (m.ProcessIds().Count > 0 && _time.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time).ConfigureAwait(false);
        }

        foreach (var pid in pids)
        {
            // The group may outlive its leader (a background child): SIGKILL the whole group regardless.
            if (GroupExists(pid))
            {
                SupervisorLog.Killed(_logger, m.Name, pid);
                Signal(pid, SIGKILL);
            }
        }
    }

    private async Task RunLoopAsync(Managed m, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await WaitForHardDependenciesAsync(m, ct).ConfigureAwait(false);
                m.Lifecycle = Interpolate(m);
                var lifecycle = m.Lifecycle;
                string? failure = null;
                var installFailed = false;

                if (lifecycle.Install is { } install)
                {
                    if (m.Record.State == LifecycleState.Errored)
                    {
                        // Retrying after an error: install again from NEW, as the Nucleus does after an install error.
                        SetState(m, LifecycleState.New);
                    }

                    var r = await RunStepAsync(m, LifecycleStepKind.Install, install, ct).ConfigureAwait(false);
                    failure = r.Failure;
                    installFailed = failure is not null;
                }

                if (failure is null && !ct.IsCancellationRequested)
                {
                    SetState(m, LifecycleState.Installed);
                    if (lifecycle.Startup is { } startup)
                    {
                        SetState(m, LifecycleState.Starting);
                        m.ReportedError = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        var r = await RunStepAsync(m, LifecycleStepKind.Startup, startup, ct).ConfigureAwait(false);
                        failure = r.Failure;
                        if (failure is null && !ct.IsCancellationRequested)
                        {
                            if (m.Record.State != LifecycleState.Running)
                            {
                                SetState(m, LifecycleState.Running);
                            }

                            failure = await WaitForReportedErrorAsync(m, ct).ConfigureAwait(false);
                        }
                    }
                    else if (lifecycle.Run is { } run)
                    {
                        SetState(m, LifecycleState.Starting);
                        SetState(m, LifecycleState.Running);
                        m.ReportedError = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        var r = await RunStepAsync(m, LifecycleStepKind.Run, run, ct, m.ReportedError.Task).ConfigureAwait(false);
                        failure = r.Failure;
                        if (failure is null && !ct.IsCancellationRequested)
                        {
                            SetState(m, LifecycleState.Finished);
                            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                        }
                    }
                    else
                    {
                        SetState(m, LifecycleState.Finished);
                        await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                    }
                }

                if (ct.IsCancellationRequested || failure is null)
                {
                    return;
                }

                // ERRORED: count, maybe BROKEN, else Recover and start again.
                await TerminateAllAsync(m).ConfigureAwait(false);
                if (m.Record.State == LifecycleState.Broken)
                {
                    // Its own reports over IPC already made it BROKEN.
                    return;
                }

                if (m.Record.State != LifecycleState.Errored)
                {
                    // A step failed (a component's own ERRORED report was counted when it was made): counted from
                    // the state it failed in (NEW for Install, STARTING for Startup, RUNNING for Run).
                    var count = m.Record.Errors.Errored(installFailed ? LifecycleState.New : m.Record.State, _time.GetUtcNow(), _options.ErrorResetTime);
                    SetState(m, LifecycleState.Errored);
                    SupervisorLog.ComponentErrored(_logger, m.Name, failure, count);
                    if (count >= _options.ErrorsBeforeBroken)
                    {
                        SupervisorLog.ComponentBroken(_logger, m.Name, count);
                        SetState(m, LifecycleState.Broken);
                        return;
                    }
                }

                if (lifecycle.Recover is { } recover)
                {
                    await RunStepAsync(m, LifecycleStepKind.Recover, recover, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private static async Task<string?> WaitForReportedErrorAsync(Managed m, CancellationToken ct)
    {
        await m.ReportedError!.Task.WaitAsync(ct).ConfigureAwait(false);
        return "the component reported ERRORED";
    }

    private async Task WaitForHardDependenciesAsync(Managed m, CancellationToken ct)
    {
        var hard = m.Resolved.Recipe.ComponentDependencies.Where(d => d.DependencyType == DependencyType.Hard).Select(d => d.Name).ToList();
        while (true)
        {
            var ready = true;
            foreach (var name in hard)
            {
                bool managed;
                lock (_gate)
                {
                    managed = _managed.ContainsKey(name);
                }

                if (managed && _nucleus.Components.TryGet(name, out var dep) && dep.State != LifecycleState.Running && dep.State != LifecycleState.Finished)
                {
                    ready = false;
                }
            }

            // SOFT dependencies order the start too, but never block it for long: wait while they are on their way.
            foreach (var soft in m.Resolved.Recipe.ComponentDependencies.Where(d => d.DependencyType != DependencyType.Hard))
            {
                if (_nucleus.Components.TryGet(soft.Name, out var dep) && (dep.State == LifecycleState.New || dep.State == LifecycleState.Installed || dep.State == LifecycleState.Starting) && m.SoftWaits++ < 200)
                {
                    ready = false;
                }
            }

            if (ready)
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, ct).ConfigureAwait(false);
        }
    }

    private Fogline.Greengrass.Recipes.Lifecycle Interpolate(Managed m)
    {
        var components = new Dictionary<string, ComponentVariables>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var other in _managed.Values)
            {
                components[other.Name] = new ComponentVariables(other.Resolved.Paths, _nucleus.Configuration.Snapshot(other.Name) ?? other.Resolved.Configuration);
            }
        }

        var interpolator = new RecipeInterpolator(new InterpolationContext
        {
            ComponentName = m.Name,
            RootPath = Path.GetFullPath(_nucleus.RootPath),
            ThingName = _nucleus.Options.ThingName,
            DirectDependencies = m.Resolved.Recipe.ComponentDependencies.Select(d => d.Name).ToHashSet(StringComparer.Ordinal),
            Components = components,
        });
        return interpolator.Interpolate(m.Resolved.Platform.Lifecycle);
    }

    private async Task<StepResult> RunStepAsync(Managed m, LifecycleStepKind kind, LifecycleStep step, CancellationToken ct, Task? abortWhen = null)
    {
        var name = kind.ToString();
        if (step.Skipif is { } skip && skip.ShouldSkip(IsOnPath, p => File.Exists(p) || Directory.Exists(p)))
        {
            SupervisorLog.StepSkipped(_logger, m.Name, name, skip.ToString());
            return new StepResult(null);
        }

        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = m.Resolved.Paths.WorkPath,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(_options.Shell);
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(step.Script);
        foreach (var (key, value) in _nucleus.EnvironmentFor(m.Record))
        {
            start.Environment[key] = value;
        }

        foreach (var (key, value) in m.Lifecycle!.Setenv)
        {
            start.Environment[key] = value;
        }

        foreach (var (key, value) in step.Setenv)
        {
            start.Environment[key] = value;
        }

        Directory.CreateDirectory(start.WorkingDirectory);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("no process");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            SupervisorLog.StepFailedToStart(_logger, m.Name, name, e.Message);
            return new StepResult($"{name} could not start: {e.Message}");
        }

        using (process)
        {
            process.StandardInput.Close();
            m.Add(process);
            _nucleus.RootLock.Started(process.Id);
            SupervisorLog.StepStarted(_logger, m.Name, name, process.Id);
            process.OutputDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    m.Log.Line(name, false, e.Data, m.Record.State.Value);
                }
            };
            process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    m.Log.Line(name, true, e.Data, m.Record.State.Value);
                }
            };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var timeoutSeconds = step.Timeout ?? Fogline.Greengrass.Recipes.Lifecycle.DefaultTimeoutSeconds(kind);
            using var timeout = timeoutSeconds is { } seconds ? new CancellationTokenSource(TimeSpan.FromSeconds(seconds), _time) : new CancellationTokenSource();
            try
            {
                // The step is over when its leader exits, whether or not what it left in its group still holds
                // stdout open (WaitForExitAsync would wait for that too).
                var exited = LeaderExitedAsync(process);
                var waitFor = new List<Task> { exited, Task.Delay(Timeout.Infinite, timeout.Token), Task.Delay(Timeout.Infinite, ct) };
                if (abortWhen is not null)
                {
                    waitFor.Add(abortWhen);
                }

                var first = await Task.WhenAny(waitFor).ConfigureAwait(false);
                if (first == exited)
                {
                    await exited.ConfigureAwait(false);
                    await DrainOutputAsync(process).ConfigureAwait(false);
                    SupervisorLog.StepExited(_logger, m.Name, name, process.ExitCode);

                    // The step's leader is gone; what it left behind in its group goes when the component stops.
                    return new StepResult(process.ExitCode == 0 ? null : $"{name} exited with code {process.ExitCode}");
                }

                if (abortWhen is not null && first == abortWhen)
                {
                    return new StepResult("the component reported ERRORED");
                }

                if (ct.IsCancellationRequested)
                {
                    // Stopping: the caller signals the group (after Shutdown). Should the step have started after the
                    // caller looked for processes, nobody else will: kill the group when it outlasts the grace period.
                    var grace = Task.Delay(_options.ShutdownGracePeriod + _options.ShutdownGracePeriod + TimeSpan.FromSeconds(1), _time);
                    if (await Task.WhenAny(exited, grace).ConfigureAwait(false) != exited)
                    {
                        Signal(process.Id, SIGKILL);
                    }

                    await WaitQuietlyAsync(exited).ConfigureAwait(false);
                    return new StepResult(null);
                }

                SupervisorLog.StepTimedOut(_logger, m.Name, name, timeoutSeconds ?? 0);
                Signal(process.Id, SIGKILL);
                await WaitQuietlyAsync(exited).ConfigureAwait(false);
                return new StepResult($"{name} timed out after {timeoutSeconds} s");
            }
            finally
            {
                m.Remove(process);
                _nucleus.RootLock.Ended(process.Id);
            }
        }
    }

    /// <summary>
    /// The leader's last lines: its output is read to the end before the process object goes (disposing it drops what
    /// the readers have not delivered yet, which a loaded machine made visible as a lost last line), unless what the
    /// leader left in its group still holds stdout open, which is waited for at most 2 s.
    /// </summary>
    private static async Task DrainOutputAsync(Process process)
    {
        using var drained = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            await process.WaitForExitAsync(drained.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (drained.IsCancellationRequested)
        {
            // A child the leader left holds the step's stdout: its later lines are not logged.
        }
    }

    private static Task LeaderExitedAsync(Process process)
    {
        var exited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => exited.TrySetResult();
        if (process.HasExited)
        {
            exited.TrySetResult();
        }

        return exited.Task;
    }

    private static async Task WaitQuietlyAsync(Task exited)
    {
        try
        {
            await exited.ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));

    private void SetState(Managed m, LifecycleState state)
    {
        if (state == LifecycleState.Running || state == LifecycleState.Finished)
        {
            // The Nucleus reports these itself (after starting Run, when a step finishes): as any report of a state
            // other than ERRORED, it clears the errors counted from the state the component was in (ErrorHistory).
            m.Record.Errors.Reported(m.Record.State);
        }

        m.SettingState = true;
        try
        {
            _nucleus.Components.SetState(m.Record, state);
        }
        finally
        {
            m.SettingState = false;
        }

        SupervisorLog.State(_logger, m.Name, state.Value);
    }

    private void OnStateChanged(object? sender, ComponentStateChange change)
    {
        Managed? m;
        List<Managed> dependents;
        lock (_gate)
        {
            _managed.TryGetValue(change.Component.Name, out m);
            dependents = [.. _managed.Values.Where(o => o.Resolved.Recipe.ComponentDependencies.Any(d => d.Name == change.Component.Name && d.DependencyType == DependencyType.Hard))];
        }

        if (m is null || !ReferenceEquals(m.Record, change.Component))
        {
            return;
        }

        // A component reporting ERRORED over IPC fails its current run.
        if (!m.SettingState && change.Current == LifecycleState.Errored)
        {
            m.ReportedError?.TrySetResult();
        }

        // A HARD dependency leaving RUNNING/FINISHED restarts its dependents.
        var wasUp = change.Previous == LifecycleState.Running || change.Previous == LifecycleState.Finished;
        var isUp = change.Current == LifecycleState.Running || change.Current == LifecycleState.Finished;
        if (wasUp && !isUp)
        {
            foreach (var dependent in dependents)
            {
                var s = dependent.Record.State;
                if (!dependent.Stopping && (s == LifecycleState.Running || s == LifecycleState.Starting || s == LifecycleState.Finished))
                {
                    SupervisorLog.DependencyRestart(_logger, dependent.Name, m.Name);
                    _ = Task.Run(() => RestartManagedAsync(dependent, clearErrors: false));
                }
            }
        }
    }

    private static void Signal(int processGroup, int signal) => ProcessGroups.Signal(processGroup, signal);

    private static bool GroupExists(int processGroup) => ProcessGroups.Exists(processGroup);

    private readonly record struct StepResult(string? Failure);

    private sealed class Managed(ResolvedComponent resolved, ComponentRecord record, ComponentLogWriter log)
    {
        private readonly List<Process> _processes = [];

        public string Name => Resolved.Name;

        public ResolvedComponent Resolved { get; set; } = resolved;

        public ComponentRecord Record { get; } = record;

        public ComponentLogWriter Log { get; } = log;

        public Fogline.Greengrass.Recipes.Lifecycle? Lifecycle { get; set; }

        public Task? Loop { get; set; }

        public CancellationTokenSource? LoopCts { get; set; }

        public TaskCompletionSource? ReportedError { get; set; }

        public volatile bool SettingState;

        public volatile bool Stopping;

        public int SoftWaits;

        public SemaphoreSlim Control { get; } = new(1, 1);

        public void Add(Process p)
        {
            lock (_processes)
            {
                _processes.Add(p);
            }
        }

        public void Remove(Process p)
        {
            lock (_processes)
            {
                _processes.Remove(p);
            }
        }

        public List<int> ProcessIds()
        {
            lock (_processes)
            {
                var ids = new List<int>();
                foreach (var p in _processes)
                {
                    try
                    {
                        if (!p.HasExited)
                        {
                            ids.Add(p.Id);
                        }
                    }
                    catch (InvalidOperationException)
                    {
                    }
                }

                return ids;
            }
        }
    }
}
