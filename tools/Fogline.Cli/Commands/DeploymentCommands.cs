using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Aws.GreengrassV2;
using Fogline.Rollout.Deployments;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline deployment show|set|status</c>, against AWS or the local cloud (<see cref="CloudTarget"/>): a thing
/// group's (or a thing's) deployment as Greengrass keeps it; one or more components added, moved to a version or
/// removed by read-modify-write with everything else kept (<see cref="TargetDeployments"/>); and what each device of
/// a group reports (<see cref="GroupDevices"/>).
/// </summary>
internal static class DeploymentCommands
{
    /// <summary>JSON for people and scripts: quotes inside strings as \" rather than \u0022.</summary>
    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private static readonly JsonSerializerOptions ReadableIndented = new(Readable) { WriteIndented = true };

    public static Command Create(GlobalOptions options)
    {
        var deployment = new Command("deployment", "A thing group's deployment: show it, change components in it, see what its devices report.");
        deployment.Subcommands.Add(Show(options));
        deployment.Subcommands.Add(Set(options));
        deployment.Subcommands.Add(Status(options));
        return deployment;
    }

    private sealed class TargetOptions
    {
        public Option<string?> Group { get; } = new("--group", "-g") { Description = "The thing group." };

        public Option<string?> Thing { get; } = new("--thing") { Description = "A single core device (its thing name) instead of a group." };

        public Option<string?> Region { get; } = new("--region", "-r") { Description = "The region (default: the AWS settings')." };

        public Option<bool> Json { get; } = new("--json") { Description = "Write JSON (for scripts and CI) instead of text." };

        public void AddTo(Command command, bool thing = true)
        {
            command.Options.Add(Group);
            if (thing)
            {
                command.Options.Add(Thing);
            }

            command.Options.Add(Region);
            command.Options.Add(Json);
        }

        public async Task<DeploymentTarget> ResolveAsync(ParseResult parse, CloudTarget cloud, CancellationToken cancellationToken)
        {
            var (group, thing) = (parse.GetValue(Group), parse.GetValue(Thing));
            if ((group is null) == (thing is null))
            {
                throw new CliException("name the target with --group GROUP or --thing THING (one of them)");
            }

            var account = await cloud.Clients.AccountAsync(cancellationToken);
            return group is not null
                ? DeploymentTarget.Group(group, account, cloud.Clients.Settings.Region)
                : new DeploymentTarget("thing", thing!, account, cloud.Clients.Settings.Region);
        }
    }

