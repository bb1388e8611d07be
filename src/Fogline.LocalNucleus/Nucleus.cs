using System.Text.Json.Nodes;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Transport;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.CliAccess;
using Fogline.LocalNucleus.Components;
using Fogline.LocalNucleus.Configuration;
using Fogline.LocalNucleus.Ipc;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.PubSub;
using Fogline.LocalNucleus.Secrets;
using Fogline.LocalNucleus.Shadows;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Fogline.LocalNucleus;

/// <summary>
/// A local Greengrass Nucleus: the IPC server at <c>&lt;root&gt;/ipc.socket</c> with the Nucleus's services, for
/// components in any language. Create with <see cref="StartAsync"/>, add components with <see cref="AddComponent"/>,
/// and give each process the environment from <see cref="EnvironmentFor"/>.
/// </summary>
public sealed class Nucleus : IAsyncDisposable
{
    /// <summary>The socket file name in the root directory, as the Nucleus names it.</summary>
    public const string SocketFileName = "ipc.socket";

    private readonly NucleusContext _context;
    private readonly RpcServer _server;
    private CloudControlServer? _cloudControl;
    private Deployments.Cloud.DataPlaneClient? _dataPlane;
    private Deployments.Cloud.CloudDeploymentAgent? _cloudDeployments;
    private int _disposed;

    private Nucleus(NucleusOptions options, ILoggerFactory loggerFactory)
    {
        Directory.CreateDirectory(options.RootPath);
        RootLock = Lifecycle.RootLock.Acquire(options.RootPath);
        if (RootLock.PreviousOwnerDied)
        {
            // What a Nucleus that died left behind: its CLI access files (the socket is replaced when bound).
            CliIpcInfo.Unpublish(options.RootPath);
        }

        _context = new NucleusContext(options, loggerFactory);
        PubSub = new LocalPubSub(_context);
        IoTCore = new IoTCoreEmulator(_context);
        Shadows = new ShadowService(_context);
        Shadows.ConnectPubSub(PubSub);
        Secrets = new SecretStore(_context);
        Metrics = new ComponentMetrics(_context);
        Updates = new ComponentUpdates(_context);
        Supervisor = new Lifecycle.ComponentSupervisor(this, new DefaultComponentController(_context.Components), options.Lifecycle, loggerFactory.CreateLogger("Fogline.LocalNucleus.Lifecycle"));
        Controller = Supervisor;
        ConfigurationValidation = new ConfigurationValidation();
        Deployments = new Deployments.DeploymentService(this, options.Deployments, loggerFactory.CreateLogger("Fogline.LocalNucleus.Deployments"));
        Service = new NucleusIpcService(this, loggerFactory.CreateLogger("Fogline.LocalNucleus.Ipc"));
        _server = new RpcServer(Service, new RpcServerOptions { ConnectTimeout = options.IpcConnectTimeout }, loggerFactory);
    }

    /// <summary>The options.</summary>
    public NucleusOptions Options => _context.Options;

    /// <summary>This Nucleus's hold on its root directory (see <see cref="Lifecycle.RootLock"/>).</summary>
    public Lifecycle.RootLock RootLock { get; }

    /// <summary>Shared context of the subsystems.</summary>
    public NucleusContext Context => _context;

    /// <summary>The root directory.</summary>
    public string RootPath => Options.RootPath;

    /// <summary>Absolute path of the IPC socket.</summary>
    public string SocketPath => Path.Combine(Path.GetFullPath(RootPath), SocketFileName);

    /// <summary>
    /// The socket path components are given: absolute, or, when that is too long for a socket address, relative to a
    /// component's working directory <c>&lt;root&gt;/work/&lt;component&gt;</c> (<c>../../ipc.socket</c>), as the Nucleus does.
    /// </summary>
    public string ComponentSocketPath => UnixDomainSocket.IsPathTooLong(SocketPath) ? "../../" + SocketFileName : SocketPath;

    /// <summary>The components.</summary>
    public ComponentRegistry Components => _context.Components;

    /// <summary>The components' configuration.</summary>
    public ConfigurationStore Configuration => _context.Configuration;

    /// <summary>Configuration validation requests and reports (SubscribeToValidateConfigurationUpdates).</summary>
    public ConfigurationValidation ConfigurationValidation { get; }

    /// <summary>Authorization.</summary>
    public AuthorizationService Authorization => _context.Authorization;

    /// <summary>Local publish/subscribe.</summary>
    public LocalPubSub PubSub { get; }

    /// <summary>The emulated AWS IoT Core and its cloud side.</summary>
    public IoTCoreEmulator IoTCore { get; }

    /// <summary>Local shadows (aws.greengrass.ShadowManager).</summary>
    public ShadowService Shadows { get; }

    /// <summary>Local secrets (aws.greengrass.SecretManager).</summary>
    public SecretStore Secrets { get; }

    /// <summary>Metrics components reported with PutComponentMetric.</summary>
    public ComponentMetrics Metrics { get; }

    /// <summary>Component update notifications (SubscribeToComponentUpdates, DeferComponentUpdate) for deployments.</summary>
    public ComponentUpdates Updates { get; }

    /// <summary>Runs components from their recipes as processes (the lifecycle manager).</summary>
    public Lifecycle.ComponentSupervisor Supervisor { get; }

