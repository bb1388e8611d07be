using System.CommandLine;
using System.Text;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>pubsub pub|sub</c>, as greengrass-cli: local publish/subscribe as the CLI. <c>pub -t TOPIC -m MESSAGE</c> (the
/// message is a file's content when it names an existing file) publishes a binary message and prints nothing;
/// <c>sub -t TOPIC</c> prints <c>Successfully subscribed to topic: TOPIC</c>, then each message on its own line (JSON
/// messages as compact JSON) until interrupted.
/// </summary>
internal static class PubSubCommand
{
    public static Command Create(Option<string> root)
    {
        var command = new Command("pubsub", "Publish or subscribe to local topics.");

        var pubTopic = TopicOption();
        var message = new Option<string>("--message", "-m") { Description = "The message, or a file whose content is the message.", Required = true };
        var pub = new Command("pub", "Publish a message to a local topic.") { pubTopic, message };
        CliContext.SetAction(pub, root, async (cli, parse, ct) =>
        {
            var topic = parse.GetRequiredValue(pubTopic);
            var content = CliContext.ContentOf(parse.GetRequiredValue(message));
            await using var client = await cli.ConnectAsync(ct);
            try
            {
                await client.PublishToTopicAsync(
                    new PublishToTopicRequest { Topic = topic, PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes(content) } } },
                    ct);
            }
            catch (UnauthorizedException)
            {
                throw new CliException("Unauthorized error while publishing to topic: " + topic);
            }

            return 0;
        });

        var subTopic = TopicOption();
        var sub = new Command("sub", "Subscribe to a local topic and print its messages until interrupted.") { subTopic };
        CliContext.SetAction(sub, root, async (cli, parse, ct) =>
        {
            var topic = parse.GetRequiredValue(subTopic);
            await using var client = await cli.ConnectAsync(ct);
            var gate = new Lock();
            IpcStream<SubscribeToTopicResponse, SubscriptionResponseMessage> stream;
            try
            {
                stream = await client.SubscribeToTopicAsync(
                    new SubscribeToTopicRequest { Topic = topic, ReceiveMode = ReceiveMode.ReceiveAllMessages },
                    e =>
                    {
                        var text = e.JsonMessage?.Message is { } json ? json.GetRawText()
                            : e.BinaryMessage?.Message is { } bytes ? Encoding.UTF8.GetString(bytes.Span)
                            : null;
                        if (text is not null)
                        {
                            lock (gate)
                            {
                                cli.Out.WriteLine(text);
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

                return await WaitAsync(stream.Completion, cli, "Subscribe to topic stream closed.", ct);
            }
        });

        command.Subcommands.Add(pub);
        command.Subcommands.Add(sub);
        return command;
    }

    internal static Option<string> TopicOption() => new("--topic", "-t") { Description = "The topic.", Required = true };

    /// <summary>Waits until the stream ends (an error: exit 1) or the command is interrupted (exit 0).</summary>
    internal static async Task<int> WaitAsync(Task completion, CliContext cli, string closedMessage, CancellationToken cancellationToken)
    {
        var interrupted = Task.Delay(Timeout.Infinite, cancellationToken);
        if (await Task.WhenAny(completion, interrupted) == interrupted)
        {
            return 0;
        }

        try
        {
            await completion;
        }
        catch (GreengrassIpcException ex)
        {
            return await cli.FailAsync("the subscription ended: " + ex.Message);
        }

        await cli.Out.WriteLineAsync(closedMessage);
        return 0;
    }
}
