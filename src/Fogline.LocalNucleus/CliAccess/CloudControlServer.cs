using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.EventStream.Transport;
using Fogline.LocalNucleus.IoTCore;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.CliAccess;

/// <summary>
/// The cloud-control endpoint: lets another process drive the cloud side of the emulated AWS IoT Core. A Unix domain
/// socket at <c>&lt;root&gt;/cloud-control.socket</c> (owner-only), speaking JSON lines: each request is one JSON
/// object on one line, answered by one JSON object on one line; a connection may carry any number of requests.
/// <list type="bullet">
/// <item><c>{"command":"status"}</c> → <c>{"ok":true,"online":…,"latencyMs":…,"outages":[…],"cloudSubscriptions":[…],"journal":PATH,"counters":{…}}</c></item>
/// <item><c>{"command":"down"}</c> (until <c>up</c>) or <c>{"command":"down","forSeconds":30}</c> (an outage now, for a duration) → status</item>
/// <item><c>{"command":"up"}</c> (ends the manual outage and any outage under way) → status</item>
/// <item><c>{"command":"schedule","afterSeconds":A,"forSeconds":D[,"everySeconds":E]}</c> (a later or repeating outage) → status</item>
/// <item><c>{"command":"latency","ms":N}</c> → status</item>
/// <item><c>{"command":"send","topic":T,"payload":TEXT[,"qos":0|1][,"retain":bool]}</c> (cloud to device) → <c>{"ok":true,"outcome":"Delivered","subscriptions":N}</c></item>
/// </list>
/// Errors are answered <c>{"ok":false,"error":MESSAGE}</c>. The cloud journal is not served here: it is the file
/// <c>&lt;root&gt;/cloud/journal.jsonl</c>, read directly.
/// </summary>
public sealed partial class CloudControlServer : IAsyncDisposable
{
    /// <summary>The socket file name in the root directory.</summary>
    public const string SocketFileName = "cloud-control.socket";

    private const int MaxLineChars = 1024 * 1024;

    private readonly IoTCoreEmulator _iotCore;
    private readonly ILogger _logger;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private readonly Task _accept;

    private CloudControlServer(IoTCoreEmulator iotCore, Socket listener, string path, ILogger logger)
    {
        _iotCore = iotCore;
        _listener = listener;
        _logger = logger;
        SocketPath = path;
        _accept = Task.Run(AcceptAsync);
    }

    /// <summary>The socket path.</summary>
    public string SocketPath { get; }

    /// <summary>The socket path of a root.</summary>
    public static string SocketPathFor(string rootPath) => Path.Combine(Path.GetFullPath(rootPath), SocketFileName);

    /// <summary>Starts serving on <c>&lt;root&gt;/cloud-control.socket</c>; null (and a warning) when the path is too long for a socket address.</summary>
    public static CloudControlServer? Start(IoTCoreEmulator iotCore, string rootPath, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(iotCore);
        ArgumentNullException.ThrowIfNull(logger);
        var path = SocketPathFor(rootPath);
        if (UnixDomainSocket.IsPathTooLong(path))
        {
            Log.PathTooLong(logger, path);
            return null;
        }

        if (File.Exists(path))
        {
            File.Delete(path);
        }

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            listener.Listen(16);
        }
        catch
        {
            listener.Dispose();
            throw;
        }

