using System.CommandLine;
using System.Text;
using System.Text.Json;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>deployment create|status|list|cancel</c>, as greengrass-cli, through the Nucleus's local-deployment IPC
/// (CreateLocalDeployment, GetLocalDeploymentStatus, ListLocalDeployments, CancelLocalDeployment).
/// </summary>
internal static class DeploymentCommand
{
    public static Command Create(Option<string> root)
    {
        var command = new Command("deployment", "Create, inspect and cancel local deployments.");
        command.Subcommands.Add(CreateVerb(root));
        command.Subcommands.Add(StatusVerb(root));
        command.Subcommands.Add(ListVerb(root));
        command.Subcommands.Add(CancelVerb(root));
        return command;
    }

    private static Command CreateVerb(Option<string> root)
    {
        var merge = new Option<string[]>("--merge", "-m") { Description = "A component and version to add or update, NAME=VERSION (repeatable)." };
        merge.Validators.Add(result =>
        {
            foreach (var value in result.GetValueOrDefault<string[]>() ?? [])
            {
                var equals = value.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0 || equals == value.Length - 1)
                {
                    result.AddError($"--merge takes NAME=VERSION, not '{value}'");
                }
            }
        });
        var remove = new Option<string[]>("--remove") { Description = "A component to remove (repeatable)." };
        var groupId = new Option<string?>("--groupId", "-g") { Description = "The thing group of the deployment." };
        var recipeDir = new Option<string?>("--recipeDir", "-r") { Description = "The directory of the recipes." };
        var artifactDir = new Option<string?>("--artifactDir", "-a") { Description = "The directory of the artifacts." };
        var updateConfig = new Option<string?>("--update-config", "-c") { Description = "Configuration updates: a JSON file or a JSON string {\"NAME\": {\"MERGE\": {...}, \"RESET\": [...]}}." };
        var failurePolicy = new Option<string?>("--failure-handling-policy", "-fp") { Description = "ROLLBACK or DO_NOTHING." };
        failurePolicy.AcceptOnlyFromAmong("ROLLBACK", "DO_NOTHING");
        var verb = new Command("create", "Create a local deployment with provided recipes, artifacts, and runtime parameters.")
        {
            merge, remove, groupId, recipeDir, artifactDir, updateConfig, failurePolicy,
        };
        CliContext.SetAction(verb, root, async (cli, parse, ct) =>
        {
            var request = new CreateLocalDeploymentRequest
            {
                GroupName = parse.GetValue(groupId),
                RecipeDirectoryPath = FullPath(parse.GetValue(recipeDir)),
                ArtifactsDirectoryPath = FullPath(parse.GetValue(artifactDir)),
            };
            if (parse.GetValue(merge) is { Length: > 0 } toMerge)
            {
                var versions = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var value in toMerge)
                {
                    var equals = value.IndexOf('=', StringComparison.Ordinal);
                    versions[value[..equals]] = value[(equals + 1)..];
                }

                request.RootComponentVersionsToAdd = versions;
            }

            if (parse.GetValue(remove) is { Length: > 0 } toRemove)
            {
                request.RootComponentsToRemove = toRemove;
            }

            if (parse.GetValue(updateConfig) is { Length: > 0 } config)
            {
                request.ComponentToConfiguration = ReadConfigurationUpdate(config);
            }

            if (parse.GetValue(failurePolicy) is { } policy)
            {
                request.FailureHandlingPolicy = new FailureHandlingPolicy(policy);
            }

            await using var client = await cli.ConnectAsync(ct);
            var response = await client.CreateLocalDeploymentAsync(request, ct);
            await cli.Out.WriteLineAsync("Local deployment submitted! Deployment Id: " + response.DeploymentId);
            return 0;
        });
        return verb;
    }

    private static Command StatusVerb(Option<string> root)
    {
        var id = new Option<string>("--deploymentId", "-i") { Description = "The deployment ID.", Required = true };
        var verb = new Command("status", "Retrieve the status of a specific deployment.") { id };
        CliContext.SetAction(verb, root, async (cli, parse, ct) =>
        {
            await using var client = await cli.ConnectAsync(ct);
            var response = await client.GetLocalDeploymentStatusAsync(new GetLocalDeploymentStatusRequest { DeploymentId = parse.GetRequiredValue(id) }, ct);
            var deployment = response.Deployment ?? throw new CliException("the Nucleus answered without a deployment");
            var text = new StringBuilder();
            text.Append(deployment.DeploymentId).Append(": ").Append(deployment.Status?.Value).Append('\n');
            text.Append("Created on: ").Append(deployment.CreatedOn).Append('\n');
            if (deployment.Status == DeploymentStatus.Failed && deployment.DeploymentStatusDetails is { } details)
            {
                if (details.DetailedDeploymentStatus is { } detailed && !string.IsNullOrWhiteSpace(detailed.Value))
                {
                    text.Append("Detailed Status: ").Append(detailed.Value).Append('\n');
                }

                if (details.DeploymentErrorStack is { Count: > 0 } stack)
                {
                    text.Append("Deployment Error Stack: ").AppendJoin(", ", stack).Append('\n');
                }

                if (details.DeploymentErrorTypes is { Count: > 0 } types)
                {
                    text.Append("Deployment Error Types: ").AppendJoin(", ", types).Append('\n');
                }

                if (!string.IsNullOrWhiteSpace(details.DeploymentFailureCause))
                {
                    text.Append("Deployment Failure Cause: ").Append(details.DeploymentFailureCause).Append('\n');
                }
            }

            await cli.Out.WriteAsync(text.ToString());
            return 0;
        });
        return verb;
    }

    private static Command ListVerb(Option<string> root)
    {
        var verb = new Command("list", "Retrieve the status of local deployments.");
        CliContext.SetAction(verb, root, async (cli, parse, ct) =>
        {
            await using var client = await cli.ConnectAsync(ct);
            var response = await client.ListLocalDeploymentsAsync(new ListLocalDeploymentsRequest(), ct);

            // As greengrass-cli prints them: blocks separated by an empty line.
            var blocks = (response.LocalDeployments ?? []).Select(d =>
                $"Deployment ID: {d.DeploymentId}\nCreated on: {d.CreatedOn}\nStatus: {d.Status?.Value}\n");
            await cli.Out.WriteAsync(string.Join("\n", blocks));
            return 0;
        });
        return verb;
    }

    private static Command CancelVerb(Option<string> root)
    {
        var id = new Option<string>("--deploymentId", "-i") { Description = "The deployment ID.", Required = true };
        var verb = new Command("cancel", "Cancel a local deployment.") { id };
        CliContext.SetAction(verb, root, async (cli, parse, ct) =>
        {
            await using var client = await cli.ConnectAsync(ct);
            var response = await client.CancelLocalDeploymentAsync(new CancelLocalDeploymentRequest { DeploymentId = parse.GetRequiredValue(id) }, ct);
            await cli.Out.WriteLineAsync(response.Message);
            return 0;
        });
        return verb;
    }

    private static string? FullPath(string? path) => string.IsNullOrEmpty(path) ? null : Path.GetFullPath(ExpandHome(path));

    private static string ExpandHome(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path[2..]) : path;

    /// <summary>As greengrass-cli: a JSON file when the value names an existing file, else a JSON string; an object of component name to update.</summary>
    private static Dictionary<string, JsonElement> ReadConfigurationUpdate(string value)
    {
        var path = ExpandHome(value);
        var json = File.Exists(path) ? File.ReadAllText(path) : value;
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CliException("Update configuration parameter is not a properly formatted JSON file or a JSON string: not an object");
            }

            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new CliException("Update configuration parameter is not a properly formatted JSON file or a JSON string: " + ex.Message);
        }
    }
}
