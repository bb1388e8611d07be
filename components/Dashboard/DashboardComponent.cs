using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.Dashboard.Live;
using Fogline.Dashboard.Web;
using Fogline.Greengrass.Ipc;
using Microsoft.Extensions.Logging;

namespace Fogline.Dashboard;

/// <summary>
/// Dashboard: a local web page for the operators on site, served by the component itself (works with the internet
/// down). It subscribes to readings, alerts (threshold, anomaly, zone), components' counters, CloudUplink's status and
/// zone summaries, and pushes what changed to every logged-in browser every <c>pushIntervalMs</c> over server-sent events.
/// </summary>
public sealed class DashboardComponent : FoglineComponent<DashboardOptions>, IDashboardEvents
{
    /// <summary>The file a generated password is written to (in the state directory) when none is configured.</summary>
    public const string GeneratedPasswordFile = "initial-password";

    /// <summary>The file the listening address is written to (in the state directory).</summary>
    public const string UrlFile = "dashboard.url";

    private readonly Utf8StringPool _names = new();
    private readonly ClientHub _hub = new();
    private readonly StaticAssets _assets = new();
    private readonly PayloadWriter _selfHealth = new();
    private double _selfHealthAt;
    private ComponentContext<DashboardOptions> _context = null!;
    private LiveState _state = null!;
    private OperatorAuth _auth = null!;
    private DashboardServer? _server;
    private Counter _clients = null!;
    private Counter _droppedSlow = null!;
    private Counter _seriesOverLimit = null!;
    private Counter _pushedBytes = null!;

    /// <inheritdoc />
    public override string Name => "com.fogline.Dashboard";

    /// <summary>Where the page is served (after start).</summary>
    public Uri? Address => _server?.Address;

    /// <inheritdoc />
    public override DashboardOptions ParseOptions(ConfigNode configuration) => DashboardOptions.Parse(configuration);

