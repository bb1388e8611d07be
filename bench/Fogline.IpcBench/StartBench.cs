using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace Fogline.IpcBench;

/// <summary>
/// <c>nucleus-start</c>: the time from launching <c>local-nucleus start</c> (a new process) to N small components
/// RUNNING and connected over IPC, and the idle memory of the local Nucleus with them running. The components are
/// the .NET sample (components/samples/HelloDotnet) under N names, deployed from recipes as a user would.
/// </summary>
internal static class StartBench
{
    private const string Usage = """
        usage: Fogline.IpcBench nucleus-start [--components 8] [--runs 3] [--idle 5]
          --components N   how many components to deploy at start (default 8)
          --runs N         how many cold starts to time (default 3)
          --idle S         seconds to wait before reading the idle memory (default 5)
        Needs the local Nucleus built in Release (dotnet build -c Release tools/Fogline.LocalNucleus.Cli); publishes the
        sample component itself.
        """;

    public static async Task<int> RunAsync(string[] args, string? repoRoot)
    {
        var components = 8;
        var runs = 3;
        var idle = 5;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--components": components = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--idle": idle = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }

        if (repoRoot is null)
        {
            Console.Error.WriteLine("nucleus-start: run it inside the repository");
            return 2;
        }

        var nucleus = Path.Combine(repoRoot, "tools/Fogline.LocalNucleus.Cli/bin/Release/net10.0/local-nucleus.dll");
        if (!File.Exists(nucleus))
        {
            Console.Error.WriteLine($"nucleus-start: {nucleus} is missing; build it: dotnet build -c Release tools/Fogline.LocalNucleus.Cli");
            return 2;
        }

        var work = Path.Combine(Path.GetTempPath(), "fogline-start-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(work);
        try
        {
            var (recipes, artifacts, names) = await PrepareAsync(repoRoot, work, components);
            Console.WriteLine($"local Nucleus cold start with {components} .NET components (Fogline IPC client), {runs} runs");
            Console.WriteLine("run  all RUNNING (ms)  all connected (ms)  Nucleus idle RSS (MB)  of which anonymous (MB)  component RSS avg (MB)");
            var running = new List<double>();
            var connected = new List<double>();
            var rss = new List<double>();
            for (var run = 1; run <= runs; run++)
            {
                var root = Path.Combine(work, "root" + run.ToString(CultureInfo.InvariantCulture));
                var result = await OneStartAsync(nucleus, root, recipes, artifacts, names, TimeSpan.FromSeconds(idle));
                running.Add(result.Running);
                connected.Add(result.Connected);
                rss.Add(result.NucleusRssMb);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{run,3}  {result.Running,17:0}  {result.Connected,18:0}  {result.NucleusRssMb,21:0.0}  {result.NucleusAnonMb,23:0.0}  {result.ComponentRssMb,22:0.0}"));
            }

            running.Sort();
            connected.Sort();
            rss.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"median: all RUNNING {running[running.Count / 2]:0} ms, all connected {connected[connected.Count / 2]:0} ms, Nucleus idle RSS {rss[rss.Count / 2]:0.0} MB (goals: 1500 ms, 40 MB)"));
            return 0;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<(string Recipes, string Artifacts, List<string> Names)> PrepareAsync(string repoRoot, string work, int count)
    {
        var publish = Path.Combine(work, "publish");
        var psi = new ProcessStartInfo("dotnet", ["publish", "-c", "Release", "-v", "quiet", "-nologo", Path.Combine(repoRoot, "components/samples/HelloDotnet/HelloDotnet.csproj"), "-o", publish]) { RedirectStandardOutput = true };
        using (var p = Process.Start(psi)!)
        {
            await p.StandardOutput.ReadToEndAsync();
            await p.WaitForExitAsync();
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException("dotnet publish of the sample component failed");
            }
        }