        Log.Listening(logger, path);
        return new CloudControlServer(iotCore, listener, path, logger);
    }

    /// <summary>Answers one request (also what the socket does for each line).</summary>
    public JsonObject Handle(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            var command = request["command"]?.GetValue<string>() ?? throw new ArgumentException("the request has no command");
            switch (command)
            {
                case "status":
                    return Status();
                case "down":
                    if (Seconds(request, "forSeconds") is { } duration)
                    {
                        _iotCore.OutageFor(duration);
                    }
                    else
                    {
                        _iotCore.GoOffline();
                    }

                    Log.Control(_logger, command);
                    return Status();
                case "up":
                    _iotCore.GoOnline();
                    Log.Control(_logger, command);
                    return Status();
                case "schedule":
                    var after = Seconds(request, "afterSeconds") ?? TimeSpan.Zero;
                    var length = Seconds(request, "forSeconds") ?? throw new ArgumentException("schedule needs forSeconds");
                    if (Seconds(request, "everySeconds") is { } every)
                    {
                        _iotCore.ScheduleRepeatingOutage(every, length, after);
                    }
                    else
                    {
                        _iotCore.ScheduleOutage(after, length);
                    }

                    Log.Control(_logger, command);
                    return Status();
                case "latency":
                    var ms = request["ms"]?.GetValue<double>() ?? throw new ArgumentException("latency needs ms");
                    _iotCore.SetLatency(TimeSpan.FromMilliseconds(ms));
                    Log.Control(_logger, command);
                    return Status();
                case "send":
                    var topic = request["topic"]?.GetValue<string>() ?? throw new ArgumentException("send needs a topic");
                    var payload = request["payload"]?.GetValue<string>() ?? string.Empty;
                    var qos = (request["qos"]?.GetValue<int>() ?? 0) switch
                    {
                        0 => MqttQos.AtMostOnce,
                        1 => MqttQos.AtLeastOnce,
                        var other => throw new ArgumentException($"qos must be 0 or 1, not {other}"),
                    };
                    var result = _iotCore.SendToDevice(CloudMessage.FromText(topic, payload, qos, request["retain"]?.GetValue<bool>() ?? false));
                    Log.Control(_logger, command);
                    return new JsonObject { ["ok"] = true, ["outcome"] = result.Outcome.ToString(), ["subscriptions"] = result.Subscriptions };
                default:
                    throw new ArgumentException($"unknown command '{command}'");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or ObjectDisposedException)
        {
            return Error(ex.Message);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accept.ConfigureAwait(false);
        await Task.WhenAll(_connections.Keys).ConfigureAwait(false);
        _stop.Dispose();
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException)
        {
        }
    }

    private static JsonObject Error(string message) => new() { ["ok"] = false, ["error"] = message };

    private static TimeSpan? Seconds(JsonObject request, string name) =>
        request[name] is { } node ? TimeSpan.FromSeconds(node.GetValue<double>()) : null;

    private JsonObject Status()
    {
        var counters = _iotCore.Counters;
        return new JsonObject
        {
            ["ok"] = true,
            ["online"] = _iotCore.IsOnline,
            ["latencyMs"] = _iotCore.Latency.TotalMilliseconds,
            ["outages"] = new JsonArray([.. _iotCore.Outages.Select(o => (JsonNode)JsonValue.Create(o.Description + (o.IsActive ? " (active)" : string.Empty)))]),
            ["cloudSubscriptions"] = new JsonArray([.. _iotCore.CloudSubscriptions.Select(s => (JsonNode)JsonValue.Create(s))]),
            ["journal"] = _iotCore.JournalPath,
            ["counters"] = new JsonObject
            {
                ["published"] = counters.Published,
                ["spooled"] = counters.Spooled,
                ["refused"] = counters.Refused,
                ["dropped"] = counters.Dropped,
                ["delivered"] = counters.Delivered,
                ["retried"] = counters.Retried,
                ["sentToDevice"] = counters.SentToDevice,
                ["deliveredToDevice"] = counters.DeliveredToDevice,
                ["spoolMessages"] = counters.SpoolMessages,
                ["spoolBytes"] = counters.SpoolBytes,
                ["inFlight"] = counters.InFlight,
            },
        };
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var task = Task.Run(() => ServeAsync(client));
            _connections[task] = true;
            _ = task.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            using var stream = new NetworkStream(client, ownsSocket: true);
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
            while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
            {
                JsonObject response;
                if (line.Length > MaxLineChars)
                {
                    response = Error("the request is too long");
                }
                else
                {
                    try
                    {
                        response = JsonNode.Parse(line) is JsonObject request ? Handle(request) : Error("a request is a JSON object");
                    }
                    catch (JsonException ex)
                    {
                        response = Error("the request is not JSON: " + ex.Message);
                    }
                }

                await writer.WriteLineAsync(response.ToJsonString().AsMemory(), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException or SocketException)
        {
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Log.ConnectionFailed(_logger, ex);
        }
    }

    /// <summary>Log messages of the cloud-control endpoint (event ids 2850-2859).</summary>
    private static partial class Log
    {
        [LoggerMessage(2850, LogLevel.Information, "Cloud control listening on {SocketPath}")]
        public static partial void Listening(ILogger logger, string socketPath);

        [LoggerMessage(2851, LogLevel.Warning, "Cloud control not served: the socket path {SocketPath} is too long for a socket address")]
        public static partial void PathTooLong(ILogger logger, string socketPath);

        [LoggerMessage(2852, LogLevel.Information, "Cloud control: {Command}")]
        public static partial void Control(ILogger logger, string command);

        [LoggerMessage(2853, LogLevel.Warning, "Cloud control connection failed")]
        public static partial void ConnectionFailed(ILogger logger, Exception exception);
    }
}
