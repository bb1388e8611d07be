using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus.Lifecycle;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Lifecycle;

/// <summary>The supervisor with real child processes (sh scripts as components).</summary>
[CancelAfter(90_000)]
[NonParallelizable]
public class SupervisorTests
{
    private TestNucleus _nucleus = null!;
    private string _scratch = null!;

    [SetUp]
    public async Task SetUp()
    {
        _nucleus = await TestNucleus.StartAsync(root => new NucleusOptions
        {
            RootPath = root,
            ThingName = "test-thing",
            Lifecycle = new LifecycleOptions { ShutdownGracePeriod = TimeSpan.FromMilliseconds(500) },
        });
        _scratch = Path.Combine(_nucleus.Root, "scratch");
        Directory.CreateDirectory(_scratch);
    }

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    private Nucleus Nucleus => _nucleus.Nucleus;

    [Test]
    public async Task Run_ExitsZero_Finished_WithTheNucleusEnvironmentAndSetenvOrder()
    {
        var hello = Resolve("""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Hello
            ComponentVersion: '1.0.0'
            ComponentConfiguration:
              DefaultConfiguration:
                greeting: hi
            Manifests:
              - Platform: { os: linux }
                Lifecycle:
                  Setenv:
                    LEVEL: lifecycle
                    GREETING: '{configuration:/greeting}'
                  Install: echo installing
                  Run:
                    Setenv:
                      LEVEL: step
                    Script: |-
                      echo "thing=$AWS_IOT_THING_NAME level=$LEVEL greeting=$GREETING pwd=$(pwd)"
                      test -n "$SVCUID" && echo has-token
                      test -n "$AWS_GG_NUCLEUS_DOMAIN_SOCKET_FILEPATH_FOR_COMPONENT" && echo has-socket
            """);

        var result = await Nucleus.Supervisor.ApplyAsync([hello], TimeSpan.FromSeconds(30));

        Assert.That(result.Succeeded, Is.True, string.Join("; ", result.Errors));
        Assert.That(State("com.example.Hello"), Is.EqualTo(LifecycleState.Finished));
        var log = await WaitForLogAsync("com.example.Hello", "has-socket");
        Assert.That(log, Does.Contain($"thing=test-thing level=step greeting=hi pwd={Path.GetFullPath(Path.Combine(_nucleus.Root, "work", "com.example.Hello"))}"));
        Assert.That(log, Does.Contain("has-token"));
        Assert.That(log, Does.Contain("[INFO] (Install) com.example.Hello: stdout. installing."));
        Assert.That(log, Does.Not.Contain(Nucleus.Components.All.Single(c => c.Name == "com.example.Hello").Token), "the token is never logged by the supervisor");
    }

