using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Aws.Iot;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.Iot;

/// <summary>One thing's execution of a job.</summary>
internal sealed class JobExecutionRecord
{
    public required string ThingName { get; init; }

    public string Status { get; set; } = "QUEUED";

    public Dictionary<string, string> StatusDetails { get; set; } = new(StringComparer.Ordinal);

    public long ExecutionNumber { get; init; }

    public long VersionNumber { get; set; } = 1;

    public DateTimeOffset QueuedAt { get; init; }

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset LastUpdatedAt { get; set; }

    /// <summary>Whether the execution is over (a terminal status).</summary>
    public bool IsTerminal => Status is "SUCCEEDED" or "FAILED" or "REJECTED" or "CANCELED" or "TIMED_OUT" or "REMOVED";
}

/// <summary>An IoT job: its document, its targets, and each targeted thing's execution.</summary>
internal sealed class JobRecord
{
    public required string JobId { get; init; }

    public required string Document { get; init; }

    public List<string> Targets { get; init; } = [];

    public string TargetSelection { get; init; } = "CONTINUOUS";

    public string Status { get; set; } = "IN_PROGRESS";

    public string? Description { get; init; }

    public string? ReasonCode { get; set; }

    public string? Comment { get; set; }

    public bool ForceCanceled { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastUpdatedAt { get; set; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>The rollout, abort and timeout configuration, as IoT's Job shape holds them.</summary>
    public JsonObject? Configuration { get; set; }

    public long NextExecutionNumber { get; set; } = 1;

    public Dictionary<string, JobExecutionRecord> Executions { get; init; } = new(StringComparer.Ordinal);

    /// <summary>Things the job targets that its rollout has not reached yet, in the order they came.</summary>
    public List<string> Waiting { get; init; } = [];

    /// <summary>When the rollout may next reach things (a batch a minute), null before it starts.</summary>
    public DateTimeOffset? NextRolloutAt { get; set; }

    /// <summary>An exponential rollout's current rate per minute (0 before it starts).</summary>
    public double RatePerMinute { get; set; }

    /// <summary>How many things had been notified when the rate last went up.</summary>
    public int NotifiedAtLastIncrease { get; set; }

    /// <summary>How many things had succeeded when the rate last went up.</summary>
    public int SucceededAtLastIncrease { get; set; }
}

/// <summary>
/// The IoT jobs of one account in one region, kept in <c>&lt;data&gt;/iot/&lt;account&gt;/&lt;region&gt;/jobs.json</c>
/// (written whole and atomically, behind the changes: <see cref="WriteBehind"/>). Callers hold <see cref="Sync"/>.
/// </summary>
internal sealed class JobStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly WriteBehind _writer;

    private JobStore(string file, Dictionary<string, JobRecord> jobs)
    {
        Jobs = jobs;
        _writer = new WriteBehind(file, Sync, () => new JsonObject
        {
            ["jobs"] = JsonSerializer.SerializeToNode(Jobs.Values.OrderBy(j => j.CreatedAt).ToList(), Json),
        });
    }

    public Lock Sync { get; } = new();

    public Dictionary<string, JobRecord> Jobs { get; }

    public static JobStore Load(string dataDirectory, string account, string region)
    {
        var file = Path.Combine(dataDirectory, "iot", account, region, "jobs.json");
        var jobs = new Dictionary<string, JobRecord>(StringComparer.Ordinal);
        if (JsonFiles.Read(file)?["jobs"]?.Deserialize<List<JobRecord>>(Json) is { } saved)
        {
            foreach (var job in saved)
            {
                jobs[job.JobId] = job;
            }
        }

        return new JobStore(file, jobs);
    }

    /// <summary>The jobs changed: they are written behind (<see cref="WriteBehind"/>).</summary>
    public void Save() => _writer.Changed();

    /// <summary>Writes what changed now (the cloud stopping).</summary>
    public void Flush() => _writer.Dispose();

    /// <summary>Queues an execution of <paramref name="job"/> for <paramref name="thing"/> unless it has one.</summary>
    public static bool Queue(JobRecord job, string thing, DateTimeOffset now)
    {
        if (job.Executions.ContainsKey(thing))
        {
            return false;
        }

        job.Executions[thing] = new JobExecutionRecord { ThingName = thing, ExecutionNumber = job.NextExecutionNumber++, QueuedAt = now, LastUpdatedAt = now };
        job.LastUpdatedAt = now;
        return true;
    }

    /// <summary>Cancels a job: queued executions are canceled, in-progress ones too when forced.</summary>
    public static void Cancel(JobRecord job, string? reasonCode, string? comment, bool force, DateTimeOffset now)
    {
        job.Status = "CANCELED";
        job.ReasonCode = reasonCode;
        job.Comment = comment;
        job.ForceCanceled = force;
        job.LastUpdatedAt = now;
        job.CompletedAt = now;
        job.Waiting.Clear();
        foreach (var execution in job.Executions.Values.Where(e => e.Status == "QUEUED" || (force && e.Status == "IN_PROGRESS")))
        {
            execution.Status = "CANCELED";
            execution.LastUpdatedAt = now;
            execution.VersionNumber++;
        }
    }

    /// <summary>The counts of DescribeJob's jobProcessDetails.</summary>
    public static JobProcessDetails Details(JobRecord job)
    {
        int Count(string status) => job.Executions.Values.Count(e => e.Status == status);
        return new JobProcessDetails
        {
            NumberOfQueuedThings = Count("QUEUED"),
            NumberOfInProgressThings = Count("IN_PROGRESS"),
            NumberOfSucceededThings = Count("SUCCEEDED"),
            NumberOfFailedThings = Count("FAILED"),
            NumberOfRejectedThings = Count("REJECTED"),
            NumberOfCanceledThings = Count("CANCELED"),
            NumberOfTimedOutThings = Count("TIMED_OUT"),
            NumberOfRemovedThings = Count("REMOVED"),
        };
    }
}
