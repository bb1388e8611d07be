using System.Text.Json;
using Fogline.LocalCloud.Auth;
using Fogline.Mqtt;
using Fogline.Mqtt.Broker;

namespace Fogline.LocalCloud.Devices;

/// <summary>How a local cloud reaches its devices.</summary>
public sealed record DeviceNetworkOptions
{
    /// <summary>The port of the MQTT broker started for the devices (0: a free one). Default 8883, as AWS IoT Core's.</summary>
    public int MqttPort { get; init; } = 8883;

    /// <summary>The port of the Greengrass data plane (0: a free one). Default 8443, as AWS's.</summary>
    public int DataPlanePort { get; init; } = 8443;

    /// <summary>
    /// Join this running broker instead of starting one: the cloud connects with these options (a client the broker
    /// lets use every topic) and devices are told its endpoint. The broker must trust the devices' CA
    /// (<c>devices/pki/devices-ca.pem</c> in the cloud directory) and give each device its own topics.
    /// </summary>
    public MqttBrokerOptions? ExternalBroker { get; init; }
}

/// <summary>
/// The devices' side of a local cloud directory, as AWS IoT Core is the devices' side of an account: the CA that
/// issues device certificates (<c>devices/pki</c>), the MQTT broker the devices and the cloud's IoT Jobs meet on (a
/// Mosquitto it starts in <c>devices/broker</c>, or a running broker it joins), the data plane's certificate, and
/// <c>devices/endpoints.json</c>, where devices being added learn where to connect (what
/// <c>aws iot describe-endpoint</c> and the Greengrass installer tell a real device).
/// </summary>
public sealed class DeviceNetwork : IAsyncDisposable
{
    /// <summary>The cloud's identity on the broker (its certificate's common name): it may use every topic.</summary>
    public const string CloudClient = "fogline-cloud";

    private readonly string _cloudDirectory;
    private readonly MqttBrokerOptions _cloudConnection;
    private readonly IssuedCertificate _dataPlaneCertificate;
    private readonly int _dataPlanePort;

    private DeviceNetwork(string cloudDirectory, CertificateAuthority authority, MosquittoServer? broker, MqttBrokerOptions cloudConnection, IssuedCertificate dataPlaneCertificate, int dataPlanePort)
    {
        _cloudDirectory = cloudDirectory;
        Authority = authority;
        Broker = broker;
        _cloudConnection = cloudConnection;
        _dataPlaneCertificate = dataPlaneCertificate;
        _dataPlanePort = dataPlanePort;
    }

    /// <summary>The CA of the devices' certificates.</summary>
    public CertificateAuthority Authority { get; }

    /// <summary>The broker this network started (null when it joined a running one).</summary>
    public MosquittoServer? Broker { get; }

    /// <summary>The broker's host and port, as devices are told.</summary>
    public (string Host, int Port) MqttEndpoint => (_cloudConnection.Endpoint, _cloudConnection.Port);

    /// <summary>The CA folder of a cloud directory.</summary>
    public static string AuthorityDirectory(string cloudDirectory) => Path.Combine(cloudDirectory, "devices", "pki");

    /// <summary>Opens the devices' CA of a cloud directory (made on first use).</summary>
    public static CertificateAuthority OpenAuthority(string cloudDirectory) => CertificateAuthority.OpenOrCreate(AuthorityDirectory(cloudDirectory));

    /// <summary>Starts (or joins) the broker and prepares the data plane's certificate for the cloud on <paramref name="cloudDirectory"/>.</summary>
    /// <exception cref="InvalidOperationException">Mosquitto is not installed or did not start, and no external broker is given.</exception>
    public static async Task<DeviceNetwork> StartAsync(string cloudDirectory, DeviceNetworkOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cloudDirectory);
        ArgumentNullException.ThrowIfNull(options);
        var authority = OpenAuthority(cloudDirectory);
        var dataPlane = authority.IssueServer("data-plane");
        if (options.ExternalBroker is { } external)
        {
            return new DeviceNetwork(cloudDirectory, authority, null, external, dataPlane, options.DataPlanePort);
        }

        var broker = await MosquittoServer.StartAsync(new MosquittoOptions
        {
            Directory = Path.Combine(cloudDirectory, "devices", "broker"),
            Authority = authority,
            Port = options.MqttPort,
            PrivilegedClients = [CloudClient],
        }, cancellationToken).ConfigureAwait(false);
        var client = authority.IssueClient(CloudClient);
        var connection = new MqttBrokerOptions
        {
            Endpoint = broker.Host,
            Port = broker.Port,
            ClientId = CloudClient,
            CertificateFile = client.CertificateFile,
            PrivateKeyFile = client.PrivateKeyFile,
            RootCaFile = authority.CaCertificateFile,
            MinimumBackoff = TimeSpan.FromMilliseconds(200),
            MaximumBackoff = TimeSpan.FromSeconds(5),
        };
        return new DeviceNetwork(cloudDirectory, authority, broker, connection, dataPlane, options.DataPlanePort);
    }

    /// <summary>The cloud's options with the broker connection and the data plane added.</summary>
    public LocalCloudOptions Configure(LocalCloudOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with
        {
            Broker = _cloudConnection,
            DataPlane = new DataPlaneOptions
            {
                Port = _dataPlanePort,
                CertificateFile = _dataPlaneCertificate.CertificateFile,
                PrivateKeyFile = _dataPlaneCertificate.PrivateKeyFile,
                DevicesCaFile = Authority.CaCertificateFile,
            },
        };
    }

    /// <summary>Writes <c>devices/endpoints.json</c> for the started <paramref name="cloud"/>.</summary>
    public void Announce(LocalCloudServer cloud)
    {
        ArgumentNullException.ThrowIfNull(cloud);
        var endpoints = new DeviceEndpoints
        {
            MqttHost = _cloudConnection.Endpoint,
            MqttPort = _cloudConnection.Port,
            DataPlane = cloud.DataPlaneEndpoint ?? throw new InvalidOperationException("the cloud was started without the data plane: start it with Configure's options"),
            RootCaFile = Authority.CaCertificateFile,
        };
        endpoints.Save(_cloudDirectory);
    }

    /// <summary>Stops the broker this network started (its sessions saved).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Broker is not null)
        {
            await Broker.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>Where a local cloud's devices connect: <c>devices/endpoints.json</c> in its directory.</summary>
public sealed record DeviceEndpoints
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>The MQTT broker's host (the Nucleus's <c>iotDataEndpoint</c>).</summary>
    public required string MqttHost { get; init; }

    /// <summary>Its port (<c>mqtt.port</c>).</summary>
    public required int MqttPort { get; init; }

    /// <summary>The Greengrass data plane (<c>greengrassDataPlaneEndpoint</c> and <c>greengrassDataPlanePort</c>).</summary>
    public required Uri DataPlane { get; init; }

    /// <summary>The CA the broker's and data plane's certificates chain to (<c>system.rootCaPath</c>).</summary>
    public required string RootCaFile { get; init; }

    /// <summary>The file in a cloud directory.</summary>
    public static string PathIn(string cloudDirectory) => Path.Combine(cloudDirectory, "devices", "endpoints.json");

    /// <summary>The endpoints a cloud on <paramref name="cloudDirectory"/> announced, or null when none has served devices yet.</summary>
    public static DeviceEndpoints? Load(string cloudDirectory)
    {
        var path = PathIn(cloudDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<DeviceEndpoints>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: {ex.Message}", ex);
        }
    }

    /// <summary>Writes the file.</summary>
    public void Save(string cloudDirectory)
    {
        var path = PathIn(cloudDirectory);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
