using System.Text;
using System.Text.Json;
using Fogline.EventStream.Rpc;

namespace Fogline.Greengrass.Ipc;

/// <summary>Reads what the server answered: the expected shape, a modeled error, or one of the unmodeled answers.</summary>
internal static class IpcResponses
{
    public static bool IsShape(in RpcMessage message, byte[] modelTypeUtf8) =>
        message.Type == MessageType.ApplicationMessage && message.ServiceModelTypeUtf8.SequenceEqual(modelTypeUtf8);

    /// <summary>The exception for a message that is not the expected shape.</summary>
    public static GreengrassIpcException ToException(IpcOperationModel operation, in RpcMessage message, string expected)
    {
        var modelType = message.ServiceModelType;
        if (modelType is not null)
        {
            try
            {
                if (operation.ErrorFactory(modelType, message.Payload) is { } modeled)
                {
                    return modeled;
                }
            }
            catch (JsonException ex)
            {
                return new GreengrassIpcProtocolException($"{operation.Name}: the server sent error {modelType} with a payload that is not valid for it: {ex.Message}", ex);
            }

            return new GreengrassIpcProtocolException($"{operation.Name}: expected {expected} but the server sent {message.Type} of shape {modelType}.");
        }

        var text = message.PayloadText;
        if (message.ContentTypeUtf8.SequenceEqual("text/plain"u8))
        {
            return new GreengrassIpcProtocolException($"{operation.Name}: the server failed without a modeled error: '{text}'.");
        }

        if (TryReadUnsupported(message.Payload, out var unsupported))
        {
            return new GreengrassIpcUnsupportedOperationException($"{operation.Name}: the server does not support this operation ({unsupported}).");
        }

        return new GreengrassIpcProtocolException($"{operation.Name}: expected {expected} but the server sent {message.Type} without a service-model-type: '{text}'.");
    }

    private static bool TryReadUnsupported(ReadOnlySpan<byte> payload, out string message)
    {
        message = string.Empty;
        try
        {
            using var doc = JsonDocument.Parse(payload.ToArray());
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.String
                && error.GetString() == "Unsupported Operation")
            {
                message = doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? string.Empty : string.Empty;
                return true;
            }
        }
        catch (JsonException)
        {
        }

        return false;
    }
}
