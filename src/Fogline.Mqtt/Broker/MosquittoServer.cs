using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Fogline.Mqtt.Broker;

/// <summary>What a <see cref="MosquittoServer"/> serves and where it keeps its files.</summary>
public sealed record MosquittoOptions
{
    /// <summary>The folder of its configuration, ACL, sessions, pid file and log.</summary>
    public required string Directory { get; init; }

    /// <summary>The CA whose certificates clients must present; it also issues the broker's own certificate.</summary>
    public required CertificateAuthority Authority { get; init; }

    /// <summary>The port (0: a free one, chosen before the broker starts and kept across restarts).</summary>
    public int Port { get; init; }

    /// <summary>The address it listens on.</summary>
    public string BindAddress { get; init; } = "127.0.0.1";

    /// <summary>The client identities (certificate common names) that may use every topic: the cloud's side.</summary>
    public IReadOnlyList<string> PrivilegedClients { get; init; } = [];

    /// <summary>
    /// The topics each device may use, <c>%u</c> standing for its identity (thing name): by default its own
    /// <c>things/NAME/#</c>, <c>fogline/NAME/#</c> and <c>$aws/things/NAME/#</c> (shadows, jobs, Greengrass), as an
    /// IoT policy with <c>${iot:Connection.Thing.ThingName}</c> gives them.
    /// </summary>
    public IReadOnlyList<string> DeviceTopics { get; init; } = ["things/%u/#", "fogline/%u/#", "$aws/things/%u/#"];

    /// <summary>
    /// Whether clients' sessions (subscriptions, QoS 1 messages queued for them) survive a restart, as AWS IoT Core
    /// keeps them; Mosquitto saves them when it is stopped gracefully.
    /// </summary>
    public bool Persistent { get; init; } = true;
}

/// <summary>
/// Debian's Mosquitto (<c>/usr/sbin/mosquitto</c>, package mosquitto) configured as AWS IoT Core behaves towards
/// devices: TLS only, a client certificate from the devices' CA required and its common name taken as the client's
/// identity (<c>use_identity_as_username</c>), QoS 2 not offered, and an ACL that gives each device its own topics
/// only (<see cref="MosquittoOptions.DeviceTopics"/>) and the privileged clients every topic. A broker left running
/// by a process that was killed (its pid file names it and its command line names this configuration) is stopped
/// before a new one starts.
/// </summary>
public sealed class MosquittoServer : IAsyncDisposable
{
    /// <summary>Where Debian installs Mosquitto.</summary>
    public const string Executable = "/usr/sbin/mosquitto";

    private readonly MosquittoOptions _options;
    private Process? _process;

    private MosquittoServer(MosquittoOptions options, int port)
    {
        _options = options;
        Port = port;
    }

    /// <summary>Whether Mosquitto is installed.</summary>
    public static bool IsInstalled => File.Exists(Executable);

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>The address it listens on.</summary>
    public string Host => _options.BindAddress;

    /// <summary>Its folder.</summary>
    public string Directory => _options.Directory;

    /// <summary>Its log file.</summary>
    public string LogFile => Path.Combine(Directory, "mosquitto.log");

    /// <summary>Whether it is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    private string ConfigFile => Path.Combine(Directory, "mosquitto.conf");

    private string PidFile => Path.Combine(Directory, "mosquitto.pid");

    /// <summary>Writes the broker's files and starts it; it accepts connections when this completes.</summary>
    /// <exception cref="InvalidOperationException">Mosquitto is not installed, or it exited at start (its log says why).</exception>
    public static async Task<MosquittoServer> StartAsync(MosquittoOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!IsInstalled)
        {
            throw new InvalidOperationException($"Mosquitto is not installed at {Executable}: apt-get install mosquitto");
        }

        System.IO.Directory.CreateDirectory(options.Directory);
        var port = options.Port != 0 ? options.Port : FreePort(options.BindAddress);
        var server = new MosquittoServer(options, port);
        await server.StopLeftoverAsync().ConfigureAwait(false);
        var certificate = options.Authority.IssueServer("mqtt-server", options.BindAddress);
        var acl = new System.Text.StringBuilder();
        foreach (var topic in options.DeviceTopics)
        {
            acl.Append(CultureInfo.InvariantCulture, $"pattern readwrite {topic}\n");
        }

