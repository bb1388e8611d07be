using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.ComponentKit.Processing;

namespace Fogline.IpcBench;

internal enum Operation
{
    UpdateState,
    PublishToTopic,
}

internal sealed record BenchOptions(
    double DurationSeconds,
    double WarmupSeconds,
    int Concurrency,
    Operation Operation,
    int PayloadBytes,
    bool RunNode,
    bool AllocationProfile,
    string Node);

internal sealed record Measurement(
    string Client,
    int Concurrency,
    long Ops,
    double Seconds,
    double P50Us,
    double P99Us,
    double MeanUs,
    double AllocBytesPerOp,
    double DotnetCpuUsPerOp,
    double? NodeCpuUsPerOp)
{
    public double OpsPerSecond => Ops / Seconds;
}

/// <summary>
/// End-to-end IPC round trips over a real Unix socket: an in-process Greengrass IPC server, our C# client (1 caller,
/// then N concurrent callers on one connection) and the official Node.js client (the same two shapes) against it in the
/// same run. Prints a markdown table. Run in Release: <c>dotnet run -c Release --project bench/Fogline.IpcBench</c>.
/// </summary>
internal static class Program
{
    private const string Usage = """
        Fogline.IpcBench: IPC round trips over a Unix socket, our C# client vs the official Node.js client.

        Usage: dotnet run -c Release --project bench/Fogline.IpcBench -- [options]

          --duration <s>      seconds measured per row (default 5)
          --warmup <s>        seconds of warm-up before each row (default 2)
          --concurrency <n>   calls in flight for the concurrent rows (default 16)
          --op <name>         updatestate (default) or publish (PublishToTopic with a binary message)
          --payload <bytes>   binary message size for --op publish (default 256)
          --no-node           measure only the C# client
          --node <path>       the node executable (default: node on the PATH)
          --alloc-profile     afterwards, sample which types are allocated per call (GCAllocationTick events)
          -h, --help          this text

        The Node.js rows need the official client installed once: `npm ci --ignore-scripts` in tests/Conformance/js.
        """;

