using System.Net.Security;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Fogline.Aws.GreengrassV2;
using Fogline.Greengrass.Recipes;
using Fogline.Mqtt;

namespace Fogline.LocalNucleus.Deployments.Cloud;

/// <summary>A refusal of the Greengrass data plane (its error type and message).</summary>
public sealed class DataPlaneException(string message) : Exception(message);

/// <summary>
/// The Greengrass data plane as a core device calls it (<c>greengrassDataPlaneEndpoint</c>, port 8443): HTTPS with
/// the device's certificate and key, the server checked against the device's root CA. ResolveComponentCandidates
/// and GetComponentVersionArtifact; artifacts are then downloaded from their presigned URLs.
/// </summary>
public sealed class DataPlaneClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly HttpClient _downloads = new();
    private readonly Uri _endpoint;

    public DataPlaneClient(Uri endpoint, MqttBrokerOptions identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        _endpoint = endpoint;
        var roots = new X509Certificate2Collection();
        roots.ImportFromPemFile(identity.RootCaFile);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = [X509Certificate2.CreateFromPemFile(identity.CertificateFile, identity.PrivateKeyFile)],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    if (certificate is not X509Certificate2 server)
                    {
                        return false;
                    }

                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    return chain.Build(server);
                },
            },
        };
        _http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>The version the cloud picks for <paramref name="name"/> under <paramref name="requirements"/> (dependent to range) on <paramref name="platform"/>.</summary>
    public async Task<ResolvedComponentVersion> ResolveAsync(string name, string? version, IReadOnlyDictionary<string, string> requirements, DevicePlatform platform, CancellationToken cancellationToken)
    {
        var request = new ResolveComponentCandidatesRequest
        {
            Platform = new ComponentPlatform { Attributes = new Dictionary<string, string>(platform.Attributes) },
            ComponentCandidates = [new ComponentCandidate { ComponentName = name, ComponentVersion = version, VersionRequirements = new Dictionary<string, string>(requirements) }],
        };
        using var response = await _http.PostAsJsonAsync(new Uri(_endpoint, "/greengrass/v2/resolveComponentCandidates"), request, GreengrassV2JsonContext.Default.ResolveComponentCandidatesRequest, cancellationToken).ConfigureAwait(false);
        await ThrowIfRefusedAsync(response, cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadFromJsonAsync(GreengrassV2JsonContext.Default.ResolveComponentCandidatesResponse, cancellationToken).ConfigureAwait(false);
        return body?.ResolvedComponentVersions is [var resolved, ..] ? resolved : throw new DataPlaneException($"the cloud resolved no version of {name}");
    }

    /// <summary>Downloads an artifact of a component version to <paramref name="path"/>.</summary>
    public async Task DownloadAsync(string arn, string artifactName, string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(new Uri(_endpoint, $"/greengrass/v2/components/{Uri.EscapeDataString(arn)}/artifacts/{Uri.EscapeDataString(artifactName)}"), cancellationToken).ConfigureAwait(false);
        await ThrowIfRefusedAsync(response, cancellationToken).ConfigureAwait(false);
        var url = (await response.Content.ReadFromJsonAsync(GreengrassV2JsonContext.Default.GetComponentVersionArtifactResponse, cancellationToken).ConfigureAwait(false))?.PreSignedUrl
            ?? throw new DataPlaneException($"the cloud gave no URL for {artifactName} of {arn}");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var download = await _downloads.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (!download.IsSuccessStatusCode)
        {
            throw new DataPlaneException($"downloading {artifactName} of {arn} failed: HTTP {(int)download.StatusCode}");
        }

        var file = File.Create(path);
        await using (file.ConfigureAwait(false))
        {
            await download.Content.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _downloads.Dispose();
    }

    private static async Task ThrowIfRefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var type = response.Headers.TryGetValues("x-amzn-ErrorType", out var values) ? values.First().Split(':')[0] : ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var message = System.Text.Json.Nodes.JsonNode.Parse(string.IsNullOrEmpty(text) ? "{}" : text)?["message"]?.GetValue<string>() ?? text;
        throw new DataPlaneException($"{type}: {message}");
    }
}
