using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.Aws.Iot;
using Fogline.Rollout.Deployments;

namespace Fogline.Rollout.Rollouts;

/// <summary>How a rollout ended (or stopped).</summary>
/// <param name="Status"><c>completed</c>, <c>paused</c>, <c>reverted</c>, <c>failed</c> or <c>planned</c> (a dry run).</param>
/// <param name="Reason">Why it did not complete.</param>
/// <param name="State">Its state.</param>
public sealed record RolloutOutcome(string Status, string? Reason, RolloutState State);

/// <summary>How the runner works.</summary>
public sealed record RolloutOptions
{
    /// <summary>Where rollout states are kept.</summary>
    public required string StateDirectory { get; init; }

    /// <summary>How often devices' reports are read while a gate waits. Default 10 s.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Plan and print, change nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Where progress lines go.</summary>
    public Action<string> Progress { get; init; } = _ => { };

    /// <summary>
    /// Where the gates' live figures go while they wait (devices succeeded, failed and pending; the bake's progress),
    /// one line redrawn in place on a terminal; null: not shown.
    /// </summary>
    public Action<string>? Status { get; init; }

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// Runs a <see cref="RolloutPlan"/> against AWS or the local cloud. Before anything is deployed, the preflight checks
/// the plan against the account: the group and its deployment, the versions, the devices' Nucleus (2.9 or later, for
/// subdeployments), other groups of the stage devices that deploy another version of a rolled-out component, the
/// stage group. Then each stage before the last adds its devices (in a deterministic order, spread across an
/// attribute if asked) to one stage group whose deployment is a subdeployment of the group's (parentTargetArn), so
/// the devices keep everything else of the group's deployment; the last stage is the group's own next revision, which
/// replaces the subdeployment. Each stage must pass its gates: every stage device's deployment SUCCEEDED within the
/// timeout (a silent device is never healthy), then for the whole bake the rolled-out components RUNNING without a
/// restart and the device HEALTHY, only reports newer than the stage's start counting. A failed gate stops the
/// rollout and (by default) reverts: the group's next revision is its deployment from before the rollout, which
/// replaces the subdeployment, so a stage device that is offline gets the previous version when it comes back and
/// never the new one; the stage devices are then checked back on the previous version. The state is saved after
/// every step: running the same plan again resumes where it stopped, and every deployment carries a client token
/// derived from the rollout, so none is made twice.
/// </summary>
public sealed class RolloutRunner
{
    private static readonly string[] HaltingCauses = ["FAILED_UNABLE_TO_ROLLBACK"];
    /// <summary>
    /// The error codes with which AWS refuses credentials (expired session tokens, deleted or deactivated keys, missing
    /// permissions): the rollout pauses, resumable once they are renewed.
    /// </summary>
    private static readonly HashSet<string> CredentialRefusals = new(StringComparer.Ordinal)
    {
        "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId", "UnrecognizedClientException",
        "AccessDeniedException", "AccessDenied", "InvalidSignatureException", "SignatureDoesNotMatch",
    };

    /// <summary>The most devices a metric gate's control group reads.</summary>
    public const int MaxControlDevices = 50;
    private static readonly string[] HaltingErrorTypes = ["DEPENDENCY_ERROR", "PERMISSION_ERROR", "REQUEST_ERROR", "NUCLEUS_ERROR"];
    private readonly AwsClients _clients;
    private readonly string _account;
    private readonly TargetDeployments _deployments;
    private readonly GroupDevices _devices;

    /// <summary>Works through <paramref name="clients"/> in <paramref name="account"/>.</summary>
    public RolloutRunner(AwsClients clients, string account)
    {
        _clients = clients ?? throw new ArgumentNullException(nameof(clients));
        _account = account ?? throw new ArgumentNullException(nameof(account));
        _deployments = new TargetDeployments(clients.Greengrass);
        _devices = new GroupDevices(clients.Iot, clients.Greengrass);
    }

    private string Region => _clients.Settings.Region;

