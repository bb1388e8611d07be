using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Rollout.Rollouts;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline rollout run|resume|pause|status|abort --plan FILE</c>, against AWS or the local cloud (<see cref="CloudTarget"/>):
/// a staged rollout of new component versions to a thing group with gates and automatic revert
/// (<see cref="RolloutRunner"/>). <c>run</c> starts the plan's rollout, or resumes it where it stopped; its exit code
/// is 0 only when the rollout completed. The state is kept in <c>--state-dir</c>
/// (default <c>$XDG_STATE_HOME/fogline/rollouts</c>).
/// </summary>
internal static class RolloutCommands
{
    public static Command Create(GlobalOptions options)
    {
        var rollout = new Command("rollout", "Staged rollouts of component versions to a thing group, with gates and automatic revert.");
        rollout.Subcommands.Add(Run(options, "run", "Start the plan's rollout, or resume it where it stopped."));
        rollout.Subcommands.Add(Run(options, "resume", "Resume the plan's paused or interrupted rollout (the same as run)."));
        rollout.Subcommands.Add(Pause(options));
        rollout.Subcommands.Add(Status());
        rollout.Subcommands.Add(Abort(options));
        return rollout;
    }

    private sealed class PlanOptions
    {
        public Option<FileInfo> Plan { get; } = new("--plan", "-p") { Description = "The rollout plan, YAML or JSON (schema in the README).", Required = true };

        public Option<string?> Region { get; } = new("--region", "-r") { Description = "The region (default: the AWS settings')." };

        public Option<string?> StateDirectory { get; } = new("--state-dir") { Description = "Where rollouts keep their state (default $XDG_STATE_HOME/fogline/rollouts)." };

        public Option<bool> Json { get; } = new("--json") { Description = "End with the outcome as JSON (for CI)." };

        public void AddTo(Command command)
        {
            command.Options.Add(Plan);
            command.Options.Add(Region);
            command.Options.Add(StateDirectory);
            command.Options.Add(Json);
        }

        public RolloutPlan Load(ParseResult parse)
        {
            var file = parse.GetValue(Plan)!;
            if (!file.Exists)
            {
                throw new CliException($"the plan {file.FullName} does not exist");
            }

            try
            {
                return RolloutPlan.Parse(File.ReadAllText(file.FullName), file.FullName);
            }
            catch (RolloutPlanException ex)
            {
                throw new CliException($"{file.FullName}: " + string.Join("\n  ", ex.Problems.Prepend("the rollout plan is not valid:")));
            }
        }

