using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fogline.Greengrass.Ipc.Serialization;

/// <summary>
/// Reading and writing the messages of local pub/sub (<see cref="BinaryMessage"/>, <see cref="JsonMessage"/>,
/// <see cref="MessageContext"/>) with <see cref="Utf8JsonReader"/> and <see cref="Utf8JsonWriter"/>, for the
/// converters of the two shapes every message passes through: <see cref="PublishToTopicRequest"/> (publisher to
/// Nucleus) and <see cref="SubscriptionResponseMessage"/> (Nucleus to each subscriber). The serializer's own code for
/// nested shapes allocates a stack of reader frames per message (about a kilobyte); these allocate only the message's
/// own objects. The JSON is exactly the generated contract's: members in the model's order, unset members omitted,
/// blobs in base64, member names matched case-sensitively, unknown members skipped.
/// </summary>
internal static class PubSubMessagesJson
{
    /// <summary>Writes the union members <c>jsonMessage</c> and <c>binaryMessage</c> that are set.</summary>
    internal static void WriteMessages(Utf8JsonWriter writer, JsonMessage? jsonMessage, BinaryMessage? binaryMessage)
    {
        if (jsonMessage is { } json)
        {
            writer.WritePropertyName("jsonMessage"u8);
            writer.WriteStartObject();
            if (json.Message is { } document)
            {
                writer.WritePropertyName("message"u8);
                document.WriteTo(writer);
            }

            WriteContext(writer, json.Context);
            writer.WriteEndObject();
        }

        if (binaryMessage is { } binary)
        {
            writer.WritePropertyName("binaryMessage"u8);
            writer.WriteStartObject();
            if (binary.Message is { } bytes)
            {
                writer.WriteBase64String("message"u8, bytes.Span);
            }

            WriteContext(writer, binary.Context);
            writer.WriteEndObject();
        }
    }

    internal static BinaryMessage? ReadBinaryMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        ExpectStartObject(ref reader, "BinaryMessage");
        var message = new BinaryMessage();
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null)
                {
                    message.Message = null;
                }
                else if (reader.TokenType == JsonTokenType.String)
                {
                    message.Message = reader.GetBytesFromBase64();
                }
                else
                {
                    throw new JsonException($"BinaryMessage.message must be a base64 string, not {reader.TokenType}.");
                }
            }
            else if (reader.ValueTextEquals("context"u8))
            {
                reader.Read();
                message.Context = ReadContext(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return message;
    }

    internal static JsonMessage? ReadJsonMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        ExpectStartObject(ref reader, "JsonMessage");
        var message = new JsonMessage();
        while (NextMember(ref reader))
        {
            if (reader.ValueTextEquals("message"u8))
            {
                reader.Read();
                message.Message = reader.TokenType == JsonTokenType.Null ? null : JsonElement.ParseValue(ref reader);
            }
            else if (reader.ValueTextEquals("context"u8))
            {
                reader.Read();
                message.Context = ReadContext(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return message;
    }

    internal static MessageContext? ReadContext(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        ExpectStartObject(ref reader, "MessageContext");
        var context = new MessageContext();
        while (NextMember(ref reader))
        {
            var isTopic = reader.ValueTextEquals("topic"u8);
            reader.Read();
            if (!isTopic)
            {
                reader.Skip();
            }
            else if (reader.TokenType is JsonTokenType.String or JsonTokenType.Null)
            {
                context.Topic = reader.GetString();
            }
            else
            {
                throw new JsonException($"MessageContext.topic must be a string, not {reader.TokenType}.");
            }
        }

        return context;
    }

    internal static void WriteContext(Utf8JsonWriter writer, MessageContext? context)
    {
        if (context is null)
        {
            return;
        }

        writer.WritePropertyName("context"u8);
        writer.WriteStartObject();
        if (context.Topic is { } topic)
        {
            writer.WriteString("topic"u8, topic);
        }

        writer.WriteEndObject();
    }

    /// <summary>Moves to the next member name of the current object; false at its end.</summary>
    internal static bool NextMember(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("The JSON ends inside an object.");
        }

        return reader.TokenType switch
        {
            JsonTokenType.PropertyName => true,
            JsonTokenType.EndObject => false,
            _ => throw new JsonException($"Expected a member name, found {reader.TokenType}."),
        };
    }

    internal static void ExpectStartObject(ref Utf8JsonReader reader, string shape)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"{shape} must be a JSON object, not {reader.TokenType}.");
        }
    }
}
