using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Fogline.Testing;

/// <summary>
/// A certificate authority for tests, made with openssl in a folder: the CA, a server certificate for
/// <c>localhost</c>/127.0.0.1, and client certificates whose common name is the device's (thing) name, as AWS IoT
/// Core's device certificates identify things. Files are world-readable so that a broker started as root and dropping
/// to its own user can read them.
/// </summary>
public sealed class TestPki
{
    private TestPki(string directory, string name)
    {
        Directory = directory;
        Name = name;
    }

    /// <summary>The folder.</summary>
    public string Directory { get; }

    /// <summary>The CA's name (its file prefix).</summary>
    public string Name { get; }

    /// <summary>The CA certificate, PEM.</summary>
    public string CaCertificate => Path.Combine(Directory, Name + "-ca.pem");

    /// <summary>Makes a CA named <paramref name="name"/> in <paramref name="directory"/>.</summary>
    public static async Task<TestPki> CreateAsync(string directory, string name = "test")
    {
        System.IO.Directory.CreateDirectory(directory);
        TestPki.SetMode(directory, (UnixFileMode)0b111_101_101);
        var pki = new TestPki(directory, name);
        await pki.OpenSslAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
            "-subj", $"/CN=Fogline {name} CA", "-keyout", Path.Combine(directory, name + "-ca.key"), "-out", pki.CaCertificate).ConfigureAwait(false);
        return pki;
    }

    /// <summary>A server certificate for localhost and 127.0.0.1: (certificate, key).</summary>
    public Task<(string Certificate, string Key)> IssueServerAsync(string name = "server") =>
        IssueAsync(name, "subjectAltName=DNS:localhost,IP:127.0.0.1");

    /// <summary>A client certificate whose common name is <paramref name="commonName"/>: (certificate, key).</summary>
    public Task<(string Certificate, string Key)> IssueClientAsync(string commonName) => IssueAsync(commonName, "extendedKeyUsage=clientAuth");

    private async Task<(string Certificate, string Key)> IssueAsync(string commonName, string extension)
    {
        var key = Path.Combine(Directory, $"{Name}-{commonName}.key");
        var request = Path.Combine(Directory, $"{Name}-{commonName}.csr");
        var certificate = Path.Combine(Directory, $"{Name}-{commonName}.pem");
        var extensions = Path.Combine(Directory, $"{Name}-{commonName}.ext");
        await File.WriteAllTextAsync(extensions, extension + "\n").ConfigureAwait(false);
        await OpenSslAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + commonName, "-keyout", key, "-out", request).ConfigureAwait(false);
        await OpenSslAsync("x509", "-req", "-in", request, "-CA", CaCertificate, "-CAkey", Path.Combine(Directory, Name + "-ca.key"), "-CAcreateserial",
            "-days", "2", "-extfile", extensions, "-out", certificate).ConfigureAwait(false);
        foreach (var file in new[] { key, certificate })
        {
            TestPki.SetMode(file, (UnixFileMode)0b110_100_100);
        }

        return (certificate, key);
    }

    /// <summary>Sets a file's or folder's permissions (nothing to do on Windows, where the tests do not run).</summary>
    internal static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private async Task OpenSslAsync(params string[] args)
    {
        var start = new ProcessStartInfo("openssl") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl could not be started");
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            Assert.Fail($"openssl {string.Join(' ', args)} failed: {await error.ConfigureAwait(false)}");
        }
    }
}

