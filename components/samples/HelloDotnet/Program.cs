using System.Globalization;
using System.Text;
using Fogline.Greengrass.Ipc;

// A component written against the IPC client alone: connect from the environment the Nucleus gives
// (AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT, SVCUID), subscribe, publish, stop on SIGTERM.
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

var pingTopic = Environment.GetEnvironmentVariable("PING_TOPIC") ?? "fogline/demo/ping";
var pongTopic = Environment.GetEnvironmentVariable("PONG_TOPIC") ?? "fogline/demo/pong";
var interval = TimeSpan.FromMilliseconds(double.Parse(Environment.GetEnvironmentVariable("PING_INTERVAL_MS") ?? "1000", CultureInfo.InvariantCulture));

await using var ipc = await GreengrassIpcClient.ConnectAsync(cancellationToken: stop.Token);
await using var pongs = await ipc.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = pongTopic }, message =>
{
    var text = message.JsonMessage?.Message?.GetRawText()
        ?? (message.BinaryMessage?.Message is { } bytes ? Encoding.UTF8.GetString(bytes.Span) : "?");
    Console.WriteLine($"pong on {pongTopic}: {text}");
});
Console.WriteLine($"HelloDotnet: pinging {pingTopic} every {interval.TotalMilliseconds} ms, listening on {pongTopic}");

for (var n = 1; !stop.IsCancellationRequested; n++)
{
    var json = System.Text.Json.JsonDocument.Parse($"{{\"from\":\"dotnet\",\"n\":{n}}}").RootElement;
    await ipc.PublishToTopicAsync(new PublishToTopicRequest { Topic = pingTopic, PublishMessage = new PublishMessage { JsonMessage = new JsonMessage { Message = json } } }, stop.Token);
    if (n % 10 == 0)
    {
        await ipc.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "fogline/demo/telemetry", Qos = QOS.AtLeastOnce, Payload = Encoding.UTF8.GetBytes($"{{\"pings\":{n}}}") }, stop.Token);
    }

    try
    {
        await Task.Delay(interval, stop.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }
}

Console.WriteLine("HelloDotnet: stopping");
