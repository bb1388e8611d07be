using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Fogline.Greengrass.Ipc;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus.Lifecycle;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Deployments;

/// <summary>How local deployments run. Every default is stated on its property.</summary>
public sealed class DeploymentOptions
{
    /// <summary>How long changed components have to reach RUNNING or FINISHED before the deployment fails. Default 5 minutes.</summary>
    public TimeSpan ApplyTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a component has to answer a configuration validation (configurationValidationPolicy). Default 20 seconds.</summary>
    public TimeSpan ValidationTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How long each round of component update notifications waits for answers (componentUpdatePolicy.timeoutInSeconds). Default 60 seconds.</summary>
    public TimeSpan UpdateNotificationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The platform manifests are selected for. Default this machine (<see cref="DevicePlatform.Detect"/>).</summary>
    public DevicePlatform? Platform { get; init; }
}

/// <summary>
/// Local deployments as greengrass-cli makes them and the Nucleus runs them: one at a time from a queue; recipes and
/// artifacts imported into the component store when the deployment is created (all or nothing); root components per
/// group; the whole dependency graph resolved before anything changes; configuration validated by the components
/// that asked to validate it; component update notifications (with deferral) before; ROLLBACK to the previous
/// components and configuration, or DO_NOTHING, when a changed component breaks. Records and the running set persist
/// under <c>&lt;root&gt;/deployments</c>, so a restarted local Nucleus comes back with the same components.
/// </summary>
public sealed partial class DeploymentService : IAsyncDisposable
{
    private const int HistoryLimit = 50;

    private readonly Nucleus _nucleus;
    private readonly DeploymentOptions _options;
    private readonly ILogger _logger;
    private readonly DevicePlatform _platform;
    private readonly Channel<DeploymentRecord> _queue = Channel.CreateUnbounded<DeploymentRecord>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, DeploymentRecord> _records = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DeploymentRecord>> _finished = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _lock = new();
    private Dictionary<string, Dictionary<string, string>> _groups = new(StringComparer.Ordinal);
    private CancellationTokenSource? _current;
    private string? _currentId;
    private bool _applying;
    private Task? _worker;

    internal DeploymentService(Nucleus nucleus, DeploymentOptions options, ILogger logger)
    {
        _nucleus = nucleus;
        _options = options;
        _logger = logger;
        _platform = options.Platform ?? DevicePlatform.Detect();
        Store = new ComponentStore(nucleus.RootPath);
        Directory.CreateDirectory(DeploymentsPath);
        Load();
    }

    /// <summary>The component store.</summary>
    public ComponentStore Store { get; }

    /// <summary>The root components of every group, name to version.</summary>
    public IReadOnlyDictionary<string, string> Roots
    {
        get
        {
            lock (_lock)
            {
                return UnionOfRoots(_groups);
            }
        }
    }

    /// <summary>The platform manifests are selected for.</summary>
    public DevicePlatform Platform => _platform;

    /// <summary>The root components of one group (name to version), empty when it has none.</summary>
    public IReadOnlyDictionary<string, string> RootsOf(string group)
    {
        lock (_lock)
        {
            return _groups.TryGetValue(group, out var roots) ? new Dictionary<string, string>(roots, StringComparer.Ordinal) : new Dictionary<string, string>();
        }
    }

    private string DeploymentsPath => Path.Combine(Path.GetFullPath(_nucleus.RootPath), "deployments");

    private string GroupsFile => Path.Combine(DeploymentsPath, "groups.json");

    private string RunningFile => Path.Combine(DeploymentsPath, "running.json");

    /// <summary>Starts taking deployments from the queue, first bringing back the components of the last deployment (when the root has one).</summary>
    public void Start()
    {
        _worker ??= Task.Run(WorkAsync);
    }