/// <summary>
/// Debian's Mosquitto (<c>/usr/sbin/mosquitto</c>, package mosquitto) on a free loopback port with mutual TLS as AWS
/// IoT Core does it: a client certificate is required, its common name is the client's identity
/// (<c>use_identity_as_username</c>), QoS 2 is not offered, and an ACL gives each device only its own topics
/// (<c>things/NAME/#</c> and <c>$aws/things/NAME/#</c>); the certificate named <see cref="Observer"/> may use every
/// topic (the tests' view of the cloud). Stop and start it again on the same port to make an outage. A missing
/// Mosquitto fails the test with the package to install: it is never skipped.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    /// <summary>Where Mosquitto is.</summary>
    public const string Executable = "/usr/sbin/mosquitto";

    /// <summary>The common name of the privileged client certificate (the tests' view of the cloud).</summary>
    public const string Observer = "observer";

    /// <summary>The common name of the local cloud's certificate (its device gateway; every topic too).</summary>
    public const string Cloud = "fogline-cloud";

    private Process? _process;

    private MosquittoBroker(string directory, TestPki pki, int port)
    {
        Directory = directory;
        Pki = pki;
        Port = port;
    }

    /// <summary>The broker's folder (configuration, certificates, log).</summary>
    public string Directory { get; }

    /// <summary>The CA that issued the server's and the clients' certificates.</summary>
    public TestPki Pki { get; }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>The broker's log.</summary>
    public string LogFile => Path.Combine(Directory, "mosquitto.log");

    /// <summary>Whether it is running.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>
    /// Makes a CA and the broker's files in a new temporary folder and starts the broker. A
    /// <paramref name="persistent"/> broker keeps its clients' sessions (subscriptions, queued QoS 1 messages) across
    /// a graceful restart, as AWS IoT Core keeps them; otherwise a restart forgets them.
    /// </summary>
    public static async Task<MosquittoBroker> StartAsync(bool persistent = false)
    {
        if (!File.Exists(Executable))
        {
            Assert.Fail($"Mosquitto is not installed at {Executable}: apt-get install mosquitto (or run the test command, which installs it)");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("fogline-mosquitto-").FullName;
        var pki = await TestPki.CreateAsync(directory).ConfigureAwait(false);
        var (certificate, key) = await pki.IssueServerAsync().ConfigureAwait(false);
        var port = FreePort();
        await File.WriteAllTextAsync(Path.Combine(directory, "acl"), $"""
            pattern readwrite things/%u/#
            pattern readwrite $aws/things/%u/#

            user {Observer}
            topic readwrite #
            topic readwrite $aws/#

            user {Cloud}
            topic readwrite #
            topic readwrite $aws/#

            """).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(directory, "mosquitto.conf"), $"""
            per_listener_settings false
            allow_anonymous false
            persistence {(persistent ? "true" : "false")}
            persistence_location {directory}/
            log_dest file {Path.Combine(directory, "mosquitto.log")}
            log_type all
            acl_file {Path.Combine(directory, "acl")}
            listener {port} 127.0.0.1
            max_qos 1
            cafile {pki.CaCertificate}
            certfile {certificate}
            keyfile {key}
            require_certificate true
            use_identity_as_username true

            """).ConfigureAwait(false);
        foreach (var file in new[] { "acl", "mosquitto.conf" })
        {
            TestPki.SetMode(Path.Combine(directory, file), (UnixFileMode)0b110_100_100);
        }

        if (persistent)
        {
            // The broker drops to its own user when started as root: it writes its sessions here.
            TestPki.SetMode(directory, (UnixFileMode)0b111_111_111);
        }

        var broker = new MosquittoBroker(directory, pki, port);
        await broker.RestartAsync().ConfigureAwait(false);
        return broker;
    }

    /// <summary>Starts the broker (again) on its port and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        if (IsRunning)
        {
            return;
        }

        _process?.Dispose();
        var start = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Path.Combine(Directory, "mosquitto.conf"));
        _process = Process.Start(start) ?? throw new InvalidOperationException("mosquitto could not be started");
        _process.ErrorDataReceived += (_, _) => { };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            if (_process.HasExited)
            {
                var log = File.Exists(LogFile) ? await File.ReadAllTextAsync(LogFile).ConfigureAwait(false) : "(no log)";
                Assert.Fail($"mosquitto exited with {_process.ExitCode} at start: {log}");
            }

            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The options a client with a certificate for <paramref name="commonName"/> (issued now) connects with.</summary>
    public async Task<Fogline.Mqtt.MqttBrokerOptions> ClientOptionsAsync(string commonName)
    {
        var (certificate, key) = await Pki.IssueClientAsync(commonName).ConfigureAwait(false);
        return new Fogline.Mqtt.MqttBrokerOptions
        {
            Endpoint = "127.0.0.1",
            Port = Port,
            ClientId = commonName,
            CertificateFile = certificate,
            PrivateKeyFile = key,
            RootCaFile = Pki.CaCertificate,
            MinimumBackoff = TimeSpan.FromMilliseconds(200),
            MaximumBackoff = TimeSpan.FromSeconds(2),
        };
    }

    /// <summary>
    /// Stops the broker: every connection drops. Killed (as a crash or a lost host would), or with
    /// <paramref name="graceful"/> stopped with SIGTERM (a persistent broker then saves its sessions).
    /// </summary>
    public async Task StopAsync(bool graceful = false)
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        if (graceful)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill!.WaitForExitAsync().ConfigureAwait(false);
        }
        else
        {
            process.Kill(entireProcessTree: false);
        }

        await process.WaitForExitAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
