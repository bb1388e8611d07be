using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.Aws.Iot;
using Fogline.LocalCloud;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.IoTCore;
using Fogline.Testing;

namespace Fogline.IpcBench;

/// <summary>
/// <c>deploy</c>: the time from CreateDeployment to the device's job execution SUCCEEDED, for one local Nucleus
/// connected through Mosquitto (mutual TLS) to a local cloud, deploying a component with one artifact, alternately
/// version 1.0.0 and 1.0.1 (each a real change: download, digest check, stop, install, start until RUNNING). The
/// client polls DescribeJobExecution every 20 ms, so the figures include up to 20 ms of polling. Then the idle memory
/// of the <c>local-nucleus</c> process (Release build) with the emulated IoT Core and with the MQTT connection.
/// </summary>
internal static class DeployBench
{
    /// <summary>Starts <c>local-nucleus start</c> on a new root, waits 5 s, returns its VmRSS in KiB, stops it.</summary>
    private static async Task<long> IdleRssAsync(string cli, string root, string[] flags)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { cli, "start", "--root", root }.Concat(flags))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await Task.Delay(TimeSpan.FromSeconds(5));
        var rss = File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        return long.Parse(rss.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = 10;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    await Console.Error.WriteLineAsync("usage: Fogline.IpcBench deploy [--runs 10]");
                    return 2;
            }
        }

        var directory = Directory.CreateTempSubdirectory("fogline-deploy-bench-").FullName;
        try
        {
            await using var broker = await MosquittoBroker.StartAsync();
            var (certificate, key) = broker.Pki.IssueServer("dataplane");
            await using var cloud = await LocalCloudServer.StartAsync(new LocalCloudOptions
            {
                DataDirectory = Path.Combine(directory, "cloud"),
                ComponentProcessingDelay = TimeSpan.Zero,
                CapturedRequests = 0,
                Broker = broker.ClientOptions(MosquittoBroker.Cloud),
                DataPlane = new DataPlaneOptions { CertificateFile = certificate, PrivateKeyFile = key, DevicesCaFile = broker.Pki.CaCertificateFile },
            });
            await cloud.BrokerConnected.WaitAsync(TimeSpan.FromSeconds(20));
            var keys = cloud.Keys.Default;
            using var aws = new AwsClients(AwsSettings.Resolve("us-east-1", profile: null, endpointUrl: cloud.Endpoint.ToString(), credentials: new BasicAWSCredentials(keys.AccessKeyId, keys.SecretAccessKey)));
            await aws.Iot.CreateThingAsync(new CreateThingRequest { ThingName = "bench-device" });
            await aws.S3.PutBucketAsync("bench-artifacts");
            foreach (var version in new[] { "1.0.0", "1.0.1" })
            {
                await aws.S3.PutObjectAsync(new Amazon.S3.Model.PutObjectRequest { BucketName = "bench-artifacts", Key = $"hello/{version}/hello.sh", ContentBody = $"echo {version}; exec sleep 600\n" });
                var recipe = $$$"""
                    {"RecipeFormatVersion":"2020-01-25","ComponentName":"com.example.Hello","ComponentVersion":"{{{version}}}",
                     "Manifests":[{"Platform":{"os":"linux"},"Artifacts":[{"URI":"s3://bench-artifacts/hello/{{{version}}}/hello.sh"}],"Lifecycle":{"Run":"sh {artifacts:path}/hello.sh"}}]}
                    """;
                await aws.Greengrass.CreateComponentVersionAsync(new CreateComponentVersionRequest { InlineRecipe = System.Text.Encoding.UTF8.GetBytes(recipe) });
            }

            await using var nucleus = await Nucleus.StartAsync(new NucleusOptions
            {
                RootPath = Path.Combine(directory, "device"),
                ThingName = "bench-device",
                IoTCore = new IoTCoreOptions { Broker = broker.ClientOptions("bench-device") },
                DataPlaneEndpoint = cloud.DataPlaneEndpoint,
            });
            while (!nucleus.IoTCore.IsOnline)
            {
                await Task.Delay(20);
            }

            var times = new List<double>();
            for (var run = 0; run < runs + 1; run++)
            {
                var version = run % 2 == 0 ? "1.0.0" : "1.0.1";
                var watch = Stopwatch.StartNew();
                var created = await aws.Greengrass.CreateDeploymentAsync(new CreateDeploymentRequest
                {
                    TargetArn = $"arn:aws:iot:us-east-1:{keys.AccountId}:thing/bench-device",
                    Components = new Dictionary<string, ComponentDeploymentSpecification> { ["com.example.Hello"] = new() { ComponentVersion = version } },
                });
                while (true)
                {
                    var execution = (await aws.Iot.DescribeJobExecutionAsync(new DescribeJobExecutionRequest { JobId = created.IotJobId, ThingName = "bench-device" })).Execution!;
                    if (execution.Status is "SUCCEEDED" or "FAILED")
                    {
                        if (execution.Status != "SUCCEEDED")
                        {
                            throw new InvalidOperationException($"deployment {run} failed: {string.Join(", ", execution.StatusDetails?.DetailsMap ?? [])}");
                        }

                        break;
                    }

                    await Task.Delay(20);
                }

                if (run > 0)
                {
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
            }

            times.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"CreateDeployment → SUCCEEDED, one device through Mosquitto (mTLS), {runs} deployments after a warm-up: median {times[times.Count / 2]:0} ms, min {times[0]:0} ms, max {times[^1]:0} ms"));

            // Idle memory of the local-nucleus process with the emulated IoT Core and with the MQTT connection.
            var cli = Path.Combine(Program.FindRepositoryRoot() ?? ".", "tools", "Fogline.LocalNucleus.Cli", "bin", "Release", "net10.0", "local-nucleus.dll");
            if (File.Exists(cli))
            {
                var device = broker.ClientOptions("bench-memory");
                var emulated = await IdleRssAsync(cli, Path.Combine(directory, "rss-emulated"), []);
                var connected = await IdleRssAsync(cli, Path.Combine(directory, "rss-mqtt"),
                    ["--thing-name", "bench-memory", "--iot-endpoint", "127.0.0.1", "--mqtt-port", broker.Port.ToString(CultureInfo.InvariantCulture), "--cert", device.CertificateFile, "--private-key", device.PrivateKeyFile, "--root-ca", device.RootCaFile]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"local-nucleus idle RSS after 5 s: emulated IoT Core {emulated / 1024.0:0.0} MB, connected to Mosquitto with mTLS {connected / 1024.0:0.0} MB"));
            }
            else
            {
                Console.WriteLine("(build tools/Fogline.LocalNucleus.Cli in Release for the memory figures)");
            }

            return 0;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
