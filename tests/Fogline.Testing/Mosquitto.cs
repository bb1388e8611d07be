using Fogline.Mqtt.Broker;

namespace Fogline.Testing;

/// <summary>
/// The product's Mosquitto (<see cref="MosquittoServer"/>: mutual TLS as AWS IoT Core does it, identity from the
/// certificate, no QoS 2, each device only its own topics) on a free loopback port in a new temporary folder, with
/// its own CA, for one test. The certificate named <see cref="Observer"/> (the tests' view of the cloud) and the one
/// named <see cref="Cloud"/> (the local cloud's device gateway) may use every topic. Stop and start it again on the
/// same port to make an outage. A missing Mosquitto fails the test with the package to install: it is never skipped.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    /// <summary>The common name of the privileged client certificate (the tests' view of the cloud).</summary>
    public const string Observer = "observer";

    /// <summary>The common name of the local cloud's certificate (its device gateway; every topic too).</summary>
    public const string Cloud = "fogline-cloud";

    private readonly MosquittoServer _server;

    private MosquittoBroker(string directory, CertificateAuthority pki, MosquittoServer server)
    {
        Directory = directory;
        Pki = pki;
        _server = server;
    }

    /// <summary>The broker's folder (configuration, certificates, log).</summary>
    public string Directory { get; }

    /// <summary>The CA that issued the server's and the clients' certificates.</summary>
    public CertificateAuthority Pki { get; }

    /// <summary>The loopback port.</summary>
    public int Port => _server.Port;

    /// <summary>Whether it is running.</summary>
    public bool IsRunning => _server.IsRunning;

    /// <summary>
    /// Makes a CA and the broker's files in a new temporary folder and starts the broker. A
    /// <paramref name="persistent"/> broker keeps its clients' sessions (subscriptions, queued QoS 1 messages) across
    /// a graceful restart, as AWS IoT Core keeps them; otherwise a restart forgets them. <paramref name="deviceTopics"/>
    /// replaces the topics each device may use (<c>%u</c> its name), as another IoT policy would.
    /// </summary>
    public static async Task<MosquittoBroker> StartAsync(bool persistent = false, IReadOnlyList<string>? deviceTopics = null)
    {
        if (!MosquittoServer.IsInstalled)
        {
            Assert.Fail($"Mosquitto is not installed at {MosquittoServer.Executable}: apt-get install mosquitto (or run the test command, which installs it)");
        }

        var directory = System.IO.Directory.CreateTempSubdirectory("fogline-mosquitto-").FullName;
        var pki = CertificateAuthority.OpenOrCreate(Path.Combine(directory, "pki"), "test");
        var options = new MosquittoOptions
        {
            Directory = Path.Combine(directory, "broker"),
            Authority = pki,
            PrivilegedClients = [Observer, Cloud],
            Persistent = persistent,
        };
        var server = await MosquittoServer.StartAsync(deviceTopics is null ? options : options with { DeviceTopics = deviceTopics }).ConfigureAwait(false);
        return new MosquittoBroker(directory, pki, server);
    }

    /// <summary>Starts the broker again on its port and waits until it accepts connections.</summary>
    public Task RestartAsync() => _server.RestartAsync();

    /// <summary>
    /// Stops the broker: every connection drops. Killed (as a crash or a lost host would), or with
    /// <paramref name="graceful"/> stopped with SIGTERM (a persistent broker then saves its sessions).
    /// </summary>
    public Task StopAsync(bool graceful = false) => _server.StopAsync(graceful);

    /// <summary>The options a client with a certificate for <paramref name="commonName"/> (issued now) connects with.</summary>
    public Fogline.Mqtt.MqttBrokerOptions ClientOptions(string commonName)
    {
        var issued = Pki.IssueClient(commonName);
        return new Fogline.Mqtt.MqttBrokerOptions
        {
            Endpoint = "127.0.0.1",
            Port = Port,
            ClientId = commonName,
            CertificateFile = issued.CertificateFile,
            PrivateKeyFile = issued.PrivateKeyFile,
            RootCaFile = Pki.CaCertificateFile,
            MinimumBackoff = TimeSpan.FromMilliseconds(200),
            MaximumBackoff = TimeSpan.FromSeconds(2),
        };
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
