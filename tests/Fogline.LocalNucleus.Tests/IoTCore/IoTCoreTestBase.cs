using System.Text;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.IoTCore;

/// <summary>A fresh Nucleus per test, with helpers to connect components allowed to use IoT Core.</summary>
public abstract class IoTCoreTestBase
{
    protected const string PublishOperation = "aws.greengrass#PublishToIoTCore";
    protected const string SubscribeOperation = "aws.greengrass#SubscribeToIoTCore";

    protected TestNucleus Nucleus { get; private set; } = null!;

    protected IoTCoreEmulator Cloud => Nucleus.Nucleus.IoTCore;

    [TearDown]
    public async Task TearDownNucleus()
    {
        // NUnit runs every test of a fixture on the same instance: forget this test's Nucleus once disposed.
        var nucleus = Nucleus;
        Nucleus = null!;
        if (nucleus is not null)
        {
            await nucleus.DisposeAsync();
        }
    }

    protected async Task StartAsync(IoTCoreOptions? options = null, TimeProvider? time = null, CapturingLoggerFactory? logs = null) =>
        Nucleus = await TestNucleus.StartAsync(
            root => new NucleusOptions
            {
                RootPath = root,
                IoTCore = options ?? new IoTCoreOptions(),
                TimeProvider = time ?? TimeProvider.System,
            },
            logs);

    /// <summary>Connects a component allowed both IoT Core operations on <paramref name="resources"/>.</summary>
    protected Task<GreengrassIpcClient> ConnectAsync(string component, params string[] resources) =>
        Nucleus.ConnectAsync(Nucleus.Add(component, TestNucleus.Policy(IpcServices.MqttProxy, "mqtt", [PublishOperation, SubscribeOperation], resources.Length == 0 ? ["*"] : resources)));

    protected static Task PublishAsync(GreengrassIpcClient client, string topic, string payload, QOS? qos = null) =>
        client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = topic, Qos = qos ?? QOS.AtLeastOnce, Payload = Encoding.UTF8.GetBytes(payload) });

    protected async Task<IReadOnlyList<CloudJournalEntry>> JournalAsync(int count)
    {
        await Eventually.UntilAsync(() => Cloud.ReadJournal().Count >= count, $"{count} messages in the cloud journal");
        return Cloud.ReadJournal();
    }

    protected static string Text(IoTCoreMessage message) => Encoding.UTF8.GetString(message.Message!.Payload!.Value.Span);
}
