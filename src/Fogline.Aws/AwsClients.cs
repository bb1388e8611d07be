using Amazon.Runtime;
using Amazon.S3;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Fogline.Aws.GreengrassV2;
using Fogline.Aws.Rest;

namespace Fogline.Aws;

/// <summary>
/// The clients of one set of <see cref="AwsSettings"/>: Greengrass V2 (Fogline's rest-json client, signed with
/// AWSSDK.Core), S3 (AWSSDK.S3, path-style when the endpoint is overridden, as the AWS CLI does with
/// <c>--endpoint-url</c>) and STS (AWSSDK.SecurityToken), all for the same region, credentials and endpoint.
/// </summary>
public sealed class AwsClients : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;

    /// <summary>Creates the clients.</summary>
    public AwsClients(AwsSettings settings, HttpClient? http = null)
    {
        Settings = settings ?? throw new ArgumentNullException(nameof(settings));
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = TimeSpan.FromMinutes(2) };
        GreengrassRest = new RestJsonClient(_http, settings, AwsService.GreengrassV2);
        Greengrass = new GreengrassV2Client(GreengrassRest);
        Iot = new Iot.IotClient(new RestJsonClient(_http, settings, AwsService.Iot));
        IotData = new IotData.IotDataClient(new RestJsonClient(_http, settings, AwsService.IotData));
        var s3 = new AmazonS3Config
        {
            RegionEndpoint = settings.RegionEndpoint,
            AuthenticationRegion = settings.Region,
            // Content-MD5 on uploads, as the AWS CLI sends them; no trailing checksums.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.HasEndpointOverride)
        {
            s3.ServiceURL = settings.EndpointFor(AwsService.S3).ToString();
            s3.ForcePathStyle = true;
        }

        S3 = new AmazonS3Client(settings.Credentials, s3);
        var sts = new AmazonSecurityTokenServiceConfig { RegionEndpoint = settings.RegionEndpoint, AuthenticationRegion = settings.Region };
        if (settings.HasEndpointOverride)
        {
            sts.ServiceURL = settings.EndpointFor(AwsService.Sts).ToString();
        }

        Sts = new AmazonSecurityTokenServiceClient(settings.Credentials, sts);
    }

    /// <summary>The settings.</summary>
    public AwsSettings Settings { get; }

    /// <summary>Greengrass V2.</summary>
    public GreengrassV2Client Greengrass { get; }

    /// <summary>The rest-json client under <see cref="Greengrass"/> (for tracing).</summary>
    public RestJsonClient GreengrassRest { get; }

    /// <summary>AWS IoT (registry, jobs).</summary>
    public Iot.IotClient Iot { get; }

    /// <summary>The AWS IoT data plane (retained messages).</summary>
    public IotData.IotDataClient IotData { get; }

    /// <summary>S3.</summary>
    public IAmazonS3 S3 { get; }

    /// <summary>STS.</summary>
    public IAmazonSecurityTokenService Sts { get; }

    /// <summary>The account of the credentials (STS GetCallerIdentity).</summary>
    /// <exception cref="AwsSettingsException">The credentials are missing, unknown or expired; the message says which.</exception>
    public async Task<string> AccountAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return (await Sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), cancellationToken).ConfigureAwait(false)).Account;
        }
        catch (AmazonServiceException e) when (e.StatusCode is System.Net.HttpStatusCode.Forbidden or System.Net.HttpStatusCode.BadRequest)
        {
            throw new AwsSettingsException($"the AWS credentials were refused by STS GetCallerIdentity: {e.ErrorCode}: {e.Message}", e);
        }
        catch (AmazonClientException e)
        {
            throw new AwsSettingsException("the AWS credentials could not be used: " + e.Message, e);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        S3.Dispose();
        Sts.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }
}
