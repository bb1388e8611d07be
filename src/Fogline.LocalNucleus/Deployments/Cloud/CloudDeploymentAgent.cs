using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Fogline.Greengrass.Ipc;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus.IoTCore;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Deployments.Cloud;

/// <summary>
/// Cloud deployments on the device, as the Nucleus takes them (IotJobsHelper): through IoT Jobs' MQTT API in the
/// Greengrass namespace over the device's own IoT Core connection. Told of a change (<c>notify</c>) or connected
/// again, it asks for the next pending execution; it marks it IN_PROGRESS, resolves every component of the
/// configuration and their dependencies through the Greengrass data plane (the cloud picks each version), downloads
/// each artifact of this platform's manifests through its presigned URL and checks its digest, then deploys as a local
/// deployment of the target's group (<c>thinggroup/NAME</c> or <c>thing/NAME</c>: the group's new revision replaces
/// its previous root components, other groups' stay), and reports SUCCEEDED or FAILED with
/// <c>detailed-deployment-status</c> and <c>deployment-failure-cause</c>. What cannot be resolved or downloaded fails
/// the job with FAILED_NO_STATE_CHANGE and changes nothing. One job at a time, in the cloud's order.
/// </summary>
public sealed class CloudDeploymentAgent : IAsyncDisposable
{
    private const string Namespace = "namespace-aws-gg-deployment";
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Nucleus _nucleus;
    private readonly DataPlaneClient _dataPlane;
    private readonly string _thing;
    private readonly ILogger _logger;
    private readonly Channel<(string JobId, JsonObject Document)> _jobs = Channel.CreateUnbounded<(string, JsonObject)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    // Status updates the cloud has not acknowledged yet (by client token), sent again after each reconnection, as the
    // Nucleus publishes its persisted status updates: a broker that went away loses no job's outcome.
    private readonly Dictionary<string, (string Topic, JsonObject Payload)> _unacknowledged = new(StringComparer.Ordinal);
    private readonly List<IoTCoreSubscription> _subscriptions = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly FleetStatusReporter _status;
    private Task? _worker;
    private Task? _resender;

    public CloudDeploymentAgent(Nucleus nucleus, DataPlaneClient dataPlane, string thingName, ILogger logger)
    {
        _nucleus = nucleus;
        _dataPlane = dataPlane;
        _thing = thingName;
        _logger = logger;
        _status = new FleetStatusReporter(nucleus, thingName, logger);
    }

    private string Jobs => $"$aws/things/{_thing}/jobs/";

    /// <summary>Subscribes to the device's job topics and starts taking jobs.</summary>
    public void Start()
    {
        var iot = _nucleus.IoTCore;
        _subscriptions.Add(iot.Subscribe(Jobs + "notify-" + Namespace, MqttQos.AtLeastOnce, _ => RequestNext()));
        _subscriptions.Add(iot.Subscribe(Jobs + "$next/" + Namespace + "/get/accepted", MqttQos.AtLeastOnce, OnNext));
        _subscriptions.Add(iot.Subscribe(Jobs + "+/" + Namespace + "/update/accepted", MqttQos.AtLeastOnce, Acknowledged));
        _subscriptions.Add(iot.Subscribe(Jobs + "+/" + Namespace + "/update/rejected", MqttQos.AtLeastOnce, m =>
        {
            // A rejected update is final too (the cloud's state wins); say why.
            Acknowledged(m);
            CloudDeploymentLog.UpdateRejected(_logger, m.Topic, m.PayloadUtf8 ?? string.Empty);
        }));
        iot.StateChanged += OnConnection;
        _worker = Task.Run(WorkAsync);
        _resender = Task.Run(ResendAsync);
        _ = Task.Run(async () =>
        {
            // Once the subscriptions are at the broker, ask: a deployment may be waiting.
            await Task.WhenAll(_subscriptions.Select(s => s.Subscribed)).WaitAsync(_stop.Token).ConfigureAwait(false);
            RequestNext();
        });
    }

    public async ValueTask DisposeAsync()
    {
        _nucleus.IoTCore.StateChanged -= OnConnection;
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        _status.Dispose();
        _jobs.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var task in new[] { _worker, _resender })
        {
            if (task is not null)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        _stop.Dispose();
    }

