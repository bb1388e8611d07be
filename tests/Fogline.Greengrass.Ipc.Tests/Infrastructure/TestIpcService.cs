using System.Collections.Concurrent;
using System.Text.Json;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;

namespace Fogline.Greengrass.Ipc.Tests.Infrastructure;

/// <summary>
/// A small Greengrass IPC service for tests of the client, the server role and the conformance scenarios: token
/// authentication, topic publish/subscribe, a modeled error, timestamps and blobs. Operations it does not override
/// are answered as unsupported, as the Nucleus answers them.
/// </summary>
public sealed class TestIpcService : GreengrassCoreIpcService
{
    public const string GoodToken = "token-of-component-a";
    public const string ComponentName = "com.example.ComponentA";

    private readonly ConcurrentDictionary<IpcEventStream<SubscriptionResponseMessage>, string> _subscribers = new();

    public ConcurrentQueue<PublishToIoTCoreRequest> IoTCorePublished { get; } = new();

    public int SubscriberCount => _subscribers.Count;

    public TaskCompletionSource<bool>? HoldGetConfiguration { get; set; }

    public override ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken)
    {
        var token = ReadAuthToken(request.Payload);
        return ValueTask.FromResult(token == GoodToken
            ? RpcConnectResult.Accept(ComponentName)
            : RpcConnectResult.Reject("unknown token"));
    }

    protected override ValueTask<UpdateStateResponse> UpdateStateAsync(UpdateStateRequest request, IpcCallContext context) =>
        ValueTask.FromResult(new UpdateStateResponse());

    protected override async ValueTask<PublishToTopicResponse> PublishToTopicAsync(PublishToTopicRequest request, IpcCallContext context)
    {
        if (request.Topic!.Contains('#') || request.Topic.Contains('+'))
        {
            throw new InvalidArgumentsException("Topic must not contain wildcards");
        }

        foreach (var (stream, topic) in _subscribers)
        {
            if (topic == request.Topic)
            {
                var message = request.PublishMessage!;
                var evt = message.JsonMessage is { } json
                    ? new SubscriptionResponseMessage { JsonMessage = new JsonMessage { Message = json.Message, Context = new MessageContext { Topic = request.Topic } } }
                    : new SubscriptionResponseMessage { BinaryMessage = new BinaryMessage { Message = message.BinaryMessage!.Message, Context = new MessageContext { Topic = request.Topic } } };
                try
                {
                    await stream.SendAsync(evt);
                }
                catch (RpcException)
                {
                }
            }
        }

        return new PublishToTopicResponse();
    }

    protected override ValueTask<SubscribeToTopicResponse> SubscribeToTopicAsync(SubscribeToTopicRequest request, IpcEventStream<SubscriptionResponseMessage> events, IpcCallContext context)
    {
        if (request.Topic!.StartsWith("forbidden", StringComparison.Ordinal))
        {
            throw new UnauthorizedException($"Principal {context.Identity} is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#SubscribeToTopic on resource {request.Topic}");
        }

        _subscribers[events] = request.Topic;
        context.CallEnded.Register(() => _subscribers.TryRemove(events, out _));
        if (request.Topic == "burst")
        {
            _ = Task.Run(async () =>
            {
                for (var i = 0; i < 5; i++)
                {
                    await events.SendAsync(new SubscriptionResponseMessage { JsonMessage = new JsonMessage { Message = JsonSerializer.SerializeToElement(i), Context = new MessageContext { Topic = "burst" } } });
                }
            });
        }

        return ValueTask.FromResult(new SubscribeToTopicResponse());
    }

    protected override async ValueTask<GetConfigurationResponse> GetConfigurationAsync(GetConfigurationRequest request, IpcCallContext context)
    {
        if (HoldGetConfiguration is { } hold)
        {
            await hold.Task;
        }

        if (request.KeyPath is ["missing", ..])
        {
            throw new ResourceNotFoundException(new ResourceNotFoundError { Message = "Key not found", ResourceType = "Configuration", ResourceName = string.Join("/", request.KeyPath) });
        }

        if (request.KeyPath is ["crash"])
        {
            throw new InvalidOperationException("a bug in the handler");
        }

        using var doc = JsonDocument.Parse("""{"threshold": 21.5, "enabled": true, "names": ["a", "b"]}""");
        return new GetConfigurationResponse { ComponentName = request.ComponentName ?? ComponentName, Value = doc.RootElement.Clone() };
    }

    protected override ValueTask<GetComponentDetailsResponse> GetComponentDetailsAsync(GetComponentDetailsRequest request, IpcCallContext context) =>
        ValueTask.FromResult(new GetComponentDetailsResponse
        {
            ComponentDetails = new ComponentDetails { ComponentName = request.ComponentName, Version = "1.0.0", State = LifecycleState.Running },
        });

    protected override ValueTask<CreateDebugPasswordResponse> CreateDebugPasswordAsync(CreateDebugPasswordRequest request, IpcCallContext context) =>
        ValueTask.FromResult(new CreateDebugPasswordResponse
        {
            Username = "debug",
            Password = "not-a-secret",
            PasswordExpiration = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250),
        });

    protected override ValueTask<PublishToIoTCoreResponse> PublishToIoTCoreAsync(PublishToIoTCoreRequest request, IpcCallContext context)
    {
        IoTCorePublished.Enqueue(request);
        return ValueTask.FromResult(new PublishToIoTCoreResponse());
    }
}