    /// <summary>Runs (or resumes) the rollout of <paramref name="plan"/>.</summary>
    /// <exception cref="RolloutPreflightException">The preflight found problems; nothing was deployed.</exception>
    public async Task<RolloutOutcome> RunAsync(RolloutPlan plan, RolloutOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var say = options.Progress;
        var target = DeploymentTarget.Group(plan.Group, _account, Region);
        var rolloutId = plan.Fingerprint();
        var statePath = RolloutState.PathOf(options.StateDirectory, _account, Region, plan.Group, rolloutId);
        var current = await _deployments.ReadAsync(target, cancellationToken).ConfigureAwait(false)
            ?? throw new RolloutPreflightException([$"thing group {plan.Group} has no deployment to roll components out in: deploy it first (aws greengrassv2 create-deployment, or fogline deployment set)"]);
        var state = RolloutState.Load(statePath);
        if (File.Exists(PauseMarker(statePath)))
        {
            // A pause asked of an earlier run: this run is the resume.
            File.Delete(PauseMarker(statePath));
        }

        if (state is { Status: "completed" } && state.FinalDeploymentId == current.DeploymentId)
        {
            say($"rollout {rolloutId} of {Describe(plan)} to thing group {plan.Group} already completed (revision {current.RevisionId})");
            return new RolloutOutcome("completed", null, state);
        }

        if (state is null || state.IsFinished)
        {
            state = await StartAsync(plan, rolloutId, target, current, options, cancellationToken).ConfigureAwait(false);
            if (options.DryRun)
            {
                return new RolloutOutcome("planned", null, state);
            }

            state.Save(statePath);
        }
        else
        {
            say($"resuming rollout {rolloutId} of {Describe(plan)} to thing group {plan.Group} at stage {state.Stage + 1} of {plan.Stages.Count} ({plan.Stages[state.Stage].Name}; it was {state.Status}{(state.Reason is null ? string.Empty : ": " + state.Reason)})");
            if (current.DeploymentId != state.BasisDeploymentId && current.DeploymentId != state.FinalDeploymentId)
            {
                var basis = await _clients.Greengrass.GetDeploymentAsync(new GetDeploymentRequest { DeploymentId = state.BasisDeploymentId }, cancellationToken).ConfigureAwait(false);
                var changed = new DeploymentChangedException(target, basis, current).Message;
                return Stop(state, statePath, "failed", "someone else changed the group's deployment during the rollout: " + changed + "; the rollout stops (nothing reverted: look at the new revision first)", say);
            }

            if (options.DryRun)
            {
                return new RolloutOutcome("planned", null, state);
            }

            state.Status = "running";
            state.Reason = null;
            state.Save(statePath);
        }

        try
        {
            return await ProceedAsync(plan, target, state, statePath, options, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (CredentialRefusals.Contains(e.Code))
        {
            return Stop(state, statePath, "paused", $"AWS refused the credentials during stage {state.Stage + 1} ({plan.Stages[Math.Min(state.Stage, plan.Stages.Count - 1)].Name}): {e.Code}: {e.Message}; renew them and run the same plan again to resume", say);
        }
        catch (AwsSettingsException e)
        {
            return Stop(state, statePath, "paused", $"the AWS credentials could not be obtained during stage {state.Stage + 1}: {e.Message}; renew them and run the same plan again to resume", say);
        }
    }

    /// <summary>The stages from where the state says, to the end (or a stop).</summary>
    private async Task<RolloutOutcome> ProceedAsync(RolloutPlan plan, DeploymentTarget target, RolloutState state, string statePath, RolloutOptions options, CancellationToken cancellationToken)
    {
        var say = options.Progress;
        var rolloutId = state.RolloutId;
        var basisDeployment = await _clients.Greengrass.GetDeploymentAsync(new GetDeploymentRequest { DeploymentId = state.BasisDeploymentId }, cancellationToken).ConfigureAwait(false);
        while (state.Stage < plan.Stages.Count)
        {
            var stage = plan.Stages[state.Stage];
            var reach = stage.Reach(state.Order.Count);

            // The group as it is now: a device that left it since the rollout started is skipped (never added to the
            // stage group, never judged); one that joined keeps the group's deployment (the previous versions) until
            // the last stage, the group's own revision, reaches and judges it with every other member.
            var members = await _devices.ThingsAsync(plan.Group, cancellationToken).ConfigureAwait(false);
            var memberSet = members.ToHashSet(StringComparer.Ordinal);
            var left = state.Order.Take(stage.IsWholeGroup ? state.Order.Count : reach).Where(t => !memberSet.Contains(t)).ToList();
            var joined = members.Except(state.Order, StringComparer.Ordinal).ToList();
            if (left.Count > 0)
            {
                say($"  stage {stage.Name}: {left.Count} device(s) left thing group {plan.Group} since the rollout started and are skipped: {Preview(left)}");
            }

            if (joined.Count > 0)
            {
                say($"  stage {stage.Name}: {joined.Count} device(s) joined thing group {plan.Group} since the rollout started: {(stage.IsWholeGroup ? "this stage, the group's revision, reaches and judges them" : "they keep the group's deployment until the last stage, the group's revision, reaches and judges them")}: {Preview(joined)}");
            }

            var stageDevices = stage.IsWholeGroup ? [.. members] : state.Order.Take(reach).Where(memberSet.Contains).ToList();
            if (state.StageJobId is null)
            {
                state.StageStartedAt = options.Time.GetUtcNow();
                state.StageJobId = stage.IsWholeGroup
                    ? await WriteFinalAsync(plan, target, state, basisDeployment, cancellationToken).ConfigureAwait(false)
                    : await DeployStageAsync(plan, state, basisDeployment, stageDevices, cancellationToken).ConfigureAwait(false);
                state.Save(statePath);
                say($"stage {state.Stage + 1}/{plan.Stages.Count} {stage.Name}: {stageDevices.Count} device(s){(stage.IsWholeGroup ? $": the group's revision {Revision(state.FinalDeploymentId)}" : $" in thing group {state.StageGroup} (a subdeployment of {plan.Group})")}: {Preview(stageDevices)}");
            }

            // Devices an earlier stage took and judged on the same subdeployment: their success stands (the bake
            // still watches them for a restart since).
            var earlier = state.Stage > 0 && !stage.IsWholeGroup ? state.Order.Take(plan.Stages[state.Stage - 1].Reach(state.Order.Count)).ToHashSet(StringComparer.Ordinal) : [];
            var verdict = await GateAsync(plan, stage, state, stageDevices, members, earlier, options, PauseMarker(statePath), cancellationToken).ConfigureAwait(false);
            state.Verdicts.Add($"{stage.Name}: {verdict.Line}");
            state.Save(statePath);
            if (verdict.Kind == GateKind.Inconclusive)
            {
                return Stop(state, statePath, "paused", verdict.Line + "; run the same plan again to resume (or fogline rollout abort to revert)", say);
            }

            if (verdict.Kind == GateKind.Fail)
            {
                if (plan.OnFailure == "pause")
                {
                    return Stop(state, statePath, "paused", verdict.Line + "; onFailure is pause: nothing reverted", say);
                }

                await RevertAsync(plan, target, state, basisDeployment, stageDevices, options, cancellationToken).ConfigureAwait(false);
                return Stop(state, statePath, "reverted", verdict.Line, say);
            }

            state.Stage++;
            state.StageJobId = null;
            state.StageStartedAt = null;
            state.Save(statePath);
        }

        await RemoveStageGroupAsync(state, cancellationToken).ConfigureAwait(false);
        state.Status = "completed";
        state.Save(statePath);
        say($"rollout {rolloutId} completed: thing group {plan.Group} deploys {Describe(plan)} (revision {Revision(state.FinalDeploymentId)})");
        return new RolloutOutcome("completed", null, state);
    }

    /// <summary>The file whose presence asks the run under way to pause at its next look (<c>fogline rollout pause</c>).</summary>
    public static string PauseMarker(string statePath) => statePath + ".pause";

    /// <summary>Asks the rollout of <paramref name="plan"/> under way (in any process) to pause; false when none is under way.</summary>
    public bool RequestPause(RolloutPlan plan, RolloutOptions options)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var statePath = RolloutState.PathOf(options.StateDirectory, _account, Region, plan.Group, plan.Fingerprint());
        if (RolloutState.Load(statePath) is not { Status: "running" })
        {
            return false;
        }

        File.WriteAllText(PauseMarker(statePath), DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
        return true;
    }

    /// <summary>Reverts a rollout that is not finished (as a failed gate would) and marks it reverted.</summary>
    public async Task<RolloutOutcome> AbortAsync(RolloutPlan plan, RolloutOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(options);
        var statePath = RolloutState.PathOf(options.StateDirectory, _account, Region, plan.Group, plan.Fingerprint());
        var state = RolloutState.Load(statePath);
        if (state is null || state.IsFinished)
        {
            throw new RolloutPreflightException([$"no rollout of this plan is under way for thing group {plan.Group}{(state is null ? string.Empty : $" (the last one {state.Status})")}"]);
        }

        var target = DeploymentTarget.Group(plan.Group, _account, Region);
        var basis = await _clients.Greengrass.GetDeploymentAsync(new GetDeploymentRequest { DeploymentId = state.BasisDeploymentId }, cancellationToken).ConfigureAwait(false);
        var stage = plan.Stages[Math.Min(state.Stage, plan.Stages.Count - 1)];
        var stageDevices = stage.IsWholeGroup ? (await _devices.ThingsAsync(plan.Group, cancellationToken).ConfigureAwait(false)).ToList() : state.Order.Take(stage.Reach(state.Order.Count)).ToList();
        await RevertAsync(plan, target, state, basis, stageDevices, options, cancellationToken).ConfigureAwait(false);
        return Stop(state, statePath, "reverted", "aborted", options.Progress);
    }

    private async Task<RolloutState> StartAsync(RolloutPlan plan, string rolloutId, DeploymentTarget target, GetDeploymentResponse current, RolloutOptions options, CancellationToken cancellationToken)
    {
        var say = options.Progress;
        var problems = new List<string>();
        var things = await _devices.ThingsAsync(plan.Group, cancellationToken).ConfigureAwait(false);
        if (things.Count == 0)
        {
            throw new RolloutPreflightException([$"thing group {plan.Group} has no devices"]);
        }

        var (request, changes) = TargetDeployments.Plan(target, current, new DeploymentEdit { Versions = plan.Components });
        if (changes.Count == 0)
        {
            throw new RolloutPreflightException([$"thing group {plan.Group} already deploys {Describe(plan)}: nothing to roll out"]);
        }

        problems.AddRange(await _deployments.MissingVersionsAsync(target, current, request, cancellationToken).ConfigureAwait(false));
        if (current.ParentTargetArn is not null)
        {
            problems.Add($"thing group {plan.Group}'s deployment is itself a subdeployment of {current.ParentTargetArn}: roll out from the parent group");
        }

        // The order the stages take devices in: deterministic for the plan, spread across the attribute's values.
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (plan.SpreadBy is { } attribute)
        {
            foreach (var thing in things)
            {
                var described = await _clients.Iot.DescribeThingAsync(new DescribeThingRequest { ThingName = thing }, cancellationToken).ConfigureAwait(false);
                attributes[thing] = described.Attributes?.GetValueOrDefault(attribute) ?? string.Empty;
            }
        }

        var order = StageOrder.Of(things, t => attributes.GetValueOrDefault(t) ?? string.Empty, rolloutId);
        var stageGroup = StageGroupName(plan.Group, rolloutId);
        var partial = plan.Stages.Where(s => !s.IsWholeGroup).Select(s => s.Reach(order.Count)).DefaultIfEmpty(0).Max();
        var stageDevices = order.Take(partial).ToList();
        for (var i = 0; i < plan.Stages.Count; i++)
        {
            var reach = plan.Stages[i].Reach(order.Count);
            if (i > 0 && !plan.Stages[i].IsWholeGroup && reach <= plan.Stages[i - 1].Reach(order.Count))
            {
                problems.Add($"stages[{i}] ({plan.Stages[i].Name}) reaches {reach} of the group's {order.Count} devices, no more than stages[{i - 1}]: stages would overlap");
            }
        }

        await PreflightDevicesAsync(plan, target, stageDevices, stageGroup, problems, options, cancellationToken).ConfigureAwait(false);
        if (problems.Count > 0)
        {
            throw new RolloutPreflightException(problems);
        }

        say($"rollout {rolloutId} of {Describe(plan)} to thing group {plan.Group} ({order.Count} devices), from revision {current.RevisionId}:");
        foreach (var change in changes)
        {
            say("  " + change);
        }

        foreach (var stage in plan.Stages)
        {
            var reach = stage.IsWholeGroup ? order.Count : stage.Reach(order.Count);
            say($"  stage {stage.Name}: {reach} device(s){(stage.IsWholeGroup ? " (the group's next revision)" : string.Empty)}, bake {stage.Bake.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, deployment within {stage.Gates.DeploymentTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s, at least {stage.Gates.MinimumHealthy * 100:0.#} % healthy: {Preview(order.Take(reach).ToList())}");
        }

        if (options.DryRun)
        {
            say("dry run: nothing deployed. The stages' subdeployment would be:");
            say(JsonSerializer.Serialize(SubdeploymentRequest(plan, stageGroup, rolloutId, current), GreengrassV2JsonContext.Default.CreateDeploymentRequest));
            say("and the last stage the group's next revision:");
            say(JsonSerializer.Serialize(FinalRequest(plan, target, rolloutId, current), GreengrassV2JsonContext.Default.CreateDeploymentRequest));
        }

        return new RolloutState { RolloutId = rolloutId, Group = plan.Group, BasisDeploymentId = current.DeploymentId!, Order = [.. order], StageGroup = stageGroup };
    }

    private async Task PreflightDevicesAsync(RolloutPlan plan, DeploymentTarget target, List<string> stageDevices, string stageGroup, List<string> problems, RolloutOptions options, CancellationToken cancellationToken)
    {
        var minimum = new Version(2, 9, 0);
        foreach (var thing in stageDevices)
        {
            var report = await _devices.ReportAsync(thing, cancellationToken).ConfigureAwait(false);
            if (report.Core is null)
            {
                // Not a reason to hold the rollout back: a device that never reports can never pass a gate either.
                options.Progress($"  warning: {thing} has never reported to Greengrass (its Nucleus version cannot be checked); it will not count as healthy until it does");
            }
            else if (!Version.TryParse((report.Core.CoreVersion ?? string.Empty).Split('-', '+')[0], out var version) || version < minimum)
            {
                problems.Add($"{thing} runs Nucleus {report.Core.CoreVersion ?? "(unknown)"}: subdeployments need 2.9.0 or later");
            }

            var groups = await _clients.Iot.ListThingGroupsForThingAsync(new ListThingGroupsForThingRequest { ThingName = thing }, cancellationToken).ConfigureAwait(false);
            foreach (var other in (groups.ThingGroups ?? []).Select(g => g.GroupName!).Where(g => g != plan.Group && g != stageGroup))
            {
                var deployment = await _deployments.ReadAsync(DeploymentTarget.Group(other, _account, Region), cancellationToken).ConfigureAwait(false);
                if (deployment is not { DeploymentStatus: "ACTIVE" })
                {
                    continue;
                }

                foreach (var (name, version) in plan.Components)
                {
                    if (deployment.Components?.GetValueOrDefault(name) is { } spec && spec.ComponentVersion != version)
                    {
                        problems.Add($"{thing} is also in thing group {other}, whose deployment asks for {name} {spec.ComponentVersion}: the device would be asked for two versions and its deployment would fail");
                    }
                }
            }
        }

        var existing = await _deployments.ReadAsync(DeploymentTarget.Group(stageGroup, _account, Region), cancellationToken).ConfigureAwait(false);
        if (existing?.ParentTargetArn is { } parent && parent != target.Arn)
        {
            problems.Add($"the stage group {stageGroup} is tied to another parent ({parent})");
        }
    }

    private async Task<string> DeployStageAsync(RolloutPlan plan, RolloutState state, GetDeploymentResponse basis, List<string> devices, CancellationToken cancellationToken)
    {
        try
        {
            await _clients.Iot.CreateThingGroupAsync(new CreateThingGroupRequest { ThingGroupName = state.StageGroup, ThingGroupProperties = new ThingGroupProperties { ThingGroupDescription = $"fogline rollout {state.RolloutId} of thing group {plan.Group}" } }, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException ex) when (ex.Code == "ResourceAlreadyExistsException")
        {
        }

        foreach (var thing in devices)
        {
            await _clients.Iot.AddThingToThingGroupAsync(new AddThingToThingGroupRequest { ThingName = thing, ThingGroupName = state.StageGroup }, cancellationToken).ConfigureAwait(false);
        }

        if (state.SubdeploymentId is null)
        {
            var created = await _clients.Greengrass.CreateDeploymentAsync(SubdeploymentRequest(plan, state.StageGroup, state.RolloutId, basis), cancellationToken).ConfigureAwait(false);
            state.SubdeploymentId = created.DeploymentId;
            return created.IotJobId!;
        }

        // Later stages add devices to the stage group: its continuous deployment reaches them.
        return (await _clients.Greengrass.GetDeploymentAsync(new GetDeploymentRequest { DeploymentId = state.SubdeploymentId }, cancellationToken).ConfigureAwait(false)).IotJobId!;
    }

    private async Task<string> WriteFinalAsync(RolloutPlan plan, DeploymentTarget target, RolloutState state, GetDeploymentResponse basis, CancellationToken cancellationToken)
    {
        var request = FinalRequest(plan, target, state.RolloutId, basis);
        var current = await _deployments.ReadAsync(target, cancellationToken).ConfigureAwait(false);
        var written = await _deployments.WriteAsync(target, current, request, cancellationToken).ConfigureAwait(false);
        state.FinalDeploymentId = written.DeploymentId;
        return written.IotJobId!;
    }

    private CreateDeploymentRequest SubdeploymentRequest(RolloutPlan plan, string stageGroup, string rolloutId, GetDeploymentResponse basis)
    {
        var (request, _) = TargetDeployments.Plan(DeploymentTarget.Group(stageGroup, _account, Region), basis, new DeploymentEdit { Versions = plan.Components });
        request.TargetArn = DeploymentTarget.Group(stageGroup, _account, Region).Arn;
        request.ParentTargetArn = DeploymentTarget.Group(plan.Group, _account, Region).Arn;
        request.DeploymentName = $"{basis.DeploymentName ?? plan.Group} rollout {rolloutId}";
        request.IotJobConfiguration = JobConfiguration(plan) ?? request.IotJobConfiguration;
        request.ClientToken = $"fogline-{rolloutId}-stages";
        return request;
    }

    private static CreateDeploymentRequest FinalRequest(RolloutPlan plan, DeploymentTarget target, string rolloutId, GetDeploymentResponse basis)
    {
        var (request, _) = TargetDeployments.Plan(target, basis, new DeploymentEdit { Versions = plan.Components });
        request.IotJobConfiguration = JobConfiguration(plan) ?? request.IotJobConfiguration;
        request.ClientToken = $"fogline-{rolloutId}-final";
        return request;
    }

    private static DeploymentIoTJobConfiguration? JobConfiguration(RolloutPlan plan) => plan.IotJobConfiguration is { } job
        ? JsonSerializer.Deserialize(job.ToJsonString(), GreengrassV2JsonContext.Default.DeploymentIoTJobConfiguration)
        : null;

    private enum GateKind
    {
        Pass,
        Fail,
        Inconclusive,
    }

    private sealed record Verdict(GateKind Kind, string Line);

    /// <summary>The stage's gates: the deployment on every stage device, then the bake.</summary>
    private async Task<Verdict> GateAsync(RolloutPlan plan, RolloutStage stage, RolloutState state, List<string> devices, IReadOnlyCollection<string> members, HashSet<string> earlier, RolloutOptions options, string pauseMarker, CancellationToken cancellationToken)
    {
        Verdict? PauseRequested()
        {
            if (!File.Exists(pauseMarker))
            {
                return null;
            }

            File.Delete(pauseMarker);
            return new Verdict(GateKind.Inconclusive, $"paused on request (fogline rollout pause) during stage {stage.Name}");
        }

        var time = options.Time;
        var start = state.StageStartedAt!.Value;
        var allowed = devices.Count - (int)Math.Ceiling(devices.Count * stage.Gates.MinimumHealthy - 1e-9);
        var deadline = start + stage.Gates.DeploymentTimeout;
        var stageSet = devices.ToHashSet(StringComparer.Ordinal);
        Dictionary<string, DateTimeOffset> succeeded;

        // The deployment: the stage job's executions, read for the whole fleet a page at a time (IoT Jobs), with the
        // details of the failed ones only.
        var causes = new Dictionary<string, string>(StringComparer.Ordinal);
        while (true)
        {
            succeeded = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            var failed = new List<string>();
            foreach (var (thing, execution) in await ExecutionsAsync(state.StageJobId!, cancellationToken).ConfigureAwait(false))
            {
                if (!stageSet.Contains(thing))
                {
                    continue;
                }

                switch (execution.Status)
                {
                    case "SUCCEEDED" when earlier.Contains(thing) || (execution.LastUpdatedAt ?? start) >= start.AddSeconds(-1):
                        succeeded[thing] = execution.LastUpdatedAt ?? start;
                        break;
                    case "FAILED" or "REJECTED" or "TIMED_OUT" or "CANCELED" or "REMOVED":
                        if (!causes.TryGetValue(thing, out var cause))
                        {
                            var described = await _clients.Iot.DescribeJobExecutionAsync(new DescribeJobExecutionRequest { JobId = state.StageJobId, ThingName = thing }, cancellationToken).ConfigureAwait(false);
                            var details = described.Execution?.StatusDetails?.DetailsMap ?? [];
                            cause = causes[thing] = $"{thing} {execution.Status}: {details.GetValueOrDefault("detailed-deployment-status") ?? "(no detailed status)"}: {details.GetValueOrDefault("deployment-failure-cause") ?? "(no reason given)"}";
                            var errorTypes = details.GetValueOrDefault("error-types") ?? string.Empty;
                            if (HaltingCauses.Any(c => cause.Contains(c, StringComparison.Ordinal)) || HaltingErrorTypes.Any(t => errorTypes.Contains(t, StringComparison.Ordinal)))
                            {
                                return new Verdict(GateKind.Fail, $"deployment: FAIL at once, retrying cannot fix it: {cause}");
                            }
                        }

                        failed.Add(cause);
                        break;
                }
            }

            var pending = devices.Where(d => !succeeded.ContainsKey(d) && !causes.ContainsKey(d)).ToList();
            if (failed.Count > allowed)
            {
                return new Verdict(GateKind.Fail, $"deployment: FAIL: {failed.Count} of {devices.Count} device(s) failed, at most {allowed} may: {string.Join("; ", failed.Take(10))}{(failed.Count > 10 ? $" and {failed.Count - 10} more" : string.Empty)}");
            }

            if (PauseRequested() is { } paused)
            {
                return paused;
            }

            if (pending.Count == 0)
            {
                options.Progress($"  gate deployment: pass: {succeeded.Count} of {devices.Count} SUCCEEDED{(failed.Count > 0 ? $", {failed.Count} failed (allowed {allowed})" : string.Empty)}");
                break;
            }

            // Enough succeeded that the rest cannot change the verdict, whatever they report (they are within the
            // share allowed not to pass): the stage need not wait for them.
            if (allowed > 0 && succeeded.Count >= devices.Count - allowed)
            {
                options.Progress($"  gate deployment: pass: {succeeded.Count} of {devices.Count} SUCCEEDED, at least {devices.Count - allowed} needed; {pending.Count} still deploying and {failed.Count} failed, within the {allowed} allowed: {Preview(pending)}");
                break;
            }

            options.Status?.Invoke($"stage {stage.Name}: deployment {succeeded.Count} of {devices.Count} SUCCEEDED, {failed.Count} failed, {pending.Count} pending ({(time.GetUtcNow() - start).TotalSeconds:0} s of {stage.Gates.DeploymentTimeout.TotalSeconds:0} s)");
            if (time.GetUtcNow() >= deadline)
            {
                var line = $"deployment: {pending.Count} device(s) did not report the deployment within {stage.Gates.DeploymentTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s: {Preview(pending, 50)}";
                if (failed.Count + pending.Count > allowed)
                {
                    return new Verdict(GateKind.Inconclusive, "INCONCLUSIVE: " + line + " (a silent device is never counted healthy)");
                }

                options.Progress($"  gate deployment: pass with silent devices within the allowed share: {line}");
                break;
            }

            await Task.Delay(options.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }

        // The bake: the components RUNNING without a restart since the deployment, the device HEALTHY. The core
        // devices' statuses are read for the whole group a page at a time; a device's components are read when it
        // reported something new (a component changing state makes the Nucleus report). A device's deployment status
        // and its components' report travel separately: until a component report newer than the deployment's success
        // arrives, the device is unknown (and stays so if none comes), not failed.
        var bakeEnd = (succeeded.Count == 0 ? start : succeeded.Values.Max()) + stage.Bake;
        var broken = new Dictionary<string, string>(StringComparer.Ordinal);
        var unknown = succeeded.Keys.ToHashSet(StringComparer.Ordinal);
        var lastSeen = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        var metrics = MetricWatchFor(stage, state, stageSet, members, succeeded.Keys.Where(t => !earlier.Contains(t)).ToList(), start, options);
        List<string>? metricLines = null;
        while (true)
        {
            if (metrics is not null)
            {
                await metrics.LookAsync(cancellationToken).ConfigureAwait(false);
            }

            var statuses = await CoreStatusesAsync(plan.Group, cancellationToken).ConfigureAwait(false);
            foreach (var (thing, at) in succeeded)
            {
                if (broken.ContainsKey(thing) || statuses.GetValueOrDefault(thing) is not { } core)
                {
                    continue;
                }

                var reportedAt = core.LastStatusUpdateTimestamp ?? DateTimeOffset.MinValue;
                if (lastSeen.TryGetValue(thing, out var seen) && reportedAt <= seen && !unknown.Contains(thing))
                {
                    continue;
                }

                lastSeen[thing] = reportedAt;
                if (stage.Gates.HealthyCore && core.Status == "UNHEALTHY" && reportedAt >= at.AddSeconds(-1))
                {
                    broken[thing] = "the core device reports UNHEALTHY" + (await ComponentProblemAsync(plan, thing, at, cancellationToken).ConfigureAwait(false) is { } why ? ": " + why : string.Empty);
                    unknown.Remove(thing);
                    continue;
                }

                // A device an earlier stage judged on the same subdeployment passed that stage's bake; it reports
                // again only when a component changes state, so its reports since its own success count.
                var report = await _devices.ReportAsync(thing, cancellationToken).ConfigureAwait(false);
                if (!Fresh(plan, report, earlier.Contains(thing) ? at : start, at))
                {
                    unknown.Add(thing);
                    continue;
                }

                unknown.Remove(thing);
                if (ComponentProblem(plan, report, at) is { } problem)
                {
                    broken[thing] = problem;
                }
            }

            var unhealthy = devices.Count - succeeded.Count + broken.Count;
            var baked = stage.Bake - (bakeEnd - time.GetUtcNow());
            options.Status?.Invoke($"stage {stage.Name}: bake {Math.Clamp(baked.TotalSeconds, 0, stage.Bake.TotalSeconds):0} s of {stage.Bake.TotalSeconds:0} s: {succeeded.Count - broken.Count - unknown.Count} healthy, {broken.Count} failed, {unknown.Count} not reported since{(metrics is null ? string.Empty : ", metrics read")}");
            if (unhealthy > allowed)
            {
                return new Verdict(GateKind.Fail, $"bake: FAIL: {string.Join("; ", broken.Take(10).Select(b => b.Key + ": " + b.Value))}{(broken.Count > 10 ? $" and {broken.Count - 10} more" : string.Empty)}");
            }

            if (PauseRequested() is { } paused)
            {
                return paused;
            }

            if (time.GetUtcNow() >= bakeEnd && (unknown.Count == 0 || time.GetUtcNow() >= bakeEnd + stage.Gates.DeploymentTimeout))
            {
                if (unhealthy + unknown.Count > allowed)
                {
                    return new Verdict(GateKind.Inconclusive, $"bake: INCONCLUSIVE: {unknown.Count} device(s) reported their deployment but not their components since: {Preview([.. unknown])}");
                }

                if (metrics is not null)
                {
                    // Counters still missing get until the deployment timeout after the bake to arrive.
                    var verdicts = metrics.Judge();
                    if (verdicts.FirstOrDefault(v => v.Kind == "fail") is { Line: not null } failed)
                    {
                        return new Verdict(GateKind.Fail, failed.Line);
                    }

                    if (verdicts.FirstOrDefault(v => v.Kind == "inconclusive") is { Line: not null } missing)
                    {
                        if (time.GetUtcNow() < bakeEnd + stage.Gates.DeploymentTimeout)
                        {
                            await Task.Delay(options.PollInterval, time, cancellationToken).ConfigureAwait(false);
                            continue;
                        }

                        return new Verdict(GateKind.Inconclusive, missing.Line);
                    }

                    metricLines = [.. verdicts.Select(v => v.Line)];
                    foreach (var line in metricLines)
                    {
                        options.Progress("  gate " + line);
                    }
                }

                options.Progress($"  gate bake: pass: {succeeded.Count - broken.Count - unknown.Count} device(s) ran {Describe(plan)} for {stage.Bake.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s without a restart{(stage.Gates.HealthyCore ? ", HEALTHY" : string.Empty)}");
                return new Verdict(GateKind.Pass, $"pass: {succeeded.Count - broken.Count - unknown.Count} of {devices.Count} healthy through the bake{(metricLines is null ? string.Empty : "; " + string.Join("; ", metricLines))}");
            }

            var wait = bakeEnd - time.GetUtcNow();
            await Task.Delay(wait > TimeSpan.Zero && wait < options.PollInterval ? wait : options.PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The metric gates' watch for a stage (null without metric gates): the stage's devices that took the new version in
    /// this stage against a control group of up to <see cref="MaxControlDevices"/> devices of the group outside the
    /// stage (in the rollout's order, so the same ones at every look and on a resume). The last stage leaves no
    /// device on the previous version: nothing to compare with, which its line says.
    /// </summary>
    private MetricWatch? MetricWatchFor(RolloutStage stage, RolloutState state, HashSet<string> stageSet, IReadOnlyCollection<string> members, List<string> judged, DateTimeOffset start, RolloutOptions options)
    {
        if (stage.Gates.Metrics.Count == 0)
        {
            return null;
        }

        var inGroup = members.ToHashSet(StringComparer.Ordinal);
        var control = state.Order.Where(t => !stageSet.Contains(t) && inGroup.Contains(t)).Take(MaxControlDevices).ToList();
        if (control.Count == 0)
        {
            options.Progress($"  gate metrics: not compared: no device of the group is left on the previous version ({string.Join(", ", stage.Gates.Metrics.Select(m => m.Name))} were compared in the stages before)");
            return null;
        }

        return new MetricWatch(_clients.IotData, stage.Gates.Metrics, judged, control, start);
    }

    /// <summary>The executions of a job, by thing name (every page).</summary>
    private async Task<Dictionary<string, JobExecutionSummary>> ExecutionsAsync(string jobId, CancellationToken cancellationToken)
    {
        var executions = new Dictionary<string, JobExecutionSummary>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await _clients.Iot.ListJobExecutionsForJobAsync(new ListJobExecutionsForJobRequest { JobId = jobId, NextToken = next, MaxResults = 250 }, cancellationToken).ConfigureAwait(false);
            foreach (var summary in page.ExecutionSummaries ?? [])
            {
                if (summary.ThingArn is { } arn && summary.JobExecutionSummary is { } execution)
                {
                    executions[arn[(arn.LastIndexOf('/') + 1)..]] = execution;
                }
            }

            next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (next is not null);
        return executions;
    }

    /// <summary>The core devices of a thing group with their status and last report (every page).</summary>
    private async Task<Dictionary<string, CoreDevice>> CoreStatusesAsync(string group, CancellationToken cancellationToken)
    {
        var devices = new Dictionary<string, CoreDevice>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await _clients.Greengrass.ListCoreDevicesAsync(new ListCoreDevicesRequest { ThingGroupArn = DeploymentTarget.Group(group, _account, Region).Arn, NextToken = next, MaxResults = 100 }, cancellationToken).ConfigureAwait(false);
            foreach (var device in page.CoreDevices ?? [])
            {
                devices[device.CoreDeviceThingName!] = device;
            }

            next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (next is not null);
        return devices;
    }

    private async Task<string?> ComponentProblemAsync(RolloutPlan plan, string thing, DateTimeOffset succeededAt, CancellationToken cancellationToken)
    {
        var report = await _devices.ReportAsync(thing, cancellationToken).ConfigureAwait(false);
        return ComponentProblem(plan, report, succeededAt);
    }

    /// <summary>
    /// Whether a device's component report can be judged: sent after the stage started, and either showing the
    /// rolled-out versions or sent after the deployment succeeded (a report from the middle of the deployment shows
    /// the old version and proves nothing either way). The deployment's status and the components' report travel
    /// separately and may arrive in either order.
    /// </summary>
    private static bool Fresh(RolloutPlan plan, DeviceReport report, DateTimeOffset stageStart, DateTimeOffset succeededAt)
    {
        if (report.Components.Count == 0 || report.Components.Min(c => c.LastReportedTimestamp ?? DateTimeOffset.MinValue) < stageStart.AddSeconds(-1))
        {
            return false;
        }

        var showsNewVersions = plan.Components.All(p => report.Components.Any(c => c.ComponentName == p.Key && c.ComponentVersion == p.Value));
        return showsNewVersions || report.Components.Min(c => c.LastReportedTimestamp ?? DateTimeOffset.MinValue) >= succeededAt.AddSeconds(-1);
    }

    /// <summary>What is wrong with a device's rolled-out components during the bake, or null (its core status is read in bulk).</summary>
    private static string? ComponentProblem(RolloutPlan plan, DeviceReport report, DateTimeOffset succeededAt)
    {
        foreach (var (name, version) in plan.Components)
        {
            var installed = report.Components.FirstOrDefault(c => c.ComponentName == name);
            if (installed is null)
            {
                return $"{name} is not installed";
            }

            if (installed.ComponentVersion != version)
            {
                return $"{name} is {installed.ComponentVersion}, not {version}";
            }

            if (installed.LifecycleState is "ERRORED" or "BROKEN")
            {
                return $"{name} {version} is {installed.LifecycleState}{(installed.LifecycleStateDetails is { Length: > 0 } d ? " (" + d + ")" : string.Empty)}";
            }

            // A state change after the deployment succeeded is a restart (through ERRORED, or a crash the supervisor caught).
            if (installed.LastStatusChangeTimestamp is { } changed && changed > succeededAt.AddSeconds(1))
            {
                return $"{name} {version} changed state at {changed:u} after the deployment succeeded ({installed.LifecycleState} now): it restarted";
            }
        }

        return null;
    }

    private async Task RevertAsync(RolloutPlan plan, DeploymentTarget target, RolloutState state, GetDeploymentResponse basis, List<string> stageDevices, RolloutOptions options, CancellationToken cancellationToken)
    {
        var say = options.Progress;
        if (state.RevertDeploymentId is null)
        {
            var (request, _) = TargetDeployments.Plan(target, basis, new DeploymentEdit());
            request.ClientToken = $"fogline-{state.RolloutId}-revert";
            var current = await _deployments.ReadAsync(target, cancellationToken).ConfigureAwait(false);
            var written = await _deployments.WriteAsync(target, current, request, cancellationToken).ConfigureAwait(false);
            state.RevertDeploymentId = written.DeploymentId;
            say($"revert: thing group {plan.Group}'s revision {written.RevisionId} is its deployment from before the rollout (revision {basis.RevisionId}); it replaces the stages' subdeployment");
        }

        // The stage devices back on the previous versions, RUNNING. A device that never started the stage's deployment
        // (offline, or not reached yet: its execution still QUEUED, which the revision superseded) never had the new
        // version: there is nothing to confirm, and when it comes back its only deployment is the reverted one.
        var revertedAt = options.Time.GetUtcNow();
        var deadline = revertedAt + plan.Stages[Math.Min(state.Stage, plan.Stages.Count - 1)].Gates.DeploymentTimeout;
        var waiting = stageDevices.ToHashSet(StringComparer.Ordinal);
        var neverTook = new List<string>();
        if (state.StageJobId is { } stageJob)
        {
            var executions = await ExecutionsAsync(stageJob, cancellationToken).ConfigureAwait(false);
            neverTook.AddRange(stageDevices.Where(t => executions.GetValueOrDefault(t) is null or { Status: "QUEUED" or "CANCELED" or "REMOVED" } && (executions.GetValueOrDefault(t)?.StartedAt is null)).Order(StringComparer.Ordinal));
            waiting.ExceptWith(neverTook);
            if (neverTook.Count > 0)
            {
                say($"revert: {neverTook.Count} stage device(s) never started the stage's deployment ({Preview(neverTook)}): their queued deployment is superseded, they get the previous version when they come back");
            }
        }

        while (waiting.Count > 0 && options.Time.GetUtcNow() < deadline)
        {
            foreach (var thing in waiting.ToList())
            {
                var report = await _devices.ReportAsync(thing, cancellationToken).ConfigureAwait(false);
                var back = plan.Components.Keys.All(name =>
                {
                    var before = basis.Components?.GetValueOrDefault(name)?.ComponentVersion;
                    var installed = report.Components.FirstOrDefault(c => c.ComponentName == name);
                    return before is null ? installed is null : installed is { LifecycleState: "RUNNING" or "FINISHED" } && installed.ComponentVersion == before;
                });
                if (back)
                {
                    waiting.Remove(thing);
                }
            }

            if (waiting.Count > 0)
            {
                await Task.Delay(options.PollInterval, options.Time, cancellationToken).ConfigureAwait(false);
            }
        }

        say(waiting.Count == 0
            ? $"revert: all {stageDevices.Count - neverTook.Count} stage device(s) that took it run the previous version again"
            : $"revert: {waiting.Count} stage device(s) not confirmed back yet ({Preview([.. waiting])}): their pending deployment was superseded, so they get the previous version when they report");
        state.Verdicts.Add(waiting.Count == 0 ? "revert: every stage device back on the previous version" : $"revert: {waiting.Count} device(s) not confirmed: {string.Join(", ", waiting)}");
        await RemoveStageGroupAsync(state, cancellationToken).ConfigureAwait(false);
    }

    private async Task RemoveStageGroupAsync(RolloutState state, CancellationToken cancellationToken)
    {
        try
        {
            await _clients.Iot.DeleteThingGroupAsync(new DeleteThingGroupRequest { ThingGroupName = state.StageGroup }, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException ex) when (ex.Code == "ResourceNotFoundException")
        {
        }
    }

    private static RolloutOutcome Stop(RolloutState state, string statePath, string status, string reason, Action<string> say)
    {
        state.Status = status;
        state.Reason = reason;
        state.Save(statePath);
        say($"rollout {state.RolloutId} {status}: {reason}");
        return new RolloutOutcome(status, reason, state);
    }

    /// <summary>The thing group the stages before the last are deployed to.</summary>
    internal static string StageGroupName(string group, string rolloutId)
    {
        var suffix = "-rollout-" + rolloutId;
        return (group.Length + suffix.Length <= 128 ? group : group[..(128 - suffix.Length)]) + suffix;
    }

    private static string Describe(RolloutPlan plan) => string.Join(", ", plan.Components.Select(c => $"{c.Key} {c.Value}"));

    private static string Preview(IReadOnlyList<string> things, int shown = 8) => things.Count <= shown ? string.Join(", ", things) : string.Join(", ", things.Take(shown)) + $" and {things.Count - shown} more";

    private static string Revision(string? deploymentId) => deploymentId ?? "?";
}

/// <summary>The order a rollout's stages take a group's devices in.</summary>
public static class StageOrder
{
    /// <summary>
    /// The devices in a deterministic order for <paramref name="seed"/>: by a hash of seed and name within each value of
    /// <paramref name="attribute"/>, the values taken in turn, so that any first N devices spread across them.
    /// </summary>
    public static IReadOnlyList<string> Of(IEnumerable<string> things, Func<string, string> attribute, string seed)
    {
        ArgumentNullException.ThrowIfNull(things);
        ArgumentNullException.ThrowIfNull(attribute);
        var buckets = things
            .GroupBy(attribute, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new Queue<string>(g.OrderBy(t => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(seed + "/" + t))), StringComparer.Ordinal)))
            .ToList();
        var order = new List<string>();
        while (buckets.Any(b => b.Count > 0))
        {
            foreach (var bucket in buckets.Where(b => b.Count > 0))
            {
                order.Add(bucket.Dequeue());
            }
        }

        return order;
    }
}

/// <summary>The preflight found problems: nothing was deployed. <see cref="Problems"/> lists them.</summary>
public sealed class RolloutPreflightException : ProblemsException
{
    /// <summary>Creates the exception.</summary>
    public RolloutPreflightException(IReadOnlyList<string> problems)
        : base("the rollout cannot start: ", problems)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RolloutPreflightException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RolloutPreflightException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public RolloutPreflightException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