    /// <summary>Local deployments (CreateLocalDeployment and the rest) and the component store.</summary>
    public Deployments.DeploymentService Deployments { get; }

    /// <summary>What restarts, stops, pauses and resumes components; <see cref="DefaultComponentController"/> until a process supervisor is set.</summary>
    public IComponentController Controller { get; set; }

    /// <summary>The IPC service.</summary>
    public NucleusIpcService Service { get; }

    /// <summary>The IPC server (its connections, for diagnostics).</summary>
    public RpcServer IpcServer => _server;

    /// <summary>The built-in <c>aws.greengrass.Cli</c> component CLI clients connect as, once <see cref="EnableCliAccess"/> ran.</summary>
    public ComponentRecord? CliComponent { get; private set; }

    /// <summary>
    /// Lets a CLI in another process drive this Nucleus: registers the <c>aws.greengrass.Cli</c> component, writes
    /// <c>&lt;root&gt;/cli_ipc_info/</c> (<see cref="CliIpcInfo"/>) and serves <c>&lt;root&gt;/cloud-control.socket</c>
    /// (<see cref="CloudControlServer"/>). Both go away when the Nucleus is disposed.
    /// </summary>
    public void EnableCliAccess()
    {
        CliComponent ??= CliIpcInfo.Publish(this);
        _cloudControl ??= CloudControlServer.Start(IoTCore, RootPath, _context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.Cli"));
    }

    /// <summary>
    /// Creates the root directory, takes it (<see cref="Lifecycle.RootLock"/>: a live Nucleus there is refused with
    /// <see cref="Lifecycle.NucleusAlreadyRunningException"/>; what a dead one left is cleaned up) and starts serving IPC.
    /// </summary>
    public static Task<Nucleus> StartAsync(NucleusOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var nucleus = new Nucleus(options, loggerFactory ?? NullLoggerFactory.Instance);
        try
        {
            nucleus._server.Listen(nucleus.SocketPath);
        }
        catch
        {
            nucleus.RootLock.Dispose();
            throw;
        }

        nucleus.Deployments.Start();
        if (options.DataPlaneEndpoint is { } dataPlane && options.IoTCore.Broker is { } identity)
        {
            // Cloud deployments: IoT Jobs over the device's MQTT connection, components through the data plane.
            nucleus._dataPlane = new Deployments.Cloud.DataPlaneClient(dataPlane, identity);
            nucleus._cloudDeployments = new Deployments.Cloud.CloudDeploymentAgent(nucleus, nucleus._dataPlane, options.ThingName, nucleus._context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.CloudDeployments"));
            nucleus._cloudDeployments.Start();
        }

        return Task.FromResult(nucleus);
    }

    /// <summary>
    /// Adds (or updates) a component with its configuration (which may hold <c>accessControl</c>), and gives it an
    /// IPC token. Returns the component.
    /// </summary>
    public ComponentRecord AddComponent(string name, string version = "1.0.0", JsonObject? configuration = null)
    {
        var record = Components.Register(name, version);
        Configuration.SetConfiguration(name, configuration);
        Authorization.LoadPolicies(name);
        Directory.CreateDirectory(WorkPath(name));
        return record;
    }

    /// <summary>Removes a component: its token stops working and its policies go away.</summary>
    public void RemoveComponent(string name)
    {
        Components.Remove(name);
        Configuration.RemoveComponent(name);
        Authorization.LoadPolicies(name);
    }

    /// <summary>The working directory of a component, <c>&lt;root&gt;/work/&lt;component&gt;</c>.</summary>
    public string WorkPath(string component) => Path.Combine(Path.GetFullPath(RootPath), "work", component);

    /// <summary>The environment the Nucleus gives a component's processes.</summary>
    public IReadOnlyDictionary<string, string> EnvironmentFor(ComponentRecord component)
    {
        ArgumentNullException.ThrowIfNull(component);
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SVCUID"] = component.Token,
            ["AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"] = ComponentSocketPath,
            ["AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH"] = ComponentSocketPath,
            ["AWS_IOT_THING_NAME"] = Options.ThingName,
            ["AWS_REGION"] = Options.AwsRegion,
            ["AWS_DEFAULT_REGION"] = Options.AwsRegion,
            ["GGC_VERSION"] = Options.NucleusVersion,
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_cloudDeployments is not null)
        {
            await _cloudDeployments.DisposeAsync().ConfigureAwait(false);
        }

        _dataPlane?.Dispose();

        // Components stop first (Shutdown, then their process groups), while IPC still serves them.
        await Deployments.DisposeAsync().ConfigureAwait(false);
        Deployments.SaveConfiguration();
        await Supervisor.DisposeAsync().ConfigureAwait(false);
        if (_cloudControl is not null)
        {
            await _cloudControl.DisposeAsync().ConfigureAwait(false);
        }

        if (CliComponent is not null)
        {
            CliIpcInfo.Unpublish(RootPath);
        }

        await _server.DisposeAsync().ConfigureAwait(false);
        await IoTCore.DisposeAsync().ConfigureAwait(false);
        await PubSub.DisposeAsync().ConfigureAwait(false);
        Shadows.Dispose();
        RootLock.Dispose();
    }
}
