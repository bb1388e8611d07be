using System.Security.Cryptography;
using Fogline.LocalCloud.Tests;

namespace Fogline.Cli.Tests;

/// <summary>
/// The repository's own GDK projects (the six pipeline components and the com.fogline.Pipeline bundle) built with
/// <c>fogline component build --all</c> and published twice to a local cloud, checked with the AWS CLI.
/// </summary>
[Category("Conformance")]
public class PipelinePublishTests
{
    private static readonly string[] Pipeline = ["SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "AnomalyDetector", "ZoneCorrelator", "CloudUplink", "Dashboard"];

    [Test]
    public async Task ThePipeline_BuiltThenPublishedTwice_IsThereInTwoVersions_WithTheBuildsBytes()
    {
        var build = await FoglineProcess.RunAsync(Repository.Root, null, "component", "build", "--all");
        Assert.That(build.ExitCode, Is.Zero, build.ToString());
        foreach (var name in Pipeline)
        {
            Assert.That(build.Output, Does.Contain($"com.fogline.{name}: built in"), build.Output);
        }

        await using var cloud = await LocalCloudFixture.StartAsync();
        var first = await FoglineProcess.RunAsync(Repository.Root, FoglineProcess.For(cloud.Server), "component", "publish", "--all");
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        var second = await FoglineProcess.RunAsync(Repository.Root, FoglineProcess.For(cloud.Server), "component", "publish", "--all");
        Assert.That(second.ExitCode, Is.Zero, second.ToString());
        Assert.That(second.Output, Does.Match(@"com\.fogline\.EdgeFilter\s+1\.0\.1\s+\S+ MiB in 2\s+2 of 2\s+DEPLOYABLE"), "the summary table");

        using var http = new HttpClient();
        foreach (var component in Pipeline.Select(n => "com.fogline." + n).Append("com.fogline.Pipeline"))
        {
            var arn = $"arn:aws:greengrass:us-east-1:{cloud.Account}:components:{component}";
            var versions = await cloud.Cli.SucceedAsync("greengrassv2", "list-component-versions", "--arn", arn);
            Assert.That(versions!["componentVersions"]!.AsArray().Select(v => v!["componentVersion"]!.GetValue<string>()), Is.EqualTo(new[] { "1.0.1", "1.0.0" }), component);
        }

        foreach (var name in Pipeline)
        {
            var built = Path.Combine(Repository.Root, "components", name, "greengrass-build", "artifacts", "com.fogline." + name, "NEXT_PATCH");
            var files = Directory.GetFiles(built).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            var expected = name switch
            {
                "AnomalyDetector" => new[] { "AnomalyDetector-linux-arm64", "AnomalyDetector-linux-x64", "knn-novelty-v1.onnx", "libonnxruntime-linux-arm64.so", "libonnxruntime-linux-x64.so" },
                "SensorGateway" => ["SensorGateway-linux-arm64", "SensorGateway-linux-x64", "libSystem.IO.Ports.Native-linux-arm64.so", "libSystem.IO.Ports.Native-linux-x64.so"],
                _ => [$"{name}-linux-arm64", $"{name}-linux-x64"],
            };
            Assert.That(files, Is.EqualTo(expected), built);
            foreach (var file in files)
            {
                var artifact = await cloud.Cli.SucceedAsync("greengrassv2", "get-component-version-artifact",
                    "--arn", $"arn:aws:greengrass:us-east-1:{cloud.Account}:components:com.fogline.{name}:versions:1.0.1", "--artifact-name", file!);
                var downloaded = await http.GetByteArrayAsync(new Uri(artifact!["preSignedUrl"]!.GetValue<string>()));
                Assert.That(SHA256.HashData(downloaded), Is.EqualTo(SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(built, file!)))), $"{name} 1.0.1 {file}: the bytes of the build");
            }
        }

        var recipe = await cloud.Cli.SucceedAsync("greengrassv2", "get-component", "--arn", $"arn:aws:greengrass:us-east-1:{cloud.Account}:components:com.fogline.EdgeFilter:versions:1.0.1", "--recipe-output-format", "YAML");
        var text = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(recipe!["recipe"]!.GetValue<string>()));
        Assert.That(text, Does.Contain($"s3://fogline-artifacts-us-east-1-{cloud.Account}/com.fogline.EdgeFilter/1.0.1/EdgeFilter-linux-x64"));
        Assert.That(text, Does.Contain("ComponentVersion: 1.0.1").Or.Contain("ComponentVersion: '1.0.1'").Or.Contain("ComponentVersion: \"1.0.1\""));
    }
}