    public static async Task<int> Main(string[] args)
    {
        // The benches host the local Nucleus in this process: configure sockets as its executable does (before any
        // socket is created). FOGLINE_BENCH_THREADPOOL_COMPLETIONS=1 keeps the runtime's default, for comparison.
        if (Environment.GetEnvironmentVariable("FOGLINE_BENCH_THREADPOOL_COMPLETIONS") != "1")
        {
            Fogline.EventStream.Transport.SocketCompletions.PreferInline();
        }

        if (args.Length > 0 && args[0] == "deploy")
        {
            return await DeployBench.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "fleet")
        {
            return OperatingSystem.IsLinux() ? await FleetBench.RunAsync(args[1..]) : 2;
        }

        if (args.Length > 0 && args[0] == "iotcore")
        {
            return await IoTCoreBench.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "publish")
        {
            return await PublishBench.RunAsync(args[1..], FindRepositoryRoot() ?? throw new InvalidOperationException("run from the repository (GreengrassComponents.sln not found)"));
        }

        if (args.Length > 0 && args[0] == "bandwidth")
        {
            return await BandwidthBench.RunAsync(args[1..], FindRepositoryRoot());
        }

        if (args.Length > 0 && args[0] == "uplink")
        {
            return await UplinkBench.RunAsync(args[1..], FindRepositoryRoot());
        }

        if (args.Length > 0 && args[0] == "log")
        {
            return await LogBench.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "anomaly")
        {
            return AnomalyBench.Run(FindRepositoryRoot());
        }

        if (args.Length > 0 && args[0] == "sources")
        {
            return await SourcesBench.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "dashboard")
        {
            return await DashboardBench.RunAsync(args[1..], FindRepositoryRoot());
        }

        if (args.Length > 0 && args[0] == "pipeline")
        {
            return await PipelineBench.RunAsync(args[1..], FindRepositoryRoot());
        }

        if (args.Length > 0 && args[0] == "nucleus-start")
        {
            return await StartBench.RunAsync(args[1..], FindRepositoryRoot());
        }

        if (args.Length > 0 && args[0] == "pubsub")
        {
            return await PubSubBench.RunAsync(args[1..], FindRepositoryRoot());
        }

        BenchOptions options;
        try
        {
            options = Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        if (args.Contains("-h") || args.Contains("--help"))
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var repoRoot = FindRepositoryRoot();
        if (repoRoot is null)
        {
            Console.Error.WriteLine("error: GreengrassComponents.sln not found above the current directory or the tool's directory; run from the repository.");
            return 2;
        }

        string? nodeVersion = null;
        if (options.RunNode)
        {
            if (NodeClientRunner.CheckInstalled(repoRoot) is { } problem)
            {
                Console.Error.WriteLine($"error: {problem}");
                return 2;
            }

            nodeVersion = NodeClientRunner.NodeVersion(options.Node);
            if (nodeVersion is null)
            {
                Console.Error.WriteLine($"error: cannot run `{options.Node} --version`: install Node.js 20 (or pass --node <path>, or --no-node).");
                return 2;
            }
        }

        foreach (var assembly in new[] { typeof(Program).Assembly, typeof(RpcServer).Assembly, typeof(GreengrassIpcClient).Assembly })
        {
            if (assembly.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true)
            {
                Console.Error.WriteLine($"WARNING: {assembly.GetName().Name} is a Debug build; the numbers mean little. Run with `dotnet run -c Release`.");
            }
        }

        var directory = Path.Combine(Path.GetTempPath(), "fogline-ipcbench-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var socketPath = Path.Combine(directory, "ipc.socket");
        try
        {
            return await RunAsync(options, repoRoot, socketPath, nodeVersion);
        }
        finally
        {
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<int> RunAsync(BenchOptions options, string repoRoot, string socketPath, string? nodeVersion)
    {
        var service = new BenchIpcService();
        await using var server = new RpcServer(service);
        server.Listen(socketPath);

        Console.WriteLine($"# Fogline.IpcBench {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        Console.WriteLine($"- machine: {Environment.ProcessorCount} logical cores, {RuntimeInformation.OSDescription.Trim()}, {RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine($"- .NET: {RuntimeInformation.FrameworkDescription}, GC: {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}{(nodeVersion is null ? string.Empty : $"; Node.js {nodeVersion}")}");
        Console.WriteLine($"- operation: {Describe(options)}; socket: {socketPath} (server in this process)");
        Console.WriteLine($"- each row: {options.WarmupSeconds.ToString(CultureInfo.InvariantCulture)} s warm-up, then {options.DurationSeconds.ToString(CultureInfo.InvariantCulture)} s measured; one client connection per client kind");
        Console.WriteLine();

        var rows = new List<Measurement>();
        var concurrencies = options.Concurrency == 1 ? new[] { 1 } : [1, options.Concurrency];
        await using (var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = socketPath, AuthToken = BenchIpcService.Token }))
        {
            var call = MakeCall(client, options);
            foreach (var concurrency in concurrencies)
            {
                Console.Error.WriteLine($"[ipcbench] C# client, {concurrency} in flight ...");
                rows.Add(await MeasureAsync("C# (Fogline.Greengrass.Ipc)", call, concurrency, options));
            }
        }

        NodeRun? nodeRun = null;
        if (options.RunNode)
        {
            Console.Error.WriteLine($"[ipcbench] Node.js client, 1 then {options.Concurrency} in flight ...");
            nodeRun = await NodeClientRunner.RunAsync(options.Node, repoRoot, socketPath, BenchIpcService.Token, options);
            rows.AddRange(nodeRun.Measurements.Where(m => concurrencies.Contains(m.Concurrency)).DistinctBy(m => m.Concurrency));
        }

        Console.WriteLine(Table(rows));
        if (nodeRun is not null)
        {
            Console.WriteLine($"C# / Node.js throughput ({nodeRun.Sdk}, same run, same server):");
            Console.WriteLine();
            foreach (var concurrency in concurrencies)
            {
                var ours = rows.First(r => r.Concurrency == concurrency && r.Client.StartsWith("C#", StringComparison.Ordinal));
                var theirs = rows.FirstOrDefault(r => r.Concurrency == concurrency && r.Client.StartsWith("Node", StringComparison.Ordinal));
                if (theirs is not null)
                {
                    Console.WriteLine(Invariant($"- {concurrency} in flight: {ours.OpsPerSecond / theirs.OpsPerSecond:0.00}x ({ours.OpsPerSecond:N0} vs {theirs.OpsPerSecond:N0} ops/s)"));
                }
            }

            Console.WriteLine();
        }

        Console.WriteLine("alloc B/op (process) is GC.GetTotalAllocatedBytes(true) of this .NET process over the row divided by its calls:");
        Console.WriteLine("client + server for the C# rows, the server alone for the Node.js rows. CPU µs/op likewise (.NET process; node process).");
        Console.WriteLine();

        if (options.AllocationProfile)
        {
            await ProfileAllocationsAsync(options, repoRoot, socketPath);
        }

        return 0;
    }

    private static Func<Task> MakeCall(GreengrassIpcClient client, BenchOptions options)
    {
        switch (options.Operation)
        {
            case Operation.UpdateState:
                {
                    var request = new UpdateStateRequest { State = ReportedLifecycleState.Running };
                    return () => client.UpdateStateAsync(request);
                }

            default:
                {
                    var message = new byte[options.PayloadBytes];
                    Array.Fill(message, (byte)7);
                    var request = new PublishToTopicRequest
                    {
                        Topic = "bench/telemetry",
                        PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = message } },
                    };
                    return () => client.PublishToTopicAsync(request);
                }
        }
    }

    private static async Task<Measurement> MeasureAsync(string clientName, Func<Task> call, int concurrency, BenchOptions options)
    {
        if (options.WarmupSeconds > 0)
        {
            await RunCallersAsync(call, concurrency, TimeSpan.FromSeconds(options.WarmupSeconds));
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var alloc0 = GC.GetTotalAllocatedBytes(true);
        var cpu0 = Environment.CpuUsage.TotalTime;
        var t0 = Stopwatch.GetTimestamp();
        var histogram = await RunCallersAsync(call, concurrency, TimeSpan.FromSeconds(options.DurationSeconds));
        var elapsed = Stopwatch.GetElapsedTime(t0);
        var cpu = Environment.CpuUsage.TotalTime - cpu0;
        var allocated = GC.GetTotalAllocatedBytes(true) - alloc0;
        var ops = Math.Max(1, histogram.Count);
        return new Measurement(
            clientName,
            concurrency,
            histogram.Count,
            elapsed.TotalSeconds,
            histogram.PercentileMicroseconds(50),
            histogram.PercentileMicroseconds(99),
            histogram.TotalNanoseconds / 1000.0 / ops,
            (double)allocated / ops,
            cpu.TotalMicroseconds / ops,
            null);
    }

    /// <summary><paramref name="concurrency"/> callers, each awaiting one call after the other until the time is up.</summary>
    private static async Task<LatencyHistogram> RunCallersAsync(Func<Task> call, int concurrency, TimeSpan duration)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var callers = new Task<LatencyHistogram>[concurrency];
        for (var i = 0; i < concurrency; i++)
        {
            callers[i] = Task.Run(() => CallerAsync(call, deadline));
        }

        var merged = new LatencyHistogram();
        foreach (var histogram in await Task.WhenAll(callers))
        {
            merged.Add(histogram);
        }

        return merged;
    }

    private static async Task<LatencyHistogram> CallerAsync(Func<Task> call, long deadline)
    {
        var histogram = new LatencyHistogram();
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var start = Stopwatch.GetTimestamp();
            await call();
            histogram.RecordTicks(Stopwatch.GetTimestamp() - start);
        }

        return histogram;
    }

    private static async Task ProfileAllocationsAsync(BenchOptions options, string repoRoot, string socketPath)
    {
        using var sampler = new AllocationSampler();
        Console.WriteLine("## Allocation profile (GCAllocationTick samples, ~1 per 100 KB allocated)");
        Console.WriteLine();
        await using (var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = socketPath, AuthToken = BenchIpcService.Token }))
        {
            var call = MakeCall(client, options);
            foreach (var concurrency in options.Concurrency == 1 ? new[] { 1 } : [1, options.Concurrency])
            {
                Console.Error.WriteLine($"[ipcbench] allocation profile: C# client, {concurrency} in flight ...");
                await RunCallersAsync(call, concurrency, TimeSpan.FromSeconds(Math.Max(1, options.WarmupSeconds)));
                sampler.Reset();
                sampler.Start();
                var alloc0 = GC.GetTotalAllocatedBytes(true);
                var histogram = await RunCallersAsync(call, concurrency, TimeSpan.FromSeconds(options.DurationSeconds));
                var perOp = (double)(GC.GetTotalAllocatedBytes(true) - alloc0) / Math.Max(1, histogram.Count);
                sampler.Stop();
                PrintProfile($"C# client + server, {concurrency} in flight ({perOp:0} B/op)", sampler, perOp);
            }
        }

