using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.Greengrass.Recipes;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.Iot;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.Greengrass;

/// <summary>One Greengrass deployment: a revision of what a thing or thing group should run.</summary>
internal sealed class DeploymentRecord
{
    public required string DeploymentId { get; init; }

    public string? Name { get; init; }

    public required string TargetArn { get; init; }

    public int Revision { get; init; }

    public required string JobId { get; init; }

    public required JsonObject Request { get; init; }

    public DateTimeOffset Created { get; init; }

    public string Status { get; set; } = "ACTIVE";

    public bool IsLatestForTarget { get; set; } = true;

    public string? ClientToken { get; init; }
}

/// <summary>
/// Greengrass V2's deployment APIs: CreateDeployment (one deployment per target with increasing revisions; the new
/// one replaces the target's previous deployment, which becomes INACTIVE and whose job is canceled; the policies'
/// defaults filled in as the service fills them; an IoT job made for it whose document is the configuration the
/// Nucleus reads, with an execution queued for every thing the target covers), GetDeployment, ListDeployments
/// (LATEST_ONLY or ALL, by target) and CancelDeployment. Subdeployments (<c>parentTargetArn</c>, Nucleus 2.9): a thing
/// group's deployment that stands for its parent group's on the devices of that group (the document's
/// <c>onBehalfOf</c> is the parent), made only while the parent has an active deployment, and replaced with it by the
/// parent's next revision. The target must exist in the caller's IoT registry;
/// component versions are not checked here: a device that cannot resolve one fails the deployment, as with AWS.
/// </summary>
internal sealed partial class DeploymentsService
{
    private const int DefaultPageSize = 50;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    // The job document as a JSON service writes it: quotes inside strings as \" rather than \u0022.
    private static readonly JsonSerializerOptions DocumentJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly string _dataDirectory;
    private readonly TimeProvider _time;
    private readonly IotRegistryService _registry;
    private readonly IotJobsService _jobs;
    private readonly ConcurrentDictionary<(string Account, string Region), (Lock Sync, List<DeploymentRecord> Deployments)> _stores = new();

    public DeploymentsService(string dataDirectory, TimeProvider time, IotRegistryService registry, IotJobsService jobs)
    {
        _dataDirectory = dataDirectory;
        _time = time;
        _registry = registry;
        _jobs = jobs;
    }

    public void Register(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(GreengrassV2Operations.CreateDeployment, (input, request) => Task.FromResult(Create(input, request)));
        endpoint.Handle(GreengrassV2Operations.GetDeployment, (input, request) => Task.FromResult(Get(input, request)));
        endpoint.Handle(GreengrassV2Operations.ListDeployments, (input, request) => Task.FromResult(List(input, request)));
        endpoint.Handle(GreengrassV2Operations.CancelDeployment, (input, request) => Task.FromResult(Cancel(input, request)));
    }

    /// <summary>Every deployment of an account in a region.</summary>
    public IReadOnlyList<DeploymentRecord> All(string account, string region)
    {
        var (sync, deployments) = Store(account, region);
        lock (sync)
        {
            return [.. deployments];
        }
    }

    private (Lock Sync, List<DeploymentRecord> Deployments) Store(string account, string region) => _stores.GetOrAdd((account, region), key =>
    {
        var saved = JsonFiles.Read(FileOf(key.Account, key.Region))?["deployments"]?.Deserialize<List<DeploymentRecord>>(Json) ?? [];
        return (new Lock(), saved);
    });

    private string FileOf(string account, string region) => Path.Combine(_dataDirectory, "greengrass", account, region, "deployments.json");

    private void Save(string account, string region, List<DeploymentRecord> deployments) =>
        JsonFiles.Write(FileOf(account, region), new JsonObject { ["deployments"] = JsonSerializer.SerializeToNode(deployments, Json) });

