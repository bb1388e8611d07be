using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fogline.Greengrass.Ipc.Serialization;

/// <summary>
/// <see cref="PublishToTopicRequest"/>, the request of every local publish, read and written without the serializer's
/// per-message reader frames (see <see cref="PubSubMessagesJson"/>).
/// </summary>
public sealed class PublishToTopicRequestJsonConverter : JsonConverter<PublishToTopicRequest>
{
    /// <inheritdoc />
    public override PublishToTopicRequest? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        PubSubMessagesJson.ExpectStartObject(ref reader, "PublishToTopicRequest");
        var request = new PublishToTopicRequest();
        while (PubSubMessagesJson.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("topic"u8))
            {
                reader.Read();
                request.Topic = reader.TokenType is JsonTokenType.String or JsonTokenType.Null
                    ? reader.GetString()
                    : throw new JsonException($"PublishToTopicRequest.topic must be a string, not {reader.TokenType}.");
            }
            else if (reader.ValueTextEquals("publishMessage"u8))
            {
                reader.Read();
                request.PublishMessage = ReadPublishMessage(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return request;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, PublishToTopicRequest value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        if (value.Topic is { } topic)
        {
            writer.WriteString("topic"u8, topic);
        }

        if (value.PublishMessage is { } message)
        {
            writer.WritePropertyName("publishMessage"u8);
            writer.WriteStartObject();
            PubSubMessagesJson.WriteMessages(writer, message.JsonMessage, message.BinaryMessage);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static PublishMessage? ReadPublishMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        PubSubMessagesJson.ExpectStartObject(ref reader, "PublishMessage");
        var message = new PublishMessage();
        while (PubSubMessagesJson.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("binaryMessage"u8))
            {
                reader.Read();
                message.BinaryMessage = PubSubMessagesJson.ReadBinaryMessage(ref reader);
            }
            else if (reader.ValueTextEquals("jsonMessage"u8))
            {
                reader.Read();
                message.JsonMessage = PubSubMessagesJson.ReadJsonMessage(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return message;
    }
}