        if (options.RunNode)
        {
            Console.Error.WriteLine("[ipcbench] allocation profile: Node.js client (server side only) ...");
            sampler.Reset();
            var run = await NodeClientRunner.RunAsync(options.Node, repoRoot, socketPath, BenchIpcService.Token, options, sampler);
            var ops = run.Measurements.Sum(m => m.Ops);
            var perOp = run.Measurements.Sum(m => m.AllocBytesPerOp * m.Ops) / Math.Max(1, ops);
            PrintProfile($"server only, Node.js client, both rows ({perOp:0} B/op)", sampler, perOp);
        }
    }

    private static void PrintProfile(string title, AllocationSampler sampler, double bytesPerOp)
    {
        Console.WriteLine(Invariant($"### {title}"));
        Console.WriteLine();
        Console.WriteLine("| type | samples | share | ≈ B/op |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (type, samples, _, share) in sampler.Top(25))
        {
            Console.WriteLine(Invariant($"| `{type}` | {samples} | {share:P1} | {share * bytesPerOp:0} |"));
        }

        Console.WriteLine();
    }

    private static string Table(IEnumerable<Measurement> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| client | concurrency | ops/s | p50 µs | p99 µs | mean µs | alloc B/op (process) | CPU µs/op (.NET) | CPU µs/op (node) |");
        sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            sb.AppendLine(Invariant(
                $"| {r.Client} | {r.Concurrency} | {r.OpsPerSecond:N0} | {r.P50Us:0.0} | {r.P99Us:0.0} | {r.MeanUs:0.0} | {r.AllocBytesPerOp:N0} | {r.DotnetCpuUsPerOp:0.0} | {(r.NodeCpuUsPerOp is { } n ? n.ToString("0.0", CultureInfo.InvariantCulture) : "–")} |"));
        }

        return sb.ToString();
    }

    private static string Describe(BenchOptions options) => options.Operation == Operation.UpdateState
        ? "UpdateState {state: RUNNING} -> UpdateStateResponse {}"
        : Invariant($"PublishToTopic with a {options.PayloadBytes}-byte binary message -> PublishToTopicResponse {{}}");

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(5, 2, 16, Operation.UpdateState, 256, RunNode: true, AllocationProfile: false, Node: "node");
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            options = name switch
            {
                "--duration" => options with { DurationSeconds = PositiveDouble(name, Value()) },
                "--warmup" => options with { WarmupSeconds = NonNegativeDouble(name, Value()) },
                "--concurrency" => options with { Concurrency = (int)PositiveDouble(name, Value()) },
                "--op" => options with
                {
                    Operation = Value().ToUpperInvariant() switch
                    {
                        "UPDATESTATE" => Operation.UpdateState,
                        "PUBLISH" or "PUBLISHTOTOPIC" => Operation.PublishToTopic,
                        var other => throw new ArgumentException($"unknown --op {other} (updatestate or publish)"),
                    },
                },
                "--payload" => options with { PayloadBytes = (int)NonNegativeDouble(name, Value()) },
                "--no-node" => options with { RunNode = false },
                "--node" => options with { Node = Value() },
                "--alloc-profile" => options with { AllocationProfile = true },
                "-h" or "--help" => options,
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }

        return options;
    }

    private static double PositiveDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : throw new ArgumentException($"{name} must be a positive number, not '{value}'");

    private static double NonNegativeDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0 ? d : throw new ArgumentException($"{name} must be a number >= 0, not '{value}'");

    internal static string? FindRepositoryRoot()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "GreengrassComponents.sln")))
                {
                    return dir.FullName;
                }
            }
        }

        return null;
    }
}
