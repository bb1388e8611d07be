using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.ComponentKit.Tests.Infrastructure;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;

namespace Fogline.ComponentKit.Tests.Hosting;

/// <summary>The hosting kit against a real local Nucleus, in process.</summary>
[CancelAfter(60_000)]
public class ComponentHostTests
{
    private const string Name = "com.fogline.test.Scaler";

    [Test]
    public async Task Start_ValidConfiguration_ReportsRunningAndHandlesMessages()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 2));
        var probe = nucleus.Add("probe", Config(factor: 1));
        var component = new ScalerComponent();
        using var stop = new CancellationTokenSource();
        var run = ComponentHost.RunAsync(component, HostOptions(nucleus, record), stop.Token);
        await Eventually.UntilAsync(() => record.State == LifecycleState.Running, "the component reports RUNNING");

        var probeClient = await nucleus.ConnectAsync(probe);
        var received = new ConcurrentQueue<Reading>();
        await using var sub = await probeClient.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "out/#" }, evt => received.Enqueue(Decode(evt)));
        await PublishReadingAsync(probeClient, "in/a", 10);
        await Eventually.UntilAsync(() => received.Count == 1, "the scaled reading arrives");

        Assert.That(received.Single().Value, Is.EqualTo(20));
        stop.Cancel();
        Assert.That(await run, Is.EqualTo(0));
        Assert.That(component.Drained, Is.True, "DrainAsync runs on shutdown");
    }

    [Test]
    public async Task Start_InvalidConfiguration_ReportsErroredAndExitsWithoutRunning()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 500));
        var log = new LogCapture();
        var states = new ConcurrentQueue<LifecycleState>();
        nucleus.Nucleus.Components.StateChanged += (_, e) => { if (e.Component == record) { states.Enqueue(e.Current); } };

        var exit = await ComponentHost.RunAsync(new ScalerComponent(), HostOptions(nucleus, record, log));

        Assert.That(exit, Is.EqualTo(ComponentHost.ExitInvalidConfiguration));
        Assert.That(states, Does.Contain(LifecycleState.Errored));
        Assert.That(states, Does.Not.Contain(LifecycleState.Running));
        var line = LogLines(log).Single(l => l.GetProperty("event").GetString() == "InvalidConfiguration");
        Assert.That(line.GetProperty("msg").GetString(), Does.Contain("configuration /factor: must be between 0 and 100, not 500"));
        Assert.That(line.GetProperty("level").GetString(), Is.EqualTo("fatal"));
    }

    [Test]
    public async Task NoNucleus_ExitsWithOneClearLine()
    {
        var log = new LogCapture();
        var exit = await ComponentHost.RunAsync(new ScalerComponent(), new ComponentHostOptions
        {
            Ipc = new GreengrassIpcClientOptions { SocketPath = "/tmp/fogline-no-such-socket-" + Guid.NewGuid().ToString("N"), AuthToken = "x" },
            HandleSignals = false,
            LogOutput = log,
        });

        Assert.That(exit, Is.EqualTo(ComponentHost.ExitNoNucleus));
        Assert.That(LogLines(log).Any(l => l.GetProperty("event").GetString() == "ConnectFailed"), Is.True);
    }

    [Test]
    public async Task LiveUpdate_ValidValueApplies_InvalidValueIsRejectedAndOldOneKept()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 2));
        var probe = nucleus.Add("probe", Config(factor: 1));
        var component = new ScalerComponent();
        using var stop = new CancellationTokenSource();
        var log = new LogCapture();
        var run = ComponentHost.RunAsync(component, HostOptions(nucleus, record, log), stop.Token);
        await Eventually.UntilAsync(() => record.State == LifecycleState.Running, "RUNNING");
        var probeClient = await nucleus.ConnectAsync(probe);
        var received = new ConcurrentQueue<Reading>();
        await using var sub = await probeClient.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "out/#" }, evt => received.Enqueue(Decode(evt)));

        // The component updates its own configuration, as an operator's deployment would change it.
        var self = await nucleus.ConnectAsync(record);
        await self.UpdateConfigurationAsync(new UpdateConfigurationRequest { KeyPath = [], ValueToMerge = JsonDocument.Parse("{\"factor\":3}").RootElement, Timestamp = DateTimeOffset.UtcNow });
        await Eventually.UntilAsync(() => component.OptionsChanges == 1, "the valid update is applied");
        await PublishReadingAsync(probeClient, "in/a", 10);
        await Eventually.UntilAsync(() => received.Count == 1, "a reading scaled by 3");
        Assert.That(received.Last().Value, Is.EqualTo(30));

        await self.UpdateConfigurationAsync(new UpdateConfigurationRequest { KeyPath = [], ValueToMerge = JsonDocument.Parse("{\"factor\":\"lots\"}").RootElement, Timestamp = DateTimeOffset.UtcNow.AddSeconds(1) });
        await Eventually.UntilAsync(() => LogLines(log).Any(l => l.GetProperty("event").GetString() == "ConfigurationRejected"), "the invalid update is rejected");
        await PublishReadingAsync(probeClient, "in/a", 10);
        await Eventually.UntilAsync(() => received.Count == 2, "a reading scaled by the kept factor");

        Assert.That(received.Last().Value, Is.EqualTo(30));
        Assert.That(component.OptionsChanges, Is.EqualTo(1));
        stop.Cancel();
        Assert.That(await run, Is.EqualTo(0));
    }

    [Test]
    public async Task DeploymentValidation_IsAnsweredWithTheReason()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 2));
        using var stop = new CancellationTokenSource();
        var run = ComponentHost.RunAsync(new ScalerComponent(), HostOptions(nucleus, record), stop.Token);
        await Eventually.UntilAsync(() => record.State == LifecycleState.Running && nucleus.Nucleus.ConfigurationValidation.HasListener(Name), "RUNNING and listening for validations");

        var good = await nucleus.Nucleus.ConfigurationValidation.RequestAsync(Name, "d-1", JsonNode.Parse(Config(factor: 5))!.AsObject(), TimeSpan.FromSeconds(10));
        var bad = await nucleus.Nucleus.ConfigurationValidation.RequestAsync(Name, "d-2", JsonNode.Parse(Config(factor: -1))!.AsObject(), TimeSpan.FromSeconds(10));

        Assert.That(good!.Status, Is.EqualTo(ConfigurationValidityStatus.Accepted));
        Assert.That(bad!.Status, Is.EqualTo(ConfigurationValidityStatus.Rejected));
        Assert.That(bad.Message, Is.EqualTo("configuration /factor: must be between 0 and 100, not -1"));
        stop.Cancel();
        await run;
    }

    [Test]
    public async Task ComponentUpdate_IsDeferredWhileCritical_AndAcknowledgedOtherwise()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 2));
        var component = new ScalerComponent();
        using var stop = new CancellationTokenSource();
        var log = new LogCapture();
        var options = HostOptions(nucleus, record, log);
        var run = ComponentHost.RunAsync(component, new ComponentHostOptions { Ipc = options.Ipc, HandleSignals = false, LogOutput = log, MetricsInterval = TimeSpan.Zero, DeferUpdateBy = TimeSpan.FromMilliseconds(200) }, stop.Token);
        await Eventually.UntilAsync(() => record.State == LifecycleState.Running && nucleus.Nucleus.Updates.IsSubscribed(Name), "RUNNING and subscribed to updates");

        // While a critical section is open the update waits (the Nucleus re-asks after each deferral)...
        var critical = component.Context!.BeginCritical();
        var busy = nucleus.Nucleus.Updates.NotifyPreUpdateAsync("d-1", false, TimeSpan.FromSeconds(10));
        await Eventually.UntilAsync(() => CountLines(log, "UpdateNotified", "deferred") >= 2, "two deferrals");
        Assert.That(busy.IsCompleted, Is.False, "the update waits while the critical section is open");

        // ...and proceeds once it is closed.
        critical.Dispose();
        var outcome = await busy;
        var idle = await nucleus.Nucleus.Updates.NotifyPreUpdateAsync("d-2", false, TimeSpan.FromSeconds(10));

        Assert.That(outcome.Rounds, Is.GreaterThanOrEqualTo(3));
        Assert.That(outcome.Deferrals.Any(d => d.Component == Name && d.RecheckAfterMs == 200), Is.True, "deferred while critical");
        Assert.That(idle.Rounds, Is.EqualTo(1), "acknowledged at once when idle");
        stop.Cancel();
        await run;
    }

    private static int CountLines(MemoryStream log, string eventName, string contains)
    {
        lock (log)
        {
            return LogLines(log).Count(l => l.TryGetProperty("event", out var e) && e.GetString() == eventName && l.GetProperty("msg").GetString()!.Contains(contains, StringComparison.Ordinal));
        }
    }

    [Test]
    public async Task MalformedPayload_IsCountedAndSkipped_NextOneIsHandled()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 2));
        var probe = nucleus.Add("probe", Config(factor: 1));
        var component = new ScalerComponent();
        using var stop = new CancellationTokenSource();
        var run = ComponentHost.RunAsync(component, HostOptions(nucleus, record), stop.Token);
        await Eventually.UntilAsync(() => record.State == LifecycleState.Running, "RUNNING");
        var probeClient = await nucleus.ConnectAsync(probe);
        var received = new ConcurrentQueue<Reading>();
        await using var sub = await probeClient.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "out/#" }, evt => received.Enqueue(Decode(evt)));

        await probeClient.PublishToTopicAsync(new PublishToTopicRequest { Topic = "in/a", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = "{not json"u8.ToArray() } } });
        await probeClient.PublishToTopicAsync(new PublishToTopicRequest { Topic = "in/a", PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = "{\"v\":9,\"zone\":\"z\",\"device\":\"d\",\"metric\":\"m\",\"value\":1,\"ts\":1}"u8.ToArray() } } });
        await PublishReadingAsync(probeClient, "in/a", 4);
        await Eventually.UntilAsync(() => received.Count == 1, "the good reading after two bad ones");

        Assert.That(received.Single().Value, Is.EqualTo(8));
        Assert.That(component.Context!.Counters.Rejected.Value, Is.EqualTo(2));
        Assert.That(component.Context.Counters.Get("unsupported_version").Value, Is.EqualTo(1));
        stop.Cancel();
        await run;
    }

    [Test]
    public async Task Counters_ArePublishedForOtherComponents()
    {
        await using var nucleus = await LocalNucleusHarness.StartAsync();
        var record = nucleus.Add(Name, Config(factor: 2));
        var probe = nucleus.Add("probe", Config(factor: 1));
        var probeClient = await nucleus.ConnectAsync(probe);
        var metrics = new ConcurrentQueue<JsonDocument>();
        await using var sub = await probeClient.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = Topics.Metrics(Name) }, evt => metrics.Enqueue(JsonDocument.Parse(evt.BinaryMessage!.Message!.Value)));
        using var stop = new CancellationTokenSource();
        var options = HostOptions(nucleus, record);
        var run = ComponentHost.RunAsync(new ScalerComponent(), new ComponentHostOptions { Ipc = options.Ipc, HandleSignals = false, LogOutput = Stream.Null, MetricsInterval = TimeSpan.FromMilliseconds(100) }, stop.Token);

        await Eventually.UntilAsync(() => !metrics.IsEmpty, "a metrics message");

        var doc = metrics.First().RootElement;
        Assert.That(doc.GetProperty("component").GetString(), Is.EqualTo(Name));
        Assert.That(doc.GetProperty("counters").TryGetProperty("received", out _), Is.True);
        Assert.That(doc.GetProperty("counters").TryGetProperty("dropped", out _), Is.True);
        stop.Cancel();
        await run;
    }

    private static string Config(double factor)
    {
        var config = new JsonObject
        {
            ["factor"] = factor,
            ["accessControl"] = new JsonObject
            {
                ["aws.greengrass.ipc.pubsub"] = LocalNucleusHarness.PubSubPolicy("*")["aws.greengrass.ipc.pubsub"]!.DeepClone(),
                ["aws.greengrass.ipc.config"] = new JsonObject
                {
                    ["fogline:config:1"] = new JsonObject { ["operations"] = new JsonArray("*"), ["resources"] = new JsonArray("*") },
                },
            },
        };
        return config.ToJsonString();
    }

    private static ComponentHostOptions HostOptions(LocalNucleusHarness nucleus, ComponentRecord record, Stream? log = null) => new()
    {
        Ipc = nucleus.IpcFor(record),
        HandleSignals = false,
        LogOutput = log ?? Stream.Null,
        MetricsInterval = TimeSpan.Zero,
    };

    private static Task PublishReadingAsync(GreengrassIpcClient client, string topic, double value)
    {
        using var writer = new PayloadWriter();
        var payload = writer.Write(new Reading("z", "d", "m", value, 1763812345)).ToArray();
        return client.PublishToTopicAsync(new PublishToTopicRequest { Topic = topic, PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = payload } } });
    }

    private static Reading Decode(SubscriptionResponseMessage evt)
    {
        var status = ReadingCodec.TryRead(evt.BinaryMessage!.Message!.Value.Span, new Utf8StringPool(), out var reading, out var error);
        Assert.That(status, Is.EqualTo(DecodeStatus.Ok), error);
        return reading;
    }

    private static List<JsonElement> LogLines(MemoryStream log)
    {
        string text;
        lock (log)
        {
            text = Encoding.UTF8.GetString(log.ToArray());
        }

        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())];
    }

    private sealed record ScalerOptions(double Factor);

    /// <summary>Multiplies readings from in/# by a configured factor and republishes them on out/....</summary>
    private sealed class ScalerComponent : FoglineComponent<ScalerOptions>
    {
        private readonly Utf8StringPool _names = new();
        private readonly PayloadWriter _writer = new();

        public ComponentContext<ScalerOptions>? Context { get; private set; }

        public bool Drained { get; private set; }

        public int OptionsChanges { get; private set; }

        public override string Name => ComponentHostTests.Name;

        public override ScalerOptions ParseOptions(ConfigNode configuration) => new(configuration["factor"].Double(1, 0, 100));

        public override Task StartAsync(ComponentContext<ScalerOptions> context, CancellationToken cancellationToken)
        {
            Context = context;
            return context.SubscribeAsync("in/#", async (topic, payload) =>
            {
                var status = ReadingCodec.TryRead(payload.Span, _names, out var reading, out var error);
                if (status != DecodeStatus.Ok)
                {
                    context.Counters.Rejected.Increment();
                    if (status == DecodeStatus.UnsupportedVersion)
                    {
                        context.Counters.Get("unsupported_version").Increment();
                    }

                    return;
                }

                reading.Value *= context.Options.Factor;
                await context.PublishAsync("out/" + topic, _writer.Write(reading));
            }, cancellationToken);
        }

        public override ValueTask OnOptionsChangedAsync(ScalerOptions previous, ScalerOptions current, CancellationToken cancellationToken)
        {
            OptionsChanges++;
            return ValueTask.CompletedTask;
        }

        public override ValueTask DrainAsync(CancellationToken cancellationToken)
        {
            Drained = true;
            return ValueTask.CompletedTask;
        }
    }
}
