using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;

namespace Fogline.LocalNucleus.Tests.Infrastructure;

/// <summary>A local Nucleus in a fresh temporary root, for one test.</summary>
public sealed class TestNucleus : IAsyncDisposable
{
    private readonly List<GreengrassIpcClient> _clients = [];

    private TestNucleus(Nucleus nucleus, string root)
    {
        Nucleus = nucleus;
        Root = root;
    }

    public Nucleus Nucleus { get; }

    public string Root { get; }

    public static async Task<TestNucleus> StartAsync(Func<string, NucleusOptions>? options = null, Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory = null)
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-nucleus-" + Guid.NewGuid().ToString("N")[..8]);
        var nucleus = await Nucleus.StartAsync(options?.Invoke(root) ?? new NucleusOptions { RootPath = root }, loggerFactory);
        return new TestNucleus(nucleus, root);
    }

    /// <summary>Adds a component whose configuration is the given JSON (may hold accessControl).</summary>
    public ComponentRecord Add(string name, string? configurationJson = null, string version = "1.0.0") =>
        Nucleus.AddComponent(name, version, configurationJson is null ? null : JsonNode.Parse(configurationJson)!.AsObject());

    /// <summary>Connects a C# client as the component, with its own token.</summary>
    public async Task<GreengrassIpcClient> ConnectAsync(ComponentRecord component)
    {
        var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = Nucleus.SocketPath, AuthToken = component.Token });
        lock (_clients)
        {
            _clients.Add(client);
        }

        return client;
    }

    /// <summary>An accessControl block granting <paramref name="operations"/> on <paramref name="resources"/> for <paramref name="service"/>.</summary>
    public static string Policy(string service, string policyId, string[] operations, string[] resources, string? extraConfiguration = null)
    {
        var policy = new JsonObject
        {
            ["accessControl"] = new JsonObject
            {
                [service] = new JsonObject
                {
                    [policyId] = new JsonObject
                    {
                        ["policyDescription"] = "test policy",
                        ["operations"] = new JsonArray([.. operations.Select(o => (JsonNode)JsonValue.Create(o))]),
                        ["resources"] = new JsonArray([.. resources.Select(r => (JsonNode)JsonValue.Create(r))]),
                    },
                },
            },
        };
        if (extraConfiguration is not null)
        {
            foreach (var (k, v) in JsonNode.Parse(extraConfiguration)!.AsObject())
            {
                policy[k] = v?.DeepClone();
            }
        }

        return policy.ToJsonString();
    }

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