    private void OnConnection(object? sender, IoTCoreConnectionChangedEventArgs e)
    {
        if (e.IsOnline)
        {
            List<(string Topic, JsonObject Payload)> again;
            lock (_unacknowledged)
            {
                again = [.. _unacknowledged.Values];
            }

            foreach (var (topic, payload) in again)
            {
                Publish(topic, payload);
            }

            RequestNext();
        }
    }

    /// <summary>
    /// Every 10 s while connected, the updates still unacknowledged go again (and the next execution is asked for):
    /// a reply lost while the cloud's side of the broker was reconnecting does not leave a job IN_PROGRESS forever.
    /// </summary>
    private async Task ResendAsync()
    {
        using var timer = new PeriodicTimer(ResendInterval, _nucleus.Context.Time);
        while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
        {
            List<(string Topic, JsonObject Payload)> again;
            lock (_unacknowledged)
            {
                again = [.. _unacknowledged.Values];
            }

            if (again.Count == 0 || !_nucleus.IoTCore.IsOnline)
            {
                continue;
            }

            foreach (var (topic, payload) in again)
            {
                Publish(topic, payload);
            }

            RequestNext();
        }
    }

    private static readonly TimeSpan ResendInterval = TimeSpan.FromSeconds(10);

    private void Acknowledged(CloudMessage message)
    {
        try
        {
            if (JsonNode.Parse(message.Payload.Span)?["clientToken"]?.GetValue<string>() is { } token)
            {
                lock (_unacknowledged)
                {
                    _unacknowledged.Remove(token);
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            CloudDeploymentLog.BadMessage(_logger, message.Topic, ex.Message);
        }
    }

    private void RequestNext() => Publish(Jobs + "$next/" + Namespace + "/get", new JsonObject { ["clientToken"] = Guid.NewGuid().ToString() });

    private void OnNext(CloudMessage message)
    {
        try
        {
            if (JsonNode.Parse(message.Payload.Span)?["execution"] is not JsonObject execution)
            {
                return;
            }

            var jobId = execution["jobId"]!.GetValue<string>();
            lock (_seen)
            {
                if (!_seen.Add(jobId))
                {
                    return;
                }
            }

            if (execution["jobDocument"] is not JsonObject document)
            {
                Update(jobId, "FAILED", "FAILED_NO_STATE_CHANGE", "Unable to parse the deployment document: the job has no deployment document");
                return;
            }

            if (DocumentProblems(document) is { Count: > 0 } problems)
            {
                // As the Nucleus answers a document it cannot read (DEPLOYMENT_DOCUMENT_PARSE_ERROR), with where it is wrong.
                var cause = "Unable to parse the deployment document: " + string.Join("; ", problems);
                CloudDeploymentLog.BadMessage(_logger, message.Topic, cause);
                Update(jobId, "FAILED", "FAILED_NO_STATE_CHANGE", cause);
                return;
            }

            CloudDeploymentLog.Received(_logger, jobId, document["deploymentId"]?.GetValue<string>() ?? "?");
            _jobs.Writer.TryWrite((jobId, (JsonObject)document.DeepClone()));
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            CloudDeploymentLog.BadMessage(_logger, message.Topic, ex.Message);
        }
    }

    private async Task WorkAsync()
    {
        await foreach (var (jobId, document) in _jobs.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
        {
            try
            {
                await DeployAsync(jobId, document, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                CloudDeploymentLog.Crashed(_logger, jobId, ex);
                Update(jobId, "FAILED", "FAILED_NO_STATE_CHANGE", ex.Message);
            }

            RequestNext();
        }
    }

    private async Task DeployAsync(string jobId, JsonObject document, CancellationToken cancellationToken)
    {
        Update(jobId, "IN_PROGRESS", null, null);
        var group = GroupOf(document);
        void Finish(string status, string detailed, string? cause)
        {
            Update(jobId, status, detailed, cause);
            _status.DeploymentFinished(group, document["configurationArn"]?.GetValue<string>() ?? group, document["deploymentId"]?.GetValue<string>() ?? jobId, status, detailed, cause);
        }

        var roots = (document["components"] as JsonObject ?? []).ToDictionary(c => c.Key, c => c.Value!["version"]!.GetValue<string>(), StringComparer.Ordinal);
        var work = Directory.CreateTempSubdirectory("fogline-cloud-deployment-").FullName;
        try
        {
            var recipes = Path.Combine(work, "recipes");
            var artifacts = Path.Combine(work, "artifacts");
            Directory.CreateDirectory(recipes);
            Directory.CreateDirectory(artifacts);
            try
            {
                await PrepareAsync(roots, group, recipes, artifacts, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DataPlaneException or RecipeException or HttpRequestException or IOException)
            {
                CloudDeploymentLog.PreparationFailed(_logger, jobId, ex.Message);
                Finish("FAILED", "FAILED_NO_STATE_CHANGE", ex.Message);
                return;
            }

            var request = new CreateLocalDeploymentRequest
            {
                GroupName = group,
                RootComponentVersionsToAdd = roots,
                RootComponentsToRemove = [.. _nucleus.Deployments.RootsOf(group).Keys.Where(name => !roots.ContainsKey(name))],
                ComponentToConfiguration = ConfigurationUpdates(document),
                FailureHandlingPolicy = document["failureHandlingPolicy"]?.GetValue<string>() == "DO_NOTHING" ? FailureHandlingPolicy.DoNothing : FailureHandlingPolicy.Rollback,
                RecipeDirectoryPath = recipes,
                ArtifactsDirectoryPath = artifacts,
            };
            string id;
            try
            {
                id = _nucleus.Deployments.Submit(request);
            }
            catch (DeploymentValidationException ex)
            {
                Finish("FAILED", "FAILED_NO_STATE_CHANGE", ex.Message);
                return;
            }

            var record = await _nucleus.Deployments.WaitAsync(id, cancellationToken).ConfigureAwait(false);
            var succeeded = record.Status == DeploymentStatus.Succeeded;
            Finish(succeeded ? "SUCCEEDED" : "FAILED", record.Detailed?.Value ?? (succeeded ? "SUCCESSFUL" : "FAILED_NO_STATE_CHANGE"), record.FailureCause);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>
    /// Resolves the roots and, transitively, their dependencies through the cloud (each with every dependent's
    /// requirement), writes their recipes, and downloads this platform's artifacts with their digests checked.
    /// </summary>
    private async Task PrepareAsync(Dictionary<string, string> roots, string group, string recipes, string artifacts, CancellationToken cancellationToken)
    {
        var platform = _nucleus.Deployments.Platform;
        var requirements = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        foreach (var (name, version) in roots)
        {
            requirements[name] = new Dictionary<string, string>(StringComparer.Ordinal) { [group] = version };
        }

        var resolved = new Dictionary<string, (string Arn, ComponentRecipe Recipe)>(StringComparer.Ordinal);
        var pending = new Queue<string>(roots.Keys);
        while (pending.TryDequeue(out var name))
        {
            var version = roots.GetValueOrDefault(name);
            var answer = await _dataPlane.ResolveAsync(name, version, requirements[name], platform, cancellationToken).ConfigureAwait(false);
            var recipe = ComponentRecipe.Parse(Encoding.UTF8.GetString(answer.Recipe!), $"{answer.ComponentName}-{answer.ComponentVersion}.json");
            resolved[name] = (answer.Arn!, recipe);
            foreach (var dependency in recipe.ComponentDependencies)
            {
                if (!requirements.TryGetValue(dependency.Name, out var wanted))
                {
                    requirements[dependency.Name] = wanted = new Dictionary<string, string>(StringComparer.Ordinal);
                }

                // A new requirement on a component already resolved: resolve it again under all of them.
                if (!wanted.TryGetValue(name, out var previous) || previous != dependency.VersionRequirement.ToString())
                {
                    wanted[name] = dependency.VersionRequirement.ToString();
                    if (!pending.Contains(dependency.Name))
                    {
                        pending.Enqueue(dependency.Name);
                    }
                }
            }
        }

        foreach (var (name, (arn, recipe)) in resolved)
        {
            await File.WriteAllTextAsync(Path.Combine(recipes, $"{name}-{recipe.ComponentVersion}.json"), recipe.ToJson(), cancellationToken).ConfigureAwait(false);
            foreach (var artifact in recipe.SelectManifest(platform).Artifacts.Where(a => a.Uri.StartsWith("s3://", StringComparison.OrdinalIgnoreCase)))
            {
                var file = artifact.Uri[(artifact.Uri.LastIndexOf('/') + 1)..];
                var path = Path.Combine(artifacts, name, recipe.ComponentVersion.ToString(), file);
                await _dataPlane.DownloadAsync(arn, file, path, cancellationToken).ConfigureAwait(false);
                if (artifact.Digest is { } digest && (artifact.Algorithm ?? "SHA-256") == "SHA-256")
                {
                    var stream = File.OpenRead(path);
                    byte[] actual;
                    await using (stream.ConfigureAwait(false))
                    {
                        actual = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
                    }

                    if (Convert.ToBase64String(actual) != digest)
                    {
                        throw new IOException($"the artifact {artifact.Uri} of {name} {recipe.ComponentVersion} does not match its digest (SHA-256 {digest}, downloaded {Convert.ToBase64String(actual)}); nothing was deployed");
                    }
                }
            }
        }
    }

    /// <summary>The deployment's group as the Nucleus names it: the resource of its configuration ARN (<c>thinggroup/NAME</c>).</summary>
    /// <summary>
    /// What is wrong with a deployment document (FleetConfiguration, as CreateDeployment writes it), each with its
    /// place: <c>configurationArn</c> a string, <c>components</c> an object of objects each with a string
    /// <c>version</c>, a <c>configurationUpdate</c> whose <c>merge</c> is a JSON object in a string and whose
    /// <c>reset</c> is a list of JSON pointers, and <c>failureHandlingPolicy</c> ROLLBACK or DO_NOTHING.
    /// </summary>
    internal static List<string> DocumentProblems(JsonObject document)
    {
        var problems = new List<string>();
        static string Kind(JsonNode? node) => node is null ? "null" : node.GetValueKind().ToString();
        static bool IsText(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String;
        if (!IsText(document["configurationArn"]))
        {
            problems.Add($"configurationArn must be a string, not {Kind(document["configurationArn"])}");
        }

        if (document["deploymentId"] is { } deploymentId && !IsText(deploymentId))
        {
            problems.Add($"deploymentId must be a string, not {Kind(deploymentId)}");
        }

        foreach (var arnField in new[] { "onBehalfOf", "parentTargetArn" })
        {
            if (document[arnField] is { } arn && !(IsText(arn) && arn.GetValue<string>().Contains(":thinggroup/", StringComparison.Ordinal)))
            {
                problems.Add($"{arnField} must be a thing group ARN, not {arn.ToJsonString()}");
            }
        }

        if (document["failureHandlingPolicy"] is { } policy && !(IsText(policy) && policy.GetValue<string>() is "ROLLBACK" or "DO_NOTHING"))
        {
            problems.Add($"failureHandlingPolicy must be ROLLBACK or DO_NOTHING, not {policy.ToJsonString()}");
        }

        if (document["components"] is not JsonObject components)
        {
            problems.Add($"components must be an object, not {Kind(document["components"])}");
            return problems;
        }

        foreach (var (name, spec) in components)
        {
            var where = $"components.{name}";
            if (spec is not JsonObject component)
            {
                problems.Add($"{where} must be an object, not {Kind(spec)}");
                continue;
            }

            if (!IsText(component["version"]))
            {
                problems.Add($"{where}.version must be a string, not {Kind(component["version"])}");
            }

            if (component["configurationUpdate"] is not { } update)
            {
                continue;
            }

            if (update is not JsonObject updateObject)
            {
                problems.Add($"{where}.configurationUpdate must be an object, not {Kind(update)}");
                continue;
            }

            if (updateObject["merge"] is { } merge)
            {
                try
                {
                    if (!IsText(merge) || JsonNode.Parse(merge.GetValue<string>()) is not JsonObject)
                    {
                        problems.Add($"{where}.configurationUpdate.merge must be a JSON object in a string");
                    }
                }
                catch (JsonException ex)
                {
                    problems.Add($"{where}.configurationUpdate.merge is not JSON: {ex.Message}");
                }
            }

            if (updateObject["reset"] is { } reset && (reset is not JsonArray paths || paths.Any(p => !IsText(p))))
            {
                problems.Add($"{where}.configurationUpdate.reset must be a list of JSON pointers (strings)");
            }
        }

        return problems;
    }

    /// <summary>
    /// The group a deployment's roots are kept under, as the Nucleus names it: the <c>onBehalfOf</c> group when the
    /// document has one (a subdeployment stands for its parent's group), else the configuration ARN's resource
    /// (<c>thinggroup/NAME</c> or <c>thing/NAME</c>).
    /// </summary>
    private static string GroupOf(JsonObject document)
    {
        if (document["onBehalfOf"]?.GetValue<string>() is { Length: > 0 } onBehalfOf)
        {
            var slash = onBehalfOf.LastIndexOf(":thinggroup/", StringComparison.Ordinal);
            if (slash >= 0)
            {
                return onBehalfOf[(slash + 1)..];
            }
        }

        var arn = document["configurationArn"]?.GetValue<string>() ?? string.Empty;
        var resource = arn.Split(':') is { Length: >= 7 } parts ? parts[6] : arn;
        return resource.Length == 0 ? "thing/unknown" : resource;
    }

    private static Dictionary<string, JsonElement>? ConfigurationUpdates(JsonObject document)
    {
        var updates = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var (name, spec) in document["components"] as JsonObject ?? [])
        {
            if (spec?["configurationUpdate"] is not JsonObject update)
            {
                continue;
            }

            var node = new JsonObject();
            if (update["merge"]?.GetValue<string>() is { } merge)
            {
                node["MERGE"] = JsonNode.Parse(merge);
            }

            if (update["reset"] is JsonArray reset)
            {
                node["RESET"] = reset.DeepClone();
            }

            updates[name] = JsonSerializer.SerializeToElement(node);
        }

        return updates.Count == 0 ? null : updates;
    }

    private void Update(string jobId, string status, string? detailed, string? cause)
    {
        var details = new JsonObject();
        if (detailed is not null)
        {
            details["detailed-deployment-status"] = detailed;
        }

        if (cause is not null)
        {
            details["deployment-failure-cause"] = cause;
        }

        CloudDeploymentLog.Reporting(_logger, jobId, status, detailed ?? string.Empty, cause ?? string.Empty);
        var token = Guid.NewGuid().ToString();
        var topic = $"{Jobs}{jobId}/{Namespace}/update";
        var payload = new JsonObject { ["status"] = status, ["statusDetails"] = details, ["clientToken"] = token };
        lock (_unacknowledged)
        {
            // Only the latest status of a job matters: an earlier unacknowledged one is superseded.
            foreach (var stale in _unacknowledged.Where(u => u.Value.Topic == topic).Select(u => u.Key).ToList())
            {
                _unacknowledged.Remove(stale);
            }

            _unacknowledged[token] = (topic, payload);
        }

        Publish(topic, payload);
    }

    private void Publish(string topic, JsonObject payload)
    {
        try
        {
            _nucleus.IoTCore.Publish(new CloudMessage { Topic = topic, Payload = JsonSerializer.SerializeToUtf8Bytes(payload, Relaxed), Qos = MqttQos.AtLeastOnce }, component: null);
        }
        catch (Exception ex) when (ex is MqttRequestException or SpoolerStoreException or ObjectDisposedException)
        {
            CloudDeploymentLog.BadMessage(_logger, topic, ex.Message);
        }
    }
}

internal static partial class CloudDeploymentLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "cloud deployment: job {JobId} received (deployment {DeploymentId})")]
    public static partial void Received(ILogger logger, string jobId, string deploymentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "cloud deployment: job {JobId} {Status} {Detailed} {Cause}")]
    public static partial void Reporting(ILogger logger, string jobId, string status, string detailed, string cause);

    [LoggerMessage(Level = LogLevel.Error, Message = "cloud deployment: job {JobId} could not be prepared, nothing changed: {Reason}")]
    public static partial void PreparationFailed(ILogger logger, string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "cloud deployment: job {JobId} failed")]
    public static partial void Crashed(ILogger logger, string jobId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cloud deployment: {Topic}: {Reason}")]
    public static partial void BadMessage(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cloud deployment: the cloud rejected a status update on {Topic}: {Payload}")]
    public static partial void UpdateRejected(ILogger logger, string topic, string payload);
}