    private CreateDeploymentResponse Create(CreateDeploymentRequest input, CloudRequest request)
    {
        var account = request.Caller.AccountId;
        var region = request.Region;

        // A retry with the same client token is answered with the deployment it made, whatever changed since (its
        // target group may even be gone), as AWS's idempotent operations answer.
        if (input.ClientToken is { Length: > 0 } retried)
        {
            var (known, made) = Store(account, region);
            lock (known)
            {
                if (made.FirstOrDefault(d => d.ClientToken == retried) is { } earlier)
                {
                    return Response(earlier, account, region);
                }
            }
        }

        var (kind, name) = Target(input.TargetArn, account, region);
        var components = input.Components ?? [];
        foreach (var (component, spec) in components)
        {
            if (string.IsNullOrEmpty(spec.ComponentVersion) || !SemVersion.TryParse(spec.ComponentVersion, out _))
            {
                throw ComponentsService.Invalid("components", $"The version '{spec.ComponentVersion}' of component {component} is not a semantic version.");
            }
        }

        if (input.ParentTargetArn is { } parentArn)
        {
            var (parentKind, parentName) = Target(parentArn, account, region);
            if (kind != "thinggroup" || parentKind != "thinggroup")
            {
                throw ComponentsService.Invalid(kind != "thinggroup" ? "targetArn" : "parentTargetArn", "A subdeployment's target and its parent target must both be thing groups.");
            }

            if (parentName == name)
            {
                throw ComponentsService.Invalid("parentTargetArn", "A thing group cannot be its own parent target.");
            }
        }

        var policies = WithDefaults(input.DeploymentPolicies);
        var (sync, deployments) = Store(account, region);
        DeploymentRecord record;
        var replacedJobs = new List<string>();
        lock (sync)
        {
            if (input.ClientToken is { Length: > 0 } token && deployments.FirstOrDefault(d => d.ClientToken == token) is { } earlier)
            {
                return Response(earlier, account, region);
            }

            if (input.ParentTargetArn is { } parent && !deployments.Any(d => d.TargetArn == parent && d.IsLatestForTarget && d.Status == "ACTIVE" && d.Request["parentTargetArn"] is null))
            {
                throw GreengrassV2Errors.CreateResourceNotFoundException($"The parent target {parent} has no active deployment to make a subdeployment of.", parent, "deployment");
            }

            var previous = deployments.Where(d => d.TargetArn == input.TargetArn).ToList();
            // A new revision replaces the target's deployment; a parent's new revision also replaces its subdeployments.
            var replaced = previous.Where(d => d.IsLatestForTarget).ToList();
            if (input.ParentTargetArn is null)
            {
                replaced.AddRange(deployments.Where(d => d.IsLatestForTarget && d.Request["parentTargetArn"]?.GetValue<string>() == input.TargetArn));
            }

            foreach (var old in replaced)
            {
                if (old.TargetArn == input.TargetArn)
                {
                    old.IsLatestForTarget = false;
                }

                if (old.Status == "ACTIVE")
                {
                    old.Status = "INACTIVE";
                    replacedJobs.Add(old.JobId);
                }
            }

            var id = Guid.NewGuid().ToString();
            var requestNode = JsonSerializer.SerializeToNode(input, GreengrassV2JsonContext.Default.CreateDeploymentRequest)!.AsObject();
            requestNode["deploymentPolicies"] = JsonSerializer.SerializeToNode(policies, GreengrassV2JsonContext.Default.DeploymentPolicies);
            requestNode.Remove("clientToken");
            record = new DeploymentRecord
            {
                DeploymentId = id,
                Name = input.DeploymentName,
                TargetArn = input.TargetArn!,
                Revision = previous.Count + 1,
                JobId = Guid.NewGuid().ToString(),
                Request = requestNode,
                Created = _time.GetUtcNow(),
                ClientToken = input.ClientToken,
            };
            deployments.Add(record);
            Save(account, region, deployments);
        }

        foreach (var replacedJob in replacedJobs)
        {
            _jobs.Cancel(account, region, replacedJob, "SUPERSEDED", "replaced by a newer deployment to the same target or its parent", force: false);
        }

        var document = Document(record, kind, name, account, region, components, policies);
        var jobConfiguration = input.IotJobConfiguration is { } iot ? JobConfiguration(iot) : null;
        _jobs.CreateJob(account, region, record.JobId, record.TargetArn, document.ToJsonString(DocumentJson), $"Greengrass deployment {record.DeploymentId} ({record.Name ?? "unnamed"}), revision {record.Revision} for {kind}/{name}", jobConfiguration);
        return Response(record, account, region);
    }

    private static CreateDeploymentResponse Response(DeploymentRecord record, string account, string region) => new()
    {
        DeploymentId = record.DeploymentId,
        IotJobId = record.JobId,
        IotJobArn = IotJobsService.JobArn(region, account, record.JobId),
    };

