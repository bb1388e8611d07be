namespace Fogline.LocalNucleus.Cli.Tests;

[CancelAfter(60_000)]
public class MessagingTests
{
    private CliHarness _cli = null!;

    private static CancellationToken Token => TestContext.CurrentContext.CancellationToken;

    [SetUp]
    public async Task SetUp() => _cli = await CliHarness.StartAsync();

    [TearDown]
    public async Task TearDown() => await _cli.DisposeAsync();

    [Test]
    public async Task PubSub_RoundTrips_BetweenTwoCliInvocations()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var (exit, output, _) = _cli.Start(stop.Token, "pubsub", "sub", "-t", "test/cli");
        await output.WaitForAsync("Successfully subscribed to topic: test/cli\n", Token);

        var pub = await _cli.RunAsync("pubsub", "pub", "-t", "test/cli", "-m", "hello from the CLI");
        Assert.That(pub.ExitCode, Is.Zero, pub.Error);
        Assert.That(pub.Output, Is.Empty);

        await output.WaitForAsync("hello from the CLI\n", Token);
        await stop.CancelAsync();
        Assert.That(await exit, Is.Zero);
        Assert.That(output.Text, Is.EqualTo("Successfully subscribed to topic: test/cli\nhello from the CLI\n"));
    }

    [Test]
    public async Task PubSubPub_WithAFile_PublishesItsContent()
    {
        var file = Path.Combine(_cli.Root, "message.json");
        await File.WriteAllTextAsync(file, """{"from":"file"}""", Token);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var subscription = _cli.Nucleus.PubSub.Subscribe("test/file", (_, bytes) => received.TrySetResult(System.Text.Encoding.UTF8.GetString(bytes.Span)));

        var pub = await _cli.RunAsync("pubsub", "pub", "-t", "test/file", "-m", file);

        Assert.That(pub.ExitCode, Is.Zero, pub.Error);
        Assert.That(await received.Task.WaitAsync(Token), Is.EqualTo("""{"from":"file"}"""));
    }

    [Test]
    public async Task IoTCorePub_ReachesTheCloudJournal_AndCloudJournalPrintsIt()
    {
        var pub = await _cli.RunAsync("iotcore", "pub", "-t", "devices/d1/telemetry", "-m", "42", "-q", "1");
        Assert.That(pub.ExitCode, Is.Zero, pub.Error);

        while (_cli.Nucleus.IoTCore.ReadJournal().Count == 0)
        {
            await Task.Delay(20, Token);
        }

        var entry = _cli.Nucleus.IoTCore.ReadJournal().Single();
        Assert.That(entry.Topic, Is.EqualTo("devices/d1/telemetry"));
        Assert.That(entry.PayloadUtf8, Is.EqualTo("42"));
        Assert.That(entry.Qos, Is.EqualTo(1));
        Assert.That(entry.Component, Is.EqualTo("aws.greengrass.Cli"));

        var journal = await _cli.RunAsync("cloud", "journal");
        Assert.That(journal.ExitCode, Is.Zero, journal.Error);
        Assert.That(journal.Output, Does.Match(@"^#1 \S+ devices/d1/telemetry qos1 from aws\.greengrass\.Cli: 42\n$"));
    }

    [Test]
    public async Task CloudJournalFollow_PrintsMessagesAsTheyArrive()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var (exit, output, _) = _cli.Start(stop.Token, "cloud", "journal", "--follow");

        var pub = await _cli.RunAsync("iotcore", "pub", "-t", "later/topic", "-m", "late message");
        Assert.That(pub.ExitCode, Is.Zero, pub.Error);

        await output.WaitForAsync("later/topic qos0 from aws.greengrass.Cli: late message\n", Token);
        await stop.CancelAsync();
        Assert.That(await exit, Is.Zero);
    }

    [Test]
    public async Task OutageDown_ThenIoTCorePubQos0_FailsWithTheNucleusMessage_AndUpRestoresIt()
    {
        var down = await _cli.RunAsync("cloud", "outage", "down");
        Assert.That(down.ExitCode, Is.Zero, down.Error);
        Assert.That(down.Output, Does.StartWith("Connection: OFFLINE\n"));
        Assert.That(_cli.Nucleus.IoTCore.IsOnline, Is.False);

        var pub = await _cli.RunAsync("iotcore", "pub", "-t", "a/b", "-m", "lost");
        Assert.That(pub.ExitCode, Is.EqualTo(1));
        Assert.That(pub.Error, Is.EqualTo("error: ServiceError: Publish to topic a/b failed: Device is offline. Dropping QoS 0 message.\n"));

        var up = await _cli.RunAsync("cloud", "outage", "up");
        Assert.That(up.ExitCode, Is.Zero, up.Error);
        Assert.That(up.Output, Does.StartWith("Connection: ONLINE\n"));
        Assert.That(_cli.Nucleus.IoTCore.IsOnline, Is.True);
    }

    [Test]
    public async Task OutageDownFor_IsAnOutageOfThatDuration()
    {
        var down = await _cli.RunAsync("cloud", "outage", "down", "--for", "2h");

        Assert.That(down.ExitCode, Is.Zero, down.Error);
        Assert.That(_cli.Nucleus.IoTCore.IsOnline, Is.False);
        Assert.That(_cli.Nucleus.IoTCore.Outages.Single().Duration, Is.EqualTo(TimeSpan.FromHours(2)));
        Assert.That(down.Output, Does.Contain("Outages: now for 02:00:00 (active)\n"));
    }

    [Test]
    public async Task OutageSchedule_SchedulesARepeatingOutage()
    {
        var result = await _cli.RunAsync("cloud", "outage", "schedule", "--after", "1h", "--for", "30s", "--every", "2h");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        var outage = _cli.Nucleus.IoTCore.Outages.Single();
        Assert.That(outage.Duration, Is.EqualTo(TimeSpan.FromSeconds(30)));
        Assert.That(_cli.Nucleus.IoTCore.IsOnline, Is.True);
    }

    [Test]
    public async Task Latency_SetsTheLatencyOfTheConnection()
    {
        var result = await _cli.RunAsync("cloud", "latency", "--ms", "250");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(_cli.Nucleus.IoTCore.Latency, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
        Assert.That(result.Output, Does.Contain("Latency: 250 ms\n"));
    }

    [Test]
    public async Task CloudSend_ReachesAnIoTCoreSubOfTheCli()
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var (exit, output, _) = _cli.Start(stop.Token, "iotcore", "sub", "-t", "commands/#", "-q", "1");
        await output.WaitForAsync("Successfully subscribed to topic: commands/#\n", Token);
        while (!_cli.Nucleus.IoTCore.CloudSubscriptions.Contains("commands/#"))
        {
            await Task.Delay(20, Token);
        }

        var send = await _cli.RunAsync("cloud", "send", "-t", "commands/reboot", "-m", "now please");

        Assert.That(send.ExitCode, Is.Zero, send.Error);
        Assert.That(send.Output, Is.EqualTo("Sent to the device: Delivered (1 subscriptions)\n"));
        await output.WaitForAsync("now please\n", Token);
        await stop.CancelAsync();
        Assert.That(await exit, Is.Zero);
    }

    [Test]
    public async Task CloudSend_WithoutASubscription_SaysSo()
    {
        var send = await _cli.RunAsync("cloud", "send", "-t", "nobody/listens", "-m", "x");

        Assert.That(send.ExitCode, Is.Zero, send.Error);
        Assert.That(send.Output, Is.EqualTo("Sent to the device: NoMatchingSubscription (0 subscriptions)\n"));
    }

    [Test]
    public async Task CloudStatus_ReportsCounters()
    {
        var pub = await _cli.RunAsync("iotcore", "pub", "-t", "a/b", "-m", "1");
        Assert.That(pub.ExitCode, Is.Zero, pub.Error);

        var status = await _cli.RunAsync("cloud", "status");

        Assert.That(status.ExitCode, Is.Zero, status.Error);
        Assert.That(status.Output, Does.StartWith("Connection: ONLINE\nLatency: 0 ms\nOutages: none\n"));
        Assert.That(status.Output, Does.Contain("published=1"));
        Assert.That(status.Output, Does.Contain($"Journal: {_cli.Nucleus.IoTCore.JournalPath}\n"));
    }

    [Test]
    public async Task CloudVerbs_WithoutANucleus_FailClearly()
    {
        var root = CliHarness.NewRoot();
        Directory.CreateDirectory(root);
        try
        {
            var result = await CliHarness.RunInAsync(root, "cloud", "outage", "down");

            Assert.That(result.ExitCode, Is.EqualTo(1));
            Assert.That(result.Error, Does.StartWith($"error: no local Nucleus is running at {root} (no cloud-control socket answers at "));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
