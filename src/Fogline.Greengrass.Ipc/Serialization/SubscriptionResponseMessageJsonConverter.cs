using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fogline.Greengrass.Ipc.Serialization;

/// <summary>
/// <see cref="SubscriptionResponseMessage"/>, the event of every local pub/sub delivery, read and written without the
/// serializer's per-message reader frames (see <see cref="PubSubMessagesJson"/>).
/// </summary>
public sealed class SubscriptionResponseMessageJsonConverter : JsonConverter<SubscriptionResponseMessage>
{
    /// <inheritdoc />
    public override SubscriptionResponseMessage? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        PubSubMessagesJson.ExpectStartObject(ref reader, "SubscriptionResponseMessage");
        var result = new SubscriptionResponseMessage();
        while (PubSubMessagesJson.NextMember(ref reader))
        {
            if (reader.ValueTextEquals("binaryMessage"u8))
            {
                reader.Read();
                result.BinaryMessage = PubSubMessagesJson.ReadBinaryMessage(ref reader);
            }
            else if (reader.ValueTextEquals("jsonMessage"u8))
            {
                reader.Read();
                result.JsonMessage = PubSubMessagesJson.ReadJsonMessage(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return result;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, SubscriptionResponseMessage value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartObject();
        PubSubMessagesJson.WriteMessages(writer, value.JsonMessage, value.BinaryMessage);

        writer.WriteEndObject();
    }
}
