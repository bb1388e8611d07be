using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Iot;

/// <summary>
/// A job's rollout and timeouts as IoT Jobs applies them (the job's <c>jobExecutionsRolloutConfig</c> and
/// <c>timeoutConfig</c>, which a Greengrass deployment passes through from its <c>iotJobConfiguration</c>). Things the
/// job targets wait until the rollout reaches them; only then is their execution queued and the device notified. The
/// rollout goes in batches a minute apart: <c>maximumPerMinute</c> things a batch (1000 by default), or with
/// <c>exponentialRate</c> <c>baseRatePerMinute</c> first, the rate multiplied by <c>incrementFactor</c> before a
/// batch when <c>numberOfNotifiedThings</c> more things were notified or <c>numberOfSucceededThings</c> more succeeded
/// since it last went up, never above <c>maximumPerMinute</c>. A thing that joins a targeted group waits for the next
/// batch (at once when none is due). An
/// execution IN_PROGRESS for longer than <c>inProgressTimeoutInMinutes</c> becomes TIMED_OUT. Callers hold the job
/// store's lock.
/// </summary>
internal static class JobRollout
{
    /// <summary>IoT Jobs' largest (and default) maximumPerMinute.</summary>
    public const int MaximumPerMinute = 1000;

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Whether the job has a rollout rate (its things wait their turn).</summary>
    public static bool IsPaced(JobRecord job) => job.Configuration?["jobExecutionsRolloutConfig"] is JsonObject rollout
        && (rollout["maximumPerMinute"] is not null || rollout["exponentialRate"] is JsonObject);

    /// <summary>
    /// Targets <paramref name="thing"/>: queued at once when the job is not paced, else in line for the rollout.
    /// True when something changed.
    /// </summary>
    public static bool Target(JobRecord job, string thing, DateTimeOffset now)
    {
        if (!IsPaced(job))
        {
            return JobStore.Queue(job, thing, now);
        }

        if (job.Executions.ContainsKey(thing) || job.Waiting.Contains(thing))
        {
            return false;
        }

        job.Waiting.Add(thing);
        return true;
    }

    /// <summary>Queues the waiting things the rollout's rate allows now; returns them.</summary>
    public static List<string> Release(JobRecord job, DateTimeOffset now)
    {
        if (job.Status != "IN_PROGRESS" || job.Waiting.Count == 0 || (job.NextRolloutAt is { } next && now < next))
        {
            return [];
        }

        var rollout = job.Configuration?["jobExecutionsRolloutConfig"] as JsonObject;
        var maximum = rollout?["maximumPerMinute"]?.GetValue<int>() ?? MaximumPerMinute;
        var rate = (double)maximum;
        if (rollout?["exponentialRate"] is JsonObject exponential)
        {
            rate = RaiseRate(job, exponential, maximum);
        }

        var released = new List<string>();
        var batch = Math.Max(1, (int)Math.Floor(rate));
        while (released.Count < batch && job.Waiting.Count > 0)
        {
            var thing = job.Waiting[0];
            job.Waiting.RemoveAt(0);
            if (JobStore.Queue(job, thing, now))
            {
                released.Add(thing);
            }
        }

        job.NextRolloutAt = now + Window;
        return released;
    }

    /// <summary>Ends the executions IN_PROGRESS for longer than the job's in-progress timeout as TIMED_OUT; returns their things.</summary>
    public static List<string> TimeOut(JobRecord job, DateTimeOffset now)
    {
        if (job.Configuration?["timeoutConfig"]?["inProgressTimeoutInMinutes"]?.GetValue<long>() is not { } minutes || minutes <= 0)
        {
            return [];
        }

        var timedOut = new List<string>();
        foreach (var execution in job.Executions.Values.Where(e => e.Status == "IN_PROGRESS" && e.StartedAt is { } started && now - started >= TimeSpan.FromMinutes(minutes)))
        {
            execution.Status = "TIMED_OUT";
            execution.VersionNumber++;
            execution.LastUpdatedAt = now;
            job.LastUpdatedAt = now;
            timedOut.Add(execution.ThingName);
        }

        return timedOut;
    }

    private static double RaiseRate(JobRecord job, JsonObject exponential, int maximum)
    {
        var notified = job.Executions.Count;
        var succeeded = job.Executions.Values.Count(e => e.Status == "SUCCEEDED");
        if (job.RatePerMinute <= 0)
        {
            job.RatePerMinute = Math.Min(exponential["baseRatePerMinute"]?.GetValue<int>() ?? 1, maximum);
            job.NotifiedAtLastIncrease = notified;
            job.SucceededAtLastIncrease = succeeded;
            return job.RatePerMinute;
        }

        var criteria = exponential["rateIncreaseCriteria"] as JsonObject;
        var byNotified = criteria?["numberOfNotifiedThings"]?.GetValue<int>() is { } n && notified - job.NotifiedAtLastIncrease >= n;
        var bySucceeded = criteria?["numberOfSucceededThings"]?.GetValue<int>() is { } s && succeeded - job.SucceededAtLastIncrease >= s;
        if (byNotified || bySucceeded)
        {
            job.RatePerMinute = Math.Min(job.RatePerMinute * (exponential["incrementFactor"]?.GetValue<double>() ?? 2), maximum);
            job.NotifiedAtLastIncrease = notified;
            job.SucceededAtLastIncrease = succeeded;
        }

        return job.RatePerMinute;
    }
}
