using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fogline.Aws;
using Fogline.Aws.Iot;
using Fogline.LocalCloud.Http;

namespace Fogline.LocalCloud.Iot;

/// <summary>
/// AWS IoT Jobs' control plane for the jobs the local cloud makes (one per Greengrass deployment): DescribeJob with
/// its jobProcessDetails, GetJobDocument, ListJobs, ListJobExecutionsForJob, ListJobExecutionsForThing,
/// DescribeJobExecution and CancelJob (queued executions canceled; in-progress ones only with <c>force</c>).
/// Continuous jobs follow their thing groups: a thing added to a targeted group (or to a group under it) gets a
/// queued execution. Rollout rates and in-progress timeouts (<see cref="JobRollout"/>) and the abort configuration
/// are applied as executions change and once a second.
/// </summary>
internal sealed class IotJobsService : IDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private const int DefaultPageSize = 50;
    private readonly string _dataDirectory;
    private readonly TimeProvider _time;
    private readonly IotRegistryService _registry;
    private readonly ConcurrentDictionary<(string Account, string Region), JobStore> _stores = new();
    private readonly ITimer _ticker;
    private int _ticking;

    public IotJobsService(string dataDirectory, TimeProvider time, IotRegistryService registry)
    {
        _dataDirectory = dataDirectory;
        _time = time;
        _registry = registry;
        registry.ThingAddedToGroup += OnThingAddedToGroup;
        // Jobs saved by an earlier run go on rolling out and timing out.
        var root = Path.Combine(dataDirectory, "iot");
        if (Directory.Exists(root))
        {
            foreach (var region in Directory.EnumerateDirectories(root).SelectMany(Directory.EnumerateDirectories).Where(r => File.Exists(Path.Combine(r, "jobs.json"))))
            {
                StoreOf(Path.GetFileName(Path.GetDirectoryName(region)!), Path.GetFileName(region));
            }
        }

        _ticker = time.CreateTimer(_ => Tick(), null, TickInterval, TickInterval);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _ticker.Dispose();
        foreach (var store in _stores.Values)
        {
            store.Flush();
        }
    }

    /// <summary>Rolls jobs out, times executions out and applies abort criteria: what time alone changes.</summary>
    internal void Tick()
    {
        if (Interlocked.Exchange(ref _ticking, 1) == 1)
        {
            return;
        }

        try
        {
            foreach (var ((account, region), store) in _stores)
            {
                var changed = new List<string>();
                lock (store.Sync)
                {
                    var now = _time.GetUtcNow();
                    foreach (var job in store.Jobs.Values.Where(j => j.Status == "IN_PROGRESS"))
                    {
                        changed.AddRange(JobRollout.TimeOut(job, now));
                        changed.AddRange(JobRollout.Release(job, now));
                        if (AbortCriterionMet(job) is { } criterion)
                        {
                            JobStore.Cancel(job, "ABORTED", $"Job canceled by its abort configuration: {criterion}.", force: false, now);
                            changed.AddRange(job.Executions.Keys);
                        }
                    }

                    if (changed.Count > 0)
                    {
                        store.Save();
                    }
                }

                Changed(account, region, changed.Distinct(StringComparer.Ordinal));
            }
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    /// <summary>Raised after a thing's executions changed (queued, canceled, updated): (account, region, thing).</summary>
    public event Action<string, string, string>? ExecutionsChanged;

    public void Register(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(IotOperations.DescribeJob, (input, request) => Task.FromResult(DescribeJob(input, request)));
        endpoint.Handle(IotOperations.GetJobDocument, (input, request) => Task.FromResult(GetJobDocument(input, request)));
        endpoint.Handle(IotOperations.ListJobs, (input, request) => Task.FromResult(ListJobs(input, request)));
        endpoint.Handle(IotOperations.ListJobExecutionsForJob, (input, request) => Task.FromResult(ListJobExecutionsForJob(input, request)));
        endpoint.Handle(IotOperations.ListJobExecutionsForThing, (input, request) => Task.FromResult(ListJobExecutionsForThing(input, request)));
        endpoint.Handle(IotOperations.DescribeJobExecution, (input, request) => Task.FromResult(DescribeJobExecution(input, request)));
        endpoint.Handle(IotOperations.CancelJob, (input, request) => Task.FromResult(CancelJob(input, request)));
    }

    public JobStore StoreOf(string account, string region) => _stores.GetOrAdd((account, region), key => JobStore.Load(_dataDirectory, key.Account, key.Region));

    public static string JobArn(string region, string account, string jobId) => $"arn:aws:iot:{region}:{account}:job/{jobId}";

    /// <summary>
    /// Makes a continuous job with <paramref name="document"/> for <paramref name="targetArn"/> (a thing or a thing
    /// group), an execution queued for every thing it targets now.
    /// </summary>
    public JobRecord CreateJob(string account, string region, string jobId, string targetArn, string document, string description, JsonObject? configuration)
    {
        var now = _time.GetUtcNow();
        var job = new JobRecord { JobId = jobId, Document = document, Targets = [targetArn], Description = description, CreatedAt = now, LastUpdatedAt = now, Configuration = configuration };
        var things = TargetedThings(account, region, targetArn);
        var store = StoreOf(account, region);
        lock (store.Sync)
        {
            foreach (var thing in things)
            {
                JobRollout.Target(job, thing, now);
            }

            JobRollout.Release(job, now);
            store.Jobs[jobId] = job;
            store.Save();
        }

        Changed(account, region, job.Executions.Keys.ToList());
        return job;
    }

    /// <summary>Cancels a job (a deployment replaced or canceled).</summary>
    public void Cancel(string account, string region, string jobId, string? reasonCode, string? comment, bool force)
    {
        var store = StoreOf(account, region);
        List<string> things = [];
        lock (store.Sync)
        {
            if (store.Jobs.TryGetValue(jobId, out var job) && job.Status == "IN_PROGRESS")
            {
                JobStore.Cancel(job, reasonCode, comment, force, _time.GetUtcNow());
                store.Save();
                things = [.. job.Executions.Keys];
            }
        }

        Changed(account, region, things);
    }

    /// <summary>
    /// The first criterion of the job's abortConfig that its finished executions meet (as IoT Jobs applies it: at
    /// least minNumberOfExecutedThings finished, and the share of them that ended as failureType — FAILED, REJECTED,
    /// TIMED_OUT or ALL of those — at or above thresholdPercentage), or null.
    /// </summary>
    private static string? AbortCriterionMet(JobRecord job)
    {
        if (job.Status != "IN_PROGRESS" || job.Configuration?["abortConfig"]?["criteriaList"] is not JsonArray criteria)
        {
            return null;
        }

        var executed = job.Executions.Values.Where(e => e.Status is "SUCCEEDED" or "FAILED" or "REJECTED" or "TIMED_OUT").ToList();
        foreach (var criterion in criteria.OfType<JsonObject>())
        {
            var type = criterion["failureType"]?.GetValue<string>() ?? "FAILED";
            var minimum = criterion["minNumberOfExecutedThings"]?.GetValue<int>() ?? 1;
            var threshold = criterion["thresholdPercentage"]?.GetValue<double>() ?? 100;
            var failed = executed.Count(e => type == "ALL" ? e.Status is "FAILED" or "REJECTED" or "TIMED_OUT" : e.Status == type);
            if (executed.Count >= minimum && executed.Count > 0 && failed * 100.0 / executed.Count >= threshold)
            {
                return System.FormattableString.Invariant($"{failed} of {executed.Count} executed things {type} (threshold {threshold} %, at least {minimum} executed)");
            }
        }

        return null;
    }

    private void Changed(string account, string region, IEnumerable<string> things)
    {
        foreach (var thing in things)
        {
            ExecutionsChanged?.Invoke(account, region, thing);
        }
    }

    /// <summary>A thing's pending executions (IN_PROGRESS and QUEUED), oldest first, with their jobs.</summary>
    public List<(JobRecord Job, JobExecutionRecord Execution)> Pending(string account, string region, string thing)
    {
        var store = StoreOf(account, region);
        lock (store.Sync)
        {
            return [.. store.Jobs.Values
                .SelectMany(j => j.Executions.TryGetValue(thing, out var e) && e.Status is "QUEUED" or "IN_PROGRESS" ? [(j, e)] : Array.Empty<(JobRecord, JobExecutionRecord)>())
                .OrderBy(p => p.Item2.Status == "IN_PROGRESS" ? 0 : 1)
                .ThenBy(p => p.Item2.QueuedAt)];
        }
    }

    /// <summary>One execution of a thing (<c>$next</c>: the next pending), or null.</summary>
    public (JobRecord Job, JobExecutionRecord Execution)? Execution(string account, string region, string thing, string jobId)
    {
        if (jobId == "$next")
        {
            return Pending(account, region, thing) is [var next, ..] ? next : null;
        }

        var store = StoreOf(account, region);
        lock (store.Sync)
        {
            return store.Jobs.TryGetValue(jobId, out var job) && job.Executions.TryGetValue(thing, out var execution) ? (job, execution) : null;
        }
    }

    /// <summary>
    /// A device's UpdateJobExecution: the new status and details if the transition is allowed and the version is the
    /// expected one; else the reason (IoT Jobs' rejection codes).
    /// </summary>
    public (JobRecord Job, JobExecutionRecord Execution)? Update(string account, string region, string thing, string jobId, string status, Dictionary<string, string>? details, long? expectedVersion, out string? rejection, out string? rejectionCode)
    {
        rejection = null;
        rejectionCode = null;
        var store = StoreOf(account, region);
        (JobRecord, JobExecutionRecord)? result = null;
        var changed = new List<string>();
        lock (store.Sync)
        {
            if (!store.Jobs.TryGetValue(jobId, out var job) || !job.Executions.TryGetValue(thing, out var execution))
            {
                (rejectionCode, rejection) = ("ResourceNotFound", $"Job execution for job {jobId} and thing {thing} cannot be found.");
                return null;
            }

            if (expectedVersion is { } expected && expected != execution.VersionNumber)
            {
                (rejectionCode, rejection) = ("VersionMismatch", $"The expected version {expected} does not match the execution's version {execution.VersionNumber}.");
                return null;
            }

            var allowed = execution.Status switch
            {
                "QUEUED" => status is "IN_PROGRESS" or "SUCCEEDED" or "FAILED" or "REJECTED",
                "IN_PROGRESS" => status is "IN_PROGRESS" or "SUCCEEDED" or "FAILED" or "REJECTED",
                _ => false,
            };
            if (!allowed)
            {
                (rejectionCode, rejection) = ("InvalidStateTransition", $"The job execution is {execution.Status}; it cannot become {status}.");
                return null;
            }

            var now = _time.GetUtcNow();
            execution.StartedAt ??= now;
            execution.Status = status;
            if (details is not null)
            {
                execution.StatusDetails = new Dictionary<string, string>(details, StringComparer.Ordinal);
            }

            execution.VersionNumber++;
            execution.LastUpdatedAt = now;
            job.LastUpdatedAt = now;
            changed.Add(thing);
            if (AbortCriterionMet(job) is { } criterion)
            {
                JobStore.Cancel(job, "ABORTED", $"Job canceled by its abort configuration: {criterion}.", force: false, now);
                changed.AddRange(job.Executions.Keys.Where(t => t != thing));
            }

            store.Save();
            result = (job, execution);
        }

        Changed(account, region, changed);
        return result;
    }

    private List<string> TargetedThings(string account, string region, string targetArn)
    {
        var registry = _registry.RegistryOf(account, region);
        lock (registry.Sync)
        {
            if (targetArn.Contains(":thing/", StringComparison.Ordinal))
            {
                return [targetArn[(targetArn.IndexOf(":thing/", StringComparison.Ordinal) + 7)..]];
            }

            var group = targetArn[(targetArn.IndexOf(":thinggroup/", StringComparison.Ordinal) + 12)..];
            var groups = registry.Subtree(group).ToHashSet(StringComparer.Ordinal);
            return [.. registry.Things.Values.Where(t => t.Groups.Overlaps(groups)).Select(t => t.Name).Order(StringComparer.Ordinal)];
        }
    }

    private void OnThingAddedToGroup(string account, string region, string thing, IReadOnlyList<string> groupAndAncestors)
    {
        var arns = groupAndAncestors.Select(g => IotRegistryService.GroupArn(region, account, g)).ToHashSet(StringComparer.Ordinal);
        var store = StoreOf(account, region);
        var released = new List<string>();
        lock (store.Sync)
        {
            var targeted = false;
            foreach (var job in store.Jobs.Values.Where(j => j.Status == "IN_PROGRESS" && j.TargetSelection == "CONTINUOUS" && j.Targets.Any(arns.Contains)))
            {
                var now = _time.GetUtcNow();
                if (JobRollout.Target(job, thing, now))
                {
                    targeted = true;
                    // Queued at once, or in line for the rollout (which may reach it, or others, now).
                    released.AddRange(JobRollout.IsPaced(job) ? JobRollout.Release(job, now) : [thing]);
                }
            }

            if (!targeted)
            {
                return;
            }

            store.Save();
        }

        Changed(account, region, released.Distinct(StringComparer.Ordinal));
    }

    private JobStore Store(CloudRequest request) => StoreOf(request.Caller.AccountId, request.Region);

    private static JobRecord Find(JobStore store, string? jobId) =>
        store.Jobs.GetValueOrDefault(jobId ?? string.Empty) ?? throw IotErrors.CreateResourceNotFoundException($"Job {jobId} cannot be found.");

    private DescribeJobResponse DescribeJob(DescribeJobRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            var job = Find(store, input.JobId);
            var configuration = job.Configuration;
            return new DescribeJobResponse
            {
                Job = new Job
                {
                    JobArn = JobArn(request.Region, request.Caller.AccountId, job.JobId),
                    JobId = job.JobId,
                    TargetSelection = job.TargetSelection,
                    Status = job.Status,
                    ForceCanceled = job.ForceCanceled,
                    ReasonCode = job.ReasonCode,
                    Comment = job.Comment,
                    Targets = [.. job.Targets],
                    Description = job.Description,
                    CreatedAt = job.CreatedAt,
                    LastUpdatedAt = job.LastUpdatedAt,
                    CompletedAt = job.CompletedAt,
                    JobProcessDetails = JobStore.Details(job),
                    JobExecutionsRolloutConfig = configuration?["jobExecutionsRolloutConfig"] is JsonObject rollout
                        ? System.Text.Json.JsonSerializer.Deserialize(rollout.ToJsonString(), IotJsonContext.Default.JobExecutionsRolloutConfig) : null,
                    AbortConfig = configuration?["abortConfig"] is JsonObject abort
                        ? System.Text.Json.JsonSerializer.Deserialize(abort.ToJsonString(), IotJsonContext.Default.AbortConfig) : null,
                    TimeoutConfig = configuration?["timeoutConfig"] is JsonObject timeout
                        ? System.Text.Json.JsonSerializer.Deserialize(timeout.ToJsonString(), IotJsonContext.Default.TimeoutConfig) : null,
                    IsConcurrent = false,
                },
            };
        }
    }

    private GetJobDocumentResponse GetJobDocument(GetJobDocumentRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            return new GetJobDocumentResponse { Document = Find(store, input.JobId).Document };
        }
    }

    private ListJobsResponse ListJobs(ListJobsRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            var jobs = store.Jobs.Values
                .Where(j => input.Status is null || j.Status == input.Status)
                .Where(j => input.TargetSelection is null || j.TargetSelection == input.TargetSelection)
                .Where(j => input.ThingGroupName is null || j.Targets.Contains(IotRegistryService.GroupArn(request.Region, request.Caller.AccountId, input.ThingGroupName)))
                .OrderByDescending(j => j.CreatedAt)
                .ToList();
            var (page, next) = Page(jobs, input.MaxResults, input.NextToken);
            return new ListJobsResponse
            {
                Jobs = [.. page.Select(j => new JobSummary
                {
                    JobArn = JobArn(request.Region, request.Caller.AccountId, j.JobId),
                    JobId = j.JobId,
                    TargetSelection = j.TargetSelection,
                    Status = j.Status,
                    CreatedAt = j.CreatedAt,
                    LastUpdatedAt = j.LastUpdatedAt,
                    CompletedAt = j.CompletedAt,
                    IsConcurrent = false,
                })],
                NextToken = next,
            };
        }
    }

    private ListJobExecutionsForJobResponse ListJobExecutionsForJob(ListJobExecutionsForJobRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            var job = Find(store, input.JobId);
            var executions = job.Executions.Values.Where(e => input.Status is null || e.Status == input.Status).OrderBy(e => e.ExecutionNumber).ToList();
            var (page, next) = Page(executions, input.MaxResults, input.NextToken);
            return new ListJobExecutionsForJobResponse
            {
                ExecutionSummaries = [.. page.Select(e => new JobExecutionSummaryForJob { ThingArn = IotRegistryService.ThingArn(request.Region, request.Caller.AccountId, e.ThingName), JobExecutionSummary = Summary(e) })],
                NextToken = next,
            };
        }
    }

    private ListJobExecutionsForThingResponse ListJobExecutionsForThing(ListJobExecutionsForThingRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            var executions = store.Jobs.Values
                .Where(j => input.JobId is null || j.JobId == input.JobId)
                .SelectMany(j => j.Executions.Values.Where(e => e.ThingName == input.ThingName).Select(e => (Job: j, Execution: e)))
                .Where(p => input.Status is null || p.Execution.Status == input.Status)
                .OrderByDescending(p => p.Execution.QueuedAt)
                .ToList();
            var (page, next) = Page(executions, input.MaxResults, input.NextToken);
            return new ListJobExecutionsForThingResponse
            {
                ExecutionSummaries = [.. page.Select(p => new JobExecutionSummaryForThing { JobId = p.Job.JobId, JobExecutionSummary = Summary(p.Execution) })],
                NextToken = next,
            };
        }
    }

    private DescribeJobExecutionResponse DescribeJobExecution(DescribeJobExecutionRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            var job = Find(store, input.JobId);
            var execution = job.Executions.GetValueOrDefault(input.ThingName ?? string.Empty)
                ?? throw IotErrors.CreateResourceNotFoundException($"Job Execution for job {input.JobId} and thing {input.ThingName} cannot be found.");
            return new DescribeJobExecutionResponse
            {
                Execution = new JobExecution
                {
                    JobId = job.JobId,
                    Status = execution.Status,
                    ForceCanceled = job.ForceCanceled && execution.Status == "CANCELED",
                    StatusDetails = new JobExecutionStatusDetails { DetailsMap = new Dictionary<string, string>(execution.StatusDetails) },
                    ThingArn = IotRegistryService.ThingArn(request.Region, request.Caller.AccountId, execution.ThingName),
                    QueuedAt = execution.QueuedAt,
                    StartedAt = execution.StartedAt,
                    LastUpdatedAt = execution.LastUpdatedAt,
                    ExecutionNumber = execution.ExecutionNumber,
                    VersionNumber = execution.VersionNumber,
                },
            };
        }
    }

    private CancelJobResponse CancelJob(CancelJobRequest input, CloudRequest request)
    {
        var store = Store(request);
        lock (store.Sync)
        {
            var job = Find(store, input.JobId);
            if (job.Status == "COMPLETED")
            {
                throw new AwsServiceException(IotErrors.InvalidRequestException, 400, $"Job {job.JobId} is already COMPLETED and cannot be canceled.");
            }

            if (job.Status == "IN_PROGRESS")
            {
                JobStore.Cancel(job, input.ReasonCode, input.Comment, input.Force == true, _time.GetUtcNow());
                store.Save();
            }

            return new CancelJobResponse { JobArn = JobArn(request.Region, request.Caller.AccountId, job.JobId), JobId = job.JobId, Description = job.Description };
        }
    }

    private static JobExecutionSummary Summary(JobExecutionRecord e) => new()
    {
        Status = e.Status,
        QueuedAt = e.QueuedAt,
        StartedAt = e.StartedAt,
        LastUpdatedAt = e.LastUpdatedAt,
        ExecutionNumber = e.ExecutionNumber,
    };

    private static (IReadOnlyList<T> Page, string? Next) Page<T>(IReadOnlyList<T> items, int? maxResults, string? nextToken) =>
        Paging.Page(items, maxResults, nextToken, DefaultPageSize, 250, (member, message) => IotErrors.CreateInvalidRequestException(message));
}
