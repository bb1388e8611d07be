using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using Fogline.Dashboard.Live;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Fogline.Dashboard.Web;

/// <summary>What the web server reports to the component.</summary>
public interface IDashboardEvents
{
    /// <summary>A login succeeded.</summary>
    void LoggedIn(string remote);

    /// <summary>A login failed (or was refused after too many failures).</summary>
    void LoginFailed(string remote, bool lockedOut);

    /// <summary>A request without a valid session or credential was refused.</summary>
    void Unauthorized(string remote, string path);

    /// <summary>A browser was refused because the most browsers are connected.</summary>
    void TooManyClients(string remote);
}

/// <summary>
/// The dashboard's web server (Kestrel through ASP.NET Core's request pipeline, no MVC): the page and its assets
/// (embedded), the login, server-sent events with the live state, alert acknowledgement. Everything but the login page,
/// its stylesheet, the script and <c>/healthz</c> needs a session cookie (or HTTP Basic credentials, for scripts);
/// without one: 401 and nothing of the data.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>The session cookie's name.</summary>
    public const string CookieName = "fogline_session";

    /// <summary>The header the page sends with state-changing requests (a cross-site form cannot send it).</summary>
    public const string RequestHeader = "X-Fogline-Request";

    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    private readonly WebApplication _app;
    private readonly LiveState _state;
    private readonly ClientHub _hub;
    private readonly OperatorAuth _auth;
    private readonly StaticAssets _assets;
    private readonly IDashboardEvents _events;
    private readonly TimeProvider _time;
    private readonly Func<DashboardOptions> _options;

    private DashboardServer(WebApplication app, LiveState state, ClientHub hub, OperatorAuth auth, StaticAssets assets, IDashboardEvents events, TimeProvider time, Func<DashboardOptions> options)
    {
        _app = app;
        _state = state;
        _hub = hub;
        _auth = auth;
        _assets = assets;
        _events = events;
        _time = time;
        _options = options;
    }

    /// <summary>The address the server listens on (with the port chosen when 0 was asked for).</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>
    /// Starts listening on <paramref name="options"/>' address and port. A port in use, an address the machine does not
    /// have or one it may not bind is an <see cref="InvalidOperationException"/> that says which and why.
    /// </summary>
    public static async Task<DashboardServer> StartAsync(DashboardOptions options, Func<DashboardOptions> current, LiveState state, ClientHub hub, OperatorAuth auth, StaticAssets assets, IDashboardEvents events, ILoggerFactory loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggerFactory));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = options.MaxClients + 32;
            kestrel.Limits.MaxRequestBodySize = 16 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Listen(options.BindAddress, options.Port);
        });
        var app = builder.Build();
        var server = new DashboardServer(app, state, hub, auth, assets, events, time, current);
        app.Run(server.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or AddressInUseException)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            var why = e is AddressInUseException || e.InnerException is AddressInUseException || (e.InnerException as SocketException)?.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? "the port is already in use"
                : e.Message;
            throw new InvalidOperationException($"cannot listen on {options.BindAddress}:{options.Port}: {why}", e);
        }

        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        server.Address = new Uri(bound ?? $"http://{options.BindAddress}:{options.Port}");
        return server;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await _app.StopAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private double Now => _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var headers = response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        var path = request.Path.Value ?? "/";
        var method = request.Method;
        var remote = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

        switch (path)
        {
            case "/healthz" when HttpMethods.IsGet(method):
                await WriteTextAsync(response, 200, "ok\n").ConfigureAwait(false);
                return;
            case "/login" when HttpMethods.IsGet(method):
                await WriteLoginAsync(response, 200, null).ConfigureAwait(false);
                return;
            case "/login" when HttpMethods.IsPost(method):
                await LoginAsync(context, remote).ConfigureAwait(false);
                return;
            case "/logout" when HttpMethods.IsPost(method):
                response.Cookies.Delete(CookieName);
                response.StatusCode = 303;
                headers.Location = "/login";
                return;
            case "/login.css" or "/app.js" or "/favicon.svg" when HttpMethods.IsGet(method):
                await WriteAssetAsync(context, path).ConfigureAwait(false);
                return;
        }

        var user = Authenticate(context, remote);
        if (user is null)
        {
            _events.Unauthorized(remote, path);
            if (path == "/" && HttpMethods.IsGet(method))
            {
                // The login form, with 401: nothing of the data.
                await WriteLoginAsync(response, 401, null).ConfigureAwait(false);
            }
            else
            {
                headers.WWWAuthenticate = "FoglineSession realm=\"Fogline dashboard\"";
                await WriteTextAsync(response, 401, "log in first\n").ConfigureAwait(false);
            }

            return;
        }

        switch (path)
        {
            case "/" when HttpMethods.IsGet(method):
                await WriteAssetAsync(context, "/index.html").ConfigureAwait(false);
                return;
            case "/app.css" when HttpMethods.IsGet(method):
                await WriteAssetAsync(context, path).ConfigureAwait(false);
                return;
            case "/events" when HttpMethods.IsGet(method):
                await StreamAsync(context, user, remote).ConfigureAwait(false);
                return;
            case "/api/session" when HttpMethods.IsGet(method):
                await WriteTextAsync(response, 200, user + "\n").ConfigureAwait(false);
                return;
            case "/api/state" when HttpMethods.IsGet(method):
                response.ContentType = "application/json";
                headers.CacheControl = "no-store";
                await response.Body.WriteAsync(_state.SnapshotJson(user, Now), context.RequestAborted).ConfigureAwait(false);
                return;
            case "/api/alerts/ack" when HttpMethods.IsPost(method):
                if (request.Headers[RequestHeader] != "1")
                {
                    await WriteTextAsync(response, 403, $"the {RequestHeader} header is required\n").ConfigureAwait(false);
                    return;
                }

                var key = request.Query["key"].ToString();
                var found = key.Length is > 0 and <= 512 && _state.Acknowledge(key, user, Now);
                response.StatusCode = found ? 204 : 404;
                return;
            default:
                await WriteTextAsync(response, 404, "not found\n").ConfigureAwait(false);
                return;
        }
    }

    private string? Authenticate(HttpContext context, string remote)
    {
        var now = _time.GetUtcNow();
        if (_auth.Validate(context.Request.Cookies[CookieName], now) is { } user)
        {
            return user;
        }

        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase) && !_auth.IsLockedOut(remote, now))
        {
            try
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
                var colon = pair.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && _auth.TryLogin(remote, pair[..colon], pair[(colon + 1)..], now))
                {
                    return pair[..colon];
                }
            }
            catch (FormatException)
            {
            }

            _events.LoginFailed(remote, lockedOut: false);
        }

        return null;
    }

    private async Task LoginAsync(HttpContext context, string remote)
    {
        var now = _time.GetUtcNow();
        if (_auth.IsLockedOut(remote, now))
        {
            _events.LoginFailed(remote, lockedOut: true);
            await WriteLoginAsync(context.Response, 429, "Too many failed logins from this address: wait a minute.").ConfigureAwait(false);
            return;
        }

        if (!context.Request.HasFormContentType)
        {
            await WriteLoginAsync(context.Response, 400, "Send the login form.").ConfigureAwait(false);
            return;
        }

        var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
        if (!_auth.TryLogin(remote, form["username"].ToString(), form["password"].ToString(), now))
        {
            _events.LoginFailed(remote, lockedOut: false);
            await WriteLoginAsync(context.Response, 401, "Wrong user name or password.").ConfigureAwait(false);
            return;
        }

        _events.LoggedIn(remote);
        var expires = now + _options().SessionLifetime;
        context.Response.Cookies.Append(CookieName, _auth.Issue(expires), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            Expires = expires,
        });
        context.Response.StatusCode = 303;
        context.Response.Headers.Location = "/";
    }

    private async Task StreamAsync(HttpContext context, string user, string remote)
    {
        var options = _options();
        using var client = new DashboardClient(remote, options.ClientQueueFrames);
        var snapshot = _state.Connect(_hub, client, options.MaxClients, user, Now);
        if (snapshot is null)
        {
            _events.TooManyClients(remote);
            context.Response.Headers.RetryAfter = "5";
            await WriteTextAsync(context.Response, 503, "too many browsers are connected\n").ConfigureAwait(false);
            return;
        }

        try
        {
            var response = context.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, client.Closed);
            var token = linked.Token;
            var body = response.Body;
            await body.WriteAsync("retry: 1000\n\n"u8.ToArray(), token).ConfigureAwait(false);
            await body.WriteAsync(snapshot, token).ConfigureAwait(false);
            await body.FlushAsync(token).ConfigureAwait(false);
            var reader = client.Queue.Reader;
            while (!token.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(token);
                wait.CancelAfter(Heartbeat);
                bool more;
                try
                {
                    more = await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    await body.WriteAsync(": ping\n\n"u8.ToArray(), token).ConfigureAwait(false);
                    await body.FlushAsync(token).ConfigureAwait(false);
                    continue;
                }

                if (!more)
                {
                    break;
                }

                while (reader.TryRead(out var frame))
                {
                    await body.WriteAsync(frame, token).ConfigureAwait(false);
                }

                await body.FlushAsync(token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The browser went away, or was disconnected for being too slow: its page reconnects and catches up.
        }
        catch (IOException)
        {
        }
        finally
        {
            _hub.Remove(client);
        }
    }

    private async Task WriteAssetAsync(HttpContext context, string path)
    {
        if (!_assets.TryGet(path, out var asset))
        {
            await WriteTextAsync(context.Response, 404, "not found\n").ConfigureAwait(false);
            return;
        }

        var response = context.Response;
        response.Headers.ETag = asset.ETag;
        response.Headers.CacheControl = "no-cache";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            response.StatusCode = 304;
            return;
        }

        response.ContentType = asset.ContentType;
        response.ContentLength = asset.Bytes.Length;
        await response.Body.WriteAsync(asset.Bytes, context.RequestAborted).ConfigureAwait(false);
    }

    private async Task WriteLoginAsync(HttpResponse response, int status, string? message)
    {
        _assets.TryGet("/login.html", out var page);
        var html = Encoding.UTF8.GetString(page!.Bytes).Replace("<!--message-->", message is null ? string.Empty : $"<p class=\"error\" role=\"alert\">{HtmlEncoder.Default.Encode(message)}</p>", StringComparison.Ordinal);
        response.StatusCode = status;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        await response.WriteAsync(html).ConfigureAwait(false);
    }

    private static Task WriteTextAsync(HttpResponse response, int status, string text)
    {
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        return response.WriteAsync(text);
    }

    /// <summary>ASP.NET Core's own warnings and errors go to the component's log.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory target) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => target.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
