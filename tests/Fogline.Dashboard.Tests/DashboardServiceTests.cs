using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.Dashboard.Tests.Infrastructure;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Deployments;

namespace Fogline.Dashboard.Tests;

/// <summary>
/// The Dashboard's NativeAOT binary on a local Nucleus, over HTTP: no data without credentials, the login and its
/// lockout, the credential from the secret manager, a port in use, malformed payloads, and browsers beyond the limit or
/// too slow to keep up.
/// </summary>
[NonParallelizable]
[CancelAfter(180_000)]
public class DashboardServiceTests
{
    private DashboardNucleus _host = null!;

    [SetUp]
    public async Task SetUp() => _host = await DashboardNucleus.StartAsync();

    [TearDown]
    public async Task TearDown()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            TestContext.Out.WriteLine(_host.LogTail(DashboardNucleus.Dashboard, 30));
        }

        await _host.DisposeAsync();
    }

    private Uri At(string path) => new(_host.Url, path);

    [Test]
    public async Task WithoutCredentialsOrWithWrongOnes_Every401_AndNothingOfTheDataIsShown()
    {
        await _host.StartDashboardAsync();
        await _host.PublishReadingAsync("hall-secret", "press-9", "temperature", 77.7);
        var state = await Eventually.Within(WaitForSeriesAsync("press-9"), "the reading reached the dashboard");
        Assert.That(state, Is.Not.Null);

        using var anonymous = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });
        foreach (var path in new[] { "/", "/events", "/api/state", "/api/session", "/app.css" })
        {
            var response = await anonymous.GetAsync(At(path));
            var body = await response.Content.ReadAsStringAsync();
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), path);
            Assert.That(body, Does.Not.Contain("hall-secret").And.Not.Contain("press-9").And.Not.Contain("77.7"), path);
        }

        Assert.That(await (await anonymous.GetAsync(At("/"))).Content.ReadAsStringAsync(), Does.Contain("name=\"password\""), "/ without a session is the login form");
        var ack = await anonymous.PostAsync(At("/api/alerts/ack?key=x"), null);
        Assert.That(ack.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        using var wrong = DashboardNucleus.Authorized(password: "not-the-password");
        Assert.That((await wrong.GetAsync(At("/api/state"))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        var forged = new HttpRequestMessage(HttpMethod.Get, At("/api/state"));
        forged.Headers.Add("Cookie", "fogline_session=Zmxvb3ItbGVhZA.99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
        Assert.That((await anonymous.SendAsync(forged)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        // The login form: a wrong password is 401 with the reason; the right one is a session cookie.
        var failed = await anonymous.PostAsync(At("/login"), Form("floor-lead", "nope-nope"));
        Assert.That(failed.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(await failed.Content.ReadAsStringAsync(), Does.Contain("Wrong user name or password"));
        var login = await anonymous.PostAsync(At("/login"), Form(DashboardNucleus.User, DashboardNucleus.Password));
        Assert.That(login.StatusCode, Is.EqualTo(HttpStatusCode.SeeOther));
        var cookie = login.Headers.GetValues("Set-Cookie").Single();
        Assert.That(cookie, Does.Contain("httponly").IgnoreCase.And.Contain("samesite=strict").IgnoreCase);
        var withCookie = new HttpRequestMessage(HttpMethod.Get, At("/api/state"));
        withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
        var ok = await anonymous.SendAsync(withCookie);
        Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await ok.Content.ReadAsStringAsync(), Does.Contain("press-9"));
        Assert.That(ok.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("default-src 'self'"));

        // Too many failures from one address: refused for a minute, even with the right password.
        for (var i = 0; i < 5; i++)
        {
            await anonymous.PostAsync(At("/login"), Form("floor-lead", "guess-" + i));
        }

        var locked = await anonymous.PostAsync(At("/login"), Form(DashboardNucleus.User, DashboardNucleus.Password));
        Assert.That((int)locked.StatusCode, Is.EqualTo(429));
        var log = File.ReadAllText(Path.Combine(_host.Root, "logs", DashboardNucleus.Dashboard + ".log"));
        Assert.That(log, Does.Not.Contain(DashboardNucleus.Password), "no secret in the log");
    }

    [Test]
    public async Task APortAlreadyInUse_IsErroredWithTheReason()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, _host.Port);
        squatter.Start();
        var deployed = await _host.DeployAsync(new Dictionary<string, string> { [DashboardNucleus.Dashboard] = _host.DashboardConfig() }, expectFailure: true);
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Failed));
        Assert.That(_host.StateOf(DashboardNucleus.Dashboard), Is.EqualTo(LifecycleState.Errored).Or.EqualTo(LifecycleState.Broken));
        Assert.That(_host.LogTail(DashboardNucleus.Dashboard, 200), Does.Contain($"cannot listen on 127.0.0.1:{_host.Port}: the port is already in use"));
    }

    [Test]
    public async Task TheCredentialComesFromTheSecretManager_WhenConfiguredSo()
    {
        const string arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:dashboard-AbCdEf";
        File.WriteAllText(Path.Combine(_host.Root, "secrets.json"), $$"""
            [{"arn": "{{arn}}", "name": "dashboard", "versionId": "v1", "secretString": "{\"username\": \"shift-b\", \"password\": \"from-the-secret-manager\"}"}]
            """);
        var config = new JsonObject
        {
            ["MERGE"] = new JsonObject
            {
                ["bindAddress"] = "127.0.0.1",
                ["port"] = _host.Port,
                ["credentials"] = new JsonObject { ["secretArn"] = arn },
                ["accessControl"] = JsonNode.Parse("""{"aws.greengrass.SecretManager": {"dashboard:secret:1": {"operations": ["aws.greengrass#GetSecretValue"], "resources": ["ARN"]}}}""".Replace("ARN", arn, StringComparison.Ordinal)),
            },
        }.ToJsonString();
        var deployed = await _host.DeployAsync(new Dictionary<string, string> { [DashboardNucleus.Dashboard] = config });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
        await _host.WaitUntilServingAsync();
        using var right = DashboardNucleus.Authorized("shift-b", "from-the-secret-manager");
        Assert.That((await right.GetAsync(At("/api/session"))).StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var old = DashboardNucleus.Authorized();
        Assert.That((await old.GetAsync(At("/api/session"))).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [Test]
    public async Task MalformedPayloads_AreCountedAndSkipped_AndEverythingElseKeepsFlowing()
    {
        await _host.StartDashboardAsync();
        await _host.PublishAsync("fogline/raw/hall-a/press-1/temperature", "{not json");
        await _host.PublishAsync("fogline/raw/hall-a/press-1/temperature", """{"v":99,"zone":"hall-a","device":"press-1","metric":"temperature","value":1,"ts":1}""");
        await _host.PublishAsync("fogline/alerts/hall-a/press-1/temperature", """{"rule":"r"}""");
        await _host.PublishAsync("fogline/metrics/com.example.Thing", "[]");
        await _host.PublishAsync("fogline/zones/hall-a", "\"text\"");
        await _host.PublishAsync("fogline/uplink/status", "17");
        await _host.PublishReadingAsync("hall-a", "press-1", "temperature", 21.5);
        Assert.That(await Eventually.Within(WaitForSeriesAsync("press-1"), "the good reading after the bad ones"), Is.Not.Null);
        await Eventually.UntilAsync(async () => await _host.CounterAsync("rejected") >= 6, "six payloads counted as rejected", TimeSpan.FromSeconds(20));
        Assert.That(_host.StateOf(DashboardNucleus.Dashboard), Is.EqualTo(LifecycleState.Running));
    }

    [Test]
    public async Task BrowsersBeyondTheLimit_AreRefused_AndOneTooSlowToRead_IsDisconnectedWhileTheOthersKeepUp()
    {
        await _host.StartDashboardAsync("\"maxClients\": 3, \"clientQueueFrames\": 4, \"pushIntervalMs\": 50");

        // A browser that stops reading: a socket with a tiny receive window that the test never reads from.
        using var slow = await OpenStreamAsync(receiveBuffer: 1024);
        using var fast = new HttpClient(new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
        fast.DefaultRequestHeaders.Authorization = DashboardNucleus.Authorized().DefaultRequestHeaders.Authorization;
        using var fastStream = await fast.GetStreamAsync(At("/events"));
        using var third = await OpenStreamAsync(receiveBuffer: 65536);
        await Eventually.UntilAsync(async () => (await RawStatusAsync()) == 503, "a fourth browser is refused (503)");

        // Many series changing at every push: deltas of tens of kilobytes, which the slow browser cannot take.
        var reader = new StreamReader(fastStream);
        var fastDeltas = 0;
        using var stop = new CancellationTokenSource();
        var readFast = Task.Run(async () =>
        {
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.StartsWith("data: {\"type\":\"delta\"", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref fastDeltas);
                }
            }
        });
        var round = 0;
        await Eventually.UntilAsync(async () =>
        {
            round++;
            var publishes = new List<Task>();
            for (var d = 0; d < 400; d++)
            {
                publishes.Add(_host.PublishReadingAsync("hall-a", $"device-with-a-long-name-{d:D4}", "temperature", round + d, "C"));
            }

            await Task.WhenAll(publishes);
            return await _host.CounterAsync("clients_dropped_slow") >= 1;
        }, "the slow browser was disconnected", TimeSpan.FromSeconds(60));

        var before = Volatile.Read(ref fastDeltas);
        await _host.PublishReadingAsync("hall-a", "after", "temperature", 1);
        await Eventually.UntilAsync(() => Volatile.Read(ref fastDeltas) > before, "the fast browser still gets pushes");
        await Task.Delay(TimeSpan.FromSeconds(6));
        Assert.That(await _host.CounterAsync("clients_dropped_slow"), Is.EqualTo(1), "only the slow one");
        await stop.CancelAsync();
    }

    private async Task<Socket> OpenStreamAsync(int receiveBuffer)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = receiveBuffer };
        await socket.ConnectAsync(IPAddress.Loopback, _host.Port);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DashboardNucleus.User}:{DashboardNucleus.Password}"));
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic {basic}\r\n\r\n"));
        var first = new byte[64];
        var n = await socket.ReceiveAsync(first);
        Assert.That(Encoding.ASCII.GetString(first, 0, n), Does.StartWith("HTTP/1.1 200"));
        return socket;
    }

    private async Task<int> RawStatusAsync()
    {
        using var http = DashboardNucleus.Authorized();
        using var response = await http.GetAsync(At("/events"), HttpCompletionOption.ResponseHeadersRead);
        return (int)response.StatusCode;
    }

    private async Task<JsonNode?> WaitForSeriesAsync(string device)
    {
        while (true)
        {
            var state = await _host.StateAsync();
            if (state["series"]!.AsArray().Any(s => s![2]!.GetValue<string>() == device))
            {
                return state;
            }

            await Task.Delay(50);
        }
    }

    private static FormUrlEncodedContent Form(string user, string password) =>
        new(new Dictionary<string, string> { ["username"] = user, ["password"] = password });
}