    /// <inheritdoc />
    public override async Task StartAsync(ComponentContext<DashboardOptions> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        var options = context.Options;
        _clients = context.Counters.Get("clients");
        _droppedSlow = context.Counters.Get("clients_dropped_slow");
        _seriesOverLimit = context.Counters.Get("series_over_limit");
        _pushedBytes = context.Counters.Get("pushed_bytes");
        foreach (var name in new[] { "logins", "login_failures", "unauthorized" })
        {
            context.Counters.Get(name);
        }

        _state = new LiveState(options.TrendSeconds, options.StaleSeconds, options.MaxSeries);
        _auth = new OperatorAuth(options.StateDirectory);
        await ApplyCredentialAsync(options, cancellationToken).ConfigureAwait(false);
        await StartServerAsync(options, cancellationToken).ConfigureAwait(false);

        await context.SubscribeAsync(Topics.AllRaw, OnReadingAsync, cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync(Topics.AllAlerts, OnAlertAsync, cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync(Topics.AllMetrics, OnMetricsAsync, cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync(Topics.AllZoneSummaries, OnZoneAsync, cancellationToken).ConfigureAwait(false);
        await context.SubscribeAsync("fogline/uplink/status", OnUplinkAsync, cancellationToken).ConfigureAwait(false);
        context.Every(options.PushInterval, PushAsync);
    }

    /// <inheritdoc />
    public override async ValueTask OnOptionsChangedAsync(DashboardOptions previous, DashboardOptions current, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(current);
        _state.StaleSeconds = current.StaleSeconds;
        _state.MaxSeries = current.MaxSeries;
        if (previous.Credential != current.Credential)
        {
            await ApplyCredentialAsync(current, cancellationToken).ConfigureAwait(false);
        }

        if (!previous.BindAddress.Equals(current.BindAddress) || previous.Port != current.Port || previous.MaxClients != current.MaxClients)
        {
            // Listen on the new address: the browsers reconnect there (or, on the same address, at once).
            _hub.DisconnectAll("the dashboard moved");
            if (_server is not null)
            {
                await _server.DisposeAsync().ConfigureAwait(false);
                _server = null;
            }

            await StartServerAsync(current, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override async ValueTask DrainAsync(CancellationToken cancellationToken)
    {
        _hub.DisconnectAll("the dashboard is stopping");
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
            _server = null;
        }
    }

    private double Now => _context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private async Task StartServerAsync(DashboardOptions options, CancellationToken cancellationToken)
    {
        _server = await DashboardServer.StartAsync(options, () => _context.Options, _state, _hub, _auth, _assets, this, _context.LoggerFactory, _context.Time, cancellationToken).ConfigureAwait(false);
        File.WriteAllText(Path.Combine(options.StateDirectory, UrlFile), _server.Address + "\n");
        DashboardLog.Listening(_context.Logger, _server.Address.ToString());
    }

    private async Task ApplyCredentialAsync(DashboardOptions options, CancellationToken cancellationToken)
    {
        var credential = options.Credential;
        var username = credential.Username;
        string password;
        if (credential.Password is not null)
        {
            password = credential.Password;
        }
        else if (credential.SecretArn is not null)
        {
            (username, password) = await ReadSecretAsync(credential, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // No credential configured: one is generated once and kept where only the component's user can read it.
            var file = Path.Combine(options.StateDirectory, GeneratedPasswordFile);
            if (!File.Exists(file))
            {
                var generated = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', 'x').Replace('/', 'y');
                OperatorAuth.WritePrivate(file, System.Text.Encoding.UTF8.GetBytes(generated + "\n"));
            }

            password = File.ReadAllText(file).Trim();
            DashboardLog.GeneratedPassword(_context.Logger, username, file);
        }

        _auth.SetCredential(username, password);
    }

    private async Task<(string Username, string Password)> ReadSecretAsync(CredentialOptions credential, CancellationToken cancellationToken)
    {
        GetSecretValueResponse response;
        try
        {
            response = await _context.Ipc.GetSecretValueAsync(new GetSecretValueRequest { SecretId = credential.SecretArn }, cancellationToken).ConfigureAwait(false);
        }
        catch (GreengrassIpcException e)
        {
            throw new InvalidOperationException($"credentials.secretArn: the secret manager did not give {credential.SecretArn}: {e.Message}", e);
        }

        var text = response.SecretValue?.SecretString
            ?? throw new InvalidOperationException($"credentials.secretArn: {credential.SecretArn} has no string value");
        if (text.TrimStart().StartsWith('{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(text);
                var root = doc.RootElement;
                var password = root.TryGetProperty("password", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : null;
                var username = root.TryGetProperty("username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : credential.Username;
                if (password is null)
                {
                    throw new InvalidOperationException($"credentials.secretArn: {credential.SecretArn} is a JSON object without a string 'password'");
                }

                return (username, password);
            }
            catch (JsonException)
            {
                // Not JSON after all: the whole string is the password.
            }
        }

        return (credential.Username, text);
    }

    private ValueTask OnReadingAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        var status = ReadingCodec.TryRead(payload.Span, _names, out var reading, out var error);
        if (status != DecodeStatus.Ok)
        {
            Rejected(topic, error ?? status.ToString());
            return ValueTask.CompletedTask;
        }

        _state.Record(reading, Now);
        return ValueTask.CompletedTask;
    }

    private ValueTask OnAlertAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        if (!_state.RecordAlert(payload.Span, out var error))
        {
            Rejected(topic, error ?? "not an alert");
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnMetricsAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        // fogline/metrics/{component} carries counters; deeper topics (e.g. AnomalyDetector's model decisions) are not health.
        if (topic.Count(c => c == '/') == 2 && !_state.RecordHealth(payload.Span, Now))
        {
            Rejected(topic, "not a component's counters ({\"component\", \"counters\": {…}})");
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnZoneAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        if (!_state.RecordZone(payload.Span))
        {
            Rejected(topic, "not a zone summary");
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnUplinkAsync(string topic, ReadOnlyMemory<byte> payload)
    {
        if (!_state.RecordUplink(payload.Span))
        {
            Rejected(topic, "not a JSON object");
        }

        return ValueTask.CompletedTask;
    }

    private void Rejected(string topic, string error)
    {
        _context.Counters.Rejected.Increment();
        DashboardLog.Rejected(_context.Logger, topic, error);
    }

    private ValueTask PushAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        if (now - _selfHealthAt >= 1)
        {
            // Its own counters: the Nucleus does not deliver a component's own messages to its wildcard subscription.
            _selfHealthAt = now;
            var json = _selfHealth.Begin();
            json.WriteStartObject();
            json.WriteString("component"u8, Name);
            json.WritePropertyName("counters"u8);
            _context.Counters.WriteJson(json);
            json.WriteEndObject();
            json.Flush();
            _state.RecordHealth(_selfHealth.WrittenMemory.Span, now);
        }

        var bytes = _state.PushDelta(_hub, now);
        _pushedBytes.Add(bytes);
        _clients.Set(_hub.Count);
        _droppedSlow.Set(_hub.DroppedSlow);
        _seriesOverLimit.Set(_state.SeriesOverLimit);
        return ValueTask.CompletedTask;
    }

    void IDashboardEvents.LoggedIn(string remote)
    {
        _context.Counters.Get("logins").Increment();
        DashboardLog.LoggedIn(_context.Logger, remote);
    }

    void IDashboardEvents.LoginFailed(string remote, bool lockedOut)
    {
        _context.Counters.Get("login_failures").Increment();
        DashboardLog.LoginFailed(_context.Logger, remote, lockedOut);
    }

    void IDashboardEvents.Unauthorized(string remote, string path) => _context.Counters.Get("unauthorized").Increment();

    void IDashboardEvents.TooManyClients(string remote) => DashboardLog.TooManyClients(_context.Logger, remote, _context.Options.MaxClients.ToString(CultureInfo.InvariantCulture));
}

internal static partial class DashboardLog
{
    [LoggerMessage(3500, LogLevel.Information, "Dashboard listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    [LoggerMessage(3501, LogLevel.Warning, "No credentials configured: the password of user {User} was generated and is in {File} (readable by the component's user only)")]
    public static partial void GeneratedPassword(ILogger logger, string user, string file);

    [LoggerMessage(3502, LogLevel.Warning, "Skipped a message on {Topic}: {Error}")]
    public static partial void Rejected(ILogger logger, string topic, string error);

    [LoggerMessage(3503, LogLevel.Information, "Operator logged in from {Remote}")]
    public static partial void LoggedIn(ILogger logger, string remote);

    [LoggerMessage(3504, LogLevel.Warning, "Failed login from {Remote} (locked out: {LockedOut})")]
    public static partial void LoginFailed(ILogger logger, string remote, bool lockedOut);

    [LoggerMessage(3505, LogLevel.Warning, "Refused a browser from {Remote}: {Max} are connected (maxClients)")]
    public static partial void TooManyClients(ILogger logger, string remote, string max);
}
