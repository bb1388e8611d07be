using System.Security.Cryptography;

namespace Fogline.LocalCloud.Tests;

/// <summary>S3 and STS of the local cloud, driven by the real AWS CLI v2.</summary>
[TestFixture]
[Category("Conformance")]
public class S3AndStsWithTheAwsCliTests
{
    private LocalCloudFixture _cloud = null!;
    private string _scratch = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _cloud = await LocalCloudFixture.StartAsync();
        _scratch = Directory.CreateTempSubdirectory("fogline-cli-files-").FullName;
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _cloud.DisposeAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Test]
    public async Task GetCallerIdentity_NamesTheKeysAccountAndUser()
    {
        var identity = await _cloud.Cli.SucceedAsync("sts", "get-caller-identity");
        Assert.That(identity!["Account"]!.GetValue<string>(), Is.EqualTo(_cloud.Account));
        Assert.That(identity["Arn"]!.GetValue<string>(), Is.EqualTo($"arn:aws:iam::{_cloud.Account}:user/fogline-developer"));
        Assert.That(identity["UserId"]!.GetValue<string>(), Does.StartWith("AIDA"));
    }

    [Test]
    public async Task PutHeadGetAndList_KeysWithAnyCharacters()
    {
        await _cloud.Cli.SucceedAsync("s3api", "create-bucket", "--bucket", "objects-bucket");
        var bytes = RandomNumberGenerator.GetBytes(5000);
        var file = Path.Combine(_scratch, "object.bin");
        await File.WriteAllBytesAsync(file, bytes);
        const string key = "dir/a b+c~d(é)=&?x.bin";
        var put = await _cloud.Cli.SucceedAsync("s3api", "put-object", "--bucket", "objects-bucket", "--key", key, "--body", file);
        Assert.That(put!["ETag"]!.GetValue<string>(), Is.EqualTo("\"" + Convert.ToHexStringLower(MD5.HashData(bytes)) + "\""));

        var head = await _cloud.Cli.SucceedAsync("s3api", "head-object", "--bucket", "objects-bucket", "--key", key);
        Assert.That(head!["ContentLength"]!.GetValue<long>(), Is.EqualTo(5000));

        var downloaded = Path.Combine(_scratch, "object.out");
        await _cloud.Cli.SucceedAsync("s3api", "get-object", "--bucket", "objects-bucket", "--key", key, downloaded);
        Assert.That(File.ReadAllBytes(downloaded), Is.EqualTo(bytes));

        var listed = await _cloud.Cli.SucceedAsync("s3api", "list-objects-v2", "--bucket", "objects-bucket", "--prefix", "dir/");
        Assert.That(listed!["Contents"]!.AsArray().Select(c => c!["Key"]!.GetValue<string>()), Is.EqualTo(new[] { key }));

        var missing = await _cloud.Cli.RunAsync("s3api", "head-object", "--bucket", "objects-bucket", "--key", "nothing");
        Assert.That(missing.Error, Does.Contain("An error occurred (404) when calling the HeadObject operation: Not Found"));
    }

    [Test]
    public async Task AMultipartUpload_AndAPresignedUrl()
    {
        await _cloud.Cli.SucceedAsync("s3api", "create-bucket", "--bucket", "large-objects");
        var bytes = RandomNumberGenerator.GetBytes(9 * 1024 * 1024);
        var file = Path.Combine(_scratch, "large.bin");
        await File.WriteAllBytesAsync(file, bytes);
        await _cloud.Cli.SucceedAsync("s3", "cp", file, "s3://large-objects/large.bin", "--only-show-errors");
        Assert.That(_cloud.Server.Requests.Count(r => r.RawTarget.Contains("partNumber=", StringComparison.Ordinal)), Is.EqualTo(2), "the CLI uploaded in two parts");

        var presign = await _cloud.Cli.RunAsync("s3", "presign", "s3://large-objects/large.bin", "--expires-in", "600");
        Assert.That(presign.ExitCode, Is.EqualTo(0), presign.Error);
        using var http = new HttpClient();
        Assert.That(await http.GetByteArrayAsync(presign.Output.Trim()), Is.EqualTo(bytes));
        var tampered = presign.Output.Trim().Replace("large.bin", "large.bin2", StringComparison.Ordinal);
        Assert.That((int)(await http.GetAsync(tampered)).StatusCode, Is.EqualTo(403), "a URL for another key does not verify");
    }

    [Test]
    public async Task Buckets_BelongToAnAccountAndARegion()
    {
        await _cloud.Cli.SucceedAsync("s3api", "create-bucket", "--bucket", "eu-bucket", "--region", "eu-west-1", "--create-bucket-configuration", "LocationConstraint=eu-west-1");
        var location = await _cloud.Cli.SucceedAsync("s3api", "get-bucket-location", "--bucket", "eu-bucket");
        Assert.That(location!["LocationConstraint"]!.GetValue<string>(), Is.EqualTo("eu-west-1"));

        var taken = await _cloud.OtherCli.RunAsync("s3api", "create-bucket", "--bucket", "eu-bucket", "--region", "eu-west-1", "--create-bucket-configuration", "LocationConstraint=eu-west-1");
        Assert.That(taken.Error, Does.Contain("(BucketAlreadyExists)"));
        var notTheirs = await _cloud.OtherCli.RunAsync("s3api", "get-bucket-location", "--bucket", "eu-bucket");
        Assert.That(notTheirs.Error, Does.Contain("(AccessDenied)"));
    }
}
