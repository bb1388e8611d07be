namespace Fogline.Mqtt;

/// <summary>
/// Where and how to connect to an MQTT broker (AWS IoT Core, or a test broker such as Mosquitto) with mutual TLS. The
/// names and defaults are the Greengrass Nucleus's: <c>system.*</c> for the device identity and the Nucleus
/// component's <c>iotDataEndpoint</c> and <c>mqtt</c> settings.
/// </summary>
public sealed record MqttBrokerOptions
{
    /// <summary>The broker's host name (the Nucleus's <c>iotDataEndpoint</c>, e.g. <c>xxxx-ats.iot.us-east-1.amazonaws.com</c>).</summary>
    public required string Endpoint { get; init; }

    /// <summary>The port (<c>mqtt.port</c>). Default 8883.</summary>
    public int Port { get; init; } = 8883;

    /// <summary>The client id: for a device its thing name (<c>system.thingName</c>), as the Nucleus connects.</summary>
    public required string ClientId { get; init; }

    /// <summary>The device certificate, PEM (<c>system.certificateFilePath</c>).</summary>
    public required string CertificateFile { get; init; }

    /// <summary>The device's private key, PEM (<c>system.privateKeyPath</c>).</summary>
    public required string PrivateKeyFile { get; init; }

    /// <summary>The CA certificates the broker's certificate must chain to, PEM (<c>system.rootCaPath</c>).</summary>
    public required string RootCaFile { get; init; }

    /// <summary>The keep-alive (<c>mqtt.keepAliveTimeoutMs</c>). Default 60 s.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long a CONNECT, SUBSCRIBE or QoS 1 PUBLISH may wait for its answer (<c>mqtt.operationTimeoutMs</c>). Default 30 s.</summary>
    public TimeSpan OperationTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The shortest wait before a reconnection (exponential backoff with full jitter, as the Nucleus's MQTT 5 client). Default 1 s.</summary>
    public TimeSpan MinimumBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before a reconnection. Default 120 s.</summary>
    public TimeSpan MaximumBackoff { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>After this long connected, the backoff starts again from <see cref="MinimumBackoff"/>. Default 30 s.</summary>
    public TimeSpan BackoffResetAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary><c>mqtt5</c> (the Nucleus's default since 2.10) or <c>mqtt3</c>.</summary>
    public string MqttVersion { get; init; } = "mqtt5";

    /// <summary>The MQTT 5 session expiry the Nucleus asks for after its first connection: one week.</summary>
    public static readonly TimeSpan SessionExpiry = TimeSpan.FromDays(7);
}
