using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fogline.Mqtt;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;

namespace Fogline.LocalCloud.Iot;

/// <summary>
/// The local cloud's side of the MQTT broker the devices use: a privileged client that answers IoT Jobs' MQTT API
/// for the things of the registry, as AWS IoT does, on the plain topics and on the Greengrass namespace's
/// (<c>namespace-aws-gg-deployment</c>, what the Nucleus uses): <c>$aws/things/T/jobs/get</c> (pending executions),
/// <c>…/jobs/{jobId|$next}/get</c> (an execution with its document), <c>…/jobs/start-next</c>,
/// <c>…/jobs/{jobId}/update</c> (status transitions with the version check, answered on <c>/accepted</c> or
/// <c>/rejected</c> with IoT Jobs' codes), and it publishes <c>…/jobs/notify</c> and <c>…/jobs/notify-next</c> after a
/// thing's executions changed. It also takes the devices' fleet status (<c>$aws/things/T/greengrassv2/health/json</c>)
/// for the core-device APIs, and keeps the messages devices publish with the retain flag (<see cref="RetainedMessages"/>,
/// subscribed to <c>#</c> with retain-as-published). Requests from a client for another thing never reach it: the broker's ACL keeps each
/// device to its own topics.
/// </summary>
internal sealed partial class DeviceGateway : IAsyncDisposable
{
    public const string GreengrassNamespace = "namespace-aws-gg-deployment";

    /// <summary>Takes a message the broker delivered with the retain flag: topic, payload, QoS.</summary>
    public delegate void RetainedHandler(string topic, ReadOnlySpan<byte> payload, int qos);
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly MqttBrokerConnection _connection;
    private readonly IotRegistryService _registry;
    private readonly IotJobsService _jobs;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<string, JsonObject> _fleetStatus;
    private readonly RetainedHandler _retained;
    private readonly TaskCompletionSource _firstConnection = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DeviceGateway(MqttBrokerOptions broker, IotRegistryService registry, IotJobsService jobs, Action<string, JsonObject> fleetStatus, RetainedHandler retained, TimeProvider time, ILogger logger)
    {
        _fleetStatus = fleetStatus;
        _retained = retained;
        _registry = registry;
        _jobs = jobs;
        _time = time;
        _logger = logger;
        _connection = new MqttBrokerConnection(broker, OnConnection, OnMessage, logger, time);
        jobs.ExecutionsChanged += Notify;
    }

    /// <summary>Completes when the gateway first reached the broker and subscribed.</summary>
    public Task Connected => _firstConnection.Task;

    public string Broker => _connection.Description;

    public void Start() => _connection.Start();

    public async ValueTask DisposeAsync()
    {
        _jobs.ExecutionsChanged -= Notify;
        await _connection.DisposeAsync().ConfigureAwait(false);
    }

