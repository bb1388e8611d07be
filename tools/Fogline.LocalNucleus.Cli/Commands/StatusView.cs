using System.Globalization;
using Fogline.LocalNucleus.Components;
using Spectre.Console;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// The live terminal view of <c>start</c>: the components (name, version, state, process ids, since when), local pub/sub and IoT
/// Core counters, and the state of the emulated cloud connection, refreshed twice a second until cancelled.
/// </summary>
internal static class StatusView
{
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(500);

    public static async Task RunAsync(Nucleus nucleus, CancellationToken cancellationToken)
    {
        using var pipeline = new PipelineMonitor(nucleus);
        await AnsiConsole.Live(Render(nucleus, pipeline)).AutoClear(false).StartAsync(async context =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(Refresh, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                context.UpdateTarget(Render(nucleus, pipeline));
            }
        });
    }

    internal static Rows Render(Nucleus nucleus, PipelineMonitor? pipeline = null)
    {
        var header = new Markup(Markup.Escape($"Local Nucleus {nucleus.Options.NucleusVersion} · thing {nucleus.Options.ThingName} · {nucleus.SocketPath}") + "  [grey](Ctrl+C to stop)[/]");

        var components = new Table().Border(TableBorder.Rounded).Title("Components");
        components.AddColumns("Name", "Version", "State", "PID", "Since");
        foreach (var component in nucleus.Components.All.OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            components.AddRow(
                Markup.Escape(component.Name),
                Markup.Escape(component.Version),
                StateMarkup(component),
                Markup.Escape(string.Join(",", nucleus.Supervisor.ProcessIds(component.Name))),
                component.StateChangedAt.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture));
        }

        if (nucleus.Components.All.Count == 0)
        {
            components.AddRow("[grey](none)[/]", string.Empty, string.Empty, string.Empty, string.Empty);
        }

        var iot = nucleus.IoTCore;
        var counters = iot.Counters;
        var cloud = new Table().Border(TableBorder.Rounded).Title("Emulated AWS IoT Core");
        cloud.AddColumns("Connection", "Latency", "Outages", "Published", "Delivered", "Refused", "Dropped", "Spool", "To device");
        cloud.AddRow(
            iot.IsOnline ? "[green]ONLINE[/]" : "[red]OFFLINE[/]",
            Markup.Escape($"{iot.Latency.TotalMilliseconds:0} ms"),
            Markup.Escape(iot.Outages.Count == 0 ? "none" : string.Join("; ", iot.Outages.Select(o => o.Description))),
            counters.Published.ToString(CultureInfo.InvariantCulture),
            counters.Delivered.ToString(CultureInfo.InvariantCulture),
            counters.Refused.ToString(CultureInfo.InvariantCulture),
            counters.Dropped.ToString(CultureInfo.InvariantCulture),
            Markup.Escape($"{counters.SpoolMessages} msg / {counters.SpoolBytes} B"),
            Markup.Escape($"{counters.DeliveredToDevice}/{counters.SentToDevice}"));

        var pubsub = new Table().Border(TableBorder.Rounded).Title("Local pub/sub");
        pubsub.AddColumns("Published", "Dropped", "Subscribers", "Topics");
        pubsub.AddRow(
            nucleus.PubSub.PublishedMessages.ToString(CultureInfo.InvariantCulture),
            nucleus.PubSub.DroppedMessages.ToString(CultureInfo.InvariantCulture),
            nucleus.PubSub.SubscriberCount.ToString(CultureInfo.InvariantCulture),
            nucleus.PubSub.TopicCount.ToString(CultureInfo.InvariantCulture));

        if (pipeline is null || !pipeline.HasData)
        {
            return new Rows(header, components, cloud, pubsub);
        }

        // The Fogline pipeline's own counters (fogline/metrics/#) and its latest alerts.
        var flow = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(pipeline.Summary()));
        flow.AddColumns("Component", "Received/s", "Published/s", "Rejected", "Dropped", "Other counters");
        foreach (var (component, values, rates) in pipeline.Components())
        {
            var other = string.Join(" ", values.Where(c => c.Key is not ("received" or "published" or "rejected" or "dropped" or "errors" or "inbound_depth")).Select(c => $"{c.Key}={c.Value}"));
            flow.AddRow(
                Markup.Escape(component),
                rates.TryGetValue("received", out var r) ? r.ToString("0", CultureInfo.InvariantCulture) : "-",
                rates.TryGetValue("published", out var p) ? p.ToString("0", CultureInfo.InvariantCulture) : "-",
                values.TryGetValue("rejected", out var rejected) ? rejected.ToString(CultureInfo.InvariantCulture) : "0",
                values.TryGetValue("dropped", out var dropped) ? dropped.ToString(CultureInfo.InvariantCulture) : "0",
                Markup.Escape(other));
        }

        var alerts = new Table().Border(TableBorder.Rounded).Title("Latest alerts (fogline/alerts/#)");
        alerts.AddColumn("Alert");
        foreach (var line in pipeline.Alerts())
        {
            alerts.AddRow(Markup.Escape(line));
        }

        if (pipeline.AlertCount == 0)
        {
            alerts.AddRow("[grey](none yet)[/]");
        }

        return new Rows(header, components, flow, alerts, cloud, pubsub);
    }

    private static string StateMarkup(ComponentRecord component)
    {
        var state = component.State.Value + (component.IsPaused ? " (paused)" : string.Empty);
        var color = component.State.Value switch
        {
            "RUNNING" => "green",
            "FINISHED" => "blue",
            "ERRORED" or "BROKEN" => "red",
            "STOPPING" or "STARTING" or "INSTALLED" => "yellow",
            _ => "grey",
        };
        return $"[{color}]{Markup.Escape(state)}[/]";
    }
}
