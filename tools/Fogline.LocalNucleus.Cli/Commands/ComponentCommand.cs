using System.CommandLine;
using System.Text.Json;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>component list|details|restart|stop</c>, as greengrass-cli: list and details print each component as
/// <c>Component Name: N</c> followed by indented <c>Version</c>, <c>State</c> and <c>Configuration</c> (compact JSON)
/// lines; restart and stop take <c>-n/--names</c> (comma-separated) and print nothing when the Nucleus accepts them.
/// </summary>
internal static class ComponentCommand
{
    public static Command Create(Option<string> root)
    {
        var command = new Command("component", "Retrieve component information and restart or stop components.");

        var list = new Command("list", "Retrieve the names, component information, and runtime arguments for components.");
        CliContext.SetAction(list, root, async (cli, parse, ct) =>
        {
            await using var client = await cli.ConnectAsync(ct);
            var response = await client.ListComponentsAsync(new ListComponentsRequest(), ct);
            await cli.Out.WriteLineAsync("Components currently running in Greengrass:");
            foreach (var component in response.Components ?? [])
            {
                await PrintAsync(cli.Out, component);
            }

            return 0;
        });

        var detailsName = new Option<string>("--name", "-n") { Description = "The name of the component.", Required = true };
        var details = new Command("details", "Retrieve the version, state and configuration of a component.") { detailsName };
        CliContext.SetAction(details, root, async (cli, parse, ct) =>
        {
            await using var client = await cli.ConnectAsync(ct);
            var response = await client.GetComponentDetailsAsync(new GetComponentDetailsRequest { ComponentName = parse.GetRequiredValue(detailsName) }, ct);
            if (response.ComponentDetails is { } component)
            {
                await PrintAsync(cli.Out, component);
            }

            return 0;
        });

        command.Subcommands.Add(list);
        command.Subcommands.Add(details);
        command.Subcommands.Add(Control("restart", "Restart components.", root, async (client, name, ct) =>
            (await client.RestartComponentAsync(new RestartComponentRequest { ComponentName = name }, ct)).RestartStatus));
        command.Subcommands.Add(Control("stop", "Stop components.", root, async (client, name, ct) =>
            (await client.StopComponentAsync(new StopComponentRequest { ComponentName = name }, ct)).StopStatus));
        return command;
    }

    private static Command Control(string verb, string description, Option<string> root, Func<GreengrassIpcClient, string, CancellationToken, Task<RequestStatus?>> call)
    {
        var names = new Option<string>("--names", "-n") { Description = "The names of the target components, separated with commas.", Required = true };
        var command = new Command(verb, description) { names };
        CliContext.SetAction(command, root, async (cli, parse, ct) =>
        {
            // As greengrass-cli splits them: on commas or ampersands with any spaces around.
            var targets = parse.GetRequiredValue(names).Split([',', '&'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (targets.Length == 0)
            {
                throw new CliException("--names names no component");
            }

            await using var client = await cli.ConnectAsync(ct);
            foreach (var target in targets)
            {
                var status = await call(client, target, ct);
                if (status != RequestStatus.Succeeded)
                {
                    throw new CliException($"the Nucleus did not {verb} {target} ({status?.Value ?? "no status"})");
                }
            }

            return 0;
        });
        return command;
    }

    private static async Task PrintAsync(TextWriter output, ComponentDetails component)
    {
        await output.WriteLineAsync("Component Name: " + component.ComponentName);
        await output.WriteLineAsync("    Version: " + component.Version);
        await output.WriteLineAsync("    State: " + component.State?.Value);
        var configuration = component.Configuration is { } json && json.ValueKind != JsonValueKind.Undefined ? Compact(json) : "null";
        await output.WriteLineAsync("    Configuration: " + configuration);
    }

    /// <summary>Compact JSON without escaping what Jackson does not escape (quotes, apostrophes, non-ASCII).</summary>
    private static string Compact(JsonElement json)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}
