using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Deployments;

namespace Fogline.Dashboard.Tests.Infrastructure;

/// <summary>
/// A local Nucleus running the Dashboard's NativeAOT binary (and any other component of recipes/) as a deployment
/// would, on a free port, with a known operator credential; a probe component publishes what the pipeline would.
/// </summary>
public sealed class DashboardNucleus : IAsyncDisposable
{
    /// <summary>The component.</summary>
    public const string Dashboard = "com.fogline.Dashboard";

    /// <summary>The operator's user name in the tests.</summary>
    public const string User = "floor-lead";

    /// <summary>The operator's password in the tests.</summary>
    public const string Password = "correct-horse-battery";

    private readonly ConcurrentQueue<JsonNode> _observed = new();

    private DashboardNucleus(Nucleus nucleus, GreengrassIpcClient probe, string root, int port)
    {
        Nucleus = nucleus;
        Probe = probe;
        Root = root;
        Port = port;
    }

    /// <summary>The Nucleus.</summary>
    public Nucleus Nucleus { get; }

    /// <summary>An IPC client allowed everything on local pub/sub.</summary>
    public GreengrassIpcClient Probe { get; }

    /// <summary>The Nucleus's root directory (deleted on dispose).</summary>
    public string Root { get; }

    /// <summary>The dashboard's port.</summary>
    public int Port { get; }

    /// <summary>The dashboard's address.</summary>
    public Uri Url => new($"http://127.0.0.1:{Port}/");

    /// <summary>Starts a Nucleus and a probe.</summary>
    public static async Task<DashboardNucleus> StartAsync()
    {
        var artifact = Path.Combine(Repository.ComponentArtifacts, Dashboard, "1.0.0", "Dashboard-linux-x64");
        Assert.That(File.Exists(artifact), Is.True, $"{artifact} is missing: dotnet cake --target=Components");
        var root = Path.Combine(Path.GetTempPath(), "fogline-dash-" + Guid.NewGuid().ToString("N")[..8]);
        var nucleus = await Nucleus.StartAsync(new NucleusOptions
        {
            RootPath = root,
            ThingName = "gw-1",
            Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) },
        });
        var probe = nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
        return new DashboardNucleus(nucleus, client, root, FreePort());
    }

    /// <summary>A TCP port free at the moment.</summary>
    public static int FreePort() => LoopbackPorts.Free();

    /// <summary>The dashboard's configuration MERGE for the tests: loopback, the port, the test credential, plus <paramref name="extra"/> members.</summary>
    public string DashboardConfig(string extra = "") =>
        "{\"MERGE\": {" + $$"""
        "bindAddress": "127.0.0.1", "port": {{Port}}, "credentials": {"username": "{{User}}", "password": "{{Password}}"}
        """ + (extra.Length > 0 ? ", " + extra : string.Empty) + "}}";

    /// <summary>Deploys components of recipes/ (version 1.0.0) with configuration updates.</summary>
    public Task<DeploymentRecord> DeployAsync(Dictionary<string, string> configurations, bool expectFailure = false) =>
        Nucleus.DeployFromRepositoryAsync(configurations, expectFailure);

    /// <summary>Deploys the dashboard alone with the test configuration and waits until it answers.</summary>
    public async Task StartDashboardAsync(string extra = "")
    {
        var deployed = await DeployAsync(new Dictionary<string, string> { [Dashboard] = DashboardConfig(extra) });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        await WaitUntilServingAsync();
    }

    /// <summary>Waits until /healthz answers.</summary>
    public async Task WaitUntilServingAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Eventually.UntilAsync(async () =>
        {
            try
            {
                return (await http.GetAsync(new Uri(Url, "/healthz"))).StatusCode == HttpStatusCode.OK;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }, "the dashboard answers /healthz", TimeSpan.FromSeconds(30));
    }

    /// <summary>Publishes a reading as SensorGateway would; its timestamp is now unless given.</summary>
    public Task PublishReadingAsync(string zone, string device, string metric, double value, string? unit = null, double? ts = null, string? quality = null)
    {
        var time = ts ?? (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0);
        var json = new JsonObject { ["v"] = 1, ["zone"] = zone, ["device"] = device, ["metric"] = metric, ["value"] = value, ["ts"] = time, ["seq"] = 1 };
        if (unit is not null)
        {
            json["unit"] = unit;
        }

        if (quality is not null)
        {
            json["quality"] = quality;
        }

        return PublishAsync($"fogline/raw/{zone}/{device}/{metric}", json.ToJsonString());
    }

    /// <summary>Publishes bytes as a binary message.</summary>
    public Task PublishAsync(string topic, string payload) =>
        Probe.PublishToTopicAsync(new PublishToTopicRequest
        {
            Topic = topic,
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = Encoding.UTF8.GetBytes(payload) } },
        });

    /// <summary>The state of a component.</summary>
    public LifecycleState StateOf(string component) =>
        Nucleus.Components.TryGet(component, out var record) ? record.State : LifecycleState.New;

    /// <summary>Restarts a component as <c>greengrass-cli component restart</c> does.</summary>
    public async Task RestartAsync(string component)
    {
        Assert.That(Nucleus.Components.TryGet(component, out var record), Is.True);
        Assert.That(await Nucleus.Controller.RestartAsync(record!), Is.True, "restart");
    }

    /// <summary>The last lines of a component's log.</summary>
    public string LogTail(string component, int lines = 20)
    {
        var log = Path.Combine(Root, "logs", component + ".log");
        return File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(lines)) : "(no log)";
    }

    /// <summary>An HTTP client with the operator's Basic credentials.</summary>
    public static HttpClient Authorized(string user = User, string password = Password)
    {
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
        return http;
    }

    /// <summary>The dashboard's state (GET /api/state).</summary>
    public async Task<JsonNode> StateAsync()
    {
        using var http = Authorized();
        return JsonNode.Parse(await http.GetStringAsync(new Uri(Url, "/api/state")))!;
    }

    /// <summary>A counter of the dashboard as it last published them (every 5 s), or -1 before the first time.</summary>
    public async Task<long> CounterAsync(string name)
    {
        var state = await StateAsync();
        var health = state["health"]!.AsArray().FirstOrDefault(h => h!["component"]!.GetValue<string>() == Dashboard);
        return health?["counters"]?[name]?.GetValue<long>() ?? -1;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Probe.DisposeAsync();
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
