using Fogline.LocalNucleus.CliAccess;
using System.Diagnostics;

namespace Fogline.LocalNucleus.Cli.Tests;

[CancelAfter(90_000)]
public class LogsAndStartTests
{
    private static CancellationToken Token => TestContext.CurrentContext.CancellationToken;

    [Test]
    public async Task LogsGet_PrintsAComponentsLog_FilteredBySubstrings()
    {
        await using var cli = await CliHarness.StartAsync();
        var logs = Path.Combine(cli.Root, "logs");
        Directory.CreateDirectory(logs);
        await File.WriteAllTextAsync(Path.Combine(logs, "com.example.Hello.log"), "INFO started\nERROR disk full\nINFO working\nERROR net down\n", Token);
        await File.WriteAllTextAsync(Path.Combine(logs, "other.log"), "ERROR not this one\n", Token);

        var all = await cli.RunAsync("logs", "get", "--component", "com.example.Hello");
        var errors = await cli.RunAsync("logs", "get", "--component", "com.example.Hello", "--filter", "ERROR", "--filter", "net");

        Assert.That(all.ExitCode, Is.Zero, all.Error);
        Assert.That(all.Output, Is.EqualTo("INFO started\nERROR disk full\nINFO working\nERROR net down\n"));
        Assert.That(errors.Output, Is.EqualTo("ERROR net down\n"));
    }

    [Test]
    public async Task LogsGet_OfTheLogDirectory_PrefixesEachLineWithItsFile()
    {
        await using var cli = await CliHarness.StartAsync();
        var logs = Path.Combine(cli.Root, "logs");
        Directory.CreateDirectory(logs);
        await File.WriteAllTextAsync(Path.Combine(logs, "a.log"), "one\n", Token);
        await File.WriteAllTextAsync(Path.Combine(logs, "b.log"), "two\n", Token);

        var result = await cli.RunAsync("logs", "get");
        var list = await cli.RunAsync("logs", "list-log-files");

        Assert.That(result.Output, Is.EqualTo("a.log: one\nb.log: two\n"));
        Assert.That(list.Output, Is.EqualTo($"{Path.Combine(logs, "a.log")}\n{Path.Combine(logs, "b.log")}\n"));
    }

