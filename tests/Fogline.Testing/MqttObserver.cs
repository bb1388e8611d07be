using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Fogline.Testing;

/// <summary>The tests' view of the cloud: an MQTT client with the broker's privileged certificate, subscribed to some topics.</summary>
public sealed class MqttObserver : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private MqttClientOptions? _options;

    private MqttObserver(IMqttClient client) => _client = client;

    /// <summary>Every message received, in order.</summary>
    public ConcurrentQueue<(string Topic, byte[] Payload, int Qos)> Received { get; } = new();

    /// <summary>Called for each message as it arrives (on the client's receive loop), with the time it arrived (<see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</summary>
    public Action<string, ReadOnlySequence<byte>, long>? OnMessage { get; set; }

    /// <summary>Connects with the broker's <see cref="MosquittoBroker.Observer"/> certificate and subscribes to <paramref name="filters"/> (QoS 1, not its own messages).</summary>
    public static Task<MqttObserver> ConnectAsync(MosquittoBroker broker, params string[] filters) => ConnectAsAsync(broker, MosquittoBroker.Observer, filters);

    /// <summary>Connects as the client <paramref name="commonName"/> (a certificate issued for it, the broker's ACL for it) and subscribes to <paramref name="filters"/> (QoS 1).</summary>
    public static Task<MqttObserver> ConnectAsAsync(MosquittoBroker broker, string commonName, params string[] filters) => ConnectAsAsync(broker, commonName, persistentSession: false, filters);

    /// <summary>
    /// Connects as <paramref name="commonName"/> and subscribes to <paramref name="filters"/> (QoS 1). With a
    /// <paramref name="persistentSession"/> (MQTT 5 session expiry of an hour) a persistent broker keeps the
    /// subscriptions and queues QoS 1 messages while the observer is away; <see cref="ReconnectAsync"/> resumes it.
    /// </summary>
    public static async Task<MqttObserver> ConnectAsAsync(MosquittoBroker broker, string commonName, bool persistentSession, params string[] filters)
    {
        var (certificate, key) = broker.Pki.IssueClient(commonName);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(broker.Pki.CaCertificateFile);
        var client = new MqttClientFactory().CreateMqttClient();
        var observer = new MqttObserver(client);
        client.ApplicationMessageReceivedAsync += e =>
        {
            var arrived = System.Diagnostics.Stopwatch.GetTimestamp();
            if (observer.OnMessage is { } handler)
            {
                handler(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload, arrived);
            }
            else
            {
                observer.Received.Enqueue((e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray(), (int)e.ApplicationMessage.QualityOfServiceLevel));
            }
            return Task.CompletedTask;
        };
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.Port)
            .WithClientId(commonName)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithTlsOptions(o => o.UseTls().WithTargetHost("localhost").WithClientCertificates([X509Certificate2.CreateFromPemFile(certificate, key)]).WithTrustChain(roots))
            .WithCleanStart(!persistentSession)
            .WithSessionExpiryInterval(persistentSession ? 3600u : 0u)
            .Build();
        observer._options = options;
        await client.ConnectAsync(options);
        foreach (var filter in filters)
        {
            await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic(filter).WithAtLeastOnceQoS().WithNoLocal()).Build());
        }

        return observer;
    }

    /// <summary>Connects again after the broker went away (a persistent session resumes, with what was queued for it).</summary>
    public async Task ReconnectAsync()
    {
        if (!_client.IsConnected)
        {
            await _client.ConnectAsync(_options!);
        }
    }

    /// <summary>Publishes a text payload with QoS 1.</summary>
    public Task PublishAsync(string topic, string payload) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            await _client.DisconnectAsync();
        }

        _client.Dispose();
    }
}