        var recipes = Path.Combine(work, "recipes");
        var artifacts = Path.Combine(work, "artifacts");
        Directory.CreateDirectory(recipes);
        var names = new List<string>();
        for (var i = 1; i <= count; i++)
        {
            var name = "com.fogline.bench.Small" + i.ToString(CultureInfo.InvariantCulture);
            names.Add(name);
            var folder = Path.Combine(artifacts, name, "1.0.0");
            Directory.CreateDirectory(folder);
            ZipFile.CreateFromDirectory(publish, Path.Combine(folder, "small.zip"));
            await File.WriteAllTextAsync(Path.Combine(recipes, name + ".yaml"), $$"""
                RecipeFormatVersion: '2020-01-25'
                ComponentName: {{name}}
                ComponentVersion: '1.0.0'
                ComponentConfiguration:
                  DefaultConfiguration:
                    accessControl:
                      aws.greengrass.ipc.pubsub:
                        {{name}}:pubsub:1:
                          operations: ['aws.greengrass#PublishToTopic', 'aws.greengrass#SubscribeToTopic']
                          resources: ['bench/{{i}}/ping', 'bench/{{i}}/pong']
                      aws.greengrass.ipc.mqttproxy:
                        {{name}}:mqttproxy:1:
                          operations: ['aws.greengrass#PublishToIoTCore']
                          resources: ['fogline/demo/telemetry']
                Manifests:
                  - Artifacts:
                      - URI: s3://bench/{{name}}/small.zip
                        Unarchive: ZIP
                    Lifecycle:
                      Setenv:
                        PING_TOPIC: bench/{{i}}/ping
                        PONG_TOPIC: bench/{{i}}/pong
                        PING_INTERVAL_MS: '5000'
                      Run: exec dotnet {artifacts:decompressedPath}/small/HelloDotnet.dll
                """);
        }

        return (recipes, artifacts, names);
    }

    private sealed record StartResult(double Running, double Connected, double NucleusRssMb, double NucleusAnonMb, double ComponentRssMb);

    private static async Task<StartResult> OneStartAsync(string nucleus, string root, string recipes, string artifacts, List<string> names, TimeSpan idle)
    {
        var args = new List<string> { nucleus, "start", "--root", root, "--recipeDir", recipes, "--artifactDir", artifacts };
        foreach (var name in names)
        {
            args.Add("--merge");
            args.Add(name + "=1.0.0");
        }

        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        var running = new HashSet<string>(StringComparer.Ordinal);
        var connected = new HashSet<string>(StringComparer.Ordinal);
        double allRunning = -1;
        double allConnected = -1;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var output = new StringBuilder();
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not { } line)
            {
                return;
            }

            lock (running)
            {
                output.AppendLine(line);
                foreach (var name in names)
                {
                    if (line.Contains($"Component {name} is RUNNING", StringComparison.Ordinal))
                    {
                        running.Add(name);
                    }
                    else if (line.Contains("connection accepted for " + name, StringComparison.Ordinal))
                    {
                        connected.Add(name);
                    }
                }

                if (allRunning < 0 && running.Count == names.Count)
                {
                    allRunning = clock.Elapsed.TotalMilliseconds;
                }

                if (allConnected < 0 && connected.Count == names.Count)
                {
                    allConnected = clock.Elapsed.TotalMilliseconds;
                }

                if (allRunning >= 0 && allConnected >= 0)
                {
                    done.TrySetResult();
                }
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (running)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (await Task.WhenAny(done.Task, Task.Delay(TimeSpan.FromSeconds(60))) != done.Task)
            {
                throw new TimeoutException("the components did not all become RUNNING and connected within 60 s:\n" + output);
            }

            await Task.Delay(idle);
            var nucleusRss = RssMb(process.Id);
            var nucleusAnon = StatusMb(process.Id, "RssAnon:");
            var children = ChildrenOf(process.Id);
            var componentRss = children.Count == 0 ? 0 : children.Average(RssMb);
            return new StartResult(allRunning, allConnected, nucleusRss, nucleusAnon, componentRss);
        }
        finally
        {
            _ = Kill(process.Id, 15);
            if (!process.WaitForExit(TimeSpan.FromSeconds(20)))
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static double RssMb(int pid) => StatusMb(pid, "VmRSS:");

    /// <summary>A memory line of /proc/PID/status in MB: VmRSS (all resident pages, including the mapped runtime and assemblies) or RssAnon (private heap and JIT code).</summary>
    private static double StatusMb(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(key, StringComparison.Ordinal))
            {
                var kb = double.Parse(line[key.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                return kb / 1024;
            }
        }

        return 0;
    }

    /// <summary>The component processes: the dotnet processes whose process group leader is a child of the Nucleus.</summary>
    private static List<int> ChildrenOf(int parent)
    {
        var result = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
                {
                    result.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return result;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