    [Test]
    public async Task LogsGetFollow_PrintsLinesAsTheyAreAppended()
    {
        await using var cli = await CliHarness.StartAsync();
        var file = Path.Combine(cli.Root, "logs", "com.example.Hello.log");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, "first\n", Token);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);

        var (exit, output, _) = cli.Start(stop.Token, "logs", "get", "--component", "com.example.Hello", "--follow", "--filter", "keep");
        await File.AppendAllTextAsync(file, "keep this\ndrop this\nkeep that too\n", Token);

        await output.WaitForAsync("keep that too\n", Token);
        await stop.CancelAsync();
        Assert.That(await exit, Is.Zero);
        Assert.That(output.Text, Is.EqualTo("keep this\nkeep that too\n"));
    }

    [Test]
    public async Task LogsGet_OfAMissingLog_IsAnError()
    {
        await using var cli = await CliHarness.StartAsync();

        var result = await cli.RunAsync("logs", "get", "--component", "com.example.Nobody");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Is.EqualTo($"error: the log file {Path.Combine(cli.Root, "logs", "com.example.Nobody.log")} does not exist\n"));
    }

    [Test]
    public async Task Start_RunsANucleusTheOtherVerbsReach_AndStopsCleanly()
    {
        var root = CliHarness.NewRoot();
        Directory.CreateDirectory(root);
        var config = Path.Combine(root, "config.yaml");
        await File.WriteAllTextAsync(config, "services:\n  com.example.Started:\n    version: 3.1.4\n    configuration:\n      answer: 42\n", Token);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var output = new LiveOutput();
        var start = Task.Run(() => Cli.RunAsync(["start", "--root", root, "--init-config", config], output.Writer, output.Writer, stop.Token));
        try
        {
            while (CliIpcInfo.TryRead(root) is null || !File.Exists(Path.Combine(root, "work", "com.example.Started", ".ipc.env")))
            {
                Assert.That(start.IsCompleted, Is.False, output.Text);
                await Task.Delay(20, Token);
            }

            var details = await CliHarness.RunInAsync(root, "component", "details", "-n", "com.example.Started");
            Assert.That(details.ExitCode, Is.Zero, details.Error);
            Assert.That(details.Output, Is.EqualTo("Component Name: com.example.Started\n    Version: 3.1.4\n    State: NEW\n    Configuration: {\"answer\":42}\n"));

            var again = await CliHarness.RunInAsync(root, "start");
            Assert.That(again.ExitCode, Is.EqualTo(1));
            Assert.That(again.Error, Does.StartWith($"error: a local Nucleus already runs at {root}"));
        }
        finally
        {
            await stop.CancelAsync();
        }

        Assert.That(await start, Is.Zero);
        Assert.That(Directory.Exists(CliIpcInfo.DirectoryFor(root)), Is.False);
        Assert.That(File.Exists(CloudControlServer.SocketPathFor(root)), Is.False);
        var after = await CliHarness.RunInAsync(root, "component", "list");
        Assert.That(after.Error, Is.EqualTo($"error: no local Nucleus is running at {root} (no cli_ipc_info found)\n"));
        Directory.Delete(root, recursive: true);
    }

    [Test]
    public async Task TheBuiltExecutable_DrivesANucleus_AsAChildProcess()
    {
        await using var cli = await CliHarness.StartAsync();
        cli.Add("com.example.Child", "0.9.0");
        var dll = Path.Combine(AppContext.BaseDirectory, "local-nucleus.dll");
        Assert.That(File.Exists(dll), Is.True, dll);

        var list = await RunProcessAsync(dll, "component", "list", "--ggcRootPath", cli.Root);
        var bad = await RunProcessAsync(dll, "iotcore", "pub", "--root", cli.Root);

        Assert.That(list.ExitCode, Is.Zero, list.Error);
        Assert.That(list.Output, Does.Contain("Component Name: com.example.Child\n    Version: 0.9.0\n"));
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Error, Does.StartWith("error: "));
    }

    /// <summary>
    /// A Nucleus killed with SIGKILL (or with its terminal) leaves its socket, cli_ipc_info and running components
    /// behind. The next start tells that from a live Nucleus by the root's lock, kills what the dead one left running
    /// and starts over.
    /// </summary>
    [Test]
    public async Task Start_OverTheFilesOfANucleusKilledWithSigkill_StartsOver()
    {
        var root = CliHarness.NewRoot();
        var recipes = Path.Combine(root + "-recipes");
        Directory.CreateDirectory(recipes);
        var pids = Path.Combine(root + "-pids");
        await File.WriteAllTextAsync(Path.Combine(recipes, "sleeper.yaml"), $$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Sleeper
            ComponentVersion: '1.0.0'
            Manifests:
              - Platform: { os: linux }
                Lifecycle:
                  Run: 'echo $$ >> {{pids}} && exec sleep 600'
            """, Token);
        var dll = Path.Combine(AppContext.BaseDirectory, "local-nucleus.dll");
        string[] start = ["start", "--root", root, "--recipeDir", recipes, "--merge", "com.example.Sleeper=1.0.0"];

        using var first = StartProcess(dll, start);
        try
        {
            await WaitForAsync(() => File.Exists(pids) && File.ReadAllLines(pids).Length == 1, "the first Nucleus ran its component");
            var orphan = int.Parse(File.ReadAllLines(pids)[0], System.Globalization.CultureInfo.InvariantCulture);

            // The Nucleus records a process group right after it starts it (the component may write its pid first).
            var ledger = Path.Combine(root, ".nucleus", "process-groups");
            await WaitForAsync(() => File.Exists(ledger) && File.ReadAllText(ledger).StartsWith(orphan + " ", StringComparison.Ordinal), "the first Nucleus recorded the component's process group");
            first.Kill(entireProcessTree: false);
            await first.WaitForExitAsync(Token);
            Assert.That(File.Exists(Path.Combine(root, Nucleus.SocketFileName)), Is.True, "the dead Nucleus left its socket");
            Assert.That(CliIpcInfo.TryRead(root), Is.Not.Null, "and its cli_ipc_info");
            Assert.That(Process.GetProcessById(orphan).HasExited, Is.False, "and its component, still running");

            using var second = StartProcess(dll, start);
            try
            {
                await WaitForAsync(() => File.ReadAllLines(pids).Length == 2, "the second Nucleus started over and ran the component again");
                Assert.That(ProcessIsGone(orphan), Is.True, "what the dead Nucleus left running was stopped");
                var list = await CliHarness.RunInAsync(root, "component", "list");
                Assert.That(list.Output, Does.Contain("Component Name: com.example.Sleeper"), list.Error);

                var third = await RunProcessAsync(dll, "start", "--root", root);
                Assert.That(third.ExitCode, Is.EqualTo(1), "a live Nucleus is still refused");
                Assert.That(third.Error, Does.StartWith($"error: a local Nucleus already runs at {root} (pid {second.Id})"));
            }
            finally
            {
                second.Kill();
                await second.WaitForExitAsync(Token);
            }
        }
        finally
        {
            if (!first.HasExited)
            {
                first.Kill();
            }

            foreach (var line in File.Exists(pids) ? File.ReadAllLines(pids) : [])
            {
                try
                {
                    Process.GetProcessById(int.Parse(line, System.Globalization.CultureInfo.InvariantCulture)).Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }
    }

    /// <summary>Gone, or a zombie nobody reaped yet (its parent, the killed Nucleus, is gone too).</summary>
    private static bool ProcessIsGone(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return true;
        }

        var text = File.ReadAllText(stat);
        return text[(text.LastIndexOf(')') + 2)..].StartsWith('Z');
    }

    private static Process StartProcess(string dll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = false, RedirectStandardError = false, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return Process.Start(info)!;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        while (!condition())
        {
            Token.ThrowIfCancellationRequested();
            await Task.Delay(20, Token);
        }
    }

    private static async Task<CliResult> RunProcessAsync(string dll, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(Token);
        var error = process.StandardError.ReadToEndAsync(Token);
        await process.WaitForExitAsync(Token);
        return new CliResult(process.ExitCode, await output, await error);
    }
}
