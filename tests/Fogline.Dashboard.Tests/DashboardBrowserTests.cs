using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fogline.Dashboard.Tests.Infrastructure;
using Fogline.Greengrass.Ipc;

namespace Fogline.Dashboard.Tests;

/// <summary>
/// The Dashboard in Debian's Chromium (headless, driven by playwright-core), served by the NativeAOT binary on a local
/// Nucleus, with readings and alerts published through the Nucleus: the login, values and trends updating live, a
/// zone alert from ZoneCorrelator on the page within a second and acknowledged, the page reconnecting after the
/// component restarts, and the screenshot in the README.
/// </summary>
[NonParallelizable]
[CancelAfter(180_000)]
public class DashboardBrowserTests
{
    private Browser _browser = null!;
    private DashboardNucleus _host = null!;

    [OneTimeSetUp]
    public async Task LaunchBrowser() => _browser = await Browser.LaunchAsync();

    [OneTimeTearDown]
    public async Task CloseBrowser() => await _browser.DisposeAsync();

    [SetUp]
    public async Task SetUp() => _host = await DashboardNucleus.StartAsync();

    [TearDown]
    public async Task TearDown()
    {
        if (TestContext.CurrentContext.Result.Outcome.Status == NUnit.Framework.Interfaces.TestStatus.Failed)
        {
            TestContext.Out.WriteLine(_host.LogTail(DashboardNucleus.Dashboard, 30));
            TestContext.Out.WriteLine("browser: " + string.Join('\n', _browser.Errors.TakeLast(20)));
        }

        await _host.DisposeAsync();
    }

    private async Task LogInAsync(string page)
    {
        await _browser.NewPageAsync(page);
        Assert.That(await _browser.GotoAsync(page, _host.Url), Is.EqualTo(401), "the page without a session");
        Assert.That(await _browser.LogInAsync(page, DashboardNucleus.User, DashboardNucleus.Password), Is.EqualTo(200));
        await _browser.WaitForFunctionAsync(page, "window.foglineStats && window.foglineStats.connected");
    }

    [Test]
    public async Task WithoutCredentials_ThePageShowsTheLoginFormAndNothingElse()
    {
        await _host.StartDashboardAsync();
        await _host.PublishReadingAsync("hall-a", "press-1", "temperature", 61.5, "C");
        const string page = "anonymous";
        await _browser.NewPageAsync(page);
        Assert.That(await _browser.GotoAsync(page, _host.Url), Is.EqualTo(401));
        var text = (await _browser.EvalAsync(page, "document.body.innerText"))!.GetValue<string>();
        Assert.That(text, Does.Contain("Log in").And.Not.Contain("press-1").And.Not.Contain("61.5"));
        Assert.That((await _browser.EvalAsync(page, "fetch('/events').then(r => r.status)"))!.GetValue<int>(), Is.EqualTo(401));
        Assert.That((await _browser.EvalAsync(page, "fetch('/api/state').then(r => r.status)"))!.GetValue<int>(), Is.EqualTo(401));

        Assert.That(await _browser.LogInAsync(page, DashboardNucleus.User, "wrong-password"), Is.EqualTo(401));
        text = (await _browser.EvalAsync(page, "document.body.innerText"))!.GetValue<string>();
        Assert.That(text, Does.Contain("Wrong user name or password").And.Not.Contain("press-1"));
        Assert.That((await _browser.EvalAsync(page, "document.querySelectorAll('[data-series]').length"))!.GetValue<int>(), Is.Zero);
        await _browser.CloseAsync(page);
    }

