using System.Text;
using System.Text.Json.Nodes;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.Tests;

namespace Fogline.Cli.Tests;

/// <summary>
/// Every request <c>fogline component publish</c> sends, compared with the request Debian's AWS CLI v2 sends for the
/// same operation, both as the local cloud captured them: method, path, query parameters, content type, signed
/// headers and the JSON body's members. What differs by design is listed in <see cref="SdkOnlyHeaders"/>.
/// </summary>
[Category("Conformance")]
public class RequestParityTests
{
    /// <summary>
    /// Signed headers one SDK adds and the other does not, neither affecting what the service does: the .NET SDK's
    /// invocation id and retry count (amz-sdk-invocation-id, amz-sdk-request) and botocore's content-md5 on PutObject
    /// (fogline sends Content-MD5 too, the .NET SDK just does not sign it). Outside S3 the .NET SDK also signs
    /// x-amz-content-sha256, which botocore sends to S3 only, and a content type on an empty body (CreateBucket in
    /// us-east-1, with its x-amz-api-version), which says nothing (<see cref="Signed"/>). On PutObject the .NET SDK
    /// always sends a content type and botocore none: fogline sends the one S3 stores when none is sent, which the
    /// test checks on the stored objects instead.
    /// </summary>
    private static readonly HashSet<string> SdkOnlyHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "amz-sdk-invocation-id", "amz-sdk-request", "x-amz-user-agent", "user-agent", "content-md5", "content-length", "x-amz-api-version",
    };

    [Test]
    public async Task EveryRequestOfPublish_IsShapedAsTheAwsCliShapesIt()
    {
        await using var cloud = await LocalCloudFixture.StartAsync();
        using var project = new SmallProject();
        var published = await FoglineProcess.RunAsync(project.Directory, FoglineProcess.For(cloud.Server), "component", "publish");
        Assert.That(published.ExitCode, Is.Zero, published.ToString());
        var ours = cloud.Server.Requests.ToList();

        // The same operations from the AWS CLI, on the same names.
        var account = cloud.Account;
        var bucket = $"small-artifacts-us-east-1-{account}";
        var arn = $"arn:aws:greengrass:us-east-1:{account}:components:{SmallProject.Name}";
        var recipe = Path.Combine(project.Directory, "cli-recipe.yaml");
        await File.WriteAllTextAsync(recipe, SmallProject.DefaultRecipe.Replace("{COMPONENT_NAME}", SmallProject.Name, StringComparison.Ordinal)
            .Replace("{COMPONENT_VERSION}", "2.0.0", StringComparison.Ordinal).Replace("{COMPONENT_AUTHOR}", "Example", StringComparison.Ordinal)
            .Replace("BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION", $"{bucket}/{SmallProject.Name}/1.0.0", StringComparison.Ordinal));
        cloud.Server.ClearRequests();
        await cloud.Cli.SucceedAsync("sts", "get-caller-identity");
        await cloud.Cli.SucceedAsync("greengrassv2", "list-component-versions", "--arn", arn);
        await cloud.Cli.SucceedAsync("s3api", "get-bucket-location", "--bucket", bucket);
        await cloud.Cli.SucceedAsync("s3api", "create-bucket", "--bucket", bucket + "-cli");
        await cloud.Cli.SucceedAsync("s3api", "head-object", "--bucket", bucket, "--key", $"{SmallProject.Name}/1.0.0/hello.sh");
        await cloud.Cli.SucceedAsync("s3api", "put-object", "--bucket", bucket, "--key", $"{SmallProject.Name}/1.0.0/copy.sh", "--body", Path.Combine(project.Directory, "hello.sh"));
        await cloud.Cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        await cloud.Cli.SucceedAsync("greengrassv2", "describe-component", "--arn", arn + ":versions:1.0.0");
        var theirs = cloud.Server.Requests.ToList();

        var compared = new List<string>();
        foreach (var operation in new[] { "GetCallerIdentity", "ListComponentVersions", "GetBucketLocation", "CreateBucket", "HeadObject", "PutObject", "CreateComponentVersion", "DescribeComponent" })
        {
            var mine = ours.Where(r => Operation(r) == operation).OrderBy(r => r.ErrorCode is null ? 0 : 1).FirstOrDefault();
            var cli = theirs.FirstOrDefault(r => Operation(r) == operation);
            Assert.That(mine, Is.Not.Null, $"publish sent no {operation}: {string.Join(", ", ours.Select(Operation))}");
            Assert.That(cli, Is.Not.Null, $"the AWS CLI sent no {operation}: {string.Join(", ", theirs.Select(Operation))}");
            Assert.Multiple(() =>
            {
                Assert.That(mine!.Method, Is.EqualTo(cli!.Method), operation + ": method");
                Assert.That(Shape(mine.Path), Is.EqualTo(Shape(cli.Path)), operation + ": path");
                Assert.That(QueryNames(mine.RawTarget), Is.EquivalentTo(QueryNames(cli.RawTarget)), operation + ": query parameters");
                if (operation != "PutObject" && (mine.Body.Length > 0 || cli.Body.Length > 0))
                {
                    Assert.That(MediaType(mine), Is.EqualTo(MediaType(cli)), operation + ": content type");
                }

                Assert.That(Signed(mine), Is.EquivalentTo(Signed(cli)), operation + ": signed headers");
                Assert.That(mine.ErrorCode, Is.Null.Or.AnyOf("NoSuchBucket", "NoSuchKey", "NotFound", "ResourceNotFoundException"),
                    operation + ": fogline's was served (at worst the resource was not there yet)");
                if (MediaType(cli) == "application/json")
                {
                    Assert.That(Members(mine.Body), Is.EquivalentTo(Members(cli.Body)), operation + ": JSON members");
                }
            });
            compared.Add(operation);
        }

        var stored = await cloud.Cli.SucceedAsync("s3api", "head-object", "--bucket", bucket, "--key", $"{SmallProject.Name}/1.0.0/data.bin");
        var storedByCli = await cloud.Cli.SucceedAsync("s3api", "head-object", "--bucket", bucket, "--key", $"{SmallProject.Name}/1.0.0/copy.sh");
        Assert.That(stored!["ContentType"]!.GetValue<string>(), Is.EqualTo(storedByCli!["ContentType"]!.GetValue<string>()), "the objects are stored with the same content type");

        var recipeSent = JsonNode.Parse(ours.Single(r => Operation(r) == "CreateComponentVersion").Body)!["inlineRecipe"]!.GetValue<string>();
        Assert.That(Encoding.UTF8.GetString(Convert.FromBase64String(recipeSent)), Does.Contain($"s3://{bucket}/{SmallProject.Name}/1.0.0/data.bin"), "the inline recipe is base64, its artifact URIs rewritten");
        Assert.That(compared, Has.Count.EqualTo(8));
    }

    private static IEnumerable<string> Signed(CapturedRequest request) => request.SignedHeaders
        .Where(h => !SdkOnlyHeaders.Contains(h) && (request.Service == CloudService.S3 || h != "x-amz-content-sha256") && ((request.Body.Length > 0 && Operation(request) != "PutObject") || h != "content-type"));

    /// <summary>The operation a captured request is, from its shape.</summary>
    private static string Operation(CapturedRequest request)
    {
        var query = request.RawTarget.Contains('?', StringComparison.Ordinal) ? request.RawTarget.Split('?', 2)[1] : string.Empty;
        var segments = request.Path.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        return request.Service switch
        {
            CloudService.Sts => Encoding.UTF8.GetString(request.Body).Contains("Action=GetCallerIdentity", StringComparison.Ordinal) ? "GetCallerIdentity" : "Sts?",
            CloudService.GreengrassV2 when request.Method == "POST" && request.Path.EndsWith("/createComponentVersion", StringComparison.Ordinal) => "CreateComponentVersion",
            CloudService.GreengrassV2 when request.Method == "GET" && request.Path.EndsWith("/versions", StringComparison.Ordinal) => "ListComponentVersions",
            CloudService.GreengrassV2 when request.Method == "GET" && request.Path.EndsWith("/metadata", StringComparison.Ordinal) => "DescribeComponent",
            CloudService.S3 when segments.Length == 1 && request.Method == "GET" && query.StartsWith("location", StringComparison.Ordinal) => "GetBucketLocation",
            CloudService.S3 when segments.Length == 1 && request.Method == "PUT" => "CreateBucket",
            CloudService.S3 when segments.Length > 1 && request.Method == "HEAD" => "HeadObject",
            CloudService.S3 when segments.Length > 1 && request.Method == "PUT" => "PutObject",
            _ => $"{request.Service} {request.Method} {request.Path}",
        };
    }

    /// <summary>
    /// The path with its names and ARNs generalised (what identifies the operation, not the resource). A bucket's own
    /// path is the same with or without a trailing slash (the .NET SDK writes <c>/bucket/?location</c>, botocore
    /// <c>/bucket?location</c>).
    /// </summary>
    private static string Shape(string path)
    {
        path = path.Length > 1 ? path.TrimEnd('/') : path;
        var segments = path.Split('/');
        if (path.StartsWith("/greengrass/", StringComparison.Ordinal))
        {
            return string.Join('/', segments.Select(s => s.StartsWith("arn", StringComparison.Ordinal) ? "{arn}" : s));
        }

        return string.Join('/', segments.Select((s, i) => i switch { 0 => s, 1 => "{bucket}", _ => "{key}" }).Distinct());
    }

    private static string[] QueryNames(string target) => target.Contains('?', StringComparison.Ordinal)
        ? [.. target.Split('?', 2)[1].Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => Uri.UnescapeDataString(p.Split('=')[0])).Distinct()]
        : [];

    private static string? MediaType(CapturedRequest request) =>
        request.Headers.TryGetValue("Content-Type", out var type) ? type.Split(';')[0].Trim().ToLowerInvariant() : null;

    private static string[] Members(byte[] body) => body.Length == 0 ? [] : [.. (JsonNode.Parse(body) as JsonObject ?? [])!.Select(p => p.Key)];
}
