using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;

namespace Fogline.Rollout.Deployments;

/// <summary>
/// A target's deployment as Greengrass keeps it (one per target, replaced whole by each CreateDeployment), read,
/// changed per component and written back with everything else kept. A write refuses when the deployment changed
/// since it was read, carries a client token derived from what it writes on top of what it read (a retry never makes
/// a second revision), and checks the versions it deploys exist first.
/// </summary>
public sealed class TargetDeployments
{
    private readonly GreengrassV2Client _greengrass;

    /// <summary>Works through <paramref name="greengrass"/>.</summary>
    public TargetDeployments(GreengrassV2Client greengrass) => _greengrass = greengrass ?? throw new ArgumentNullException(nameof(greengrass));

    /// <summary>The target's current deployment (the latest revision, whatever its status), or null when it has none.</summary>
    public async Task<GetDeploymentResponse?> ReadAsync(DeploymentTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var latest = await _greengrass.ListDeploymentsAsync(new ListDeploymentsRequest { TargetArn = target.Arn, HistoryFilter = "LATEST_ONLY" }, cancellationToken).ConfigureAwait(false);
        var current = (latest.Deployments ?? []).Where(d => d.TargetArn == target.Arn).OrderByDescending(d => Revision(d.RevisionId)).FirstOrDefault();
        return current is null ? null : await _greengrass.GetDeploymentAsync(new GetDeploymentRequest { DeploymentId = current.DeploymentId }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The CreateDeployment request that applies <paramref name="edit"/> to <paramref name="current"/> (null: the target
    /// has no deployment yet), and what changes, one line each.
    /// </summary>
    /// <exception cref="DeploymentEditException">The edit removes or configures a component the deployment does not have, or sets a bad policy.</exception>
    public static (CreateDeploymentRequest Request, IReadOnlyList<string> Changes) Plan(DeploymentTarget target, GetDeploymentResponse? current, DeploymentEdit edit)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(edit);
        var components = new SortedDictionary<string, ComponentDeploymentSpecification>(StringComparer.Ordinal);
        foreach (var (name, spec) in current?.Components ?? [])
        {
            components[name] = Copy(spec);
        }

        var changes = new List<string>();
        var problems = new List<string>();
        foreach (var name in edit.Remove)
        {
            if (components.Remove(name, out var removed))
            {
                changes.Add($"- {name} {removed.ComponentVersion}");
            }
            else
            {
                problems.Add($"{name} is not in the deployment of {target}, so it cannot be removed");
            }
        }

        foreach (var (name, version) in edit.Versions)
        {
            if (edit.Remove.Contains(name))
            {
                problems.Add($"{name} is both set and removed");
                continue;
            }

            if (components.TryGetValue(name, out var existing))
            {
                if (existing.ComponentVersion != version)
                {
                    changes.Add($"~ {name} {existing.ComponentVersion} -> {version}");
                    existing.ComponentVersion = version;
                }
            }
            else
            {
                components[name] = new ComponentDeploymentSpecification { ComponentVersion = version };
                changes.Add($"+ {name} {version}");
            }
        }

        foreach (var (name, update) in edit.ConfigurationUpdates)
        {
            if (!components.TryGetValue(name, out var spec))
            {
                problems.Add($"{name} is not in the deployment of {target}: give its version to configure it");
                continue;
            }

            spec.ConfigurationUpdate = update;
            changes.Add($"~ {name} configuration: {Describe(update)}");
        }

        var policies = current?.DeploymentPolicies is { } kept ? Clone(kept, GreengrassV2JsonContext.Default.DeploymentPolicies) : null;
        if (edit.FailureHandlingPolicy is { } failure)
        {
            if (failure is not ("ROLLBACK" or "DO_NOTHING"))
            {
                problems.Add($"the failure handling policy must be ROLLBACK or DO_NOTHING, not '{failure}'");
            }
            else if (policies?.FailureHandlingPolicy != failure)
            {
                changes.Add($"~ failureHandlingPolicy {policies?.FailureHandlingPolicy ?? "ROLLBACK"} -> {failure}");
                policies ??= new DeploymentPolicies();
                policies.FailureHandlingPolicy = failure;
            }
        }

        if (problems.Count > 0)
        {
            throw new DeploymentEditException(problems);
        }

        var request = new CreateDeploymentRequest
        {
            TargetArn = target.Arn,
            DeploymentName = current?.DeploymentName,
            Components = new Dictionary<string, ComponentDeploymentSpecification>(components, StringComparer.Ordinal),
            DeploymentPolicies = policies,
            IotJobConfiguration = current?.IotJobConfiguration is { } job ? Clone(job, GreengrassV2JsonContext.Default.DeploymentIoTJobConfiguration) : null,
            ParentTargetArn = current?.ParentTargetArn,
            Tags = current?.Tags is { Count: > 0 } tags ? new Dictionary<string, string>(tags, StringComparer.Ordinal) : null,
        };
        request.ClientToken = ClientToken(current?.DeploymentId, request);
        return (request, changes);
    }

    /// <summary>
    /// The components of <paramref name="request"/> whose version <paramref name="current"/> does not already deploy
    /// and that the account cannot deploy (DescribeComponent finds no such version, or it is not DEPLOYABLE), one line
    /// each; empty when all can be deployed.
    /// </summary>
    public async Task<IReadOnlyList<string>> MissingVersionsAsync(DeploymentTarget target, GetDeploymentResponse? current, CreateDeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(request);
        var missing = new List<string>();
        foreach (var (name, spec) in request.Components ?? [])
        {
            if (current?.Components?.TryGetValue(name, out var deployed) == true && deployed.ComponentVersion == spec.ComponentVersion)
            {
                continue;
            }

            // Public components (aws.greengrass.*) belong to the account "aws".
            var owner = name.StartsWith("aws.greengrass.", StringComparison.Ordinal) ? "aws" : target.Account;
            var arn = $"arn:aws:greengrass:{target.Region}:{owner}:components:{name}:versions:{spec.ComponentVersion}";
            try
            {
                var described = await _greengrass.DescribeComponentAsync(new DescribeComponentRequest { Arn = arn }, cancellationToken).ConfigureAwait(false);
                if (described.Status?.ComponentState is { } state && state != "DEPLOYABLE")
                {
                    var why = state is "REQUESTED" or "INITIATED" or "INPROGRESS" ? ": it is still being processed, try again in a moment" : described.Status.Message is { Length: > 0 } m ? ": " + m : string.Empty;
                    missing.Add($"{name} {spec.ComponentVersion} is {state}, not DEPLOYABLE{why}");
                }
            }
            catch (AwsServiceException ex) when (ex.Code == "ResourceNotFoundException")
            {
                missing.Add($"{name} {spec.ComponentVersion} does not exist in {target.Region} ({arn})");
            }
        }

        return missing;
    }

    /// <summary>
    /// Writes <paramref name="request"/> as the target's next revision, if the deployment is still
    /// <paramref name="basis"/> (the one it was planned on); returns the deployment written.
    /// </summary>
    /// <exception cref="DeploymentChangedException">The target's deployment changed since <paramref name="basis"/> was read, before or while writing.</exception>
    public async Task<GetDeploymentResponse> WriteAsync(DeploymentTarget target, GetDeploymentResponse? basis, CreateDeploymentRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(request);
        var now = await ReadAsync(target, cancellationToken).ConfigureAwait(false);
        if (now?.DeploymentId != basis?.DeploymentId)
        {
            throw new DeploymentChangedException(target, basis, now);
        }

        var created = await _greengrass.CreateDeploymentAsync(request, cancellationToken).ConfigureAwait(false);
        var written = await _greengrass.GetDeploymentAsync(new GetDeploymentRequest { DeploymentId = created.DeploymentId }, cancellationToken).ConfigureAwait(false);
        // Someone else's revision landing between the check and the write shows in the revision numbers.
        var expected = Revision(basis?.RevisionId) + 1;
        if (Revision(written.RevisionId) != expected && written.DeploymentId != basis?.DeploymentId)
        {
            var history = await _greengrass.ListDeploymentsAsync(new ListDeploymentsRequest { TargetArn = target.Arn, HistoryFilter = "ALL" }, cancellationToken).ConfigureAwait(false);
            var between = (history.Deployments ?? []).Where(d => Revision(d.RevisionId) > Revision(basis?.RevisionId) && Revision(d.RevisionId) < Revision(written.RevisionId)).ToList();
            if (between.Count > 0)
            {
                throw new DeploymentChangedException(target, basis, written, between);
            }
        }

        return written;
    }

    /// <summary>A deployment's revision number (0 for none).</summary>
    public static int Revision(string? revisionId) => int.TryParse(revisionId, NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    /// <summary>
    /// A client token (at most 64 characters of <c>[a-zA-Z0-9-]</c>) that names this write on top of this basis: the
    /// same edit retried on the same basis is the same token, so Greengrass answers with the deployment it made.
    /// </summary>
    internal static string ClientToken(string? basisDeploymentId, CreateDeploymentRequest request)
    {
        var withoutToken = Clone(request, GreengrassV2JsonContext.Default.CreateDeploymentRequest);
        withoutToken.ClientToken = null;
        var text = (basisDeploymentId ?? "none") + "\n" + JsonSerializer.Serialize(withoutToken, GreengrassV2JsonContext.Default.CreateDeploymentRequest);
        return "fogline-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..48];
    }

    private static string Describe(ComponentConfigurationUpdate update) =>
        string.Join(", ", new[] { update.Reset is { Count: > 0 } reset ? "reset " + string.Join(" ", reset) : null, update.Merge is { } merge ? "merge " + merge : null }.Where(p => p is not null));

    private static ComponentDeploymentSpecification Copy(ComponentDeploymentSpecification spec) => Clone(spec, GreengrassV2JsonContext.Default.ComponentDeploymentSpecification);

    private static T Clone<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) => JsonSerializer.Deserialize(JsonSerializer.Serialize(value, type), type)!;
}

/// <summary>An edit that cannot apply to the deployment; <see cref="Exception.Message"/> lists why.</summary>
public sealed class DeploymentEditException : ProblemsException
{
    /// <summary>Creates the exception.</summary>
    public DeploymentEditException(IReadOnlyList<string> problems)
        : base(string.Empty, problems)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentEditException()
        : this([])
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentEditException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentEditException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The target's deployment changed between reading it and writing the next revision.</summary>
public sealed class DeploymentChangedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DeploymentChangedException(DeploymentTarget target, GetDeploymentResponse? basis, GetDeploymentResponse? now, IReadOnlyList<Deployment>? between = null)
        : base(Describe(target, basis, now, between))
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentChangedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentChangedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public DeploymentChangedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private static string Describe(DeploymentTarget target, GetDeploymentResponse? basis, GetDeploymentResponse? now, IReadOnlyList<Deployment>? between)
    {
        static string Name(GetDeploymentResponse? d) => d is null ? "no deployment" : $"revision {d.RevisionId} ({d.DeploymentId}, created {d.CreationTimestamp:u})";
        if (between is { Count: > 0 })
        {
            return $"the deployment of {target} changed while it was written: {string.Join(", ", between.Select(d => $"revision {d.RevisionId} ({d.DeploymentId})"))} landed between {Name(basis)} and ours ({Name(now)}); read it again (fogline deployment show) and check what it holds";
        }

        var changed = new List<string>();
        var before = basis?.Components ?? [];
        var after = now?.Components ?? [];
        foreach (var name in before.Keys.Union(after.Keys).Order(StringComparer.Ordinal))
        {
            var was = before.GetValueOrDefault(name)?.ComponentVersion;
            var @is = after.GetValueOrDefault(name)?.ComponentVersion;
            if (was != @is)
            {
                changed.Add($"{name} {was ?? "(absent)"} -> {@is ?? "(removed)"}");
            }
        }

        return $"the deployment of {target} changed since it was read: it was {Name(basis)}, it is now {Name(now)}" +
            (changed.Count > 0 ? "; components: " + string.Join(", ", changed) : string.Empty) + "; nothing was written";
    }
}
