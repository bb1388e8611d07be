using System.Threading.Channels;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.IoTCore;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>
/// PublishToIoTCore and SubscribeToIoTCore, as the Nucleus's MqttProxyIPCAgent serves them: the topic is required,
/// the caller is authorized on it with MQTT-style matching (a refusal is "Not Authorized"), then the payload and QoS
/// are checked, and the request goes to the emulated IoT Core (<see cref="IoTCoreEmulator"/>), whose refusals become
/// ServiceErrors with the Nucleus's messages.
/// </summary>
public sealed partial class NucleusIpcService
{
    private const string MqttNotAuthorized = "Not Authorized";

    /// <inheritdoc />
    protected override ValueTask<PublishToIoTCoreResponse> PublishToIoTCoreAsync(PublishToIoTCoreRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var component = Caller(context).Name;
            var topic = RequireMqttTopic(request.TopicName, component);
            AuthorizeMqtt(context, topic);
            if (request.Payload is not { } payload)
            {
                throw MqttInvalidArguments(component, "Payload is required");
            }

            var qos = ParseMqttQos(request.Qos, component);

            // The Nucleus passes these fields on to the cloud; the content type is not among them.
            var message = new CloudMessage
            {
                Topic = topic,
                Payload = payload.ToArray(),
                Qos = qos,
                Retain = request.Retain ?? false,
                CorrelationData = request.CorrelationData is { } correlation ? (ReadOnlyMemory<byte>?)correlation.ToArray() : null,
                ResponseTopic = request.ResponseTopic,
                MessageExpiryIntervalSeconds = request.MessageExpiryIntervalSeconds,
                UserProperties = request.UserProperties is null ? null : [.. request.UserProperties.Select(p => new MqttUserProperty(p.Key ?? string.Empty, p.Value ?? string.Empty))],
                PayloadFormat = request.PayloadFormat == PayloadFormat.Utf8 ? MqttPayloadFormat.Utf8 : MqttPayloadFormat.Bytes,
            };

            try
            {
                _nucleus.IoTCore.Publish(message, component);
            }
            catch (Exception ex) when (ex is MqttRequestException or SpoolerStoreException)
            {
                throw new ServiceException($"Publish to topic {topic} failed: {ex.Message}");
            }

            return new PublishToIoTCoreResponse();
        });

    /// <inheritdoc />
    protected override ValueTask<SubscribeToIoTCoreResponse> SubscribeToIoTCoreAsync(SubscribeToIoTCoreRequest request, IpcEventStream<IoTCoreMessage> events, IpcCallContext context) =>
        Translate<SubscribeToIoTCoreResponse>(context, async () =>
        {
            var component = Caller(context).Name;
            var topic = RequireMqttTopic(request.TopicName, component);
            AuthorizeMqtt(context, topic);
            var qos = ParseMqttQos(request.Qos, component);

            var forwarder = new IoTCoreForwarder(events, Logger, component, topic);
            IoTCoreSubscription subscription;
            try
            {
                subscription = _nucleus.IoTCore.Subscribe(topic, qos, forwarder.Post, component);
            }
            catch (MqttRequestException ex)
            {
                forwarder.Complete();
                IoTCoreLog.SubscribeFailed(Logger, component, topic, ex);
                throw new ServiceException($"Subscribe to topic {topic} failed with error {MqttRequestException.JavaClassName}: {ex.Message}");
            }

            // The subscription ends with the stream: closed by the client, or its connection gone.
            context.CallEnded.Register(() =>
            {
                subscription.Dispose();
                forwarder.Complete();
            });

            // Offline, the Nucleus answers once its connection is back and the cloud has the subscription.
            try
            {
                await subscription.Subscribed.WaitAsync(context.CallEnded).ConfigureAwait(false);
            }
            catch (MqttRequestException ex)
            {
                subscription.Dispose();
                forwarder.Complete();
                IoTCoreLog.SubscribeFailed(Logger, component, topic, ex);
                throw new ServiceException($"Subscribe to topic {topic} failed with error {MqttRequestException.JavaClassName}: {ex.Message}");
            }

            return new SubscribeToIoTCoreResponse();
        });

    private string RequireMqttTopic(string? topic, string component) =>
        topic ?? throw MqttInvalidArguments(component, "Topic is required");

    private InvalidArgumentsException MqttInvalidArguments(string component, string message)
    {
        IoTCoreLog.InvalidRequest(Logger, component, message);
        return new InvalidArgumentsException(message);
    }

    private MqttQos ParseMqttQos(QOS? qos, string component)
    {
        if (qos is not { } value)
        {
            throw MqttInvalidArguments(component, "QoS is required");
        }

        return value.Value switch
        {
            "1" => MqttQos.AtLeastOnce,
            "0" => MqttQos.AtMostOnce,
            _ => throw MqttInvalidArguments(component, "Invalid QoS value: " + value.Value),
        };
    }

    private void AuthorizeMqtt(IpcCallContext context, string topic)
    {
        try
        {
            Authorize(IpcServices.MqttProxy, context, topic, ResourceLookupPolicy.MqttStyle);
        }
        catch (UnauthorizedException ex)
        {
            // The agent answers with its own message, not the authorization module's.
            IoTCoreLog.NotAuthorized(Logger, ex.ServiceMessage ?? ex.Message);
            throw new UnauthorizedException(MqttNotAuthorized);
        }
    }

    /// <summary>Sends a subscription's messages to its stream, in order, each serialized once for all subscribers.</summary>
    private sealed class IoTCoreForwarder
    {
        private readonly Channel<CloudMessage> _messages = Channel.CreateUnbounded<CloudMessage>(new UnboundedChannelOptions { SingleReader = true });
        private readonly IpcEventStream<IoTCoreMessage> _events;
        private readonly ILogger _logger;
        private readonly string _component;
        private readonly string _topic;

        public IoTCoreForwarder(IpcEventStream<IoTCoreMessage> events, ILogger logger, string component, string topic)
        {
            _events = events;
            _logger = logger;
            _component = component;
            _topic = topic;
            _ = Task.Run(PumpAsync);
        }

        public void Post(CloudMessage message) => _messages.Writer.TryWrite(message);

        public void Complete() => _messages.Writer.TryComplete();

        private async Task PumpAsync()
        {
            try
            {
                await foreach (var message in _messages.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    await _events.SendSerializedAsync(message.IpcEventJson).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is RpcException or ObjectDisposedException or OperationCanceledException)
            {
                IoTCoreLog.SubscriberGone(_logger, _component, _topic);
                _messages.Writer.TryComplete();
            }
        }
    }
}
