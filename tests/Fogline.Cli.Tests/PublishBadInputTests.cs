using Fogline.Aws;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.Tests;

namespace Fogline.Cli.Tests;

/// <summary>
/// Each bad input of <c>fogline component publish</c>: one <c>error: </c> line, exit code 1, and nothing half-published
/// (no CreateComponentVersion, and no upload when the problem is known before one).
/// </summary>
[Category("Conformance")]
public class PublishBadInputTests
{
    private LocalCloudFixture _cloud = null!;

    [SetUp]
    public async Task StartCloud() => _cloud = await LocalCloudFixture.StartAsync();

    [TearDown]
    public async Task StopCloud() => await _cloud.DisposeAsync();

    [Test]
    public async Task NoCredentials_ForAws_IsOneLineThatSaysSo()
    {
        using var project = new SmallProject();
        var result = await FoglineProcess.RunAsync(project.Directory, new Dictionary<string, string> { ["AWS_REGION"] = "us-east-1" }, "component", "publish", "--target", "aws");

        AssertFailedWithOneLine(result, "credentials");
    }

    [Test]
    public async Task AKeyTheCloudDoesNotKnow_IsTheServicesError_InOneLine()
    {
        using var project = new SmallProject();
        var environment = FoglineProcess.For(_cloud.Server);
        environment["AWS_ACCESS_KEY_ID"] = "AKIAUNKNOWNKEY000001";
        var result = await FoglineProcess.RunAsync(project.Directory, environment, "component", "publish");

        AssertFailedWithOneLine(result, "InvalidClientTokenId");
        AssertNothingPublished();
    }

    [Test]
    public async Task AnInvalidRecipe_IsToldWithFileLineAndColumn_AndNothingIsUploaded()
    {
        var recipe = SmallProject.DefaultRecipe.Replace("ComponentPublisher: '{COMPONENT_AUTHOR}'", """
            ComponentPublisher: '{COMPONENT_AUTHOR}'
            ComponentDependencies:
              aws.greengrass.Nucleus:
                VersionRequirement: 'two or more'
            """, StringComparison.Ordinal);
        using var project = new SmallProject(recipe: recipe);
        var result = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");

        // The file is the recipe publish sends (GDK's greengrass-build/recipes/NAME-VERSION.yaml), line for line the template.
        AssertFailedWithOneLine(result, $"greengrass-build/recipes/{SmallProject.Name}-1.0.0.yaml:8:25: ComponentDependencies.aws.greengrass.Nucleus.VersionRequirement");
        Assert.That(result.Error, Does.Contain("nothing was uploaded"), result.ToString());
        AssertNothingUploaded();
        AssertNothingPublished();
    }

    [Test]
    public async Task AnArtifactMissingFromTheBuild_IsNamed_AndNothingIsUploaded()
    {
        using var project = new SmallProject(buildOmitsData: true);
        var result = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");

        AssertFailedWithOneLine(result, "'data.bin'");
        AssertNothingUploaded();
        AssertNothingPublished();
    }

    [Test]
    public async Task ABucketOfYoursInAnotherRegion_IsRefusedBeforeAnyUpload()
    {
        await _cloud.Cli.SucceedAsync("s3api", "create-bucket", "--bucket", $"small-artifacts-us-east-1-{_cloud.Account}", "--create-bucket-configuration", "LocationConstraint=eu-west-1", "--region", "eu-west-1");
        using var project = new SmallProject();
        var result = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");

        AssertFailedWithOneLine(result, "in region eu-west-1, not us-east-1");
        AssertNothingUploaded();
        AssertNothingPublished();
    }

    [Test]
    public async Task ABucketOfAnotherAccount_IsRefusedBeforeAnyUpload()
    {
        await _cloud.OtherCli.SucceedAsync("s3api", "create-bucket", "--bucket", "shared-name");
        using var project = new SmallProject();
        var result = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish", "--bucket", "shared-name");

        AssertFailedWithOneLine(result, "exists and is not yours");
        AssertNothingUploaded();
        AssertNothingPublished();
    }

    [Test]
    public async Task S3FailingInTheMiddleOfTheUploads_PublishesNothing_AndTheNextRunResumes()
    {
        using var project = new SmallProject();
        _cloud.Fault = (method, target) => method == "PUT" && target.Contains("/data.bin", StringComparison.Ordinal)
            ? new AwsServiceException("InternalError", 500, "We encountered an internal error. Please try again.")
            : null;
        var failed = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");

        AssertFailedWithOneLine(failed, "InternalError");
        Assert.That(failed.Output, Does.Contain("hello.sh").And.Contain("uploaded"), "the first artifact went up before S3 failed");
        AssertNothingPublished();

        _cloud.Fault = null;
        var resumed = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");

        Assert.That(resumed.ExitCode, Is.Zero, resumed.ToString());
        Assert.That(resumed.Output, Does.Match(@"hello\.sh\s+\S+ \S+\s+already uploaded"), "the artifact S3 already has is not sent again");
        Assert.That(resumed.Output, Does.Match(@"data\.bin\s+3\.0 MiB\s+uploaded in"));
        Assert.That(resumed.Output, Does.Contain("1.0.0").And.Contain("DEPLOYABLE"));
    }

    [Test]
    public async Task AVersionThatExists_IsToldPlainly_AndItsArtifactsAreNotOverwritten()
    {
        using var project = new SmallProject(version: "1.0.0");
        var first = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        _cloud.Server.ClearRequests();

        var second = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(_cloud.Server), "component", "publish");

        AssertFailedWithOneLine(second, $"{SmallProject.Name} 1.0.0 already exists in account {_cloud.Account}");
        AssertNothingUploaded();
        AssertNothingPublished();
    }

    private static void AssertFailedWithOneLine(FoglineResult result, string expected)
    {
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.ErrorLines, Has.Length.EqualTo(1), result.ToString());
        Assert.That(result.ErrorLines[0], Does.StartWith("error: ").And.Contain(expected), result.ToString());
    }

    private void AssertNothingUploaded() =>
        Assert.That(_cloud.Server.Requests.Where(r => r.Service == CloudService.S3 && r.Method is "PUT" or "POST" && r.Path.Count(c => c == '/') > 1), Is.Empty, "no object was uploaded");

    private void AssertNothingPublished() =>
        Assert.That(_cloud.Server.Requests.Where(r => r.Service == CloudService.GreengrassV2 && r.Method == "POST"), Is.Empty, "no component version was created");
}