    /// <summary>
    /// Creates a deployment from an IPC request: imports its recipes and artifacts, checks its arguments, queues it
    /// and returns its id.
    /// </summary>
    /// <exception cref="DeploymentValidationException">A recipe, artifact or argument is invalid: nothing was imported or queued.</exception>
    public string Submit(CreateLocalDeploymentRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new List<string>();
        var roots = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, version) in request.RootComponentVersionsToAdd ?? new Dictionary<string, string>())
        {
            if (!SemVersion.TryParse(version, out var parsed))
            {
                errors.Add($"--merge {name}={version}: '{version}' is not a component version (MAJOR.MINOR.PATCH)");
            }
            else
            {
                roots[name] = parsed.ToString();
            }
        }

        var updates = new Dictionary<string, ConfigurationUpdate>(StringComparer.Ordinal);
        foreach (var (name, element) in request.ComponentToConfiguration ?? new Dictionary<string, JsonElement>())
        {
            if (ParseUpdate(name, element, errors) is { } update)
            {
                updates[name] = update;
            }
        }

        if (errors.Count > 0)
        {
            throw new DeploymentValidationException(errors);
        }

        var imported = Store.Import(request.RecipeDirectoryPath, request.ArtifactsDirectoryPath, _platform);
        foreach (var (name, version) in roots)
        {
            if (Store.Load(name, SemVersion.Parse(version)) is null)
            {
                errors.Add($"--merge {name}={version}: there is no recipe of {name} {version} in the recipe directory or the component store");
            }
        }

        if (errors.Count > 0)
        {
            throw new DeploymentValidationException(errors);
        }

        var record = new DeploymentRecord
        {
            Id = Guid.NewGuid().ToString(),
            CreatedOn = _nucleus.Context.Time.GetUtcNow().ToUnixTimeMilliseconds(),
            GroupName = string.IsNullOrEmpty(request.GroupName) ? DeploymentRecord.LocalGroup : request.GroupName,
            RootsToAdd = roots,
            RootsToRemove = [.. request.RootComponentsToRemove ?? []],
            ConfigurationUpdates = updates,
            FailurePolicy = request.FailureHandlingPolicy ?? FailureHandlingPolicy.Rollback,
        };
        _records[record.Id] = record;
        _finished[record.Id] = new TaskCompletionSource<DeploymentRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        Persist(record);
        DeploymentLog.Queued(_logger, record.Id, imported.Count, string.Join(", ", roots.Select(r => r.Key + "=" + r.Value)), string.Join(", ", record.RootsToRemove));
        _queue.Writer.TryWrite(record);
        return record.Id;
    }

    /// <summary>A deployment by id, or null.</summary>
    public DeploymentRecord? Find(string id) => _records.TryGetValue(id, out var record) ? record : null;

    /// <summary>The deployments, newest first (at most the last 50).</summary>
    public IReadOnlyList<DeploymentRecord> List() =>
        [.. _records.Values.OrderByDescending(r => r.CreatedOn).ThenBy(r => r.Id, StringComparer.Ordinal).Take(HistoryLimit)];

    /// <summary>Waits until the deployment has finished.</summary>
    public Task<DeploymentRecord> WaitAsync(string id, CancellationToken cancellationToken = default) =>
        _finished.TryGetValue(id, out var done)
            ? done.Task.WaitAsync(cancellationToken)
            : _records.TryGetValue(id, out var record) && record.IsFinished ? Task.FromResult(record) : throw new KeyNotFoundException($"No deployment {id}.");

    /// <summary>
    /// Cancels a deployment that is queued, or in progress but not yet changing components (waiting for update
    /// deferrals or validation). Returns what happened, in a sentence.
    /// </summary>
    /// <exception cref="KeyNotFoundException">No such deployment.</exception>
    /// <exception cref="InvalidOperationException">It has finished, or is already changing components.</exception>
    public string Cancel(string id)
    {
        var record = Find(id) ?? throw new KeyNotFoundException($"Deployment {id} does not exist.");
        lock (_lock)
        {
            if (record.IsFinished)
            {
                throw new InvalidOperationException($"Deployment {id} has already finished ({record.Status.Value}).");
            }

            if (record.Status == DeploymentStatus.Queued)
            {
                Finish(record, DeploymentStatus.Canceled, null, [], [], null);
                return $"Deployment {id} was canceled before it started.";
            }

            if (_currentId == id && !_applying)
            {
                _current?.Cancel();
                return $"Deployment {id} is being canceled: no component was changed.";
            }
        }

        throw new InvalidOperationException($"Deployment {id} is already changing components and cannot be canceled.");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_worker is not null)
        {
            await _worker.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task WorkAsync()
    {
        await RestoreAsync().ConfigureAwait(false);
        try
        {
            await foreach (var record in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
            {
                if (record.IsFinished)
                {
                    continue;
                }

                try
                {
                    await RunAsync(record).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !_stopping.IsCancellationRequested)
                {
                    DeploymentLog.Crashed(_logger, e, record.Id);
                    Finish(record, DeploymentStatus.Failed, DetailedDeploymentStatus.FailedNoStateChange, ["DEPLOYMENT_FAILURE", "INTERNAL_ERROR"], ["UNKNOWN_ERROR"], e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    private async Task RunAsync(DeploymentRecord record)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        lock (_lock)
        {
            if (record.IsFinished)
            {
                return;
            }

            _current = cts;
            _currentId = record.Id;
            _applying = false;
            record.Status = DeploymentStatus.InProgress;
        }

        Persist(record);
        DeploymentLog.Started(_logger, record.Id);
        try
        {
            await RunStepsAsync(record, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            Finish(record, DeploymentStatus.Canceled, null, [], [], null);
            await _nucleus.Updates.NotifyPostUpdateAsync(record.Id, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                _current = null;
                _currentId = null;
                _applying = false;
            }
        }
    }

    private async Task RunStepsAsync(DeploymentRecord record, CancellationToken ct)
    {
        // 1. The new roots and the whole graph; nothing has changed yet.
        Dictionary<string, Dictionary<string, string>> groups;
        lock (_lock)
        {
            groups = _groups.ToDictionary(g => g.Key, g => new Dictionary<string, string>(g.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        }

        if (!groups.TryGetValue(record.GroupName, out var group))
        {
            group = new Dictionary<string, string>(StringComparer.Ordinal);
            groups[record.GroupName] = group;
        }

        foreach (var name in record.RootsToRemove)
        {
            group.Remove(name);
        }

        foreach (var (name, version) in record.RootsToAdd)
        {
            group[name] = version;
        }

        var current = _nucleus.Supervisor.Current;
        IReadOnlyList<ResolvedComponent> desired;
        try
        {
            desired = ResolveAll(UnionOfRoots(groups), current, record.ConfigurationUpdates);
        }
        catch (DeploymentValidationException e)
        {
            var code = e.Errors.Any(x => x.Contains("dependency cycle", StringComparison.Ordinal)) ? "COMPONENT_CIRCULAR_DEPENDENCY_ERROR" : "NO_AVAILABLE_COMPONENT_VERSION";
            Finish(record, DeploymentStatus.Failed, DetailedDeploymentStatus.FailedNoStateChange, ["DEPLOYMENT_FAILURE", code], ["DEPENDENCY_ERROR"], string.Join(Environment.NewLine, e.Errors));
            return;
        }
        catch (Exception e) when (e is RecipeException or RecipeInterpolationException)
        {
            var cause = e is RecipeException r ? string.Join(Environment.NewLine, r.Errors) : e.Message;
            Finish(record, DeploymentStatus.Failed, DetailedDeploymentStatus.FailedNoStateChange, ["DEPLOYMENT_FAILURE", "COMPONENT_RECIPE_ERROR"], ["COMPONENT_RECIPE_ERROR"], cause);
            return;
        }

        var changed = desired.Where(d => !current.TryGetValue(d.Name, out var c) || c.Version != d.Version || c.Recipe.ToJson() != d.Recipe.ToJson() || !JsonNode.DeepEquals(Snapshot(d.Name), d.Configuration))
            .Select(d => d.Name).Concat(current.Keys.Where(n => desired.All(d => d.Name != n))).ToList();
        DeploymentLog.Resolved(_logger, record.Id, string.Join(", ", desired.Select(d => $"{d.Name}={d.Version}")), string.Join(", ", changed));

        // 2. Components that validate their configuration may reject it.
        foreach (var d in desired.Where(d => current.ContainsKey(d.Name) && !JsonNode.DeepEquals(Snapshot(d.Name), d.Configuration)))
        {
            var report = await _nucleus.ConfigurationValidation.RequestAsync(d.Name, record.Id, (JsonObject)d.Configuration.DeepClone(), _options.ValidationTimeout, ct).ConfigureAwait(false);
            if (report?.Status == ConfigurationValidityStatus.Rejected)
            {
                Finish(record, DeploymentStatus.Failed, DetailedDeploymentStatus.FailedNoStateChange, ["DEPLOYMENT_FAILURE", "COMPONENT_CONFIGURATION_NOT_VALID"], ["COMPONENT_ERROR"],
                    $"{d.Name} rejected the configuration: {report.Message}");
                return;
            }
        }

        if (changed.Count == 0)
        {
            CommitRoots(groups, desired);
            Finish(record, DeploymentStatus.Succeeded, DetailedDeploymentStatus.Successful, [], [], null);
            return;
        }

        // 3. Components subscribed to update notifications are told, and may defer.
        await _nucleus.Updates.NotifyPreUpdateAsync(record.Id, isGgcRestarting: false, _options.UpdateNotificationTimeout, ct).ConfigureAwait(false);

        // 4. Apply; on failure roll back or leave things as they are.
        var previous = current.Values.Select(c => c with { Configuration = Snapshot(c.Name) ?? c.Configuration }).ToList();
        lock (_lock)
        {
            ct.ThrowIfCancellationRequested();
            _applying = true;
        }

        var result = await _nucleus.Supervisor.ApplyAsync(desired, _options.ApplyTimeout, _stopping.Token).ConfigureAwait(false);
        if (result.Succeeded)
        {
            CommitRoots(groups, desired);
            Finish(record, DeploymentStatus.Succeeded, DetailedDeploymentStatus.Successful, [], [], null);
        }
        else if (record.FailurePolicy == FailureHandlingPolicy.DoNothing)
        {
            CommitRoots(groups, desired);
            Finish(record, DeploymentStatus.Failed, DetailedDeploymentStatus.FailedRollbackNotRequested, ["DEPLOYMENT_FAILURE", "COMPONENT_UPDATE_ERROR", "COMPONENT_BROKEN"], ["COMPONENT_ERROR"],
                string.Join(Environment.NewLine, result.Errors));
        }
        else
        {
            DeploymentLog.RollingBack(_logger, record.Id, string.Join("; ", result.Errors));
            var rollback = await _nucleus.Supervisor.ApplyAsync(previous, _options.ApplyTimeout, _stopping.Token).ConfigureAwait(false);
            var detailed = rollback.Succeeded ? DetailedDeploymentStatus.FailedRollbackComplete : new DetailedDeploymentStatus("FAILED_UNABLE_TO_ROLLBACK");
            var cause = string.Join(Environment.NewLine, result.Errors.Concat(rollback.Errors.Select(e => "rollback: " + e)));
            Finish(record, DeploymentStatus.Failed, detailed, ["DEPLOYMENT_FAILURE", "COMPONENT_UPDATE_ERROR", "COMPONENT_BROKEN"], ["COMPONENT_ERROR"], cause);
        }

        await _nucleus.Updates.NotifyPostUpdateAsync(record.Id, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Resolves the roots to the components to run, with their manifests, paths and configuration.</summary>
    private List<ResolvedComponent> ResolveAll(IReadOnlyDictionary<string, string> roots, IReadOnlyDictionary<string, ResolvedComponent> current, IReadOnlyDictionary<string, ConfigurationUpdate> updates)
    {
        var running = current.ToDictionary(c => c.Key, c => c.Value.Version, StringComparer.Ordinal);
        var recipes = DependencyResolver.Resolve(roots.ToDictionary(r => r.Key, r => SemVersion.Parse(r.Value), StringComparer.Ordinal), Store, running);
        var errors = new List<string>();
        foreach (var name in updates.Keys.Where(n => recipes.All(r => r.ComponentName != n)))
        {
            errors.Add($"--update-config {name}: {name} is not part of the deployment (neither a root component nor a dependency of one)");
        }

        if (errors.Count > 0)
        {
            throw new DeploymentValidationException(errors);
        }

        var result = new List<ResolvedComponent>();
        foreach (var recipe in recipes)
        {
            var platform = recipe.ResolveFor(_platform);
            updates.TryGetValue(recipe.ComponentName, out var update);
            var configuration = ConfigurationMerge.Effective(recipe.DefaultConfiguration, current.ContainsKey(recipe.ComponentName) ? Snapshot(recipe.ComponentName) : null, update, recipe.ComponentName);
            result.Add(new ResolvedComponent(recipe.ComponentName, recipe.ComponentVersion, recipe, platform, configuration, Store.PathsOf(recipe.ComponentName, recipe.ComponentVersion)));
        }

        return result;
    }

    private JsonObject? Snapshot(string component) => _nucleus.Configuration.Snapshot(component);

    private void CommitRoots(Dictionary<string, Dictionary<string, string>> groups, IReadOnlyList<ResolvedComponent> desired)
    {
        lock (_lock)
        {
            _groups = groups;
        }

        WriteJson(GroupsFile, new JsonObject([.. groups.Select(g => KeyValuePair.Create(g.Key, (JsonNode?)new JsonObject([.. g.Value.Select(r => KeyValuePair.Create(r.Key, (JsonNode?)JsonValue.Create(r.Value)))])))]));
        WriteJson(RunningFile, new JsonObject([.. desired.Select(d => KeyValuePair.Create(d.Name, (JsonNode?)new JsonObject { ["version"] = d.Version.ToString() }))]));
    }

    /// <summary>Brings back the components of the last deployment, with the configuration they had, as the Nucleus does when it restarts.</summary>
    private async Task RestoreAsync()
    {
        Dictionary<string, string> roots;
        lock (_lock)
        {
            roots = UnionOfRoots(_groups);
        }

        if (roots.Count == 0)
        {
            return;
        }

        try
        {
            var saved = ReadJson(Path.Combine(DeploymentsPath, "configuration.json")) ?? [];
            var recipes = DependencyResolver.Resolve(roots.ToDictionary(r => r.Key, r => SemVersion.Parse(r.Value), StringComparer.Ordinal), Store, new Dictionary<string, SemVersion>());
            var desired = recipes.Select(r => new ResolvedComponent(r.ComponentName, r.ComponentVersion, r, r.ResolveFor(_platform),
                saved[r.ComponentName] is JsonObject c ? (JsonObject)c.DeepClone() : r.DefaultConfiguration, Store.PathsOf(r.ComponentName, r.ComponentVersion))).ToList();
            DeploymentLog.Restoring(_logger, desired.Count);
            var result = await _nucleus.Supervisor.ApplyAsync(desired, _options.ApplyTimeout, _stopping.Token).ConfigureAwait(false);
            if (!result.Succeeded)
            {
                DeploymentLog.RestoreFailed(_logger, string.Join("; ", result.Errors));
            }
        }
        catch (Exception e) when (e is DeploymentValidationException or RecipeException or IOException or JsonException or VersionFormatException)
        {
            DeploymentLog.RestoreFailed(_logger, e.Message);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Saves every component's configuration so a restart brings it back (called when the Nucleus stops).</summary>
    internal void SaveConfiguration()
    {
        var all = new JsonObject();
        foreach (var name in _nucleus.Supervisor.Current.Keys)
        {
            all[name] = Snapshot(name);
        }

        try
        {
            if (all.Count > 0 || File.Exists(Path.Combine(DeploymentsPath, "configuration.json")))
            {
                Directory.CreateDirectory(DeploymentsPath);
                WriteJson(Path.Combine(DeploymentsPath, "configuration.json"), all);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            DeploymentLog.SaveFailed(_logger, e.Message);
        }
    }

    private void Finish(DeploymentRecord record, DeploymentStatus status, DetailedDeploymentStatus? detailed, IReadOnlyList<string> stack, IReadOnlyList<string> types, string? cause)
    {
        lock (_lock)
        {
            record.Status = status;
            record.Detailed = detailed;
            record.ErrorStack = stack;
            record.ErrorTypes = types;
            record.FailureCause = cause;
        }

        Persist(record);
        DeploymentLog.Finished(_logger, record.Id, status.Value, detailed?.Value ?? "-", cause ?? string.Empty);
        if (_finished.TryRemove(record.Id, out var done))
        {
            done.TrySetResult(record);
        }
    }

    private void Persist(DeploymentRecord record)
    {
        JsonObject json;
        lock (_lock)
        {
            json = record.ToJson();
        }

        WriteJson(Path.Combine(DeploymentsPath, record.Id + ".json"), json);
    }

    private void Load()
    {
        if (ReadJson(GroupsFile) is { } groups)
        {
            _groups = groups.ToDictionary(g => g.Key, g => g.Value!.AsObject().ToDictionary(r => r.Key, r => r.Value!.GetValue<string>(), StringComparer.Ordinal), StringComparer.Ordinal);
        }

        foreach (var file in Directory.EnumerateFiles(DeploymentsPath, "*-*.json"))
        {
            try
            {
                if (ReadJson(file) is { } json)
                {
                    var record = DeploymentRecord.FromJson(json);
                    if (!record.IsFinished)
                    {
                        // The Nucleus stopped while it was queued or running: it did not complete.
                        record.Status = DeploymentStatus.Failed;
                        record.Detailed = DetailedDeploymentStatus.FailedNoStateChange;
                        record.FailureCause = "The local Nucleus stopped before the deployment completed.";
                    }

                    _records[record.Id] = record;
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or NullReferenceException or FormatException)
            {
                DeploymentLog.BadRecord(_logger, file, e.Message);
            }
        }
    }

    private static Dictionary<string, string> UnionOfRoots(Dictionary<string, Dictionary<string, string>> groups)
    {
        var roots = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var group in groups.Values)
        {
            foreach (var (name, version) in group)
            {
                roots[name] = version;
            }
        }

        return roots;
    }

    private static ConfigurationUpdate? ParseUpdate(string name, JsonElement element, List<string> errors)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"--update-config {name}: expected an object with MERGE and/or RESET, found {element.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }

        JsonObject? merge = null;
        List<string>? reset = null;
        foreach (var property in element.EnumerateObject())
        {
            switch (property.Name)
            {
                case "MERGE" when property.Value.ValueKind == JsonValueKind.Object:
                    merge = JsonObject.Create(property.Value);
                    break;
                case "MERGE" when property.Value.ValueKind == JsonValueKind.Null:
                    break;
                case "RESET" when property.Value.ValueKind == JsonValueKind.Array && property.Value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String):
                    reset = [.. property.Value.EnumerateArray().Select(v => v.GetString()!)];
                    break;
                case "RESET" when property.Value.ValueKind == JsonValueKind.Null:
                    break;
                case "MERGE":
                    errors.Add($"--update-config {name}.MERGE: expected an object, found {property.Value.ValueKind.ToString().ToLowerInvariant()}");
                    break;
                case "RESET":
                    errors.Add($"--update-config {name}.RESET: expected a list of JSON pointers (strings)");
                    break;
                default:
                    errors.Add($"--update-config {name}: unknown key '{property.Name}'; the keys are MERGE and RESET");
                    break;
            }
        }

        foreach (var pointer in reset ?? [])
        {
            if (pointer.Length > 0 && pointer[0] != '/')
            {
                errors.Add($"--update-config {name}.RESET: '{pointer}' is not a JSON pointer (it must start with '/', or be \"\" for the whole configuration)");
            }
        }

        return new ConfigurationUpdate(merge, reset);
    }

    private static JsonObject? ReadJson(string file)
    {
        if (!File.Exists(file))
        {
            return null;
        }

        return JsonNode.Parse(File.ReadAllText(file)) as JsonObject;
    }

    private static void WriteJson(string file, JsonObject json)
    {
        var temporary = file + ".tmp";
        File.WriteAllText(temporary, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, file, overwrite: true);
    }
}

/// <summary>Log messages of local deployments (event ids 2800-2899).</summary>
internal static partial class DeploymentLog
{
    [LoggerMessage(2800, LogLevel.Information, "Deployment {DeploymentId} queued: {Imported} recipe(s) imported; add [{Add}], remove [{Remove}]")]
    public static partial void Queued(ILogger logger, string deploymentId, int imported, string add, string remove);

    [LoggerMessage(2801, LogLevel.Information, "Deployment {DeploymentId} started")]
    public static partial void Started(ILogger logger, string deploymentId);

    [LoggerMessage(2802, LogLevel.Information, "Deployment {DeploymentId} resolved [{Components}]; changing [{Changed}]")]
    public static partial void Resolved(ILogger logger, string deploymentId, string components, string changed);

    [LoggerMessage(2803, LogLevel.Warning, "Deployment {DeploymentId} failed ({Errors}); rolling back to the previous components and configuration")]
    public static partial void RollingBack(ILogger logger, string deploymentId, string errors);

    [LoggerMessage(2804, LogLevel.Information, "Deployment {DeploymentId} finished: {Status} {Detailed} {Cause}")]
    public static partial void Finished(ILogger logger, string deploymentId, string status, string detailed, string cause);

    [LoggerMessage(2805, LogLevel.Error, "Deployment {DeploymentId} failed unexpectedly")]
    public static partial void Crashed(ILogger logger, Exception exception, string deploymentId);

    [LoggerMessage(2806, LogLevel.Information, "Restoring the {Count} component(s) of the last deployment")]
    public static partial void Restoring(ILogger logger, int count);

    [LoggerMessage(2807, LogLevel.Warning, "Could not restore the components of the last deployment: {Reason}")]
    public static partial void RestoreFailed(ILogger logger, string reason);

    [LoggerMessage(2809, LogLevel.Warning, "Could not save the components' configuration: {Reason}")]
    public static partial void SaveFailed(ILogger logger, string reason);

    [LoggerMessage(2808, LogLevel.Warning, "Ignoring deployment record {File}: {Reason}")]
    public static partial void BadRecord(ILogger logger, string file, string reason);
}