    /// <summary>The configuration the Nucleus reads from the job (its FleetConfiguration).</summary>
    private JsonObject Document(DeploymentRecord record, string kind, string name, string account, string region, Dictionary<string, ComponentDeploymentSpecification> components, DeploymentPolicies policies)
    {
        var componentNodes = new JsonObject();
        foreach (var (component, spec) in components.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var node = new JsonObject { ["version"] = spec.ComponentVersion };
            if (spec.ConfigurationUpdate is { } update)
            {
                var updateNode = new JsonObject();
                if (update.Merge is not null)
                {
                    updateNode["merge"] = update.Merge;
                }

                if (update.Reset is not null)
                {
                    updateNode["reset"] = new JsonArray([.. update.Reset.Select(r => (JsonNode?)r)]);
                }

                node["configurationUpdate"] = updateNode;
            }

            if (spec.RunWith is { } runWith)
            {
                node["runWith"] = JsonSerializer.SerializeToNode(runWith, GreengrassV2JsonContext.Default.ComponentRunWith);
            }

            componentNodes[component] = node;
        }

        var document = new JsonObject
        {
            ["deploymentId"] = record.DeploymentId,
            ["configurationArn"] = $"arn:aws:greengrass:{region}:{account}:configuration:{kind}/{name}:{record.Revision.ToString(CultureInfo.InvariantCulture)}",
            ["components"] = componentNodes,
            ["creationTimestamp"] = record.Created.ToUnixTimeMilliseconds(),
            ["failureHandlingPolicy"] = policies.FailureHandlingPolicy,
            ["componentUpdatePolicy"] = new JsonObject { ["timeout"] = policies.ComponentUpdatePolicy!.TimeoutInSeconds, ["action"] = policies.ComponentUpdatePolicy.Action },
            ["configurationValidationPolicy"] = new JsonObject { ["timeout"] = policies.ConfigurationValidationPolicy!.TimeoutInSeconds },
        };
        if (kind == "thinggroup")
        {
            // The group the device keeps the deployment's roots under: a subdeployment stands for its parent's.
            document["onBehalfOf"] = record.Request["parentTargetArn"]?.GetValue<string>() ?? record.TargetArn;
        }

        if (record.Request["parentTargetArn"] is JsonValue parent)
        {
            document["parentTargetArn"] = parent.DeepClone();
        }

        return document;
    }

    private static JsonObject JobConfiguration(DeploymentIoTJobConfiguration iot)
    {
        var configuration = new JsonObject();
        var node = JsonSerializer.SerializeToNode(iot, GreengrassV2JsonContext.Default.DeploymentIoTJobConfiguration)!.AsObject();
        if (node["jobExecutionsRolloutConfig"] is { } rollout)
        {
            configuration["jobExecutionsRolloutConfig"] = rollout.DeepClone();
        }

        if (node["abortConfig"] is { } abort)
        {
            configuration["abortConfig"] = abort.DeepClone();
        }

        if (node["timeoutConfig"] is { } timeout)
        {
            configuration["timeoutConfig"] = timeout.DeepClone();
        }

        return configuration;
    }

    private static DeploymentPolicies WithDefaults(DeploymentPolicies? given) => new()
    {
        FailureHandlingPolicy = given?.FailureHandlingPolicy ?? "ROLLBACK",
        ComponentUpdatePolicy = new DeploymentComponentUpdatePolicy
        {
            TimeoutInSeconds = given?.ComponentUpdatePolicy?.TimeoutInSeconds ?? 60,
            Action = given?.ComponentUpdatePolicy?.Action ?? "NOTIFY_COMPONENTS",
        },
        ConfigurationValidationPolicy = new DeploymentConfigurationValidationPolicy { TimeoutInSeconds = given?.ConfigurationValidationPolicy?.TimeoutInSeconds ?? 30 },
    };

    private (string Kind, string Name) Target(string? targetArn, string account, string region)
    {
        var match = targetArn is null ? null : TargetPattern().Match(targetArn);
        if (match is not { Success: true })
        {
            throw ComponentsService.Invalid("targetArn", $"The target ARN '{targetArn}' is not the ARN of an AWS IoT thing or thing group (arn:aws:iot:REGION:ACCOUNT:thing/NAME or thinggroup/NAME).");
        }

        var (kind, name) = (match.Groups["kind"].Value, match.Groups["name"].Value);
        if (match.Groups["region"].Value != region || match.Groups["account"].Value != account)
        {
            throw GreengrassV2Errors.CreateResourceNotFoundException($"The {kind} {name} is not in account {account} in {region}.", targetArn, kind);
        }

        var registry = _registry.RegistryOf(account, region);
        lock (registry.Sync)
        {
            var exists = kind == "thing" ? registry.Things.ContainsKey(name) : registry.Groups.ContainsKey(name);
            if (!exists)
            {
                throw GreengrassV2Errors.CreateResourceNotFoundException($"The {(kind == "thing" ? "thing" : "thing group")} {name} does not exist in account {account} in {region}.", targetArn, kind);
            }
        }

        return (kind, name);
    }