    [Test]
    public async Task LoggedIn_ValuesAndTrendsUpdateLive_FromReadingsPublishedThroughTheNucleus_AndAStoppedDeviceTurnsStale()
    {
        await _host.StartDashboardAsync("\"staleSeconds\": 2");
        const string page = "live";
        await LogInAsync(page);

        // Ten readings a second of a rising temperature, published through the Nucleus as SensorGateway would.
        using var stop = new CancellationTokenSource();
        var value = 20.0;
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                value += 0.1;
                await _host.PublishReadingAsync("hall-a", "press-1", "temperature", Math.Round(value, 2), "C");
                await Task.Delay(100);
            }
        });
        const string row = "[data-series=\"hall-a/press-1/temperature\"]";
        await _browser.WaitForAsync(page, row);
        var first = (await _browser.EvalAsync(page, $"document.querySelector('{row} .value').textContent"))!.GetValue<string>();
        await _browser.WaitForFunctionAsync(page, $"document.querySelector('{row} .value').textContent !== {Browser.Js(first)}", 3000);
        Assert.That(first, Does.EndWith(" C"));

        // The trend gains a point a second.
        await _browser.WaitForFunctionAsync(page, $"+document.querySelector('{row}').dataset.points >= 3", 8000);
        var points = (await _browser.EvalAsync(page, $"document.querySelector('{row} polyline').getAttribute('points').trim().split(' ').length"))!.GetValue<int>();
        Assert.That(points, Is.GreaterThanOrEqualTo(3));
        var latencies = (await _browser.EvalAsync(page, "window.foglineStats.latencies"))!.AsArray().Select(l => l!.GetValue<double>()).ToList();
        TestContext.Out.WriteLine($"reading -> shown: {latencies.Count} values, median {latencies.Order().ElementAt(latencies.Count / 2)} ms");

        // The device stops: shown stale with its last value, not zero.
        await stop.CancelAsync();
        await publishing;
        var last = (await _browser.EvalAsync(page, $"document.querySelector('{row} .value').textContent"))!.GetValue<string>();
        await _browser.WaitForFunctionAsync(page, $"document.querySelector('{row}').classList.contains('stale')", 6000);
        Assert.That((await _browser.EvalAsync(page, $"document.querySelector('{row} .value').textContent"))!.GetValue<string>(), Is.EqualTo(last));

        // Readable on a phone: nothing wider than the screen.
        await _browser.ViewportAsync(page, 390, 844);
        Assert.That((await _browser.EvalAsync(page, "document.documentElement.scrollWidth <= window.innerWidth"))!.GetValue<bool>(), Is.True, "no horizontal scrolling at 390 px");
        await _browser.CloseAsync(page);
    }

    [Test]
    public async Task AZoneAlertFromZoneCorrelator_AppearsWithinASecond_AndIsAcknowledgedForEveryone()
    {
        var deployed = await _host.DeployAsync(new Dictionary<string, string>
        {
            [DashboardNucleus.Dashboard] = _host.DashboardConfig(),
            ["com.fogline.ZoneCorrelator"] = """
                {"RESET": ["/rules"], "MERGE": {"summarySeconds": 1, "rules": [{"name": "hot-and-shaking", "zone": "hall-a", "combine": "all",
                  "conditions": [{"metric": "temperature", "device": "press-1", "above": 80}, {"metric": "vibration", "device": "press-2", "above": 5}]}]}}
                """,
        });
        Assert.That(deployed.Status, Is.EqualTo(Fogline.Greengrass.Ipc.DeploymentStatus.Succeeded), deployed.FailureCause);
        await _host.WaitUntilServingAsync();
        var zoneAlerts = new ConcurrentQueue<JsonNode>();
        await _host.Probe.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/alerts/zone/#" }, e =>
        {
            if (e.BinaryMessage?.Message is { } m)
            {
                zoneAlerts.Enqueue(JsonNode.Parse(m.Span)!);
            }
        });
        const string page = "operator";
        const string other = "second-operator";
        await LogInAsync(page);
        await LogInAsync(other);

        await _host.PublishReadingAsync("hall-a", "press-1", "temperature", 85, "C");
        await _host.PublishReadingAsync("hall-a", "press-2", "vibration", 3, "mm/s");
        await _host.PublishReadingAsync("hall-a", "press-2", "temperature", 40, "C");
        await _browser.WaitForAsync(page, "[data-series=\"hall-a/press-2/vibration\"]");
        await Task.Delay(500);
        Assert.That(zoneAlerts, Is.Empty, "one device's condition alone raises nothing");

        // Both conditions: ZoneCorrelator raises it; the page shows it within a second of its decision.
        await _host.PublishReadingAsync("hall-a", "press-2", "vibration", 6.5, "mm/s");
        const string item = "[data-key=\"zone|hall-a|hot-and-shaking\"]";
        var seenAt = (await _browser.WaitForFunctionAsync(page, $"document.querySelector('{item}') ? Date.now() : 0", 5000))!.GetValue<double>();
        await Eventually.UntilAsync(() => !zoneAlerts.IsEmpty, "the zone alert on local pub/sub");
        Assert.That(zoneAlerts.TryPeek(out var raised), Is.True);
        var delay = seenAt - (raised!["ts"]!.GetValue<double>() * 1000);
        TestContext.Out.WriteLine($"zone alert decided -> on the page: {delay:F0} ms");
        Assert.That(delay, Is.LessThan(1000));
        var text = (await _browser.EvalAsync(page, $"document.querySelector('{item}').textContent"))!.GetValue<string>();
        Assert.That(text, Does.Contain("hot-and-shaking").And.Contain("zone hall-a").And.Contain("critical"));

        // Acknowledged on one page: both pages show who acknowledged it.
        await _browser.ClickAsync(page, $"{item} button[data-ack]");
        foreach (var p in new[] { page, other })
        {
            await _browser.WaitForFunctionAsync(p, $"(document.querySelector('{item}')?.innerText || '').includes('acknowledged by {DashboardNucleus.User}')", 3000);
        }

        // Cleared when press-1 cools: gone from the page.
        await _host.PublishReadingAsync("hall-a", "press-1", "temperature", 70, "C");
        await _browser.WaitForFunctionAsync(page, $"!document.querySelector('{item}')", 3000);
        await _browser.CloseAsync(page);
        await _browser.CloseAsync(other);
    }

    [Test]
    public async Task AfterTheComponentRestarts_ThePageReconnectsByItself_StaysLoggedIn_AndCatchesUp()
    {
        await _host.StartDashboardAsync();
        const string page = "restart";
        await LogInAsync(page);
        await _host.PublishReadingAsync("hall-a", "press-1", "pressure", 4.25, "bar");
        const string row = "[data-series=\"hall-a/press-1/pressure\"]";
        await _browser.WaitForFunctionAsync(page, $"document.querySelector('{row} .value')?.textContent === '4.25 bar'");

        await _host.RestartAsync(DashboardNucleus.Dashboard);
        await _browser.WaitForFunctionAsync(page, "window.foglineStats.disconnects >= 1", 10_000);
        await _host.WaitUntilServingAsync();

        // A reading published after the restart reaches the page without a new login, through a fresh snapshot.
        await Eventually.UntilAsync(async () =>
        {
            await _host.PublishReadingAsync("hall-a", "press-1", "pressure", 5.5, "bar");
            return (await _browser.EvalAsync(page, $"document.querySelector('{row} .value')?.textContent"))?.GetValue<string>() == "5.50 bar";
        }, "the new value on the reconnected page", TimeSpan.FromSeconds(20));
        var stats = (await _browser.EvalAsync(page, "({ snapshots: window.foglineStats.snapshots, connected: window.foglineStats.connected, url: location.pathname, state: document.querySelector('#conn').dataset.state })"))!;
        Assert.That(stats["snapshots"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(2));
        Assert.That(stats["url"]!.GetValue<string>(), Is.EqualTo("/"), "still on the dashboard: the session survived the restart");
        Assert.That(stats["state"]!.GetValue<string>(), Is.EqualTo("live"));
        await _browser.CloseAsync(page);
    }

    [Test]
    public async Task TheDemoPipeline_OnThePage_ScreenshotForTheReadme()
    {
        // The whole pipeline bundle as ./demo runs it, with a few more simulated devices whose cycles are short enough
        // for threshold, zone and spread alerts to be raised within the test.
        var deployed = await _host.DeployAsync(new Dictionary<string, string>
        {
            ["com.fogline.Pipeline"] = "{}",
            [DashboardNucleus.Dashboard] = _host.DashboardConfig(),
            ["com.fogline.CloudUplink"] = """{"MERGE": {"statusSeconds": 1}}""",
            ["com.fogline.SensorGateway"] = """
                {"RESET": ["/devices"], "MERGE": {"devices": [
                  {"zone": "hall-a", "device": "press-1", "source": "simulator", "intervalMs": 100, "metrics": [
                    {"name": "temperature", "unit": "C", "profile": "sine", "base": 72, "amplitude": 16, "periodSeconds": 24, "noise": 0.3},
                    {"name": "pressure", "unit": "bar", "profile": "spikes", "base": 4, "noise": 0.02, "spikeProbability": 0.01, "spikeSize": 3}]},
                  {"zone": "hall-a", "device": "press-2", "source": "simulator", "intervalMs": 100, "metrics": [
                    {"name": "temperature", "unit": "C", "profile": "sine", "base": 55, "amplitude": 5, "periodSeconds": 40, "noise": 0.3},
                    {"name": "vibration", "unit": "mm/s", "profile": "sine", "base": 2.6, "amplitude": 0.8, "periodSeconds": 15, "noise": 0.1}]},
                  {"zone": "hall-a", "device": "press-3", "source": "simulator", "intervalMs": 200, "metrics": [
                    {"name": "temperature", "unit": "C", "profile": "drift", "base": 61, "driftPerHour": 40, "noise": 0.2}]},
                  {"zone": "yard-b", "device": "pump-1", "source": "simulator", "intervalMs": 200, "metrics": [
                    {"name": "flow", "unit": "m3/h", "profile": "sine", "base": 40, "amplitude": 6, "periodSeconds": 30, "noise": 0.5},
                    {"name": "pressure", "unit": "bar", "profile": "sine", "base": 2.2, "amplitude": 0.3, "periodSeconds": 18, "noise": 0.02}]},
                  {"zone": "yard-b", "device": "pump-2", "source": "simulator", "intervalMs": 200, "metrics": [
                    {"name": "flow", "unit": "m3/h", "profile": "dropouts", "base": 35, "noise": 0.8, "dropoutProbability": 0.02}]}]}}
                """,
        });
        Assert.That(deployed.Status, Is.EqualTo(Fogline.Greengrass.Ipc.DeploymentStatus.Succeeded), deployed.FailureCause);
        await _host.WaitUntilServingAsync();
        const string page = "screenshot";
        await LogInAsync(page);
        await _browser.WaitForFunctionAsync(page, "document.querySelectorAll('[data-series]').length >= 8 && document.querySelectorAll('#health tbody tr').length >= 8 && document.querySelector('#uplink').dataset.state === 'online'", 30_000);
        await _browser.WaitForFunctionAsync(page, "[...document.querySelectorAll('[data-series]')].every(r => +r.dataset.points >= 20)", 30_000);
        await _browser.WaitForFunctionAsync(page, "document.querySelector('#alerts [data-kind=zone]') && document.querySelector('#alerts [data-kind=threshold]')", 60_000);
        await _browser.ClickAsync(page, "#alerts [data-kind=threshold] button[data-ack]");
        var directory = Environment.GetEnvironmentVariable("FOGLINE_SCREENSHOT_DIR") ?? TestContext.CurrentContext.WorkDirectory;
        Directory.CreateDirectory(directory);
        var wide = Path.Combine(directory, "dashboard.png");
        var phone = Path.Combine(directory, "dashboard-phone.png");
        await _browser.ViewportAsync(page, 1200, 760);
        await _browser.ScreenshotAsync(page, wide);
        await _browser.ViewportAsync(page, 390, 844);
        Assert.That((await _browser.EvalAsync(page, "document.documentElement.scrollWidth <= window.innerWidth"))!.GetValue<bool>(), Is.True, "no horizontal scrolling at 390 px");
        await _browser.ScreenshotAsync(page, phone, fullPage: false);
        TestContext.AddTestAttachment(wide);
        TestContext.AddTestAttachment(phone);
        Assert.That(new FileInfo(wide).Length, Is.GreaterThan(10_000));
        await _browser.CloseAsync(page);
    }
}
