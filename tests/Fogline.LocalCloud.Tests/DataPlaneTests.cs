using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.LocalCloud.Auth;
using Fogline.Mqtt.Broker;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// The Greengrass data plane the core devices call with their certificates (mutual TLS): the best component version
/// for a device's platform and version requirements, and artifact URLs, in the device's account.
/// </summary>
[Category("Conformance")]
public class DataPlaneTests
{
    private const string Recipe = """
        {"RecipeFormatVersion":"2020-01-25","ComponentName":"com.example.A","ComponentVersion":"VERSION","ComponentPublisher":"Example",
         "Manifests":[{"Platform":{"os":"OS"},"Artifacts":[{"URI":"s3://artifacts-bucket/a/a.sh"}],"Lifecycle":{"Run":"sh {artifacts:path}/a.sh"}}]}
        """;

    private string _directory = null!;
    private CertificateAuthority _pki = null!;
    private LocalCloudServer _cloud = null!;
    private AwsCli _cli = null!;

    [SetUp]
    public async Task Start()
    {
        _directory = Directory.CreateTempSubdirectory("fogline-dataplane-").FullName;
        _pki = CertificateAuthority.OpenOrCreate(Path.Combine(_directory, "pki"), "devices");
        var (certificate, key) = _pki.IssueServer("server");
        _cloud = await LocalCloudServer.StartAsync(new LocalCloudOptions
        {
            DataDirectory = Path.Combine(_directory, "cloud"),
            ComponentProcessingDelay = TimeSpan.Zero,
            DataPlane = new DataPlaneOptions { CertificateFile = certificate, PrivateKeyFile = key, DevicesCaFile = _pki.CaCertificateFile },
        });
        _cli = new AwsCli(_cloud.Endpoint, _cloud.Keys.Default.AccessKeyId, _cloud.Keys.Default.SecretAccessKey);
        await _cli.SucceedAsync("iot", "create-thing", "--thing-name", "gw-1");
        await _cli.SucceedAsync("s3api", "create-bucket", "--bucket", "artifacts-bucket");
        var script = Path.Combine(_directory, "a.sh");
        await File.WriteAllTextAsync(script, "echo a\n");
        await _cli.SucceedAsync("s3api", "put-object", "--bucket", "artifacts-bucket", "--key", "a/a.sh", "--body", script);
        foreach (var (version, os) in new[] { ("1.0.0", "linux"), ("1.1.0", "linux"), ("2.0.0", "windows") })
        {
            var file = Path.Combine(_directory, $"recipe-{version}.json");
            await File.WriteAllTextAsync(file, Recipe.Replace("VERSION", version, StringComparison.Ordinal).Replace("OS", os, StringComparison.Ordinal));
            await _cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + file);
        }
    }

    [TearDown]
    public async Task Stop()
    {
        await _cloud.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task ADevice_GetsTheBestVersionForItsPlatformAndRequirements_AndItsArtifacts()
    {
        using var device = await ClientAsync("gw-1");

        var best = await ResolveAsync(device, ">=1.0.0");
        var older = await ResolveAsync(device, ">=1.0.0 <1.1.0");
        var none = await device.PostAsync(new Uri(_cloud.DataPlaneEndpoint!, "/greengrass/v2/resolveComponentCandidates"), Body(">=3.0.0"));

        Assert.That(best["componentVersion"]!.GetValue<string>(), Is.EqualTo("1.1.0"), "2.0.0 is higher but has no manifest for linux");
        Assert.That(older["componentVersion"]!.GetValue<string>(), Is.EqualTo("1.0.0"));
        var recipe = JsonNode.Parse(Convert.FromBase64String(best["recipe"]!.GetValue<string>()))!;
        Assert.That(recipe["Manifests"]![0]!["Artifacts"]![0]!["Digest"], Is.Not.Null, "the recipe carries the artifact's digest the cloud added");
        Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(none.Headers.GetValues("x-amzn-ErrorType").Single(), Does.StartWith("ResourceNotFoundException"));

        var arn = best["arn"]!.GetValue<string>();
        var artifact = JsonNode.Parse(await device.GetStringAsync(new Uri(_cloud.DataPlaneEndpoint!, $"/greengrass/v2/components/{Uri.EscapeDataString(arn)}/artifacts/a.sh")))!;
        using var plain = new HttpClient();
        Assert.That(await plain.GetStringAsync(new Uri(artifact["preSignedUrl"]!.GetValue<string>())), Is.EqualTo("echo a\n"));
    }

    [Test]
    public async Task ACertificateOfNoRegisteredThing_OrFromAnotherCa_IsRefused()
    {
        using var stranger = await ClientAsync("gw-9");
        var refused = await stranger.PostAsync(new Uri(_cloud.DataPlaneEndpoint!, "/greengrass/v2/resolveComponentCandidates"), Body(">=1.0.0"));
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));

        var rogue = CertificateAuthority.OpenOrCreate(Path.Combine(_directory, "rogue"), "rogue");
        using var impostor = await ClientAsync("gw-1", rogue);
        await Assert.ThrowsAsync<HttpRequestException>(() => impostor.PostAsync(new Uri(_cloud.DataPlaneEndpoint!, "/greengrass/v2/resolveComponentCandidates"), Body(">=1.0.0")),
            "a certificate from another CA does not get through TLS");
    }

    private async Task<JsonNode> ResolveAsync(HttpClient device, string requirement)
    {
        var response = await device.PostAsync(new Uri(_cloud.DataPlaneEndpoint!, "/greengrass/v2/resolveComponentCandidates"), Body(requirement));
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), text);
        return JsonNode.Parse(text)!["resolvedComponentVersions"]![0]!;
    }

    private static StringContent Body(string requirement) => new(
        $$$"""{"platform":{"attributes":{"os":"linux","architecture":"amd64"}},"componentCandidates":[{"componentName":"com.example.A","componentVersion":"1.0.0","versionRequirements":{"com.example.Root":"{{{requirement}}}"}}]}""",
        Encoding.UTF8, "application/json");

    private async Task<HttpClient> ClientAsync(string thing, CertificateAuthority? issuer = null)
    {
        var (certificate, key) = (issuer ?? _pki).IssueClient(thing);
        var trust = new X509Certificate2Collection();
        trust.ImportFromPemFile(_pki.CaCertificateFile);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [X509Certificate2.CreateFromPemFile(certificate, key)],
                RemoteCertificateValidationCallback = (_, server, _, _) => server is X509Certificate2 s && DeviceCertificates.ChainsTo(s, trust),
            },
        };
        return new HttpClient(handler);
    }
}
