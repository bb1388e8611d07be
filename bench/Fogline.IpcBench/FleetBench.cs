using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.Fleet;
using Fogline.LocalCloud;
using Fogline.LocalCloud.Devices;

namespace Fogline.IpcBench;

/// <summary>
/// <c>fleet</c>: a simulated fleet of N cloud-connected local Nucleus devices in this process, with the local cloud and
/// its Mosquitto: the time to register and start them until every one is connected, then the memory and CPU the fleet
/// uses per device while idle (this process's RSS and CPU time, before and after, so the cloud's share is included).
/// With <c>--rollout</c>, then: the group's first deployment to every device; a good version rolled out in three
/// stages (wall time); a version that crashes 4 s after starting (its deployment SUCCEEDED first) rolled out the same
/// way (blast radius: devices that ever ran it; time from the first device running it to the whole fleet back on the
/// previous version); and the same bad version deployed to the whole group with only IoT Jobs' abort configuration
/// (how many devices end on it).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class FleetBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var devices = 100;
        var idle = TimeSpan.FromSeconds(20);
        var rollout = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--devices": devices = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--idle": idle = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                case "--rollout": rollout = true; break;
                default:
                    await Console.Error.WriteLineAsync("usage: Fogline.IpcBench fleet [--devices 100] [--idle 20] [--rollout]");
                    return 2;
            }
        }

        var directory = Directory.CreateTempSubdirectory("fogline-fleet-bench-").FullName;
        try
        {
            await using var cloud = await LocalCloudDirectory.OpenAsync(directory, reuseRunning: false, configure: o => o with { ComponentProcessingDelay = TimeSpan.Zero },
                devices: new DeviceNetworkOptions { MqttPort = 0, DataPlanePort = 0 });
            var key = cloud.Keys.Default;
            using var clients = new AwsClients(AwsSettings.Resolve("us-east-1", endpointUrl: cloud.Endpoint.ToString(), credentials: new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey)));
            var (rssBefore, cpuBefore) = Sample();
            var started = Stopwatch.StartNew();
            await using var fleet = await SimulatedFleet.StartAsync(new FleetOptions { CloudDirectory = directory, Group = "fleet", Devices = devices }, clients.Iot, progress: Console.WriteLine);
            while (fleet.Devices.Any(d => d.Nucleus is { IoTCore.IsOnline: false }))
            {
                await Task.Delay(100);
            }

            var up = started.Elapsed;
            Console.WriteLine($"{devices} devices registered, started and connected in {up.TotalSeconds:0.0} s ({up.TotalMilliseconds / devices:0.0} ms per device)");
            GC.Collect();
            await Task.Delay(TimeSpan.FromSeconds(2));
            var (rssUp, cpuUp) = Sample();
            await Task.Delay(idle);
            var (rssIdle, cpuIdle) = Sample();
            Console.WriteLine($"memory: {(rssIdle - rssBefore) / 1024.0:0.0} MB for the fleet = {(rssIdle - rssBefore) / (double)devices:0} KB per device (process RSS {rssBefore / 1024.0:0} MB before, {rssIdle / 1024.0:0} MB after)");
            Console.WriteLine($"CPU while idle: {(cpuIdle - cpuUp).TotalMilliseconds / idle.TotalMilliseconds * 100:0.00} % of one core for the fleet = {(cpuIdle - cpuUp).TotalMilliseconds / idle.TotalMilliseconds * 100 / devices:0.000} % per device over {idle.TotalSeconds:0} s");
            if (rollout)
            {
                await RolloutAsync(directory, cloud, clients, fleet);
            }

            return 0;
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

    private static async Task RolloutAsync(string directory, LocalCloudDirectory cloud, AwsClients clients, SimulatedFleet fleet)
    {
        var account = cloud.Keys.Default.AccountId;
        var group = $"arn:aws:iot:us-east-1:{account}:thinggroup/fleet";
        // Every (device, version) that reached RUNNING, with when.
        var ran = new System.Collections.Concurrent.ConcurrentDictionary<(string Thing, string Version), DateTime>();
        foreach (var device in fleet.Devices)
        {
            device.Nucleus!.Components.StateChanged += (_, change) =>
            {
                if (change.Current == Fogline.Greengrass.Ipc.LifecycleState.Running && change.Component.Name == "com.example.Filter")
                {
                    ran.TryAdd((device.Thing, change.Component.Version), DateTime.UtcNow);
                }
            };
        }

        foreach (var (version, run) in new[] { ("1.0.0", "exec sleep 3600"), ("1.1.0", "exec sleep 3600"), ("1.2.0", "sleep 4; exit 3"), ("1.2.1", "sleep 4; exit 3") })
        {
            var recipe = Path.Combine(directory, $"filter-{version}.yaml");
            await File.WriteAllTextAsync(recipe, $"RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Filter\nComponentVersion: '{version}'\nManifests:\n  - Lifecycle:\n      Run: {run}\n");
            await clients.Greengrass.CreateComponentVersionAsync(new Fogline.Aws.GreengrassV2.CreateComponentVersionRequest { InlineRecipe = await File.ReadAllBytesAsync(recipe) });
        }

        await Task.Delay(500);
        bool AllOn(string version) => fleet.Devices.All(d => d.Nucleus!.Components.TryGet("com.example.Filter", out var c) && c.Version == version && c.State == Fogline.Greengrass.Ipc.LifecycleState.Running);
        var clock = Stopwatch.StartNew();
        await clients.Greengrass.CreateDeploymentAsync(new Fogline.Aws.GreengrassV2.CreateDeploymentRequest
        {
            TargetArn = group,
            Components = new Dictionary<string, Fogline.Aws.GreengrassV2.ComponentDeploymentSpecification> { ["com.example.Filter"] = new() { ComponentVersion = "1.0.0" } },
        });
        while (!AllOn("1.0.0"))
        {
            await Task.Delay(200);
        }

        Console.WriteLine($"first deployment of the group: every one of {fleet.Devices.Count} devices RUNNING 1.0.0 after {clock.Elapsed.TotalSeconds:0.0} s");
        await Task.Delay(TimeSpan.FromSeconds(10));

        async Task<(int Exit, string Output, TimeSpan Took)> RunPlanAsync(string version)
        {
            var plan = Path.Combine(directory, $"plan-{version}.yaml");
            await File.WriteAllTextAsync(plan, $"group: fleet\ncomponents:\n  com.example.Filter: {version}\nspreadBy: site\nstages:\n  - name: canary\n    devices: 10\n    bake: 20s\n  - name: tenth\n    percent: 10\n    bake: 10s\n  - name: all\n    percent: 100\n    bake: 10s\ngates:\n  deploymentTimeout: 5m\n");
            var output = new StringWriter();
            var watch = Stopwatch.StartNew();
            var exit = await Fogline.Cli.Cli.RunAsync(["rollout", "run", "--plan", plan, "--poll", "2s", "--state-dir", Path.Combine(directory, "rollouts"), "--target", "local", "--cloud-dir", directory], TextWriter.Synchronized(output), TextWriter.Synchronized(output));
            return (exit, output.ToString(), watch.Elapsed);
        }

        var good = await RunPlanAsync("1.1.0");
        Console.WriteLine($"good rollout (10 devices, 10 %, 100 %; bakes 20/10/10 s): exit {good.Exit} in {good.Took.TotalSeconds:0.0} s; every device on 1.1.0: {AllOn("1.1.0")}");
        // The whole fleet back is watched on the devices while the rollout runs (the run itself goes on to verify the
        // revert from the cloud's reports, which arrive later).
        var running = RunPlanAsync("1.2.0");
        while (!ran.Keys.Any(k => k.Version == "1.2.0") && !running.IsCompleted)
        {
            await Task.Delay(100);
        }

        var backAt = DateTime.MaxValue;
        var failedAt = DateTime.MaxValue;
        var watchBack = Stopwatch.StartNew();
        while (watchBack.Elapsed < TimeSpan.FromMinutes(5))
        {
            if (failedAt == DateTime.MaxValue && fleet.Devices.Any(d => d.Nucleus!.Components.TryGet("com.example.Filter", out var c) && c.Version == "1.2.0" && c.State != Fogline.Greengrass.Ipc.LifecycleState.Running))
            {
                failedAt = DateTime.UtcNow;
            }

            if (AllOn("1.1.0"))
            {
                backAt = DateTime.UtcNow;
                break;
            }

            await Task.Delay(100);
        }

        var bad = await running;
        var firstRan = ran.Where(r => r.Key.Version == "1.2.0").Select(r => r.Value).DefaultIfEmpty(DateTime.UtcNow).Min();
        var radius = ran.Keys.Where(k => k.Version == "1.2.0").Select(k => k.Thing).Distinct().Count();
        Console.WriteLine($"bad rollout (crashes 4 s after starting): exit {bad.Exit} in {bad.Took.TotalSeconds:0.0} s; blast radius {radius} of {fleet.Devices.Count} devices ran 1.2.0; first device running it to the whole fleet back on 1.1.0: {(backAt - firstRan).TotalSeconds:0.0} s (first failing device to all back: {(backAt - failedAt).TotalSeconds:0.0} s)");
        foreach (var line in bad.Output.Split('\n').Where(l => l.Contains("gate", StringComparison.Ordinal) || l.Contains("revert", StringComparison.Ordinal)))
        {
            Console.WriteLine("    " + line.Trim());
        }

        // The same fault with IoT Jobs' abort configuration alone: the whole group, abort when 10 % of at least 10 failed.
        await clients.Greengrass.CreateDeploymentAsync(new Fogline.Aws.GreengrassV2.CreateDeploymentRequest
        {
            TargetArn = group,
            Components = new Dictionary<string, Fogline.Aws.GreengrassV2.ComponentDeploymentSpecification> { ["com.example.Filter"] = new() { ComponentVersion = "1.2.1" } },
            IotJobConfiguration = new Fogline.Aws.GreengrassV2.DeploymentIoTJobConfiguration
            {
                AbortConfig = new Fogline.Aws.GreengrassV2.IoTJobAbortConfig { CriteriaList = [new Fogline.Aws.GreengrassV2.IoTJobAbortCriteria { FailureType = "FAILED", Action = "CANCEL", ThresholdPercentage = 10, MinNumberOfExecutedThings = 10 }] },
                JobExecutionsRolloutConfig = new Fogline.Aws.GreengrassV2.IoTJobExecutionsRolloutConfig { MaximumPerMinute = 1000 },
            },
        });
        await Task.Delay(TimeSpan.FromSeconds(60));
        var onBad = fleet.Devices.Count(d => d.Nucleus!.Components.TryGet("com.example.Filter", out var c) && c.Version == "1.2.1");
        var ranBad = ran.Keys.Where(k => k.Version == "1.2.1").Select(k => k.Thing).Distinct().Count();
        Console.WriteLine($"abort configuration alone (same fault, 1.2.1): {ranBad} of {fleet.Devices.Count} devices ran it; {onBad} still on it 60 s later (their deployments SUCCEEDED before the crash, so no execution failed and the job never aborted)");
    }

    private static (long RssKb, TimeSpan Cpu) Sample()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var rss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture), self.TotalProcessorTime);
    }
}