    private static Command Show(GlobalOptions options)
    {
        var target = new TargetOptions();
        var command = new Command("show", "Show a target's current deployment: components, configuration, policies, IoT job configuration, revision.");
        target.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            await using var cloud = await CloudTarget.OpenAsync(parse, options, parse.GetValue(target.Region), ct);
            var where = await target.ResolveAsync(parse, cloud, ct);
            var current = await new TargetDeployments(cloud.Clients.Greengrass).ReadAsync(where, ct);
            if (parse.GetValue(target.Json))
            {
                await cli.Out.WriteLineAsync(current is null ? "null" : JsonNode.Parse(JsonSerializer.Serialize(current, GreengrassV2JsonContext.Default.GetDeploymentResponse))!.ToJsonString(Readable));
                return 0;
            }

            await cli.Out.WriteLineAsync($"deployment of {where} in {cloud.Description}");
            if (current is null)
            {
                await cli.Out.WriteLineAsync("  none: this target has never been deployed to");
                return 0;
            }

            await WriteDeploymentAsync(cli.Out, current);
            return 0;
        });
        return command;
    }

    private static Command Set(GlobalOptions options)
    {
        var target = new TargetOptions();
        var components = new Option<string[]>("--component", "-c") { Description = "NAME=VERSION: add the component or move it to that version (repeatable)." };
        var remove = new Option<string[]>("--remove") { Description = "NAME: remove the component (repeatable)." };
        var merge = new Option<string[]>("--merge") { Description = "NAME=JSON: the configuration to merge into the component's (replaces the update the deployment carried for it; repeatable)." };
        var reset = new Option<string[]>("--reset") { Description = "NAME=/json/pointer: reset a configuration key to its default before merging (repeatable)." };
        var failure = new Option<string?>("--failure-handling-policy") { Description = "ROLLBACK or DO_NOTHING (default: keep the deployment's)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the changes and the exact CreateDeployment request; change nothing." };
        var command = new Command("set", "Add, update or remove components in a target's deployment, keeping every other component, the policies, the IoT job configuration and the tags.")
        {
            components, remove, merge, reset, failure, dryRun,
        };
        target.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var edit = Edit(parse.GetValue(components) ?? [], parse.GetValue(remove) ?? [], parse.GetValue(merge) ?? [], parse.GetValue(reset) ?? [], parse.GetValue(failure));
            if (edit.IsEmpty)
            {
                throw new CliException("nothing to change: give --component NAME=VERSION, --remove NAME, --merge or --reset, or --failure-handling-policy");
            }

            await using var cloud = await CloudTarget.OpenAsync(parse, options, parse.GetValue(target.Region), ct);
            var where = await target.ResolveAsync(parse, cloud, ct);
            var deployments = new TargetDeployments(cloud.Clients.Greengrass);
            var current = await deployments.ReadAsync(where, ct);
            CreateDeploymentRequest request;
            IReadOnlyList<string> changes;
            try
            {
                (request, changes) = TargetDeployments.Plan(where, current, edit);
            }
            catch (DeploymentEditException ex)
            {
                throw new CliException(ex.Message);
            }

            var json = parse.GetValue(target.Json);
            var basis = current is null ? "no deployment yet" : $"revision {current.RevisionId} ({current.DeploymentId})";
            if (!json)
            {
                await cli.Out.WriteLineAsync($"deployment of {where} in {cloud.Description}: {basis}");
                foreach (var change in changes.DefaultIfEmpty("(no change)"))
                {
                    await cli.Out.WriteLineAsync("  " + change);
                }
            }

            if (changes.Count == 0)
            {
                if (json)
                {
                    await cli.Out.WriteLineAsync(new JsonObject { ["changes"] = new JsonArray(), ["written"] = false }.ToJsonString(Readable));
                }

                return 0;
            }

            var missing = await deployments.MissingVersionsAsync(where, current, request, ct);
            if (missing.Count > 0)
            {
                throw new CliException("cannot deploy: " + string.Join("; ", missing));
            }

            var requestJson = JsonSerializer.Serialize(request, GreengrassV2JsonContext.Default.CreateDeploymentRequest);
            if (parse.GetValue(dryRun))
            {
                if (json)
                {
                    await cli.Out.WriteLineAsync(new JsonObject { ["changes"] = new JsonArray([.. changes.Select(c => (JsonNode)c)]), ["written"] = false, ["request"] = JsonNode.Parse(requestJson) }.ToJsonString(Readable));
                }
                else
                {
                    await cli.Out.WriteLineAsync("dry run: nothing written; the request would be POST /greengrass/v2/deployments");
                    await cli.Out.WriteLineAsync(JsonNode.Parse(requestJson)!.ToJsonString(ReadableIndented));
                }

                return 0;
            }

            GetDeploymentResponse written;
            try
            {
                written = await deployments.WriteAsync(where, current, request, ct);
            }
            catch (DeploymentChangedException ex)
            {
                throw new CliException(ex.Message);
            }

            if (json)
            {
                await cli.Out.WriteLineAsync(new JsonObject
                {
                    ["changes"] = new JsonArray([.. changes.Select(c => (JsonNode)c)]),
                    ["written"] = true,
                    ["deployment"] = JsonNode.Parse(JsonSerializer.Serialize(written, GreengrassV2JsonContext.Default.GetDeploymentResponse)),
                }.ToJsonString(Readable));
            }
            else
            {
                await cli.Out.WriteLineAsync($"written: revision {written.RevisionId} ({written.DeploymentId}), IoT job {written.IotJobId}");
            }

            return 0;
        });
        return command;
    }

    private static Command Status(GlobalOptions options)
    {
        var target = new TargetOptions();
        var command = new Command("status", "What each core device of a group reports: its effective deployment's status and reason, its installed components and their states.");
        target.AddTo(command, thing: false);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            if (parse.GetValue(target.Group) is not { } group)
            {
                throw new CliException("name the group with --group GROUP");
            }

            await using var cloud = await CloudTarget.OpenAsync(parse, options, parse.GetValue(target.Region), ct);
            var reports = await new GroupDevices(cloud.Clients.Iot, cloud.Clients.Greengrass).ReportsAsync(group, cancellationToken: ct);
            if (parse.GetValue(target.Json))
            {
                await cli.Out.WriteLineAsync(new JsonArray([.. reports.Select(r => (JsonNode)new JsonObject
                {
                    ["thing"] = r.Thing,
                    ["coreDevice"] = r.Core is null ? null : JsonNode.Parse(JsonSerializer.Serialize(r.Core, GreengrassV2JsonContext.Default.GetCoreDeviceResponse)),
                    ["effectiveDeployment"] = r.Effective is null ? null : JsonNode.Parse(JsonSerializer.Serialize(r.Effective, GreengrassV2JsonContext.Default.EffectiveDeployment)),
                    ["installedComponents"] = new JsonArray([.. r.Components.Select(c => JsonNode.Parse(JsonSerializer.Serialize(c, GreengrassV2JsonContext.Default.InstalledComponent)))]),
                })]).ToJsonString(Readable));
                return 0;
            }

            await cli.Out.WriteLineAsync($"core devices of thing group {group} in {cloud.Description}: {reports.Count}");
            await Table.WriteAsync(cli.Out, ["Thing", "Device", "Reported", "Deployment", "Status", "Reason", "Components"], reports.Select(r => new[]
            {
                r.Thing,
                r.Core?.Status ?? "never reported",
                Time(r.Core?.LastStatusUpdateTimestamp),
                r.Effective is { } e ? $"{e.DeploymentName ?? e.DeploymentId} ({Target(e.TargetArn)})" : string.Empty,
                r.Effective?.CoreDeviceExecutionStatus ?? string.Empty,
                r.Effective?.Reason ?? string.Empty,
                string.Join(", ", r.Components.Select(c => $"{c.ComponentName} {c.ComponentVersion} {c.LifecycleState}")),
            }));
            return 0;
        });
        return command;
    }

    /// <summary>The edit the flags ask for; a flag that is not NAME=VALUE is an error naming it.</summary>
    internal static DeploymentEdit Edit(string[] components, string[] remove, string[] merge, string[] reset, string? failure)
    {
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, version) in components.Select(c => Pair("--component", c)))
        {
            versions[name] = version;
        }

        var updates = new Dictionary<string, ComponentConfigurationUpdate>(StringComparer.Ordinal);
        foreach (var (name, json) in merge.Select(m => Pair("--merge", m)))
        {
            try
            {
                if (JsonNode.Parse(json) is not JsonObject)
                {
                    throw new CliException($"--merge {name}=…: the configuration to merge must be a JSON object, not {json}");
                }
            }
            catch (JsonException ex)
            {
                throw new CliException($"--merge {name}=…: not JSON: {ex.Message}");
            }

            (updates.TryGetValue(name, out var update) ? update : updates[name] = new ComponentConfigurationUpdate()).Merge = json;
        }

        foreach (var (name, pointer) in reset.Select(r => Pair("--reset", r)))
        {
            if (pointer.Length > 0 && pointer[0] != '/')
            {
                throw new CliException($"--reset {name}={pointer}: a JSON pointer starts with / (\"\" resets the whole configuration)");
            }

            var update = updates.TryGetValue(name, out var existing) ? existing : updates[name] = new ComponentConfigurationUpdate();
            update.Reset = [.. update.Reset ?? [], pointer];
        }

        return new DeploymentEdit { Versions = versions, Remove = [.. remove.Distinct(StringComparer.Ordinal)], ConfigurationUpdates = updates, FailureHandlingPolicy = failure };
    }

    private static (string Name, string Value) Pair(string flag, string text)
    {
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 ? (text[..equals], text[(equals + 1)..]) : throw new CliException($"{flag} takes NAME=VALUE, not '{text}'");
    }

    private static async Task WriteDeploymentAsync(TextWriter output, GetDeploymentResponse d)
    {
        await output.WriteLineAsync($"  {d.DeploymentName ?? "(unnamed)"}: revision {d.RevisionId}, {d.DeploymentStatus}, created {Time(d.CreationTimestamp)}, id {d.DeploymentId}, IoT job {d.IotJobId}");
        if (d.ParentTargetArn is { } parent)
        {
            await output.WriteLineAsync($"  a subdeployment of {Target(parent)}");
        }

        await output.WriteLineAsync();
        await Table.WriteAsync(output, ["Component", "Version", "Configuration update", "Run with"], (d.Components ?? []).OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new[]
        {
            c.Key,
            c.Value.ComponentVersion ?? string.Empty,
            c.Value.ConfigurationUpdate is { } u ? string.Join(" ", new[] { u.Reset is { Count: > 0 } r ? "reset " + string.Join(",", r) : null, u.Merge is { } m ? "merge " + m : null }.Where(x => x is not null)) : string.Empty,
            c.Value.RunWith is { } w ? JsonSerializer.Serialize(w, GreengrassV2JsonContext.Default.ComponentRunWith) : string.Empty,
        }));
        await output.WriteLineAsync();
        var p = d.DeploymentPolicies;
        await output.WriteLineAsync($"  policies: failure handling {p?.FailureHandlingPolicy ?? "ROLLBACK"}, component update {p?.ComponentUpdatePolicy?.Action ?? "NOTIFY_COMPONENTS"} within {p?.ComponentUpdatePolicy?.TimeoutInSeconds ?? 60} s, configuration validation within {p?.ConfigurationValidationPolicy?.TimeoutInSeconds ?? 30} s");
        await output.WriteLineAsync("  IoT job configuration: " + (d.IotJobConfiguration is { } job ? JsonSerializer.Serialize(job, GreengrassV2JsonContext.Default.DeploymentIoTJobConfiguration) : "(none)"));
        await output.WriteLineAsync("  tags: " + (d.Tags is { Count: > 0 } tags ? string.Join(", ", tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}")) : "(none)"));
    }

    private static string Target(string? arn) => arn is null ? string.Empty : arn[(arn.LastIndexOf(':') + 1)..];

    private static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? string.Empty;
}
