using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Components;

namespace Fogline.ComponentKit.Tests.Infrastructure;

/// <summary>A local Nucleus in a fresh temporary root, with helpers to register components and connect as them.</summary>
internal sealed class LocalNucleusHarness : IAsyncDisposable
{
    private readonly List<GreengrassIpcClient> _clients = [];

    private LocalNucleusHarness(Nucleus nucleus, string root)
    {
        Nucleus = nucleus;
        Root = root;
    }

    public Nucleus Nucleus { get; }

    public string Root { get; }

    public static async Task<LocalNucleusHarness> StartAsync()
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-components-" + Guid.NewGuid().ToString("N")[..8]);
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root });
        return new LocalNucleusHarness(nucleus, root);
    }

    public ComponentRecord Add(string name, string configurationJson) =>
        Nucleus.AddComponent(name, "1.0.0", JsonNode.Parse(configurationJson)!.AsObject());

    public GreengrassIpcClientOptions IpcFor(ComponentRecord component) =>
        new() { SocketPath = Nucleus.SocketPath, AuthToken = component.Token };

    public async Task<GreengrassIpcClient> ConnectAsync(ComponentRecord component)
    {
        var client = await GreengrassIpcClient.ConnectAsync(IpcFor(component));
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>accessControl granting local pub/sub publish and subscribe on <paramref name="resources"/>.</summary>
    public static JsonObject PubSubPolicy(params string[] resources) => new()
    {
        ["aws.greengrass.ipc.pubsub"] = new JsonObject
        {
            ["fogline:pubsub:1"] = new JsonObject
            {
                ["operations"] = new JsonArray("aws.greengrass#PublishToTopic", "aws.greengrass#SubscribeToTopic"),
                ["resources"] = new JsonArray([.. resources.Select(r => (JsonNode)JsonValue.Create(r))]),
            },
        },
    };

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Nucleus.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A memory stream that log lines can be written to and read from concurrently (both lock on it).</summary>
internal sealed class LogCapture : MemoryStream
{
    public override void Write(byte[] buffer, int offset, int count)
    {
        lock (this)
        {
            base.Write(buffer, offset, count);
        }
    }

    public override void Flush()
    {
    }
}
