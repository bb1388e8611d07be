namespace Fogline.LocalNucleus.IoTCore;

/// <summary>
/// How the emulated AWS IoT Core connection behaves. The defaults are the Nucleus's: its <c>mqtt</c> and
/// <c>mqtt.spooler</c> configuration (MqttClient, Spool).
/// </summary>
public sealed class IoTCoreOptions
{
    /// <summary>The Nucleus's default <c>mqtt.spooler.maxSizeInBytes</c>: 2.5 MB.</summary>
    public const long DefaultSpoolMaxBytes = 2_621_440;

    /// <summary>The Nucleus's default <c>mqtt.maxMessageSizeInBytes</c>: 128 kB.</summary>
    public const int DefaultMaxMessageSizeInBytes = 128 * 1024;

    /// <summary>The largest <c>mqtt.maxMessageSizeInBytes</c> the Nucleus accepts (larger values are lowered to it): 256 MB.</summary>
    public const int MaxMessageSizeLimitInBytes = 256 * 1024 * 1024;

    /// <summary>The Nucleus's default <c>mqtt.maxInFlightPublishes</c>.</summary>
    public const int DefaultMaxInFlightPublishes = 5;

    /// <summary>The largest <c>mqtt.maxInFlightPublishes</c> the Nucleus accepts (the IoT Core limit of in-flight QoS 1 publishes).</summary>
    public const int MaxInFlightPublishesLimit = 100;

    /// <summary>The Nucleus's default <c>mqtt.maxPublishRetry</c>.</summary>
    public const int DefaultMaxPublishRetry = 100;

    /// <summary>
    /// The spool's capacity in bytes of payload (<c>mqtt.spooler.maxSizeInBytes</c>): every message published to IoT
    /// Core passes through the spool until the cloud has it, and a message that does not fit is refused
    /// ("Message spool is full. Message could not be added."). Default 2,621,440 (2.5 MB).
    /// </summary>
    public long SpoolMaxBytes { get; init; } = DefaultSpoolMaxBytes;

    /// <summary>
    /// Whether QoS 0 messages are kept while offline (<c>mqtt.spooler.keepQos0WhenOffline</c>). When false, a QoS 0
    /// publish while offline is refused ("Device is offline. Dropping QoS 0 message.") and the QoS 0 messages in the
    /// spool are dropped when the connection goes down. Default false.
    /// </summary>
    public bool KeepQos0WhenOffline { get; init; }

    /// <summary>
    /// The largest payload, in bytes, a publish may carry (<c>mqtt.maxMessageSizeInBytes</c>). Default 131,072
    /// (128 kB); values above 256 MB are lowered to 256 MB as the Nucleus does.
    /// </summary>
    public int MaxMessageSizeInBytes { get; init; } = DefaultMaxMessageSizeInBytes;

    /// <summary>
    /// How many messages may be on their way to the cloud at once (<c>mqtt.maxInFlightPublishes</c>). Default 5;
    /// values above 100 are lowered to 100 as the Nucleus does.
    /// </summary>
    public int MaxInFlightPublishes { get; init; } = DefaultMaxInFlightPublishes;

    /// <summary>
    /// How many times a message whose delivery failed (the connection dropped while it was in flight) is retried
    /// before it is dropped (<c>mqtt.maxPublishRetry</c>); -1 retries forever. Default 100.
    /// </summary>
    public int MaxPublishRetry { get; init; } = DefaultMaxPublishRetry;

    /// <summary>
    /// The MQTT version (<c>mqtt.version</c>): <c>mqtt5</c> or <c>mqtt3</c>. It changes how topics starting with
    /// <c>$</c> are validated, as in the Nucleus's IotCoreTopicValidator. Default <c>mqtt5</c>.
    /// </summary>
    public string MqttVersion { get; init; } = "mqtt5";

    /// <summary>
    /// Whether the device is configured to talk to the cloud (thing name, endpoint, certificates). When false, as for
    /// a Nucleus set up to run offline, publishes fail with "Cannot publish because device is configured to run
    /// offline" and subscriptions with "Device is not configured to connect to AWS". Default true.
    /// </summary>
    public bool DeviceConfiguredForCloud { get; init; } = true;

    /// <summary>Whether the connection is up when the Nucleus starts. Default true.</summary>
    public bool StartOnline { get; init; } = true;

    /// <summary>
    /// A real MQTT broker to connect to (AWS IoT Core, or a test broker) with mutual TLS, instead of the in-process
    /// emulated IoT Core. Default none: emulated.
    /// </summary>
    public Fogline.Mqtt.MqttBrokerOptions? Broker { get; init; }

    /// <summary>The latency added to every message on its way to the cloud, initially. Default none.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.Zero;
}
