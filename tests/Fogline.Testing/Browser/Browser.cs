using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NUnit.Framework;

namespace Fogline.Testing;

/// <summary>
/// Debian's Chromium, headless, driven by playwright-core (npm, installed by the test command from
/// tests/Fogline.Testing/Browser/package-lock.json) through Browser/driver.js: one JSON command per line.
/// A missing Chromium or playwright-core fails the test with what to install; it never skips.
/// </summary>
public sealed class Browser : IAsyncDisposable
{
    /// <summary>Debian's Chromium.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly Process _node;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<string> _stderr = [];
    private int _id;

    private Browser(Process node) => _node = node;

    /// <summary>Where the driver and its node_modules are.</summary>
    public static string DriverDirectory => Path.Combine(Repository.Root, "tests", "Fogline.Testing", "Browser");

    /// <summary>Starts node with the driver and launches Chromium.</summary>
    public static async Task<Browser> LaunchAsync()
    {
        Assert.That(File.Exists(ChromiumPath), Is.True, $"{ChromiumPath} is missing: apt-get install chromium (the test command installs it)");
        Assert.That(Directory.Exists(Path.Combine(DriverDirectory, "node_modules", "playwright-core")), Is.True,
            $"playwright-core is missing: npm ci in {DriverDirectory} (the test command does it)");
        var start = new ProcessStartInfo("node", Path.Combine(DriverDirectory, "driver.js"))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = DriverDirectory,
        };
        var node = Process.Start(start)!;
        var browser = new Browser(node);
        node.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (browser._stderr)
                {
                    browser._stderr.Add(e.Data);
                }
            }
        };
        node.BeginErrorReadLine();
        var version = await browser.SendAsync(new JsonObject { ["cmd"] = "launch", ["executablePath"] = ChromiumPath }, TimeSpan.FromSeconds(60));
        TestContext.Out.WriteLine($"Chromium {version}");
        return browser;
    }

    /// <summary>What the pages wrote to the console as errors, and the driver's own errors.</summary>
    public IReadOnlyList<string> Errors
    {
        get
        {
            lock (_stderr)
            {
                return [.. _stderr];
            }
        }
    }

    /// <summary>Sends a command; returns its result, or fails the test with the driver's error.</summary>
    public async Task<JsonNode?> SendAsync(JsonObject command, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        await _gate.WaitAsync();
        try
        {
            command["id"] = ++_id;
            await _node.StandardInput.WriteLineAsync(command.ToJsonString());
            await _node.StandardInput.FlushAsync();
            using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
            var line = await _node.StandardOutput.ReadLineAsync(deadline.Token)
                ?? throw new InvalidOperationException("the browser driver exited: " + string.Join(" | ", Errors));
            var answer = JsonNode.Parse(line)!;
            if (answer["ok"]!.GetValue<bool>() != true)
            {
                Assert.Fail($"browser: {command["cmd"]} {command.ToJsonString()} failed: {answer["error"]}");
            }

            return answer["result"];
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Opens a page (its own browser context: its own cookies).</summary>
    public Task NewPageAsync(string page, int width = 1280, int height = 800, double scale = 1) =>
        SendAsync(new JsonObject { ["cmd"] = "newPage", ["page"] = page, ["width"] = width, ["height"] = height, ["scale"] = scale });

    /// <summary>Navigates; returns the HTTP status.</summary>
    public async Task<int> GotoAsync(string page, Uri url) =>
        (await SendAsync(new JsonObject { ["cmd"] = "goto", ["page"] = page, ["url"] = url.ToString() }))!.GetValue<int>();

    /// <summary>Logs in through the form; returns the status of the page the login leads to.</summary>
    public async Task<int> LogInAsync(string page, string username, string password)
    {
        await SendAsync(new JsonObject { ["cmd"] = "fill", ["page"] = page, ["selector"] = "input[name=username]", ["value"] = username });
        await SendAsync(new JsonObject { ["cmd"] = "fill", ["page"] = page, ["selector"] = "input[name=password]", ["value"] = password });
        return (await SendAsync(new JsonObject { ["cmd"] = "waitForNavigation-click", ["page"] = page, ["selector"] = "button[type=submit]" }))!.GetValue<int>();
    }

    /// <summary>Waits for a selector.</summary>
    public Task WaitForAsync(string page, string selector, string state = "visible", int timeoutMs = 10_000) =>
        SendAsync(new JsonObject { ["cmd"] = "waitFor", ["page"] = page, ["selector"] = selector, ["state"] = state, ["timeout"] = timeoutMs }, TimeSpan.FromMilliseconds(timeoutMs + 10_000));

    /// <summary>Waits until a JavaScript expression is truthy in the page; returns its value.</summary>
    public Task<JsonNode?> WaitForFunctionAsync(string page, string expression, int timeoutMs = 10_000) =>
        SendAsync(new JsonObject { ["cmd"] = "waitForFunction", ["page"] = page, ["expression"] = expression, ["timeout"] = timeoutMs }, TimeSpan.FromMilliseconds(timeoutMs + 10_000));

    /// <summary>Evaluates a JavaScript expression in the page.</summary>
    public Task<JsonNode?> EvalAsync(string page, string expression) =>
        SendAsync(new JsonObject { ["cmd"] = "eval", ["page"] = page, ["expression"] = expression });

    /// <summary>Clicks.</summary>
    public Task ClickAsync(string page, string selector) =>
        SendAsync(new JsonObject { ["cmd"] = "click", ["page"] = page, ["selector"] = selector });

    /// <summary>Resizes the page.</summary>
    public Task ViewportAsync(string page, int width, int height) =>
        SendAsync(new JsonObject { ["cmd"] = "viewport", ["page"] = page, ["width"] = width, ["height"] = height });

    /// <summary>Saves a PNG of the page.</summary>
    public Task ScreenshotAsync(string page, string path, bool fullPage = true) =>
        SendAsync(new JsonObject { ["cmd"] = "screenshot", ["page"] = page, ["path"] = path, ["fullPage"] = fullPage });

    /// <summary>Closes a page.</summary>
    public Task CloseAsync(string page) => SendAsync(new JsonObject { ["cmd"] = "close", ["page"] = page });

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            _node.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _node.WaitForExitAsync(wait.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException)
        {
            _node.Kill(entireProcessTree: true);
        }

        _node.Dispose();
        _gate.Dispose();
    }

    /// <summary>Serialises a string as a JavaScript literal.</summary>
    public static string Js(string value) => JsonSerializer.Serialize(value);
}
