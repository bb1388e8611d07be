using System.Text;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Transport;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;

namespace Fogline.LocalNucleus.Tests.PubSub;

/// <summary>The first answer to a raw request: its type, content type, model type and payload text.</summary>
public sealed record PubSubRawReply(MessageType Type, string? ContentType, string? ModelType, string Payload);

/// <summary>
/// Sends a request as raw JSON, as the official clients can (they do not check required members or unions), for the
/// Nucleus's answers to requests our typed client refuses to send.
/// </summary>
public static class PubSubRawIpc
{
    public static async Task<PubSubRawReply> CallAsync(Nucleus nucleus, ComponentRecord component, IpcOperationModel operation, string requestJson)
    {
        var transport = await UnixDomainSocket.ConnectAsync(nucleus.SocketPath);
        await using var connection = await RpcClientConnection.ConnectAsync(transport, new RpcClientConnectionOptions
        {
            ConnectPayload = Encoding.UTF8.GetBytes($$"""{"authToken":"{{component.Token}}"}"""),
        });
        var handler = new FirstMessage();
        var stream = connection.NewStream(handler);
        await stream.ActivateAsync(operation.Name, new RpcOutgoingMessage
        {
            ContentType = RpcHeaders.ContentTypeJson,
            ServiceModelType = operation.RequestModelType,
            Payload = Encoding.UTF8.GetBytes(requestJson),
        });
        return await handler.Reply.Task.WaitAsync(TimeSpan.FromSeconds(20));
    }

    private sealed class FirstMessage : IRpcClientStreamHandler
    {
        public TaskCompletionSource<PubSubRawReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnMessage(RpcClientStream stream, in RpcMessage message) =>
            Reply.TrySetResult(new PubSubRawReply(
                message.Type,
                message.ContentTypeUtf8.IsEmpty ? null : Encoding.UTF8.GetString(message.ContentTypeUtf8),
                message.ServiceModelType,
                message.PayloadText));

        public void OnClosed(RpcClientStream stream, Exception? error) =>
            Reply.TrySetException(error ?? new InvalidOperationException("the stream ended without an answer"));
    }
}
