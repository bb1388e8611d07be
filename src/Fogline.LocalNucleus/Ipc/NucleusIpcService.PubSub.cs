using System.Text.Json;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.PubSub;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>Local publish/subscribe, as the Nucleus's PubSubIPCEventStreamAgent serves it.</summary>
public sealed partial class NucleusIpcService
{
    /// <inheritdoc />
    protected override ValueTask<PublishToTopicResponse> PublishToTopicAsync(PublishToTopicRequest request, IpcCallContext context)
    {
        // What the Nucleus's JSON reader rejects, before the operation runs: answered "InternalServerError" (a
        // PubSubFormatException is no modeled error). Its reader makes the PublishMessage union pick its member, and
        // reads jsonMessage.message into a Map.
        var publishMessage = request.PublishMessage;
        if (publishMessage is { JsonMessage: not null, BinaryMessage: not null })
        {
            throw new PubSubFormatException("More than one union member set for type: " + PublishMessage.ModelType);
        }

        byte[]? json = null;
        var infinity = false;
        if (publishMessage?.JsonMessage?.Message is { ValueKind: not JsonValueKind.Null } message)
        {
            json = PubSubJson.Normalize(message, out infinity);
        }

        return Translate(context, () =>
        {
            AuthorizePubSub(context, request.Topic);

            // The Nucleus dereferences the union and wraps its message in Optional.of: a missing one is a
            // NullPointerException, answered as a ServiceError without a message.
            if (publishMessage is null
                || (publishMessage.JsonMessage is not null && json is null)
                || publishMessage.BinaryMessage is { Message: null })
            {
                throw new ServiceException((string?)null);
            }

            var (kind, payload) = publishMessage switch
            {
                { JsonMessage: not null } => (PublishKind.Json, (ReadOnlyMemory<byte>)json),
                { BinaryMessage.Message: { } binary } => (PublishKind.Binary, binary),
                _ => (PublishKind.Empty, ReadOnlyMemory<byte>.Empty),
            };
            _nucleus.PubSub.PublishCore(request.Topic, Caller(context).Name, kind, payload, infinity);
            return new PublishToTopicResponse();
        });
    }

    /// <inheritdoc />
    protected override ValueTask<SubscribeToTopicResponse> SubscribeToTopicAsync(SubscribeToTopicRequest request, IpcEventStream<SubscriptionResponseMessage> events, IpcCallContext context) =>
        Translate(context, () =>
        {
            AuthorizePubSub(context, request.Topic);
            var subscription = _nucleus.PubSub.SubscribeStream(request.Topic, Caller(context).Name, request.ReceiveMode, events);

            // Closing the stream, or losing the connection, unsubscribes (the Nucleus's onStreamClosed); when the
            // stream has already ended, this runs now.
            context.CallEnded.Register(static s => ((PubSubSubscription)s!).Release(), subscription);
            return new SubscribeToTopicResponse();
        });

    // The topic is the resource; a missing topic is authorized as a null resource, as the Nucleus does, and then refused.
    private void AuthorizePubSub(IpcCallContext context, string? topic) =>
        _nucleus.Authorization.Authorize(IpcServices.PubSub, Caller(context).Name, context.Operation.Name, topic, ResourceLookupPolicy.Standard);
}
