using System.Diagnostics;
using System.Text.Json;

namespace Fogline.Greengrass.Ipc.Tests.Infrastructure;

/// <summary>
/// Runs the official Greengrass IPC client for Node.js (tests/Conformance/js) as a component would run: the socket path
/// and the token in the environment. A missing Node.js or npm install is a failure, never a skip: CI installs both.
/// </summary>
public static class NodePeer
{
    public static string ScriptDirectory => Path.Combine(Repository.Root, "tests", "Conformance", "js");

    public static void EnsureInstalled()
    {
        var sdk = Path.Combine(ScriptDirectory, "node_modules", "aws-iot-device-sdk-v2");
        if (!Directory.Exists(sdk))
        {
            Assert.Fail($"The official Node.js IPC client is not installed: run `npm ci --ignore-scripts` in {ScriptDirectory} (the build.cake Test target and .ci/run do).");
        }
    }

    public static async Task<JsonElement> RunAsync(string script, string scenario, string socketPath, string token, TimeSpan? timeout = null)
    {
        EnsureInstalled();
        var start = new ProcessStartInfo("node", [script, scenario])
        {
            WorkingDirectory = ScriptDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"] = socketPath;
        start.Environment["SVCUID"] = token;
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"node {script} {scenario} did not finish in time. stderr: {await stderr}");
        }

        var lines = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            Assert.Fail($"node {script} {scenario} printed nothing (exit {process.ExitCode}). stderr: {await stderr}");
        }

        var result = JsonDocument.Parse(lines[^1]).RootElement.Clone();
        if (result.TryGetProperty("fatal", out var fatal))
        {
            Assert.Fail($"node {script} {scenario} failed: {fatal}. stderr: {await stderr}");
        }

        return result;
    }
}
