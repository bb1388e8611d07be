using Fogline.LocalCloud.Auth;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// Every request must carry a valid SigV4 signature of a key the cloud knows; each refusal is the code and status
/// AWS gives, as the AWS CLI shows it.
/// </summary>
[TestFixture]
[Category("Conformance")]
public class SignaturesTests
{
    private LocalCloudFixture _cloud = null!;

    [OneTimeSetUp]
    public async Task StartAsync() => _cloud = await LocalCloudFixture.StartAsync();

    [OneTimeTearDown]
    public async Task StopAsync() => await _cloud.DisposeAsync();

    [Test]
    public async Task AWrongSecret_IsRefusedByEveryService()
    {
        var cli = _cloud.Cli with { SecretAccessKey = "not-the-secret-0000000000000000000000000" };
        Assert.That((await cli.RunAsync("greengrassv2", "list-components")).Error, Does.Contain("An error occurred (InvalidSignatureException) when calling the ListComponents operation: The request signature we calculated does not match"));
        Assert.That((await cli.RunAsync("s3api", "list-buckets")).Error, Does.Contain("(SignatureDoesNotMatch) when calling the ListBuckets operation"));
        Assert.That((await cli.RunAsync("sts", "get-caller-identity")).Error, Does.Contain("(SignatureDoesNotMatch) when calling the GetCallerIdentity operation"));
    }

    [Test]
    public async Task AnUnknownKey_IsRefusedByEveryService()
    {
        var cli = _cloud.Cli with { AccessKeyId = "AKIANOBODYKNOWSTHIS1" };
        Assert.That((await cli.RunAsync("greengrassv2", "list-components")).Error, Does.Contain("(UnrecognizedClientException) when calling the ListComponents operation: The security token included in the request is invalid."));
        Assert.That((await cli.RunAsync("s3api", "list-buckets")).Error, Does.Contain("(InvalidAccessKeyId)"));
        Assert.That((await cli.RunAsync("sts", "get-caller-identity")).Error, Does.Contain("(InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid."));
    }

    [Test]
    public async Task NoSignature_IsMissingAuthenticationToken()
    {
        using var http = new HttpClient();
        var response = await http.GetAsync(new Uri(_cloud.Server.Endpoint, "/greengrass/v2/components"));
        Assert.That((int)response.StatusCode, Is.EqualTo(403));
        Assert.That(response.Headers.GetValues("x-amzn-ErrorType").Single(), Is.EqualTo("MissingAuthenticationTokenException"));
    }

    [Test]
    public async Task ASignatureFromTenMinutesAgo_IsExpiredForGreengrass_ButNotForS3()
    {
        await using var later = await LocalCloudFixture.StartAsync(new ManualClock(DateTimeOffset.UtcNow.AddMinutes(10)));
        var greengrass = await later.Cli.RunAsync("greengrassv2", "list-components");
        Assert.That(greengrass.Error, Does.Contain("(InvalidSignatureException) when calling the ListComponents operation: Signature expired:"));
        await later.Cli.SucceedAsync("s3api", "list-buckets");
    }

    [Test]
    public async Task ASignatureFromTwentyMinutesAgo_IsTooSkewedForS3()
    {
        await using var later = await LocalCloudFixture.StartAsync(new ManualClock(DateTimeOffset.UtcNow.AddMinutes(20)));
        Assert.That((await later.Cli.RunAsync("s3api", "list-buckets")).Error, Does.Contain("(RequestTimeTooSkewed)"));
    }

    [Test]
    public async Task TheCloudsOwnKeys_AreKeptWithOnlyTheOwnersPermissions()
    {
        var mode = File.GetUnixFileMode(Path.Combine(_cloud.Directory, "credentials.json"));
        Assert.That(mode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.That(_cloud.Server.Keys.Default.ToString(), Does.Not.Contain(_cloud.Server.Keys.Default.SecretAccessKey), "a key printed in a log shows no secret");
        Assert.That(new CloudCredential("A", "B", "1", "u").ToString(), Does.Not.Contain("B"));
    }
}