    [Test]
    public async Task Run_ExitsNonZeroThreeTimes_RecoverRuns_ThenBroken()
    {
        var counter = Path.Combine(_scratch, "recovered");
        var failing = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Failing
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Run: echo failing; exit 3
                  Recover: echo x >> {{counter}}
            """);

        var result = await Nucleus.Supervisor.ApplyAsync([failing], TimeSpan.FromSeconds(30));

        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Broken, Is.EqualTo(new[] { "com.example.Failing" }));
        Assert.That(State("com.example.Failing"), Is.EqualTo(LifecycleState.Broken));
        Assert.That(File.ReadAllLines(counter), Has.Length.EqualTo(2), "Recover runs after the first two errors; the third makes it BROKEN");
        Assert.That(await WaitForLogAsync("com.example.Failing", "failing"), Does.Contain("(Run) com.example.Failing: stdout. failing."));
    }

    /// <summary>
    /// BROKEN is decided once, by the Nucleus's rule, whether the errors are reported by the component over IPC or
    /// are the supervisor's (a step that fails): two reported errors 50 minutes apart, then the process dies 50
    /// minutes later, make three in a row (a sliding one-hour window would have counted two).
    /// </summary>
    [Test]
    public async Task ReportedErrorsAndAFailedStep_0_50And100MinutesApart_MakeItBroken()
    {
        var clock = new ManualClock(systemTimers: true);
        await using var nucleus = await TestNucleus.StartAsync(root => new NucleusOptions
        {
            RootPath = root,
            TimeProvider = clock,
            Lifecycle = new LifecycleOptions { ShutdownGracePeriod = TimeSpan.FromMilliseconds(500), StableTime = TimeSpan.Zero },
        });
        using var ticking = new CancellationTokenSource();
        var ticker = Task.Run(async () =>
        {
            while (!ticking.IsCancellationRequested)
            {
                clock.Advance(TimeSpan.FromMilliseconds(20));
                await Task.Delay(20);
            }
        });
        try
        {
            var recipe = ComponentRecipe.Parse("""
                RecipeFormatVersion: '2020-01-25'
                ComponentName: com.example.Flaky
                ComponentVersion: '1.0.0'
                Manifests:
                  - Lifecycle:
                      Run: exec sleep 600
                """, "recipe.yaml");
            var flaky = new ResolvedComponent(recipe.ComponentName, recipe.ComponentVersion, recipe, recipe.ResolveFor(DevicePlatform.Detect()), [],
                ComponentPaths.ForNucleusRoot(Path.GetFullPath(nucleus.Root), recipe.ComponentName, "1.0.0"));
            Assert.That((await nucleus.Nucleus.Supervisor.ApplyAsync([flaky], TimeSpan.FromSeconds(30))).Succeeded, Is.True);
            var record = nucleus.Nucleus.Components.All.Single(c => c.Name == "com.example.Flaky");

            async Task<int> RunningProcessAsync()
            {
                await Eventually.UntilAsync(() => record.State == LifecycleState.Running && nucleus.Nucleus.Supervisor.ProcessIds(record.Name).Count == 1, "RUNNING");
                return nucleus.Nucleus.Supervisor.ProcessIds(record.Name).Single();
            }

            async Task ReportErroredAsync()
            {
                var pid = await RunningProcessAsync();
                var client = await nucleus.ConnectAsync(record);
                await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Errored });
                await Eventually.UntilAsync(() => !nucleus.Nucleus.Supervisor.ProcessIds(record.Name).Contains(pid), "the errored process stopped");
            }

            await ReportErroredAsync();
            clock.Advance(TimeSpan.FromMinutes(50));
            await ReportErroredAsync();
            clock.Advance(TimeSpan.FromMinutes(50));
            System.Diagnostics.Process.GetProcessById(await RunningProcessAsync()).Kill();

            await Eventually.UntilAsync(() => record.State == LifecycleState.Broken, "BROKEN after the third error in a row");
        }
        finally
        {
            await ticking.CancelAsync();
            await ticker;
        }
    }

    [Test]
    public async Task InstallTimeout_IsAnError()
    {
        var slow = Resolve("""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.SlowInstall
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Install:
                    Script: sleep 30
                    Timeout: 1
                  Run: echo never
            """);

        var result = await Nucleus.Supervisor.ApplyAsync([slow], TimeSpan.FromSeconds(30));

        Assert.That(result.Broken, Is.EqualTo(new[] { "com.example.SlowInstall" }));
        Assert.That(File.ReadAllText(Nucleus.Supervisor.LogPath("com.example.SlowInstall")), Does.Not.Contain("never"));
    }

    [Test]
    public async Task HardDependency_StartsFirst_AndRestartsItsDependents_SoftDoesNot()
    {
        var order = Path.Combine(_scratch, "order");
        var b = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.B
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Startup: sleep 0.3; echo B >> {{order}}
            """);
        var a = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.A
            ComponentVersion: '1.0.0'
            ComponentDependencies:
              com.example.B: { VersionRequirement: '^1.0.0', DependencyType: HARD }
            Manifests:
              - Lifecycle:
                  Run: echo A >> {{order}}; exec sleep 1000
            """);
        var s = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.S
            ComponentVersion: '1.0.0'
            ComponentDependencies:
              com.example.B: { VersionRequirement: '^1.0.0', DependencyType: SOFT }
            Manifests:
              - Lifecycle:
                  Run: echo S >> {{order}}; exec sleep 1000
            """);

        var result = await Nucleus.Supervisor.ApplyAsync([a, s, b], TimeSpan.FromSeconds(30));

        Assert.That(result.Succeeded, Is.True, string.Join("; ", result.Errors));
        var lines = File.ReadAllLines(order);
        Assert.That(Array.IndexOf(lines, "B"), Is.LessThan(Array.IndexOf(lines, "A")), "B (HARD dependency) before A");

        await Nucleus.Supervisor.RestartAsync(Record("com.example.B"));
        await Eventually.UntilAsync(() => File.ReadAllLines(order).Count(l => l == "A") == 2 && State("com.example.A") == LifecycleState.Running, "A restarted after B");

        Assert.That(File.ReadAllLines(order).Count(l => l == "S"), Is.EqualTo(1), "the SOFT dependent was not restarted");
    }

    [Test]
    public async Task Stop_ShutdownThenSigterm_ThenSigkillOfTheWholeGroup()
    {
        var shutdownRan = Path.Combine(_scratch, "shutdown");
        var stubborn = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Stubborn
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Run: trap '' TERM; sleep 1000 & while true; do sleep 0.1; done
                  Shutdown:
                    Script: touch {{shutdownRan}}; sleep 100
                    Timeout: 1
            """);
        await Nucleus.Supervisor.ApplyAsync([stubborn], TimeSpan.FromSeconds(30));
        var pgid = Nucleus.Supervisor.ProcessIds("com.example.Stubborn").Single();
        await Eventually.UntilAsync(() => GroupMembers(pgid).Count >= 2, "the background child is running");

        await Nucleus.Supervisor.StopAsync(Record("com.example.Stubborn"));

        Assert.That(File.Exists(shutdownRan), Is.True, "Shutdown ran first");
        await Eventually.UntilAsync(() => GroupMembers(pgid).Count == 0, "the whole process group is gone (SIGKILL after the ignored SIGTERM)");
        Assert.That(State("com.example.Stubborn"), Is.EqualTo(LifecycleState.Finished));
    }

    [Test]
    public async Task PauseAndResume_StopAndContinueTheProcessGroup()
    {
        var sleeper = Resolve("""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Sleeper
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Run: exec sleep 1000
            """);
        await Nucleus.Supervisor.ApplyAsync([sleeper], TimeSpan.FromSeconds(30));
        var pid = Nucleus.Supervisor.ProcessIds("com.example.Sleeper").Single();

        await Nucleus.Supervisor.PauseAsync(Record("com.example.Sleeper"));
        await Eventually.UntilAsync(() => ProcState(pid) == 'T', "the process is stopped");
        Assert.That(Record("com.example.Sleeper").IsPaused, Is.True);

        await Nucleus.Supervisor.ResumeAsync(Record("com.example.Sleeper"));
        await Eventually.UntilAsync(() => ProcState(pid) is 'S' or 'R', "the process runs again");
        Assert.That(Record("com.example.Sleeper").IsPaused, Is.False);
    }

    [Test]
    public async Task Apply_RemovesComponentsNoLongerWanted_AndKeepsUnchangedOnesRunning()
    {
        var one = Resolve(SleeperRecipe("com.example.One", "1.0.0"));
        var two = Resolve(SleeperRecipe("com.example.Two", "1.0.0"));
        await Nucleus.Supervisor.ApplyAsync([one, two], TimeSpan.FromSeconds(30));
        var onePid = Nucleus.Supervisor.ProcessIds("com.example.One").Single();
        var twoPid = Nucleus.Supervisor.ProcessIds("com.example.Two").Single();

        var result = await Nucleus.Supervisor.ApplyAsync([Resolve(SleeperRecipe("com.example.One", "1.0.0"))], TimeSpan.FromSeconds(30));

        Assert.That(result.Succeeded, Is.True);
        Assert.That(Nucleus.Supervisor.ProcessIds("com.example.One").Single(), Is.EqualTo(onePid), "unchanged: not restarted");
        await Eventually.UntilAsync(() => GroupMembers(twoPid).Count == 0, "Two's processes are gone");
        Assert.That(Nucleus.Components.TryGet("com.example.Two", out _), Is.False);
        Assert.That(Nucleus.Supervisor.Current.Keys, Is.EquivalentTo(new[] { "com.example.One" }));
    }

    [Test]
    public async Task Startup_ComponentReportsRunningOverIpc_ThenErroredIsHandledAsAFailure()
    {
        var flag = Path.Combine(_scratch, "go");
        var service = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Service
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Startup: while [ ! -f {{flag}} ]; do sleep 0.05; done
            """);
        var apply = Nucleus.Supervisor.ApplyAsync([service], TimeSpan.FromSeconds(30));
        await Eventually.UntilAsync(() => State("com.example.Service") == LifecycleState.Starting, "STARTING while Startup runs");

        await using (var client = await _nucleus.ConnectAsync(Record("com.example.Service")))
        {
            await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        }

        await Eventually.UntilAsync(() => State("com.example.Service") == LifecycleState.Running, "RUNNING as reported over IPC");
        File.WriteAllText(flag, "go");
        Assert.That((await apply).Succeeded, Is.True);
    }

    private static string SleeperRecipe(string name, string version) => $"""
        RecipeFormatVersion: '2020-01-25'
        ComponentName: {name}
        ComponentVersion: '{version}'
        Manifests:
          - Lifecycle:
              Run: exec sleep 1000
        """;

    [Test]
    public async Task WithAProcessSupervisor_ANewComponentCannotReportRunning()
    {
        // A component the supervisor runs is NEW while its Install step runs: a RUNNING report then is ignored.
        var flag = Path.Combine(_nucleus.Root, "install-may-finish");
        var resolved = Resolve($$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.A
            ComponentVersion: '1.0.0'
            Manifests:
              - Lifecycle:
                  Install: while [ ! -f {{flag}} ]; do sleep 0.05; done
                  Startup: 'true'
            """);
        var apply = Nucleus.Supervisor.ApplyAsync([resolved], TimeSpan.FromSeconds(30));
        await Eventually.UntilAsync(() => Nucleus.Supervisor.ProcessIds("com.example.A").Count == 1, "Install runs");
        Nucleus.Components.TryGet("com.example.A", out var a);
        var client = await _nucleus.ConnectAsync(a!);

        await client.UpdateStateAsync(new UpdateStateRequest { State = ReportedLifecycleState.Running });
        Assert.That(a!.State, Is.EqualTo(LifecycleState.New), "NEW takes only ERRORED");

        File.WriteAllText(flag, "go");
        Assert.That((await apply).Succeeded, Is.True);
        Assert.That(a.State, Is.EqualTo(LifecycleState.Running));
    }

    private ResolvedComponent Resolve(string yaml)
    {
        var recipe = ComponentRecipe.Parse(yaml, "recipe.yaml");
        var platform = recipe.ResolveFor(DevicePlatform.Detect());
        return new ResolvedComponent(recipe.ComponentName, recipe.ComponentVersion, recipe, platform, (JsonObject)recipe.DefaultConfiguration.DeepClone(),
            ComponentPaths.ForNucleusRoot(Path.GetFullPath(_nucleus.Root), recipe.ComponentName, recipe.ComponentVersion.ToString()));
    }

    private Fogline.LocalNucleus.Components.ComponentRecord Record(string name) => Nucleus.Components.TryGet(name, out var r) ? r : throw new InvalidOperationException(name);

    private LifecycleState State(string name) => Record(name).State;

    private async Task<string> WaitForLogAsync(string component, string text)
    {
        var path = Nucleus.Supervisor.LogPath(component);
        await Eventually.UntilAsync(() => File.Exists(path) && ReadShared(path).Contains(text, StringComparison.Ordinal), $"'{text}' in {path}");
        return ReadShared(path);
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return new StreamReader(stream).ReadToEnd();
    }

    private static List<int> GroupMembers(int pgid)
    {
        var members = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture) == pgid && fields[0] != "Z")
                {
                    members.Add(pid);
                }
            }
            catch (IOException)
            {
            }
        }

        return members;
    }

    private static char ProcState(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[stat.LastIndexOf(')') + 2];
    }
}
