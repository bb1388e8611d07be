using System.Text;
using System.Text.Json;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.IoTCore;

/// <summary>MQTT quality of service, as AWS IoT Core supports it.</summary>
public enum MqttQos
{
    /// <summary>QoS 0: at most once.</summary>
    AtMostOnce = 0,

    /// <summary>QoS 1: at least once.</summary>
    AtLeastOnce = 1,
}

/// <summary>The MQTT 5 payload format indicator.</summary>
public enum MqttPayloadFormat
{
    /// <summary>Unspecified bytes.</summary>
    Bytes = 0,

    /// <summary>UTF-8 text.</summary>
    Utf8 = 1,
}

/// <summary>An MQTT 5 user property (a message may carry the same key several times).</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value.</param>
public readonly record struct MqttUserProperty(string Key, string Value);

/// <summary>
/// An MQTT message between the device and the emulated AWS IoT Core: what a component published (device to cloud) or
/// what the cloud sends to the device's subscriptions (cloud to device).
/// </summary>
public sealed class CloudMessage
{
    private byte[]? _ipcEventJson;

    /// <summary>The topic.</summary>
    public required string Topic { get; init; }

    /// <summary>The payload (may be empty).</summary>
    public ReadOnlyMemory<byte> Payload { get; init; }

    /// <summary>The quality of service. Default QoS 0.</summary>
    public MqttQos Qos { get; init; } = MqttQos.AtMostOnce;

    /// <summary>The retain flag.</summary>
    public bool Retain { get; init; }

    /// <summary>The payload format indicator; null when the message has none.</summary>
    public MqttPayloadFormat? PayloadFormat { get; init; }

    /// <summary>The message expiry interval in seconds, if any.</summary>
    public long? MessageExpiryIntervalSeconds { get; init; }

    /// <summary>The response topic, if any.</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>The correlation data, if any.</summary>
    public ReadOnlyMemory<byte>? CorrelationData { get; init; }

    /// <summary>The content type, if any.</summary>
    public string? ContentType { get; init; }

    /// <summary>The user properties, if any.</summary>
    public IReadOnlyList<MqttUserProperty>? UserProperties { get; init; }

    /// <summary>The payload as text, when it is valid UTF-8; otherwise null.</summary>
    public string? PayloadUtf8 => System.Text.Unicode.Utf8.IsValid(Payload.Span) ? Encoding.UTF8.GetString(Payload.Span) : null;

    /// <summary>A message with a UTF-8 text payload.</summary>
    public static CloudMessage FromText(string topic, string payload, MqttQos qos = MqttQos.AtMostOnce, bool retain = false) =>
        new() { Topic = topic, Payload = Encoding.UTF8.GetBytes(payload ?? string.Empty), Qos = qos, Retain = retain };

    /// <summary>A copy with another retain flag and QoS (a broker forwards messages so).</summary>
    internal CloudMessage With(bool retain, MqttQos qos) => new()
    {
        Topic = Topic,
        Payload = Payload,
        Qos = qos,
        Retain = retain,
        PayloadFormat = PayloadFormat,
        MessageExpiryIntervalSeconds = MessageExpiryIntervalSeconds,
        ResponseTopic = ResponseTopic,
        CorrelationData = CorrelationData,
        ContentType = ContentType,
        UserProperties = UserProperties,
    };

    /// <summary>
    /// The IoTCoreMessage event SubscribeToIoTCore subscribers receive for this message, serialized once for all of
    /// them. It carries what the Nucleus's MqttProxyIPCAgent forwards: topic, payload, retain, the payload format
    /// (BYTES when the message has none), and the MQTT 5 properties.
    /// </summary>
    internal ReadOnlyMemory<byte> IpcEventJson => _ipcEventJson ??= JsonSerializer.SerializeToUtf8Bytes(
        new IoTCoreMessage
        {
            Message = new MQTTMessage
            {
                TopicName = Topic,
                Payload = Payload,
                Retain = Retain,
                PayloadFormat = PayloadFormat == MqttPayloadFormat.Utf8 ? Greengrass.Ipc.PayloadFormat.Utf8 : Greengrass.Ipc.PayloadFormat.Bytes,
                MessageExpiryIntervalSeconds = MessageExpiryIntervalSeconds,
                ResponseTopic = ResponseTopic,
                CorrelationData = CorrelationData,
                ContentType = ContentType,
                UserProperties = UserProperties is null ? null : [.. UserProperties.Select(p => new UserProperty { Key = p.Key, Value = p.Value })],
            },
        },
        GreengrassCoreIpcJsonContext.Default.IoTCoreMessage);
}
