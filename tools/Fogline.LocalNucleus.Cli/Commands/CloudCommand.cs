using Fogline.LocalNucleus.CliAccess;
using System.CommandLine;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Fogline.LocalNucleus.IoTCore;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>cloud status|outage|latency|send|journal</c>: drives the cloud side of the running Nucleus's emulated AWS IoT
/// Core through its cloud-control socket (<c>&lt;root&gt;/cloud-control.socket</c>, see
/// <see cref="CloudControlServer"/>); the journal is read from <c>&lt;root&gt;/cloud/journal.jsonl</c>.
/// </summary>
internal static class CloudCommand
{
    private static readonly TimeSpan FollowPollInterval = TimeSpan.FromMilliseconds(200);

    public static Command Create(Option<string> root)
    {
        var command = new Command("cloud", "Drive the emulated AWS IoT Core: outages, latency, cloud-to-device messages, the journal.");

        var status = new Command("status", "Print the connection state, latency, outages and counters.");
        CliContext.SetAction(status, root, async (cli, parse, ct) => await PrintStatusAsync(cli, await RequestAsync(cli, new JsonObject { ["command"] = "status" }, ct)));

        var outage = new Command("outage", "Take the connection down or bring it up.");
        var forOption = DurationOption("--for", "How long the outage lasts (e.g. 30s, 500ms, 2m); without it, until `cloud outage up`.");
        var down = new Command("down", "Take the connection down now.") { forOption };
        CliContext.SetAction(down, root, async (cli, parse, ct) =>
        {
            var request = new JsonObject { ["command"] = "down" };
            if (parse.GetValue(forOption) is { } duration)
            {
                request["forSeconds"] = duration.TotalSeconds;
            }

            return await PrintStatusAsync(cli, await RequestAsync(cli, request, ct));
        });
        var up = new Command("up", "Bring the connection up now (ends any outage under way).");
        CliContext.SetAction(up, root, async (cli, parse, ct) => await PrintStatusAsync(cli, await RequestAsync(cli, new JsonObject { ["command"] = "up" }, ct)));
        var after = DurationOption("--after", "When the outage starts, from now (default now).");
        var scheduleFor = DurationOption("--for", "How long each outage lasts.");
        scheduleFor.Required = true;
        var every = DurationOption("--every", "Repeat the outage with this period.");
        var schedule = new Command("schedule", "Schedule a later or repeating outage.") { after, scheduleFor, every };
        CliContext.SetAction(schedule, root, async (cli, parse, ct) =>
        {
            var request = new JsonObject { ["command"] = "schedule", ["forSeconds"] = parse.GetValue(scheduleFor)!.Value.TotalSeconds };
            if (parse.GetValue(after) is { } start)
            {
                request["afterSeconds"] = start.TotalSeconds;
            }

            if (parse.GetValue(every) is { } period)
            {
                request["everySeconds"] = period.TotalSeconds;
            }

            return await PrintStatusAsync(cli, await RequestAsync(cli, request, ct));
        });
        outage.Subcommands.Add(down);
        outage.Subcommands.Add(up);
        outage.Subcommands.Add(schedule);

        var ms = new Option<int>("--ms") { Description = "The latency in milliseconds added to each message on its way to the cloud.", Required = true };
        ms.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--ms must not be negative");
            }
        });
        var latency = new Command("latency", "Set the latency of the connection.") { ms };
        CliContext.SetAction(latency, root, async (cli, parse, ct) =>
            await PrintStatusAsync(cli, await RequestAsync(cli, new JsonObject { ["command"] = "latency", ["ms"] = parse.GetValue(ms) }, ct)));

        var topic = PubSubCommand.TopicOption();
        var message = new Option<string>("--message", "-m") { Description = "The payload, or a file whose content is the payload.", Required = true };
        var qos = new Option<string>("--qos", "-q") { Description = "The MQTT QoS, 0 or 1 (default 0).", DefaultValueFactory = _ => "0" };
        qos.AcceptOnlyFromAmong("0", "1");
        var retain = new Option<bool>("--retain") { Description = "Send a retained message." };
        var send = new Command("send", "Send a message from the cloud to the device.") { topic, message, qos, retain };
        CliContext.SetAction(send, root, async (cli, parse, ct) =>
        {
            var response = await RequestAsync(cli, new JsonObject
            {
                ["command"] = "send",
                ["topic"] = parse.GetRequiredValue(topic),
                ["payload"] = CliContext.ContentOf(parse.GetRequiredValue(message)),
                ["qos"] = int.Parse(parse.GetRequiredValue(qos), CultureInfo.InvariantCulture),
                ["retain"] = parse.GetValue(retain),
            }, ct);
            await cli.Out.WriteLineAsync($"Sent to the device: {response["outcome"]} ({response["subscriptions"]} subscriptions)");
            return 0;
        });

        var follow = new Option<bool>("--follow") { Description = "Keep printing messages as they reach the cloud, until interrupted." };
        var json = new Option<bool>("--json") { Description = "Print the journal's JSON lines as they are." };
        var journal = new Command("journal", "Print the messages that reached the cloud.") { follow, json };
        CliContext.SetAction(journal, root, async (cli, parse, ct) =>
        {
            if (!Directory.Exists(cli.Root))
            {
                throw cli.NotRunning("the root does not exist");
            }

            var printed = 0L;
            while (true)
            {
                var entries = CloudJournalReader.Read(cli.Root);
                foreach (var entry in entries.Where(e => e.Sequence > printed))
                {
                    await cli.Out.WriteLineAsync(parse.GetValue(json) ? System.Text.Json.JsonSerializer.Serialize(entry, CliJson.Default.CloudJournalEntry) : Format(entry));
                    printed = entry.Sequence;
                }

                await cli.Out.FlushAsync(ct);
                if (!parse.GetValue(follow))
                {
                    return 0;
                }

                await Task.Delay(FollowPollInterval, ct);
            }
        });

        command.Subcommands.Add(status);
        command.Subcommands.Add(outage);
        command.Subcommands.Add(latency);
        command.Subcommands.Add(send);
        command.Subcommands.Add(journal);
        return command;
    }

    /// <summary>A journal entry on one line: sequence, time, topic, QoS, retain, component, payload (UTF-8, else base64).</summary>
    internal static string Format(CloudJournalEntry entry) =>
        string.Create(CultureInfo.InvariantCulture, $"#{entry.Sequence} {entry.ReceivedAt:yyyy-MM-ddTHH:mm:ss.fffZ} {entry.Topic} qos{entry.Qos}{(entry.Retain ? " retain" : string.Empty)} from {entry.Component ?? "-"}: {entry.PayloadUtf8 ?? "base64:" + Convert.ToBase64String(entry.Payload)}");

    /// <summary>Parses 500ms, 30s, 2m, 1h, plain seconds, or a TimeSpan (hh:mm:ss).</summary>
    internal static TimeSpan? ParseDuration(string text)
    {
        text = text.Trim();
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1),
            _ when text.EndsWith('m') => (text[..^1], 60),
            _ when text.EndsWith('h') => (text[..^1], 3600),
            _ => (text, 1),
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0 && double.IsFinite(value))
        {
            return TimeSpan.FromSeconds(value * scale);
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero ? span : null;
    }

    private static Option<TimeSpan?> DurationOption(string name, string description) => new(name)
    {
        Description = description,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (ParseDuration(text) is { } duration)
            {
                return duration;
            }

            result.AddError($"{name} takes a positive duration such as 500ms, 30s, 2m or 1h, not '{text}'");
            return null;
        },
    };

    private static async Task<JsonObject> RequestAsync(CliContext cli, JsonObject request, CancellationToken cancellationToken)
    {
        JsonObject response;
        try
        {
            response = await CloudControlClient.RequestAsync(cli.Root, request, cancellationToken);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            throw cli.NotRunning($"no cloud-control socket answers at {CloudControlServer.SocketPathFor(cli.Root)}: {ex.Message}");
        }

        if (response["ok"]?.GetValue<bool>() != true)
        {
            throw new CliException(response["error"]?.GetValue<string>() ?? "the Nucleus refused the cloud-control request");
        }

        return response;
    }

    private static async Task<int> PrintStatusAsync(CliContext cli, JsonObject status)
    {
        var online = status["online"]?.GetValue<bool>() == true;
        await cli.Out.WriteLineAsync("Connection: " + (online ? "ONLINE" : "OFFLINE"));
        await cli.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Latency: {status["latencyMs"]?.GetValue<double>() ?? 0} ms"));
        var outages = status["outages"]?.AsArray().Select(o => o?.GetValue<string>()).ToList() ?? [];
        await cli.Out.WriteLineAsync("Outages: " + (outages.Count == 0 ? "none" : string.Join("; ", outages)));
        var subscriptions = status["cloudSubscriptions"]?.AsArray().Select(o => o?.GetValue<string>()).ToList() ?? [];
        await cli.Out.WriteLineAsync("Cloud subscriptions: " + (subscriptions.Count == 0 ? "none" : string.Join(", ", subscriptions)));
        if (status["counters"] is JsonObject counters)
        {
            await cli.Out.WriteLineAsync("Counters: " + string.Join(" ", counters.Select(c => $"{c.Key}={c.Value}")));
        }

        await cli.Out.WriteLineAsync("Journal: " + status["journal"]?.GetValue<string>());
        return 0;
    }
}
