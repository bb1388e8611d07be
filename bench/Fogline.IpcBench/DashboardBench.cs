using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus;
using Fogline.Testing;

namespace Fogline.IpcBench;

/// <summary>
/// <c>dashboard</c>: the Dashboard's NativeAOT binary on an in-process local Nucleus, fed by a probe publishing
/// <c>devices × metrics</c> series at <c>rate</c> readings/s each (stamped when published); Debian's Chromium (driven by
/// playwright-core) logged in. Measures, in the browser, the time from a reading's timestamp to its value on screen
/// (p50/p99), then the dashboard's memory with 20 browsers connected, and whether any was dropped for being slow.
/// </summary>
internal static class DashboardBench
{
    private const string Usage = """
        usage: Fogline.IpcBench dashboard [--devices 100] [--metrics 5] [--rate 10] [--seconds 20] [--browsers 20]
        Needs artifacts/components/com.fogline.Dashboard (dotnet cake --target=Components), Debian's chromium and
        npm ci in tests/Fogline.Testing/Browser.
        """;

    private const string User = "bench";
    private const string Password = "bench-password-1";

    public static async Task<int> RunAsync(string[] args, string? repoRoot)
    {
        int devices = 100, metrics = 5, rate = 10, seconds = 20, browsers = 20;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--devices": devices = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--metrics": metrics = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--rate": rate = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--browsers": browsers = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        if (repoRoot is null)
        {
            Console.Error.WriteLine("dashboard: run it inside the repository");
            return 2;
        }

        var artifacts = Path.Combine(repoRoot, "artifacts", "components");
        var binary = PipelineBench.Binary(artifacts, "Dashboard");
        if (!File.Exists(binary))
        {
            Console.Error.WriteLine($"dashboard: {binary} is missing; build it: dotnet cake --target=Components");
            return 2;
        }

        var root = Path.Combine(Path.GetTempPath(), "fogline-dashboard-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, PubSub = new Fogline.LocalNucleus.PubSub.PubSubOptions { SubscriberQueueCapacity = 65_536 } });
        Process? dashboard = null;
        try
        {
            var port = FreePort();
            var configuration = PipelineBench.DefaultConfiguration(repoRoot, "Dashboard");
            configuration["port"] = port;
            configuration["credentials"] = new JsonObject { ["username"] = User, ["password"] = Password };
            var record = nucleus.AddComponent("com.fogline.Dashboard", "1.0.0", configuration);
            dashboard = PipelineBench.Spawn(nucleus, record, binary);
            var url = new Uri($"http://127.0.0.1:{port}/");
            await WaitServingAsync(url);
            await Task.Delay(3000);
            var idleRss = PipelineBench.StatusMb(dashboard.Id, "VmRSS:");

            var probe = nucleus.AddComponent("com.fogline.bench.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
            await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
            using var stop = new CancellationTokenSource();
            var published = new System.Runtime.CompilerServices.StrongBox<long>();
            var total = devices * metrics * rate;
            var publisher = Task.Factory.StartNew(() => Publish(client, devices, metrics, total, stop.Token, published), TaskCreationOptions.LongRunning).Unwrap();

            Console.WriteLine($"dashboard: {devices} devices x {metrics} metrics at {rate}/s each = {total} readings/s through the local Nucleus; Chromium {browsers} browser(s)");
            await using var browser = await Browser.LaunchAsync();
            await LogInAsync(browser, "b0", url);
            await Task.Delay(5000);
            await browser.EvalAsync("b0", "window.foglineStats.latencies = []");
            var framesBefore = (await browser.EvalAsync("b0", "window.foglineStats.frames"))!.GetValue<long>();
            var before = Interlocked.Read(ref published.Value);
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var rateSeen = (Interlocked.Read(ref published.Value) - before) / clock.Elapsed.TotalSeconds;
            var one = await LatenciesAsync(browser, "b0");
            var framesPerSecond = ((await browser.EvalAsync("b0", "window.foglineStats.frames"))!.GetValue<long>() - framesBefore) / clock.Elapsed.TotalSeconds;
            var oneRss = PipelineBench.StatusMb(dashboard.Id, "VmRSS:");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"published {rateSeen:0} readings/s; dashboard RSS idle {idleRss:0.0} MB, with 1 browser under load {oneRss:0.0} MB; {framesPerSecond:0.0} pushes/s reach the browser"));
            Print("1 browser", one);

            for (var b = 1; b < browsers; b++)
            {
                await LogInAsync(browser, "b" + b.ToString(CultureInfo.InvariantCulture), url);
            }

            await Task.Delay(5000);
            await browser.EvalAsync("b0", "window.foglineStats.latencies = []");
            var frames = new long[browsers];
            var readAt = new long[browsers];
            for (var b = 0; b < browsers; b++)
            {
                frames[b] = (await browser.EvalAsync("b" + b.ToString(CultureInfo.InvariantCulture), "window.foglineStats.frames"))!.GetValue<long>();
                readAt[b] = Stopwatch.GetTimestamp();
            }

            await Task.Delay(TimeSpan.FromSeconds(seconds));
            var many = await LatenciesAsync(browser, "b0");
            var manyRss = PipelineBench.StatusMb(dashboard.Id, "VmRSS:");
            var hwm = PipelineBench.StatusMb(dashboard.Id, "VmHWM:");
            var live = 0;
            var slowest = double.MaxValue;
            for (var b = 0; b < browsers; b++)
            {
                var now = (await browser.EvalAsync("b" + b.ToString(CultureInfo.InvariantCulture), "window.foglineStats.frames"))!.GetValue<long>();
                var perSecond = (now - frames[b]) / Stopwatch.GetElapsedTime(readAt[b]).TotalSeconds;
                slowest = Math.Min(slowest, perSecond);
                live += perSecond > 0 ? 1 : 0;
            }

            var counters = await CountersAsync(url);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{browsers} browsers: dashboard RSS {manyRss:0.0} MB (peak {hwm:0.0} MB), {live} receiving pushes (slowest {slowest:0.0} frames/s), clients {counters?["clients"]}, dropped as too slow {counters?["clients_dropped_slow"]}, pushed {counters?["pushed_bytes"]} B in all"));
            Print($"{browsers} browsers (the first one's view)", many);
            await stop.CancelAsync();
            try
            {
                await publisher;
            }
            catch (OperationCanceledException)
            {
            }

            return 0;
        }
        finally
        {
            if (dashboard is not null)
            {
                dashboard.Kill();
                await dashboard.WaitForExitAsync();
                dashboard.Dispose();
            }

            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task Publish(GreengrassIpcClient client, int devices, int metrics, int total, CancellationToken stop, System.Runtime.CompilerServices.StrongBox<long> published)
    {
        var pacer = new Pacer(total);
        var topics = new string[devices * metrics];
        for (var d = 0; d < devices; d++)
        {
            for (var m = 0; m < metrics; m++)
            {
                topics[(d * metrics) + m] = $"fogline/raw/hall-{d / 25}/device-{d:D3}/metric-{m}";
            }
        }

        long seq = 0;
        while (!stop.IsCancellationRequested)
        {
            pacer.WaitNext();
            var i = (int)(seq % topics.Length);
            var d = i / metrics;
            var ts = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            var value = 50 + (20 * Math.Sin((seq / (double)topics.Length) / 10.0)) + (i % 7);
            var payload = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $$"""{"v":1,"zone":"hall-{{d / 25}}","device":"device-{{d:D3}}","metric":"metric-{{i % metrics}}","value":{{value:0.###}},"unit":"C","ts":{{ts}},"seq":{{seq}}}"""));
            await client.PublishToTopicAsync(new PublishToTopicRequest
            {
                Topic = topics[i],
                PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = payload } },
            }, stop).ConfigureAwait(false);
            seq++;
            Interlocked.Increment(ref published.Value);
        }
    }

    private static async Task LogInAsync(Browser browser, string page, Uri url)
    {
        await browser.NewPageAsync(page, 1280, 900);
        await browser.GotoAsync(page, url);
        await browser.LogInAsync(page, User, Password);
        await browser.WaitForFunctionAsync(page, "window.foglineStats && window.foglineStats.connected", 20_000);
    }

    private static async Task<List<double>> LatenciesAsync(Browser browser, string page)
    {
        var list = (await browser.EvalAsync(page, "window.foglineStats.latencies"))!.AsArray().Select(l => l!.GetValue<double>()).ToList();
        list.Sort();
        return list;
    }

    private static void Print(string what, List<double> sorted)
    {
        if (sorted.Count == 0)
        {
            Console.WriteLine($"{what}: no values shown");
            return;
        }

        double At(double q) => sorted[Math.Min(sorted.Count - 1, (int)(q * sorted.Count))];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{what}: reading -> value on screen p50 {At(0.5):0} ms, p90 {At(0.9):0} ms, p99 {At(0.99):0} ms, max {sorted[^1]:0} ms ({sorted.Count} values drawn)"));
    }

    private static async Task<JsonNode?> CountersAsync(Uri url)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        var state = JsonNode.Parse(await http.GetStringAsync(new Uri(url, "/api/state")))!;
        return state["health"]!.AsArray().FirstOrDefault(h => h!["component"]!.GetValue<string>() == "com.fogline.Dashboard")?["counters"];
    }

    private static async Task WaitServingAsync(Uri url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        for (var i = 0; i < 100; i++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(url, "/healthz"))).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("the dashboard did not answer /healthz");
    }

    private static int FreePort() => LoopbackPorts.Free();
}
