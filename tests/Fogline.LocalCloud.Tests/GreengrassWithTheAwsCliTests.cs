using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// Greengrass V2's component APIs of the local cloud, driven by the real AWS CLI v2 (<c>aws greengrassv2 …
/// --endpoint-url</c>): every answer must parse as the CLI parses AWS's, and every error reach the user as the CLI
/// shows AWS's (code, message, exit code 254).
/// </summary>
[TestFixture]
[Category("Conformance")]
public class GreengrassWithTheAwsCliTests
{
    private LocalCloudFixture _cloud = null!;
    private string _scratch = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        _cloud = await LocalCloudFixture.StartAsync();
        _scratch = Directory.CreateTempSubdirectory("fogline-cli-files-").FullName;
        await _cloud.Cli.SucceedAsync("s3api", "create-bucket", "--bucket", "artifacts-bucket");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        await _cloud.DisposeAsync();
        Directory.Delete(_scratch, recursive: true);
    }

    [Test]
    public async Task AComponent_CreatedDescribedListedFetchedAndDeleted_WithTheAwsCli()
    {
        var artifact = RandomNumberGenerator.GetBytes(70_000);
        var key = await PutAsync("com.example.Full/1.0.0/tool.bin", artifact);
        var recipe = Write("full.yaml", Recipe("com.example.Full", "1.0.0", $"s3://artifacts-bucket/{key}"));

        var created = await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        var arn = created!["arn"]!.GetValue<string>();
        Assert.That(arn, Is.EqualTo($"arn:aws:greengrass:us-east-1:{_cloud.Account}:components:com.example.Full:versions:1.0.0"));
        Assert.That(created["componentName"]!.GetValue<string>(), Is.EqualTo("com.example.Full"));
        Assert.That(created["status"]!["componentState"]!.GetValue<string>(), Is.EqualTo("REQUESTED"));
        Assert.That(created["creationTimestamp"]!.GetValue<string>(), Does.StartWith(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));

        JsonNode? described = null;
        await Eventually.UntilAsync(async () =>
        {
            described = await _cloud.Cli.SucceedAsync("greengrassv2", "describe-component", "--arn", arn);
            return described!["status"]!["componentState"]!.GetValue<string>() == "DEPLOYABLE";
        }, "the version DEPLOYABLE");
        Assert.That(described!["publisher"]!.GetValue<string>(), Is.EqualTo("Tests"));
        Assert.That(described["platforms"]![0]!["attributes"]!["os"]!.GetValue<string>(), Is.EqualTo("linux"));

        var versions = await _cloud.Cli.SucceedAsync("greengrassv2", "list-component-versions", "--arn", arn[..arn.IndexOf(":versions:", StringComparison.Ordinal)]);
        Assert.That(versions!["componentVersions"]!.AsArray().Select(v => v!["componentVersion"]!.GetValue<string>()), Is.EqualTo(new[] { "1.0.0" }));

        var components = await _cloud.Cli.SucceedAsync("greengrassv2", "list-components");
        var listed = components!["components"]!.AsArray().Single(c => c!["componentName"]!.GetValue<string>() == "com.example.Full")!;
        Assert.That(listed["latestVersion"]!["componentVersion"]!.GetValue<string>(), Is.EqualTo("1.0.0"));

        // The recipe comes back base64-encoded (the CLI prints blobs so), with the artifact's digest added.
        var yaml = Encoding.UTF8.GetString(Convert.FromBase64String((await _cloud.Cli.SucceedAsync("greengrassv2", "get-component", "--arn", arn, "--recipe-output-format", "YAML"))!["recipe"]!.GetValue<string>()));
        Assert.That(yaml, Does.Contain("Digest: " + Convert.ToBase64String(SHA256.HashData(artifact))));
        Assert.That(yaml, Does.Contain("Algorithm: SHA-256"));
        var json = JsonNode.Parse(Convert.FromBase64String((await _cloud.Cli.SucceedAsync("greengrassv2", "get-component", "--arn", arn))!["recipe"]!.GetValue<string>()))!;
        Assert.That(json["ComponentName"]!.GetValue<string>(), Is.EqualTo("com.example.Full"));

        var url = (await _cloud.Cli.SucceedAsync("greengrassv2", "get-component-version-artifact", "--arn", arn, "--artifact-name", "tool.bin"))!["preSignedUrl"]!.GetValue<string>();
        using var http = new HttpClient();
        Assert.That(await http.GetByteArrayAsync(url), Is.EqualTo(artifact), "the presigned URL serves the artifact's bytes, without credentials");

        await _cloud.Cli.SucceedAsync("greengrassv2", "delete-component", "--arn", arn);
        var gone = await _cloud.Cli.RunAsync("greengrassv2", "describe-component", "--arn", arn);
        Assert.That(gone.ExitCode, Is.EqualTo(254));
        Assert.That(gone.Error, Does.Contain("An error occurred (ResourceNotFoundException) when calling the DescribeComponent operation"));
    }

    [Test]
    public async Task TheSameVersionAgain_IsTheServicesConflictException()
    {
        var recipe = Write("conflict.yaml", Recipe("com.example.Conflict", "2.0.0", null));
        await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        var again = await _cloud.Cli.RunAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        Assert.That(again.ExitCode, Is.EqualTo(254));
        Assert.That(again.Error, Does.Contain($"An error occurred (ConflictException) when calling the CreateComponentVersion operation: Component [com.example.Conflict : 2.0.0] for account [{_cloud.Account}] already exists"));
    }

    [Test]
    public async Task ARetryWithTheSameClientToken_GetsTheFirstAnswer()
    {
        var recipe = Write("token.yaml", Recipe("com.example.Token", "1.0.0", null));
        var first = await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe, "--client-token", "retry-1");
        var second = await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe, "--client-token", "retry-1");
        Assert.That(second!["creationTimestamp"]!.GetValue<string>(), Is.EqualTo(first!["creationTimestamp"]!.GetValue<string>()));
        var other = await _cloud.Cli.RunAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe, "--client-token", "retry-2");
        Assert.That(other.Error, Does.Contain("(ConflictException)"), "another token is another request");
    }

    [Test]
    public async Task AMissingArtifact_IsTheServicesValidationException()
    {
        var recipe = Write("missing.yaml", Recipe("com.example.Missing", "1.0.0", "s3://artifacts-bucket/com.example.Missing/1.0.0/nothing.bin"));
        var result = await _cloud.Cli.RunAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        Assert.That(result.ExitCode, Is.EqualTo(254));
        Assert.That(result.Error, Does.Contain("(ValidationException) when calling the CreateComponentVersion operation: Invalid Input: Encountered following errors in Artifacts: {s3://artifacts-bucket/com.example.Missing/1.0.0/nothing.bin = Specified artifact resource cannot be accessed}"));
    }

    [Test]
    public async Task AnArtifactInAnotherAccountsBucket_CannotBeAccessed()
    {
        await _cloud.OtherCli.SucceedAsync("s3api", "create-bucket", "--bucket", "someone-elses-bucket");
        var file = Write("theirs.bin", "x");
        await _cloud.OtherCli.SucceedAsync("s3api", "put-object", "--bucket", "someone-elses-bucket", "--key", "theirs.bin", "--body", file);
        var recipe = Write("theirs.yaml", Recipe("com.example.Theirs", "1.0.0", "s3://someone-elses-bucket/theirs.bin"));
        var result = await _cloud.Cli.RunAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        Assert.That(result.Error, Does.Contain("s3://someone-elses-bucket/theirs.bin = Specified artifact resource cannot be accessed"));
    }

    [Test]
    public async Task AnInvalidRecipe_IsAValidationException_WithLineAndColumn()
    {
        var recipe = Write("invalid.yaml", Recipe("com.example.Invalid", "1.0.x", null));
        var result = await _cloud.Cli.RunAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        Assert.That(result.ExitCode, Is.EqualTo(254));
        Assert.That(result.Error, Does.Contain("(ValidationException) when calling the CreateComponentVersion operation: The recipe is not valid: inlineRecipe:3:"));
        Assert.That(result.Error, Does.Contain("'1.0.x' is not a valid version"));
    }

    [Test]
    public async Task ARecipeOver16000Bytes_IsRefused()
    {
        var recipe = Write("big.yaml", Recipe("com.example.Big", "1.0.0", null) + "ComponentDescription: " + new string('x', 16_100) + "\n");
        var result = await _cloud.Cli.RunAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        Assert.That(result.Error, Does.Contain("a recipe can be at most 16000 bytes"));
    }

    [Test]
    public async Task Versions_AreListedHighestFirst_InPagesTheCliFollows()
    {
        foreach (var version in new[] { "1.0.9", "1.0.10", "1.2.0", "1.0.0" })
        {
            await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + Write($"paged-{version}.yaml", Recipe("com.example.Paged", version, null)));
        }

        var listed = await _cloud.Cli.SucceedAsync("greengrassv2", "list-component-versions", "--arn", $"arn:aws:greengrass:us-east-1:{_cloud.Account}:components:com.example.Paged", "--page-size", "1");
        Assert.That(listed!["componentVersions"]!.AsArray().Select(v => v!["componentVersion"]!.GetValue<string>()), Is.EqualTo(new[] { "1.2.0", "1.0.10", "1.0.9", "1.0.0" }));
        var captured = _cloud.Server.Requests.Where(r => r.Path.EndsWith("/versions", StringComparison.Ordinal) && r.RawTarget.Contains("maxResults=1", StringComparison.Ordinal)).ToList();
        Assert.That(captured, Has.Count.GreaterThanOrEqualTo(4), "the CLI asked page by page");
    }

    [Test]
    public async Task AnotherAccountsComponent_IsAccessDenied()
    {
        await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + Write("mine.yaml", Recipe("com.example.Mine", "1.0.0", null)));
        var result = await _cloud.OtherCli.RunAsync("greengrassv2", "describe-component", "--arn", $"arn:aws:greengrass:us-east-1:{_cloud.Account}:components:com.example.Mine:versions:1.0.0");
        Assert.That(result.Error, Does.Contain("(AccessDeniedException)"));
    }

    [Test]
    public async Task EverythingSurvivesARestart()
    {
        var artifact = RandomNumberGenerator.GetBytes(1000);
        var key = await PutAsync("com.example.Durable/1.0.0/a.bin", artifact);
        await _cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + Write("durable.yaml", Recipe("com.example.Durable", "1.0.0", "s3://artifacts-bucket/" + key)));
        await _cloud.RestartAsync();
        var arn = $"arn:aws:greengrass:us-east-1:{_cloud.Account}:components:com.example.Durable:versions:1.0.0";
        await Eventually.UntilAsync(async () => (await _cloud.Cli.SucceedAsync("greengrassv2", "describe-component", "--arn", arn))!["status"]!["componentState"]!.GetValue<string>() == "DEPLOYABLE", "DEPLOYABLE after the restart");
        var downloaded = Path.Combine(_scratch, "durable.out");
        await _cloud.Cli.SucceedAsync("s3api", "get-object", "--bucket", "artifacts-bucket", "--key", key, downloaded);
        Assert.That(File.ReadAllBytes(downloaded), Is.EqualTo(artifact));
    }

    private async Task<string> PutAsync(string key, byte[] bytes)
    {
        var file = Path.Combine(_scratch, Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(file, bytes);
        await _cloud.Cli.SucceedAsync("s3api", "put-object", "--bucket", "artifacts-bucket", "--key", key, "--body", file);
        return key;
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_scratch, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Recipe(string name, string version, string? artifactUri) => $"""
        RecipeFormatVersion: '2020-01-25'
        ComponentName: {name}
        ComponentVersion: '{version}'
        ComponentPublisher: Tests
        Manifests:
          - Platform:
              os: linux
        {(artifactUri is null ? string.Empty : $"    Artifacts:\n      - URI: {artifactUri}\n")}    Lifecycle:
              Run: echo hello

        """;
}