    private GetDeploymentResponse Get(GetDeploymentRequest input, CloudRequest request)
    {
        var (sync, deployments) = Store(request.Caller.AccountId, request.Region);
        lock (sync)
        {
            var record = deployments.FirstOrDefault(d => d.DeploymentId == input.DeploymentId)
                ?? throw GreengrassV2Errors.CreateResourceNotFoundException($"Deployment {input.DeploymentId} does not exist.", input.DeploymentId, "deployment");
            var shaped = record.Request.Deserialize(GreengrassV2JsonContext.Default.CreateDeploymentRequest)!;
            return new GetDeploymentResponse
            {
                TargetArn = record.TargetArn,
                RevisionId = record.Revision.ToString(CultureInfo.InvariantCulture),
                DeploymentId = record.DeploymentId,
                DeploymentName = record.Name,
                DeploymentStatus = StatusOf(record, request.Caller.AccountId, request.Region),
                IotJobId = record.JobId,
                IotJobArn = IotJobsService.JobArn(request.Region, request.Caller.AccountId, record.JobId),
                Components = shaped.Components,
                DeploymentPolicies = shaped.DeploymentPolicies,
                IotJobConfiguration = shaped.IotJobConfiguration,
                CreationTimestamp = record.Created,
                IsLatestForTarget = record.IsLatestForTarget,
                ParentTargetArn = shaped.ParentTargetArn,
                Tags = shaped.Tags,
            };
        }
    }

    private ListDeploymentsResponse List(ListDeploymentsRequest input, CloudRequest request)
    {
        var filter = input.HistoryFilter ?? "LATEST_ONLY";
        if (filter is not ("LATEST_ONLY" or "ALL"))
        {
            throw ComponentsService.Invalid("historyFilter", $"historyFilter must be ALL or LATEST_ONLY, not '{filter}'.");
        }

        var (sync, deployments) = Store(request.Caller.AccountId, request.Region);
        lock (sync)
        {
            var list = deployments
                .Where(d => input.TargetArn is null || d.TargetArn == input.TargetArn)
                .Where(d => filter == "ALL" || d.IsLatestForTarget)
                .OrderByDescending(d => d.Created)
                .ThenByDescending(d => d.Revision)
                .ToList();
            var (page, next) = Paging.Page(list, input.MaxResults, input.NextToken, DefaultPageSize, 100, (member, message) => ComponentsService.Invalid(member, message));
            return new ListDeploymentsResponse
            {
                Deployments = [.. page.Select(d => new Deployment
                {
                    TargetArn = d.TargetArn,
                    RevisionId = d.Revision.ToString(CultureInfo.InvariantCulture),
                    DeploymentId = d.DeploymentId,
                    DeploymentName = d.Name,
                    CreationTimestamp = d.Created,
                    DeploymentStatus = StatusOf(d, request.Caller.AccountId, request.Region),
                    IsLatestForTarget = d.IsLatestForTarget,
                    ParentTargetArn = d.Request["parentTargetArn"]?.GetValue<string>(),
                })],
                NextToken = next,
            };
        }
    }

    private CancelDeploymentResponse Cancel(CancelDeploymentRequest input, CloudRequest request)
    {
        var (sync, deployments) = Store(request.Caller.AccountId, request.Region);
        DeploymentRecord record;
        lock (sync)
        {
            record = deployments.FirstOrDefault(d => d.DeploymentId == input.DeploymentId)
                ?? throw GreengrassV2Errors.CreateResourceNotFoundException($"Deployment {input.DeploymentId} does not exist.", input.DeploymentId, "deployment");
            if (StatusOf(record, request.Caller.AccountId, request.Region) is not "ACTIVE" and var status)
            {
                throw GreengrassV2Errors.CreateConflictException($"Deployment {record.DeploymentId} is {status} and cannot be canceled.", record.DeploymentId, "deployment");
            }

            record.Status = "CANCELED";
            Save(request.Caller.AccountId, request.Region, deployments);
        }

        _jobs.Cancel(request.Caller.AccountId, request.Region, record.JobId, "CANCELED", "the deployment was canceled", force: false);
        return new CancelDeploymentResponse { Message = $"Deployment {record.DeploymentId} canceled." };
    }

    /// <summary>
    /// A deployment's status: its own, except that an active deployment whose job IoT Jobs canceled (its abort
    /// configuration met) is CANCELED, as the job is.
    /// </summary>
    private string StatusOf(DeploymentRecord record, string account, string region)
    {
        if (record.Status != "ACTIVE")
        {
            return record.Status;
        }

        var jobs = _jobs.StoreOf(account, region);
        lock (jobs.Sync)
        {
            return jobs.Jobs.TryGetValue(record.JobId, out var job) && job.Status == "CANCELED" ? "CANCELED" : record.Status;
        }
    }

    [GeneratedRegex(@"^arn:aws[a-z-]*:iot:(?<region>[a-z0-9-]+):(?<account>[0-9]{12}):(?<kind>thing|thinggroup)/(?<name>[a-zA-Z0-9:_-]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex TargetPattern();
}
