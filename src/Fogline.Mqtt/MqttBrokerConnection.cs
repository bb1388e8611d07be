using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace Fogline.Mqtt;

/// <summary>What the broker answered to a QoS 1 publish (a QoS 0 publish is <see cref="Delivered"/> once written).</summary>
public enum BrokerPublishOutcome
{
    /// <summary>The broker has it (PUBACK success, or "no matching subscribers", which is success too).</summary>
    Delivered,

    /// <summary>Refused for a reason a retry cannot change (not authorized, topic or payload format invalid): dropped.</summary>
    Refused,

    /// <summary>Refused for now (quota, unspecified): retried.</summary>
    Retry,
}

/// <summary>
/// The local Nucleus's connection to a real MQTT broker with mutual TLS (MQTTnet), kept up as the Nucleus keeps its
/// connection to AWS IoT Core: the thing name as client id; MQTT 5 with a clean start the first time and the session
/// resumed after (one-week expiry), or MQTT 3.1.1 with a persistent session; reconnection with exponential backoff and
/// full jitter (1-120 s, reset after 30 s connected). A refused connection (a certificate the broker rejects, the
/// broker away) is one log line per attempt with the next attempt's time; nothing throws out of the loop. What to
/// send again and which subscriptions to make again after a reconnection is the owner's (the local Nucleus's spool,
/// the local cloud's device gateway): it is told of every connection and loss, with the session's presence.
/// </summary>
public sealed class MqttBrokerConnection : IAsyncDisposable
{
    private readonly MqttBrokerOptions _options;
    private readonly bool _mqtt5;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly IMqttClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Action<bool, bool> _connectionChanged;
    private readonly Action<MqttApplicationMessage> _received;
    private Task? _loop;
    private TaskCompletionSource<MqttClientDisconnectedEventArgs>? _disconnected;

    /// <param name="options">Where, with which identity and protocol version.</param>
    /// <param name="connectionChanged">Called with (connected, session present) after each connection and loss.</param>
    /// <param name="received">Called for each message the broker sends, on the connection's receive loop.</param>
    /// <param name="logger">The IoT Core log.</param>
    /// <param name="time">The clock (backoff).</param>
    public MqttBrokerConnection(MqttBrokerOptions options, Action<bool, bool> connectionChanged, Action<MqttApplicationMessage> received, ILogger logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _mqtt5 = !string.Equals(options.MqttVersion, "mqtt3", StringComparison.OrdinalIgnoreCase);
        _connectionChanged = connectionChanged;
        _received = received;
        _logger = logger;
        _time = time;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += OnMessageAsync;
        _client.DisconnectedAsync += e =>
        {
            if (e.ClientWasConnected)
            {
                _disconnected?.TrySetResult(e);
            }

            return Task.CompletedTask;
        };
    }

    /// <summary>Where the broker is, for people.</summary>
    public string Description => $"{_options.Endpoint}:{_options.Port}";

    /// <summary>Whether MQTT 5 is spoken (else 3.1.1).</summary>
    public bool IsMqtt5 => _mqtt5;

    /// <summary>Whether the connection is up now.</summary>
    public bool IsConnected => _client.IsConnected;

    /// <summary>Starts connecting (in the background, until disposed).</summary>
    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Publishes a message; throws when the connection is not up or drops before the broker answered.</summary>
    public async Task<(BrokerPublishOutcome Outcome, string Reason)> PublishAsync(MqttApplicationMessage message, CancellationToken cancellationToken)
    {
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        return result.ReasonCode switch
        {
            MqttClientPublishReasonCode.Success or MqttClientPublishReasonCode.NoMatchingSubscribers => (BrokerPublishOutcome.Delivered, string.Empty),
            MqttClientPublishReasonCode.NotAuthorized or MqttClientPublishReasonCode.TopicNameInvalid or MqttClientPublishReasonCode.PayloadFormatInvalid
                => (BrokerPublishOutcome.Refused, $"{result.ReasonCode} {result.ReasonString}".Trim()),
            _ => (BrokerPublishOutcome.Retry, $"{result.ReasonCode} {result.ReasonString}".Trim()),
        };
    }

    /// <summary>
    /// Subscribes; returns null when the broker granted it, else its refusal. With <paramref name="retainAsPublished"/>
    /// (MQTT 5) messages keep the retain flag they were published with, not only those the broker had retained.
    /// </summary>
    public async Task<string?> SubscribeAsync(string filter, MqttQualityOfServiceLevel qos, CancellationToken cancellationToken, bool retainAsPublished = false)
    {
        var options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(new MqttTopicFilterBuilder().WithTopic(filter).WithQualityOfServiceLevel(qos).WithRetainAsPublished(retainAsPublished).Build())
            .Build();
        var result = await _client.SubscribeAsync(options, cancellationToken).ConfigureAwait(false);
        var item = result.Items.FirstOrDefault();
        return item is null ? "no SUBACK entry"
            : item.ResultCode is MqttClientSubscribeResultCode.GrantedQoS0 or MqttClientSubscribeResultCode.GrantedQoS1 or MqttClientSubscribeResultCode.GrantedQoS2 ? null
            : item.ResultCode.ToString();
    }

