using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fogline.IpcBench;

/// <summary>
/// Runs bench/js/roundtrip.js (the official Node.js client) against our server, as a component would run it (socket
/// path and token in the environment), and samples this process's allocation and CPU counters at the script's phase
/// boundaries: during a Node.js phase this process is only the server, so those numbers are the server's share.
/// </summary>
internal static class NodeClientRunner
{
    public static string ConformanceDirectory(string repoRoot) => Path.Combine(repoRoot, "tests", "Conformance", "js");

    public static string Script(string repoRoot) => Path.Combine(repoRoot, "bench", "js", "roundtrip.js");

    /// <summary>Null when the official client is installed; else what to do about it.</summary>
    public static string? CheckInstalled(string repoRoot)
    {
        var dir = ConformanceDirectory(repoRoot);
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "aws-iot-device-sdk-v2")))
        {
            return $"The official Node.js IPC client is not installed: run `npm ci --ignore-scripts` in {dir} " +
                   "(or pass --no-node to measure only the C# client).";
        }

        if (!File.Exists(Script(repoRoot)))
        {
            return $"The Node.js bench script {Script(repoRoot)} is missing.";
        }

        return null;
    }

    /// <summary>The version of <c>node</c> on the PATH, or null when it cannot be run.</summary>
    public static string? NodeVersion(string node)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(node, ["--version"]) { RedirectStandardOutput = true, RedirectStandardError = true });
            if (process is null)
            {
                return null;
            }

            var version = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return process.ExitCode == 0 ? version : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    public static async Task<NodeRun> RunAsync(string node, string repoRoot, string socketPath, string token, BenchOptions options, AllocationSampler? sampler = null)
    {
        var start = new ProcessStartInfo(node)
        {
            WorkingDirectory = repoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[]
                 {
                     Script(repoRoot),
                     "--duration", options.DurationSeconds.ToString(CultureInfo.InvariantCulture),
                     "--warmup", options.WarmupSeconds.ToString(CultureInfo.InvariantCulture),
                     "--concurrency", options.Concurrency.ToString(CultureInfo.InvariantCulture),
                     "--op", options.Operation == Operation.UpdateState ? "updateState" : "publishToTopic",
                     "--payload", options.PayloadBytes.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT"] = socketPath;
        start.Environment["SVCUID"] = token;
        start.Environment["FOGLINE_CONFORMANCE_JS"] = ConformanceDirectory(repoRoot);

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{node} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var timeout = TimeSpan.FromSeconds((2 * (options.DurationSeconds + options.WarmupSeconds)) + 60);
        using var cts = new CancellationTokenSource(timeout);
        var phases = new Dictionary<int, (long Alloc, TimeSpan Cpu)>();
        var serverShare = new Dictionary<int, (long AllocBytes, TimeSpan Cpu, long Ops)>();
        JsonElement? result = null;
        string? fatal = null;
        try
        {
            while (await process.StandardOutput.ReadLineAsync(cts.Token) is { } line)
            {
                if (string.IsNullOrWhiteSpace(line) || !line.TrimStart().StartsWith('{'))
                {
                    continue;
                }

                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                var kind = root.TryGetProperty("event", out var e) ? e.GetString() : null;
                switch (kind)
                {
                    case "phase-start":
                        phases[root.GetProperty("concurrency").GetInt32()] = (GC.GetTotalAllocatedBytes(true), Environment.CpuUsage.TotalTime);
                        sampler?.Start();
                        break;
                    case "phase-end":
                        {
                            sampler?.Stop();
                            var concurrency = root.GetProperty("concurrency").GetInt32();
                            var (alloc0, cpu0) = phases[concurrency];
                            serverShare[concurrency] = (GC.GetTotalAllocatedBytes(true) - alloc0, Environment.CpuUsage.TotalTime - cpu0, root.GetProperty("ops").GetInt64());
                            break;
                        }

                    case "result":
                        result = root.Clone();
                        break;
                    case "fatal":
                        fatal = root.GetProperty("fatal").GetString();
                        break;
                }
            }

            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"node {Script(repoRoot)} did not finish within {timeout}. stderr: {await stderr}");
        }

        if (fatal is not null || result is null || process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {Script(repoRoot)} failed (exit {process.ExitCode}): {fatal ?? "no result line"}. stderr: {await stderr}");
        }

        var measurements = new List<Measurement>();
        foreach (var r in result.Value.GetProperty("results").EnumerateArray())
        {
            var concurrency = r.GetProperty("concurrency").GetInt32();
            var ops = r.GetProperty("ops").GetInt64();
            var share = serverShare.TryGetValue(concurrency, out var s) ? s : (AllocBytes: 0L, Cpu: TimeSpan.Zero, Ops: ops);
            measurements.Add(new Measurement(
                Client: "Node.js (aws-iot-device-sdk-v2)",
                Concurrency: concurrency,
                Ops: ops,
                Seconds: r.GetProperty("seconds").GetDouble(),
                P50Us: r.GetProperty("p50Us").GetDouble(),
                P99Us: r.GetProperty("p99Us").GetDouble(),
                MeanUs: r.GetProperty("meanUs").GetDouble(),
                AllocBytesPerOp: (double)share.AllocBytes / Math.Max(1, share.Ops),
                DotnetCpuUsPerOp: share.Cpu.TotalMicroseconds / Math.Max(1, share.Ops),
                NodeCpuUsPerOp: r.GetProperty("cpuUsPerOp").GetDouble()));
        }

        return new NodeRun(
            result.Value.GetProperty("sdk").GetString() ?? "aws-iot-device-sdk-v2",
            result.Value.GetProperty("node").GetString() ?? "?",
            measurements);
    }
}

internal sealed record NodeRun(string Sdk, string NodeVersion, IReadOnlyList<Measurement> Measurements);