    private void OnConnection(bool up, bool sessionPresent)
    {
        if (!up)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                var refused = await _connection.SubscribeAsync("$aws/things/+/jobs/#", MqttQualityOfServiceLevel.AtLeastOnce, CancellationToken.None).ConfigureAwait(false)
                    ?? await _connection.SubscribeAsync("$aws/things/+/greengrassv2/health/json", MqttQualityOfServiceLevel.AtLeastOnce, CancellationToken.None).ConfigureAwait(false)
                    ?? await _connection.SubscribeAsync("#", MqttQualityOfServiceLevel.AtLeastOnce, CancellationToken.None, retainAsPublished: true).ConfigureAwait(false);
                if (refused is not null)
                {
                    GatewayLog.SubscribeRefused(_logger, refused);
                    return;
                }

                _firstConnection.TrySetResult();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                GatewayLog.SubscribeRefused(_logger, ex.Message);
            }
        });
    }

    private void OnMessage(MqttApplicationMessage message)
    {
        if (message.Retain)
        {
            var payload = message.Payload;
            _retained(message.Topic, payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(), (int)message.QualityOfServiceLevel);
            return;
        }

        if (HealthTopic().Match(message.Topic) is { Success: true } health)
        {
            try
            {
                if (JsonNode.Parse(message.Payload.ToArray()) is JsonObject status)
                {
                    _fleetStatus(health.Groups["thing"].Value, status);
                }
            }
            catch (JsonException ex)
            {
                GatewayLog.PublishFailed(_logger, message.Topic, "unreadable fleet status: " + ex.Message);
            }

            return;
        }

        var match = JobsTopic().Match(message.Topic);
        if (!match.Success || match.Groups["reply"].Success)
        {
            return;
        }

        var thing = match.Groups["thing"].Value;
        var operation = match.Groups["operation"].Value;
        var prefix = message.Topic;
        JsonObject request;
        try
        {
            request = message.Payload.Length == 0 ? [] : JsonNode.Parse(message.Payload.ToArray()) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException ex)
        {
            Reply(prefix + "/rejected", Rejection("InvalidJson", "The request is not valid JSON: " + ex.Message, null));
            return;
        }

        var clientToken = request["clientToken"]?.GetValue<string>();
        if (_registry.LocateThing(thing) is not { } place)
        {
            Reply(prefix + "/rejected", Rejection("ResourceNotFound", $"Thing {thing} cannot be found.", clientToken));
            return;
        }

        try
        {
            var answer = operation switch
            {
                "get" when match.Groups["job"].Success => DescribeExecution(place, thing, match.Groups["job"].Value, request),
                "get" => ListPending(place, thing),
                "start-next" => StartNext(place, thing, request),
                "update" when match.Groups["job"].Success => Update(place, thing, match.Groups["job"].Value, request, out var rejected) is { } accepted ? accepted : throw rejected!,
                _ => throw new RejectionException("InvalidRequest", $"Unknown jobs operation {operation}."),
            };
            answer["timestamp"] = _time.GetUtcNow().ToUnixTimeSeconds();
            if (clientToken is not null)
            {
                answer["clientToken"] = clientToken;
            }

            Reply(prefix + "/accepted", answer);
        }
        catch (RejectionException ex)
        {
            Reply(prefix + "/rejected", Rejection(ex.Code, ex.Message, clientToken));
        }
    }

    private JsonObject DescribeExecution((string Account, string Region) place, string thing, string jobId, JsonObject request)
    {
        if (_jobs.Execution(place.Account, place.Region, thing, jobId) is not { } found)
        {
            if (jobId == "$next")
            {
                return [];
            }

            throw new RejectionException("ResourceNotFound", $"Job execution for job {jobId} and thing {thing} cannot be found.");
        }

        var includeDocument = request["includeJobDocument"]?.GetValue<bool>() ?? true;
        return new JsonObject { ["execution"] = ExecutionData(found.Job, found.Execution, thing, includeDocument) };
    }

    private JsonObject ListPending((string Account, string Region) place, string thing)
    {
        var pending = _jobs.Pending(place.Account, place.Region, thing);
        return new JsonObject
        {
            ["inProgressJobs"] = new JsonArray([.. pending.Where(p => p.Execution.Status == "IN_PROGRESS").Select(p => (JsonNode)Summary(p.Job, p.Execution))]),
            ["queuedJobs"] = new JsonArray([.. pending.Where(p => p.Execution.Status == "QUEUED").Select(p => (JsonNode)Summary(p.Job, p.Execution))]),
        };
    }

    private JsonObject StartNext((string Account, string Region) place, string thing, JsonObject request)
    {
        if (_jobs.Pending(place.Account, place.Region, thing) is not [var next, ..])
        {
            return [];
        }

        if (next.Execution.Status == "QUEUED")
        {
            var details = ReadDetails(request);
            if (_jobs.Update(place.Account, place.Region, thing, next.Job.JobId, "IN_PROGRESS", details, null, out var rejection, out var code) is not { } started)
            {
                throw new RejectionException(code!, rejection!);
            }

            next = started;
        }

        return new JsonObject { ["execution"] = ExecutionData(next.Job, next.Execution, thing, includeDocument: true) };
    }

    private JsonObject? Update((string Account, string Region) place, string thing, string jobId, JsonObject request, out RejectionException? rejected)
    {
        rejected = null;
        var status = request["status"]?.GetValue<string>();
        if (status is null)
        {
            rejected = new RejectionException("InvalidRequest", "status is required.");
            return null;
        }

        var expected = request["expectedVersion"] is JsonValue v ? (long?)(v.TryGetValue<long>(out var n) ? n : long.Parse(v.ToString(), System.Globalization.CultureInfo.InvariantCulture)) : null;
        if (_jobs.Update(place.Account, place.Region, thing, jobId, status, ReadDetails(request), expected, out var rejection, out var code) is not { } updated)
        {
            rejected = new RejectionException(code!, rejection!);
            return null;
        }

        var answer = new JsonObject();
        if (request["includeJobExecutionState"]?.GetValue<bool>() == true)
        {
            answer["executionState"] = new JsonObject
            {
                ["status"] = updated.Execution.Status,
                ["statusDetails"] = Details(updated.Execution),
                ["versionNumber"] = updated.Execution.VersionNumber,
            };
        }

        if (request["includeJobDocument"]?.GetValue<bool>() == true)
        {
            answer["jobDocument"] = JsonNode.Parse(updated.Job.Document);
        }

        return answer;
    }

    private static Dictionary<string, string>? ReadDetails(JsonObject request) =>
        request["statusDetails"] is JsonObject details ? details.ToDictionary(p => p.Key, p => p.Value is JsonValue value && value.TryGetValue<string>(out var text) ? text : p.Value?.ToJsonString() ?? string.Empty, StringComparer.Ordinal) : null;

    /// <summary>Publishes the thing's pending executions (notify) and its next one (notify-next), plain and in the Greengrass namespace.</summary>
    private void Notify(string account, string region, string thing)
    {
        var pending = _jobs.Pending(account, region, thing);
        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var jobs = new JsonObject();
        foreach (var group in pending.GroupBy(p => p.Execution.Status))
        {
            jobs[group.Key] = new JsonArray([.. group.Select(p => (JsonNode)Summary(p.Job, p.Execution))]);
        }

        var next = new JsonObject { ["timestamp"] = now };
        if (pending is [var first, ..])
        {
            next["execution"] = ExecutionData(first.Job, first.Execution, thing, includeDocument: true);
        }

        foreach (var suffix in new[] { string.Empty, "-" + GreengrassNamespace })
        {
            Reply($"$aws/things/{thing}/jobs/notify{suffix}", new JsonObject { ["timestamp"] = now, ["jobs"] = jobs.DeepClone() });
            Reply($"$aws/things/{thing}/jobs/notify-next{suffix}", (JsonObject)next.DeepClone());
        }
    }

    private static JsonObject Summary(JobRecord job, JobExecutionRecord execution) => new()
    {
        ["jobId"] = job.JobId,
        ["queuedAt"] = execution.QueuedAt.ToUnixTimeSeconds(),
        ["startedAt"] = execution.StartedAt?.ToUnixTimeSeconds(),
        ["lastUpdatedAt"] = execution.LastUpdatedAt.ToUnixTimeSeconds(),
        ["versionNumber"] = execution.VersionNumber,
        ["executionNumber"] = execution.ExecutionNumber,
    };

    private static JsonObject ExecutionData(JobRecord job, JobExecutionRecord execution, string thing, bool includeDocument)
    {
        var data = new JsonObject
        {
            ["jobId"] = job.JobId,
            ["thingName"] = thing,
            ["status"] = execution.Status,
            ["statusDetails"] = Details(execution),
            ["queuedAt"] = execution.QueuedAt.ToUnixTimeSeconds(),
            ["startedAt"] = execution.StartedAt?.ToUnixTimeSeconds(),
            ["lastUpdatedAt"] = execution.LastUpdatedAt.ToUnixTimeSeconds(),
            ["versionNumber"] = execution.VersionNumber,
            ["executionNumber"] = execution.ExecutionNumber,
        };
        if (includeDocument)
        {
            data["jobDocument"] = JsonNode.Parse(job.Document);
        }

        return data;
    }

    private static JsonObject Details(JobExecutionRecord execution) => new([.. execution.StatusDetails.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);

    private JsonObject Rejection(string code, string message, string? clientToken)
    {
        var rejection = new JsonObject { ["code"] = code, ["message"] = message, ["timestamp"] = _time.GetUtcNow().ToUnixTimeSeconds() };
        if (clientToken is not null)
        {
            rejection["clientToken"] = clientToken;
        }

        return rejection;
    }

    private void Reply(string topic, JsonObject payload)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(JsonSerializer.SerializeToUtf8Bytes(payload, Relaxed))
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        _ = Task.Run(async () =>
        {
            try
            {
                await _connection.PublishAsync(message, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                GatewayLog.PublishFailed(_logger, topic, ex.Message);
            }
        });
    }

    // $aws/things/{thing}/jobs/{get|start-next|notify…} or …/jobs/{jobId}/{get|update}, optionally in a namespace,
    // and the replies (…/accepted, …/rejected), which the gateway ignores.
    [GeneratedRegex(@"^\$aws/things/(?<thing>[^/]+)/jobs/(?:(?<job>[^/]+)/)?(?:namespace-[^/]+/)?(?<operation>get|update|start-next)(?:/namespace-[^/]+)?(?<reply>/accepted|/rejected)?$", RegexOptions.CultureInvariant)]
    private static partial Regex JobsTopic();

    [GeneratedRegex(@"^\$aws/things/(?<thing>[^/]+)/greengrassv2/health/json$", RegexOptions.CultureInvariant)]
    private static partial Regex HealthTopic();

    private sealed class RejectionException(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}

internal static partial class GatewayLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "device gateway: the broker refused the jobs subscription: {Reason}")]
    public static partial void SubscribeRefused(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "device gateway: publishing to {Topic} failed: {Reason}")]
    public static partial void PublishFailed(ILogger logger, string topic, string reason);
}
