using System.CommandLine;
using System.Text;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>iotcore pub|sub</c>, as greengrass-cli: MQTT to and from the emulated AWS IoT Core as the CLI.
/// <c>pub -t TOPIC -m MESSAGE [-q 0|1]</c> prints nothing when the Nucleus accepts the message (errors such as the
/// Nucleus's "Device is offline. Dropping QoS 0 message." go to stderr with exit code 1); <c>sub -t FILTER [-q 0|1]</c>
/// prints <c>Successfully subscribed to topic: FILTER</c>, then each payload on its own line until interrupted.
/// </summary>
internal static class IoTCoreCommand
{
    public static Command Create(Option<string> root)
    {
        var command = new Command("iotcore", "Publish or subscribe to AWS IoT Core MQTT topics (emulated).");

        var pubTopic = PubSubCommand.TopicOption();
        var message = new Option<string>("--message", "-m") { Description = "The payload, or a file whose content is the payload.", Required = true };
        var pubQos = QosOption();
        var pub = new Command("pub", "Publish a message to AWS IoT Core.") { pubTopic, message, pubQos };
        CliContext.SetAction(pub, root, async (cli, parse, ct) =>
        {
            var topic = parse.GetRequiredValue(pubTopic);
            var payload = Encoding.UTF8.GetBytes(CliContext.ContentOf(parse.GetRequiredValue(message)));
            await using var client = await cli.ConnectAsync(ct);
            try
            {
                await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = topic, Payload = payload, Qos = new QOS(parse.GetRequiredValue(pubQos)) }, ct);
            }
            catch (UnauthorizedException)
            {
                throw new CliException("Unauthorized error while publishing to topic: " + topic);
            }

            return 0;
        });

        var subTopic = PubSubCommand.TopicOption();
        var subQos = QosOption();
        var sub = new Command("sub", "Subscribe to AWS IoT Core topics and print the payloads until interrupted.") { subTopic, subQos };
        CliContext.SetAction(sub, root, async (cli, parse, ct) =>
        {
            var topic = parse.GetRequiredValue(subTopic);
            await using var client = await cli.ConnectAsync(ct);
            var gate = new Lock();
            IpcStream<SubscribeToIoTCoreResponse, IoTCoreMessage> stream;
            try
            {
                stream = await client.SubscribeToIoTCoreAsync(
                    new SubscribeToIoTCoreRequest { TopicName = topic, Qos = new QOS(parse.GetRequiredValue(subQos)) },
                    e =>
                    {
                        if (e.Message?.Payload is { } payload)
                        {
                            lock (gate)
                            {
                                cli.Out.WriteLine(Encoding.UTF8.GetString(payload.Span));
                                cli.Out.Flush();
                            }
                        }
                    },
                    ct);
            }
            catch (UnauthorizedException)
            {
                throw new CliException("Unauthorized error while subscribing to topic: " + topic);
            }

            await using (stream)
            {
                lock (gate)
                {
                    cli.Out.WriteLine("Successfully subscribed to topic: " + topic);
                    cli.Out.Flush();
                }

                return await PubSubCommand.WaitAsync(stream.Completion, cli, "Subscribe to IoT Core stream closed.", ct);
            }
        });

        command.Subcommands.Add(pub);
        command.Subcommands.Add(sub);
        return command;
    }

    private static Option<string> QosOption()
    {
        var qos = new Option<string>("--qos", "-q") { Description = "The MQTT QoS, 0 or 1 (default 0).", DefaultValueFactory = _ => "0" };
        qos.AcceptOnlyFromAmong("0", "1");
        return qos;
    }
}