        foreach (var client in options.PrivilegedClients)
        {
            acl.Append(CultureInfo.InvariantCulture, $"\nuser {client}\ntopic readwrite #\ntopic readwrite $aws/#\n");
        }

        await File.WriteAllTextAsync(Path.Combine(options.Directory, "acl"), acl.ToString(), cancellationToken).ConfigureAwait(false);
        // Started as root, Mosquitto would drop to the mosquitto user and could not read the keys (owner-only): it runs
        // as whoever runs us.
        await File.WriteAllTextAsync(server.ConfigFile, $"""
            # Written by Fogline: AWS IoT Core's rules for devices (mutual TLS, identity from the certificate, no QoS 2).
            user {Environment.UserName}
            per_listener_settings false
            allow_anonymous false
            persistence {(options.Persistent ? "true" : "false")}
            persistence_location {options.Directory}/
            pid_file {server.PidFile}
            log_dest file {server.LogFile}
            log_type error
            log_type warning
            log_type notice
            log_type information
            log_timestamp_format %Y-%m-%dT%H:%M:%S
            acl_file {Path.Combine(options.Directory, "acl")}
            listener {port} {options.BindAddress}
            max_qos 1
            # The cloud's privileged client receives every device's fleet status and jobs requests: Mosquitto's
            # default queue (1,000 QoS 1 messages per client) drops them when a fleet reports at once.
            max_queued_messages 1000000
            max_inflight_messages 100
            message_size_limit 0
            cafile {options.Authority.CaCertificateFile}
            certfile {certificate.CertificateFile}
            keyfile {certificate.PrivateKeyFile}
            require_certificate true
            use_identity_as_username true

            """, cancellationToken).ConfigureAwait(false);
        await server.RestartAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>Starts the broker (again) on its port and waits until it accepts connections.</summary>
    /// <exception cref="InvalidOperationException">It exited at start (the message carries its log's last lines).</exception>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            return;
        }

        _process?.Dispose();
        var start = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(ConfigFile);
        var process = Process.Start(start) ?? throw new InvalidOperationException("mosquitto could not be started");
        _process = process;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => Remember(output, e.Data);
        process.OutputDataReceived += (_, e) => Remember(output, e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (process.HasExited)
            {
                var log = File.Exists(LogFile) ? File.ReadLines(LogFile).TakeLast(10) : [];
                throw new InvalidOperationException($"mosquitto exited with {process.ExitCode} at start ({ConfigFile}): {string.Join(" | ", output.Concat(log))}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Parse(Host), Port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Stops the broker: every connection drops. Killed, as a crash or a lost host would stop it, or with
    /// <paramref name="graceful"/> stopped with SIGTERM (it saves its sessions first).
    /// </summary>
    public async Task StopAsync(bool graceful = false)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        if (graceful)
        {
            await SignalAsync(process.Id, "-TERM").ConfigureAwait(false);
        }
        else
        {
            process.Kill(entireProcessTree: false);
        }

        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <summary>Stops the broker gracefully (its sessions saved); its files stay.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(graceful: true).ConfigureAwait(false);
        _process?.Dispose();
    }

    private async Task StopLeftoverAsync()
    {
        if (!File.Exists(PidFile) || !int.TryParse((await File.ReadAllTextAsync(PidFile).ConfigureAwait(false)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            return;
        }

        var commandLine = Path.Combine("/proc", pid.ToString(CultureInfo.InvariantCulture), "cmdline");
        string? running = null;
        try
        {
            running = await File.ReadAllTextAsync(commandLine).ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        if (running is not null && running.Contains(ConfigFile, StringComparison.Ordinal))
        {
            await SignalAsync(pid, "-TERM").ConfigureAwait(false);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (Path.Exists(commandLine) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }

        File.Delete(PidFile);
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [signal, pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync().ConfigureAwait(false);
    }

    private static void Remember(System.Collections.Concurrent.ConcurrentQueue<string> lines, string? line)
    {
        if (line is not null && lines.Count < 20)
        {
            lines.Enqueue(line);
        }
    }

    private static int FreePort(string address)
    {
        using var listener = new TcpListener(IPAddress.Parse(address), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
