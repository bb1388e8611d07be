using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.Gdk;
using Fogline.Gdk.Publishing;
using Fogline.LocalCloud;

namespace Fogline.IpcBench;

/// <summary>
/// <c>publish</c>: <c>fogline component publish</c> of the five pipeline components (built: greengrass-build/ in each
/// components/NAME) to a local Greengrass cloud on a fresh directory, as the CLI does it (create every version, then
/// wait for all): cold (bucket created, every artifact uploaded, 1.0.0), then again with nothing changed (1.0.1, a new
/// version, so every artifact again), and a third time waiting for each version before the next as GDK does. Upload throughput is set against a raw loopback copy of the same bytes in the
/// same run: a socket into a file fsynced as the local cloud's S3 store does.
/// </summary>
internal static class PublishBench
{
    private static readonly string[] Pipeline = ["SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "CloudUplink"];

    public static async Task<int> RunAsync(string[] args, string root)
    {
        var runs = 3;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs": runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                default:
                    await Console.Error.WriteLineAsync("usage: Fogline.IpcBench publish [--runs 3]   (build first: fogline component build --all)");
                    return 2;
            }
        }

        var projects = Pipeline.Select(n => GdkProject.Load(Path.Combine(root, "components", n))).ToList();
        var missing = projects.Where(p => !Directory.Exists(p.ComponentArtifactsDirectory)).Select(p => p.Config.ComponentName).ToList();
        if (missing.Count > 0)
        {
            await Console.Error.WriteLineAsync($"not built: {string.Join(", ", missing)}; run `dotnet run --project tools/Fogline.Cli -- component build --all` first");
            return 1;
        }

        var files = projects.SelectMany(p => Directory.GetFiles(p.ComponentArtifactsDirectory)).ToList();
        var bytes = files.Sum(f => new FileInfo(f).Length);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"publish: 5 components, {files.Count} artifacts, {bytes / 1048576.0:0.0} MiB; {runs} runs, each on a fresh local cloud (processing delay 500 ms, the default)"));
        Console.WriteLine();
        Console.WriteLine("| run | cold publish (1.0.0) | unchanged publish (1.0.1) | upload MiB/s (publish) | raw loopback MiB/s | ratio | MD5 + SHA-256 twice, MiB/s | one by one as GDK (1.0.2) |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        for (var run = 1; run <= runs; run++)
        {
            var directory = Directory.CreateTempSubdirectory("fogline-publish-bench-").FullName;
            try
            {
                await using var cloud = await LocalCloudServer.StartAsync(new LocalCloudOptions { DataDirectory = directory, CapturedRequests = 0 });
                var key = cloud.Keys.Default;
                using var aws = new AwsClients(AwsSettings.Resolve("us-east-1", profile: null, endpointUrl: cloud.Endpoint.ToString(), credentials: new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey)));
                var (cold, coldResults) = await PublishAllAsync(aws, projects);
                var (again, againResults) = await PublishAllAsync(aws, projects);
                var (sequential, _) = await PublishAllAsync(aws, projects, waitEach: true);
                var uploads = coldResults.Concat(againResults).SelectMany(r => r.Artifacts).Where(a => a.Uploaded).ToList();
                var uploadRate = uploads.Sum(a => a.Bytes) / uploads.Sum(a => a.Elapsed.TotalSeconds) / 1048576.0;
                var raw = await RawLoopbackCopyAsync(files, directory);
                var hashes = HashRate(files);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {run} | {cold.TotalSeconds:0.00} s | {again.TotalSeconds:0.00} s | {uploadRate:0} | {raw:0} | {uploadRate / raw:0.00} | {hashes:0} | {sequential.TotalSeconds:0.00} s |"));
            }
            finally
            {
                Directory.Delete(directory, recursive: true);
            }
        }

        return 0;
    }

    private static async Task<(TimeSpan Elapsed, List<PublishResult> Results)> PublishAllAsync(AwsClients aws, List<GdkProject> projects, bool waitEach = false)
    {
        var watch = Stopwatch.StartNew();
        var publisher = new ComponentPublisher(aws, TextWriter.Null);
        var options = new PublishOptions { WaitUntilDeployable = waitEach };
        var created = new List<PublishResult>();
        foreach (var project in projects)
        {
            created.Add(await publisher.PublishAsync(project, options));
        }

        var results = waitEach ? [.. created] : await Task.WhenAll(created.Select(c => publisher.WaitDeployableAsync(c, options.DeployableTimeout)));
        return (watch.Elapsed, results.ToList());
    }

    /// <summary>
    /// The rate of what an upload must hash, for comparison: the client's MD5 (Content-MD5, the unchanged check) and
    /// SHA-256 (the signed payload), the cloud's SHA-256 (the signature check) and MD5 (the ETag): MiB/s of files.
    /// </summary>
    private static double HashRate(List<string> files)
    {
        var data = files.Select(File.ReadAllBytes).ToList();
        var watch = Stopwatch.StartNew();
        foreach (var bytes in data)
        {
            for (var i = 0; i < 2; i++)
            {
                System.Security.Cryptography.MD5.HashData(bytes);
                System.Security.Cryptography.SHA256.HashData(bytes);
            }
        }

        return data.Sum(d => (long)d.Length) / watch.Elapsed.TotalSeconds / 1048576.0;
    }

    /// <summary>The same files sent over a loopback TCP socket into files written and fsynced: MiB/s.</summary>
    private static async Task<double> RawLoopbackCopyAsync(List<string> files, string directory)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var watch = Stopwatch.StartNew();
        long total = 0;
        foreach (var file in files)
        {
            var size = new FileInfo(file).Length;
            var accept = listener.AcceptTcpClientAsync();
            using var sender = new TcpClient();
            await sender.ConnectAsync(IPAddress.Loopback, port);
            using var receiver = await accept;
            var receive = Task.Run(async () =>
            {
                var target = Path.Combine(directory, "raw-" + Path.GetFileName(file));
                await using var output = new FileStream(target, FileMode.Create, FileAccess.Write);
                var buffer = new byte[81920];
                var stream = receiver.GetStream();
                long left = size;
                while (left > 0)
                {
                    var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, left)));
                    await output.WriteAsync(buffer.AsMemory(0, read));
                    left -= read;
                }

                output.Flush(flushToDisk: true);
            });
            await using (var input = File.OpenRead(file))
            {
                await input.CopyToAsync(sender.GetStream());
            }

            await receive;
            total += size;
        }

        return total / watch.Elapsed.TotalSeconds / 1048576.0;
    }
}
