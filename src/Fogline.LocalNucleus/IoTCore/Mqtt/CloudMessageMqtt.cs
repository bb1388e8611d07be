using System.Buffers;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace Fogline.LocalNucleus.IoTCore.Mqtt;

/// <summary>IoT Core messages to and from MQTT application messages (MQTT 5 properties only where MQTT 5 is spoken).</summary>
internal static class CloudMessageMqtt
{
    public static MqttQualityOfServiceLevel ToMqtt(MqttQos qos) => qos == MqttQos.AtLeastOnce ? MqttQualityOfServiceLevel.AtLeastOnce : MqttQualityOfServiceLevel.AtMostOnce;

    public static MqttApplicationMessage ToMqtt(CloudMessage message, bool mqtt5)
    {
        var builder = new MqttApplicationMessageBuilder()
            .WithTopic(message.Topic)
            .WithPayloadSegment(message.Payload)
            .WithQualityOfServiceLevel(ToMqtt(message.Qos))
            .WithRetainFlag(message.Retain);
        if (mqtt5)
        {
            if (message.ContentType is { } contentType)
            {
                builder.WithContentType(contentType);
            }

            if (message.ResponseTopic is { } responseTopic)
            {
                builder.WithResponseTopic(responseTopic);
            }

            if (message.CorrelationData is { } correlation)
            {
                builder.WithCorrelationData(correlation.ToArray());
            }

            if (message.MessageExpiryIntervalSeconds is { } expiry)
            {
                builder.WithMessageExpiryInterval((uint)Math.Clamp(expiry, 0, uint.MaxValue));
            }

            if (message.PayloadFormat is { } format)
            {
                builder.WithPayloadFormatIndicator(format == MqttPayloadFormat.Utf8 ? MqttPayloadFormatIndicator.CharacterData : MqttPayloadFormatIndicator.Unspecified);
            }

            foreach (var property in message.UserProperties ?? [])
            {
                builder.WithUserProperty(property.Key, Encoding.UTF8.GetBytes(property.Value).AsMemory());
            }
        }

        return builder.Build();
    }

    public static CloudMessage FromMqtt(MqttApplicationMessage message) => new()
    {
        Topic = message.Topic,
        Payload = message.Payload.ToArray(),
        Qos = message.QualityOfServiceLevel == MqttQualityOfServiceLevel.AtMostOnce ? MqttQos.AtMostOnce : MqttQos.AtLeastOnce,
        Retain = message.Retain,
        ContentType = message.ContentType,
        ResponseTopic = message.ResponseTopic,
        CorrelationData = message.CorrelationData,
        MessageExpiryIntervalSeconds = message.MessageExpiryInterval == 0 ? null : message.MessageExpiryInterval,
        UserProperties = message.UserProperties is { Count: > 0 } user ? [.. user.Select(p => new MqttUserProperty(p.Name, Encoding.UTF8.GetString(p.ValueBuffer.Span)))] : null,
    };
}
