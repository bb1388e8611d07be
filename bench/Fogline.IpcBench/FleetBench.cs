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
/// </summary>
internal static class FleetBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var devices = 100;
        var idle = TimeSpan.FromSeconds(20);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--devices": devices = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--idle": idle = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture)); break;
                default:
                    await Console.Error.WriteLineAsync("usage: Fogline.IpcBench fleet [--devices 100] [--idle 20]");
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

    private static (long RssKb, TimeSpan Cpu) Sample()
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var rss = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return (long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture), self.TotalProcessorTime);
    }
}
