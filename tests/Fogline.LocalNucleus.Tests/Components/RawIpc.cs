using System.Text;
using System.Text.Json.Nodes;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Transport;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Components;

namespace Fogline.LocalNucleus.Tests.Components;

/// <summary>The first answer to a raw IPC request: its model type and its JSON.</summary>
public sealed record RawReply(string? ModelType, JsonObject Payload)
{
    public string? Message => Payload["message"]?.GetValue<string>();
}

/// <summary>
/// Sends a request as raw JSON, as clients that do not check required members (the official ones) can: for the
/// Nucleus's answers to incomplete requests, which our typed client refuses to send.
/// </summary>
public static class RawIpc
{
    public static async Task<RawReply> CallAsync(Nucleus nucleus, ComponentRecord component, IpcOperationModel operation, string requestJson)
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
        public TaskCompletionSource<RawReply> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnMessage(RpcClientStream stream, in RpcMessage message) =>
            Reply.TrySetResult(new RawReply(message.ServiceModelType, JsonNode.Parse(message.PayloadText)?.AsObject() ?? []));

        public void OnClosed(RpcClientStream stream, Exception? error) =>
            Reply.TrySetException(error ?? new InvalidOperationException("the stream ended without an answer"));
    }
}