    /// <summary>Unsubscribes (best effort: a lost connection loses nothing that a reconnection without session would keep).</summary>
    public async Task UnsubscribeAsync(string filter, CancellationToken cancellationToken)
    {
        if (_client.IsConnected)
        {
            await _client.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(filter).Build(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _disconnected?.TrySetCanceled();
        if (_client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                MqttLog.DisconnectFailed(_logger, Description, ex.Message);
            }
        }

        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _client.Dispose();
        _stop.Dispose();
    }

    private Task OnMessageAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        _received(e.ApplicationMessage);
        return Task.CompletedTask;
    }

    private MqttClientOptions BuildOptions(bool firstConnection)
    {
        var certificate = X509Certificate2.CreateFromPemFile(_options.CertificateFile, _options.PrivateKeyFile);
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(_options.RootCaFile);
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(_options.Endpoint, _options.Port)
            .WithClientId(_options.ClientId)
            .WithKeepAlivePeriod(_options.KeepAlive)
            .WithTimeout(_options.OperationTimeout)
            .WithoutPacketFragmentation()
            .WithTlsOptions(o => o
                .UseTls()
                .WithTargetHost(_options.Endpoint)
                .WithClientCertificates([certificate])
                .WithTrustChain(roots)
                .WithRevocationMode(X509RevocationMode.NoCheck));
        if (_mqtt5)
        {
            builder.WithProtocolVersion(MqttProtocolVersion.V500)
                .WithCleanStart(firstConnection)
                .WithSessionExpiryInterval((uint)MqttBrokerOptions.SessionExpiry.TotalSeconds);
        }
        else
        {
            builder.WithProtocolVersion(MqttProtocolVersion.V311).WithCleanSession(false);
        }

        return builder.Build();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        var attempt = 0;
        var first = true;
        while (!stop.IsCancellationRequested)
        {
            var connectedFor = TimeSpan.Zero;
            try
            {
                _disconnected = new TaskCompletionSource<MqttClientDisconnectedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
                var result = await _client.ConnectAsync(BuildOptions(first), stop).ConfigureAwait(false);
                if (result.ResultCode != MqttClientConnectResultCode.Success)
                {
                    throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}".TrimEnd());
                }

                first = false;
                var since = _time.GetTimestamp();
                MqttLog.Connected(_logger, Description, _options.ClientId, _mqtt5 ? "MQTT 5" : "MQTT 3.1.1", result.IsSessionPresent);
                _connectionChanged(true, result.IsSessionPresent);
                var lost = await _disconnected.Task.WaitAsync(stop).ConfigureAwait(false);
                connectedFor = _time.GetElapsedTime(since);
                MqttLog.Disconnected(_logger, Description, $"{lost.Reason} {lost.ReasonString} {lost.Exception?.Message}".Trim());
                _connectionChanged(false, false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                MqttLog.ConnectFailed(_logger, Description, _options.ClientId, Describe(ex));
                if (_client.IsConnected)
                {
                    _connectionChanged(false, false);
                }
            }

            if (connectedFor >= _options.BackoffResetAfter)
            {
                attempt = 0;
            }

            // Exponential backoff with full jitter: a random wait up to min(maximum, minimum * 2^attempt).
            var ceiling = Math.Min(_options.MaximumBackoff.TotalMilliseconds, _options.MinimumBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20)));
            var wait = TimeSpan.FromMilliseconds(Math.Max(_options.MinimumBackoff.TotalMilliseconds / 10, Random.Shared.NextDouble() * ceiling));
            attempt++;
            MqttLog.Reconnecting(_logger, Description, wait.TotalSeconds);
            try
            {
                await Task.Delay(wait, _time, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The innermost useful message of a connection failure (TLS failures are nested).</summary>
    private static string Describe(Exception ex)
    {
        var messages = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            if (!string.IsNullOrWhiteSpace(e.Message) && !messages.Contains(e.Message))
            {
                messages.Add(e.Message);
            }
        }

        return string.Join(": ", messages);
    }
}

/// <summary>The broker connection's log lines.</summary>
public static partial class MqttLog
{
    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connection to {Broker} up as {ClientId} ({Protocol}, session present: {SessionPresent})")]
    public static partial void Connected(ILogger logger, string broker, string clientId, string protocol, bool sessionPresent);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT connection to {Broker} lost: {Reason}")]
    public static partial void Disconnected(ILogger logger, string broker, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "MQTT connection to {Broker} as {ClientId} failed: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string broker, string clientId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "MQTT connection to {Broker}: next attempt in {Seconds:0.0} s")]
    public static partial void Reconnecting(ILogger logger, string broker, double seconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "MQTT disconnect from {Broker} failed: {Reason}")]
    public static partial void DisconnectFailed(ILogger logger, string broker, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT publish to {Topic} refused by the broker, dropped: {Reason}")]
    public static partial void PublishRefused(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT subscription to {Filter} refused by the broker: {Reason}")]
    public static partial void SubscribeRefused(ILogger logger, string filter, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MQTT publish to {Topic} failed, retried: {Reason}")]
    public static partial void PublishRetried(ILogger logger, string topic, string reason);
}
