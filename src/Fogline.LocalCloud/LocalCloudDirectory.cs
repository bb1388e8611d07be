using Fogline.LocalCloud.Auth;
using Fogline.LocalCloud.Devices;

namespace Fogline.LocalCloud;

/// <summary>
/// A local cloud's state directory, and the one cloud that serves it: the server holds an exclusive lock on
/// <c>&lt;dir&gt;/cloud.lock</c> (flock through <see cref="FileShare.None"/>, released by the kernel when its process
/// ends) and writes its URL to <c>&lt;dir&gt;/endpoint</c>. A command that needs the cloud uses the one running on the
/// directory (<c>fogline cloud start</c>), or starts one in its own process for as long as it runs: the embedded
/// default, so no command needs a server started first.
/// </summary>
public sealed class LocalCloudDirectory : IAsyncDisposable
{
    private readonly FileStream? _lock;
    private readonly LocalCloudServer? _server;

    private LocalCloudDirectory(string path, Uri endpoint, CloudKeys keys, FileStream? heldLock, LocalCloudServer? server, DeviceNetwork? devices = null)
    {
        Path = path;
        Endpoint = endpoint;
        Keys = keys;
        _lock = heldLock;
        _server = server;
        Network = devices;
    }

    /// <summary>The state directory.</summary>
    public string Path { get; }

    /// <summary>The URL of the cloud serving it.</summary>
    public Uri Endpoint { get; }

    /// <summary>Its keys (the developer's default key signs the commands' requests).</summary>
    public CloudKeys Keys { get; }

    /// <summary>The server when this process runs it (null when another process does).</summary>
    public LocalCloudServer? Server => _server;

    /// <summary>The devices' side (broker, CA, data plane) when this process started the cloud with it.</summary>
    public DeviceNetwork? Network { get; }

    /// <summary>Whether this process started the cloud.</summary>
    public bool Embedded => _server is not null;

    /// <summary>
    /// The default state directory: <c>FOGLINE_CLOUD_DIR</c>, else <c>$XDG_STATE_HOME/fogline/cloud</c>, else
    /// <c>~/.local/state/fogline/cloud</c>.
    /// </summary>
    public static string DefaultPath =>
        Environment.GetEnvironmentVariable("FOGLINE_CLOUD_DIR") is { Length: > 0 } explicitDir ? explicitDir
        : System.IO.Path.Combine(
            Environment.GetEnvironmentVariable("XDG_STATE_HOME") is { Length: > 0 } state ? state : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state"),
            "fogline", "cloud");

    /// <summary>
    /// Serves <paramref name="path"/>: starts a cloud on it in this process (on <paramref name="port"/>, with the
    /// devices' broker and data plane when <paramref name="devices"/> is given), or, when
    /// <paramref name="reuseRunning"/> and another process serves it, connects to that one.
    /// </summary>
    /// <exception cref="LocalCloudBusyException">Another process serves the directory and <paramref name="reuseRunning"/> is false.</exception>
    public static async Task<LocalCloudDirectory> OpenAsync(string path, bool reuseRunning, int port = 0, Func<LocalCloudOptions, LocalCloudOptions>? configure = null, DeviceNetworkOptions? devices = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        Directory.CreateDirectory(path);
        var lockPath = System.IO.Path.Combine(path, "cloud.lock");
        var endpointPath = System.IO.Path.Combine(path, "endpoint");
        FileStream? heldLock = null;
        try
        {
            heldLock = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            var running = File.Exists(endpointPath) ? File.ReadAllText(endpointPath).Trim() : null;
            if (!reuseRunning || running is null)
            {
                throw new LocalCloudBusyException($"a local cloud already serves {path}" + (running is null ? string.Empty : $" at {running}") + " (fogline cloud start); stop it or pass another --cloud-dir");
            }

            return new LocalCloudDirectory(path, new Uri(running), CloudKeys.LoadOrCreate(path), null, null);
        }

        DeviceNetwork? network = null;
        try
        {
            // Only the process holding the lock may (re)start the directory's broker.
            network = devices is null ? null : await DeviceNetwork.StartAsync(path, devices, cancellationToken).ConfigureAwait(false);
            var options = new LocalCloudOptions { DataDirectory = path, Port = port };
            options = configure?.Invoke(options) ?? options;
            var server = await LocalCloudServer.StartAsync(network?.Configure(options) ?? options, cancellationToken).ConfigureAwait(false);
            if (network is not null)
            {
                try
                {
                    await server.BrokerConnected.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    await server.DisposeAsync().ConfigureAwait(false);
                    var (host, mqttPort) = network.MqttEndpoint;
                    throw new InvalidOperationException($"the cloud could not join the devices' MQTT broker at {host}:{mqttPort} within 30 s" + (network.Broker is null ? string.Empty : $" (its log: {network.Broker.LogFile})"));
                }

                network.Announce(server);
            }
            File.WriteAllText(endpointPath, server.Endpoint.ToString());
            return new LocalCloudDirectory(path, server.Endpoint, server.Keys, heldLock, server, network);
        }
        catch
        {
            if (network is not null)
            {
                await network.DisposeAsync().ConfigureAwait(false);
            }

            await heldLock.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            File.Delete(System.IO.Path.Combine(Path, "endpoint"));
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        if (Network is not null)
        {
            await Network.DisposeAsync().ConfigureAwait(false);
        }

        if (_lock is not null)
        {
            await _lock.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Another process already serves the cloud directory.</summary>
public sealed class LocalCloudBusyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LocalCloudBusyException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public LocalCloudBusyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public LocalCloudBusyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