        public string States(ParseResult parse) => Path.GetFullPath(parse.GetValue(StateDirectory) ?? Path.Combine(
            Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } state ? state : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state"),
            "fogline", "rollouts"));
    }

    private static Command Run(GlobalOptions options, string name, string description)
    {
        var plan = new PlanOptions();
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the stages and their devices, the changes and the requests; deploy nothing." };
        var poll = new Option<string>("--poll") { Description = "How often devices' reports are read while a gate waits (default 10s).", DefaultValueFactory = _ => "10s" };
        var command = new Command(name, description) { dryRun, poll };
        plan.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var loaded = plan.Load(parse);
            var problems = new List<string>();
            var interval = RolloutPlan.Duration(JsonValue.Create(parse.GetValue(poll)), "--poll", problems);
            if (problems.Count > 0 || interval is not { } pollInterval || pollInterval <= TimeSpan.Zero)
            {
                throw new CliException(problems.FirstOrDefault() ?? "--poll must be longer than 0");
            }

            await using var cloud = await CloudTarget.OpenAsync(parse, options, parse.GetValue(plan.Region), ct);
            await cli.Out.WriteLineAsync($"rolling out in {cloud.Description}");
            var runner = await RunnerAsync(cloud, ct);
            RolloutOutcome outcome;
            try
            {
                // On a terminal, the gates' figures are redrawn in place on a status line under the step lines.
                var live = cli.IsTerminal && !parse.GetValue(plan.Json);
                var clear = live ? "\r\u001b[K" : string.Empty;
                outcome = await runner.RunAsync(loaded, new RolloutOptions
                {
                    StateDirectory = plan.States(parse),
                    DryRun = parse.GetValue(dryRun),
                    PollInterval = pollInterval,
                    Progress = line => cli.Out.WriteLine($"{clear}{DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {line}"),
                    Status = live ? line => { cli.Out.Write($"{clear}  {line}"); cli.Out.Flush(); } : null,
                }, ct);
                if (live)
                {
                    await cli.Out.WriteAsync(clear);
                }
            }
            catch (RolloutPreflightException ex)
            {
                throw new CliException(string.Join("\n  ", ex.Problems.Prepend("the rollout cannot start (nothing was deployed):")));
            }

            await WriteOutcomeAsync(cli, parse.GetValue(plan.Json), outcome);
            return outcome.Status is "completed" or "planned" ? 0 : 1;
        });
        return command;
    }

    private static Command Pause(GlobalOptions options)
    {
        var plan = new PlanOptions();
        var command = new Command("pause", "Ask the plan's rollout under way (in another shell) to pause at its next look; resume it with run or resume.");
        plan.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var loaded = plan.Load(parse);
            await using var cloud = await CloudTarget.OpenAsync(parse, options, parse.GetValue(plan.Region), ct);
            var runner = await RunnerAsync(cloud, ct);
            if (!runner.RequestPause(loaded, new RolloutOptions { StateDirectory = plan.States(parse) }))
            {
                throw new CliException($"no rollout of this plan is running for thing group {loaded.Group}");
            }

            await cli.Out.WriteLineAsync($"asked rollout {loaded.Fingerprint()} of thing group {loaded.Group} to pause (at its next look at the devices)");
            return 0;
        });
        return command;
    }

    private static Command Status()
    {
        var plan = new PlanOptions();
        var command = new Command("status", "Where the plan's rollout is: stage, status, gate verdicts (from its state; calls nothing).");
        plan.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var loaded = plan.Load(parse);
            var directory = plan.States(parse);
            var id = loaded.Fingerprint();
            var file = Directory.Exists(directory) ? Directory.EnumerateFiles(directory, $"*-{loaded.Group}-{id}.json").FirstOrDefault() : null;
            if (file is null || RolloutState.Load(file) is not { } state)
            {
                await cli.Out.WriteLineAsync($"no rollout of this plan ({id}) for thing group {loaded.Group} in {directory}");
                return 1;
            }

            await WriteOutcomeAsync(cli, parse.GetValue(plan.Json), new RolloutOutcome(state.Status, state.Reason, state));
            return 0;
        });
        return command;
    }

    private static Command Abort(GlobalOptions options)
    {
        var plan = new PlanOptions();
        var command = new Command("abort", "Stop the plan's rollout and revert its stage devices to the group's deployment from before it.");
        plan.AddTo(command);
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var loaded = plan.Load(parse);
            await using var cloud = await CloudTarget.OpenAsync(parse, options, parse.GetValue(plan.Region), ct);
            var runner = await RunnerAsync(cloud, ct);
            RolloutOutcome outcome;
            try
            {
                outcome = await runner.AbortAsync(loaded, new RolloutOptions { StateDirectory = plan.States(parse), Progress = line => cli.Out.WriteLine(line) }, ct);
            }
            catch (RolloutPreflightException ex)
            {
                throw new CliException(ex.Problems.FirstOrDefault() ?? ex.Message);
            }

            await WriteOutcomeAsync(cli, parse.GetValue(plan.Json), outcome);
            return 0;
        });
        return command;
    }

    private static async Task<RolloutRunner> RunnerAsync(CloudTarget cloud, CancellationToken cancellationToken) =>
        new(cloud.Clients, await cloud.Clients.AccountAsync(cancellationToken));

    private static async Task WriteOutcomeAsync(CliContext cli, bool json, RolloutOutcome outcome)
    {
        var state = outcome.State;
        if (json)
        {
            await cli.Out.WriteLineAsync(new JsonObject
            {
                ["rolloutId"] = state.RolloutId,
                ["group"] = state.Group,
                ["status"] = outcome.Status,
                ["reason"] = outcome.Reason,
                ["stage"] = state.Stage,
                ["basisDeploymentId"] = state.BasisDeploymentId,
                ["finalDeploymentId"] = state.FinalDeploymentId,
                ["revertDeploymentId"] = state.RevertDeploymentId,
                ["verdicts"] = new JsonArray([.. state.Verdicts.Select(v => (JsonNode)v)]),
            }.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return;
        }

        await cli.Out.WriteLineAsync($"rollout {state.RolloutId} of thing group {state.Group}: {outcome.Status}{(outcome.Reason is null ? string.Empty : " (" + outcome.Reason + ")")}");
        await Table.WriteAsync(cli.Out, ["Stage", "Verdict"], state.Verdicts.Select(v => v.IndexOf(": ", StringComparison.Ordinal) is var at and > 0 ? new[] { v[..at], v[(at + 2)..] } : ["", v]));
    }
}
