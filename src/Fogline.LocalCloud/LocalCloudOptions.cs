using Fogline.LocalCloud.Auth;

namespace Fogline.LocalCloud;

/// <summary>How a local Greengrass cloud is started.</summary>
public sealed record LocalCloudOptions
{
    /// <summary>Where its state lives (buckets, objects, components, its keys); a restart on the same directory loses nothing.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The loopback port; 0 takes a free one (see <see cref="LocalCloudServer.Endpoint"/>).</summary>
    public int Port { get; init; }

    /// <summary>Key pairs accepted besides the ones kept in the data directory (tests add other accounts).</summary>
    public IReadOnlyList<CloudCredential> Credentials { get; init; } = [];

    /// <summary>How long a new component version stays REQUESTED before the cloud reads its artifacts.</summary>
    public TimeSpan ComponentProcessingDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The clock (signature windows, timestamps, processing).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How many of the latest requests <see cref="LocalCloudServer.Requests"/> keeps (0: none).</summary>
    public int CapturedRequests { get; init; } = 1000;

    /// <summary>
    /// The MQTT broker the devices use, which the cloud joins as a privileged client to serve IoT Jobs' MQTT API
    /// (its client id and certificate must be allowed every <c>$aws/things/+/jobs/#</c> topic). Default none.
    /// </summary>
    public Fogline.Mqtt.MqttBrokerOptions? Broker { get; init; }

    /// <summary>
    /// The Greengrass data plane the core devices call with their certificates (ResolveComponentCandidates,
    /// GetComponentVersionArtifact), as AWS serves it on port 8443 with mutual TLS. Default none.
    /// </summary>
    public DataPlaneOptions? DataPlane { get; init; }

    /// <summary>Where the cloud logs (the device gateway's connection). Default none.</summary>
    public Microsoft.Extensions.Logging.ILogger? Logger { get; init; }

    /// <summary>
    /// Failure injection, for tests of what clients do when the service fails: called for every authenticated request
    /// with its method and raw target (path and query); an exception returned is answered instead of serving it (as
    /// the service's error response, after the request body was read: a failure in the middle of an upload).
    /// </summary>
    public Func<string, string, Fogline.Aws.AwsServiceException?>? Fault { get; init; }
}

/// <summary>The data plane's HTTPS listener: the cloud's certificate, and the CA the devices' certificates chain to.</summary>
public sealed record DataPlaneOptions
{
    /// <summary>The loopback port (0: any free one).</summary>
    public int Port { get; init; }

    /// <summary>The server certificate (PEM) for localhost / 127.0.0.1.</summary>
    public required string CertificateFile { get; init; }

    /// <summary>Its private key (PEM).</summary>
    public required string PrivateKeyFile { get; init; }

    /// <summary>The CA (PEM) that issued the devices' certificates; a device is the thing its certificate's common name names.</summary>
    public required string DevicesCaFile { get; init; }
}
