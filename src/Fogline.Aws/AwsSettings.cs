using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.CredentialManagement;

namespace Fogline.Aws;

/// <summary>The AWS services Fogline calls, with the names their settings use.</summary>
public enum AwsService
{
    /// <summary>AWS IoT Greengrass V2 (signing name <c>greengrass</c>).</summary>
    GreengrassV2,

    /// <summary>AWS IoT (signing name <c>iot</c>).</summary>
    Iot,

    /// <summary>Amazon S3.</summary>
    S3,

    /// <summary>AWS STS.</summary>
    Sts,

    /// <summary>The AWS IoT data plane (signing name <c>iotdata</c>): retained messages.</summary>
    IotData,
}

/// <summary>
/// Where and as whom Fogline calls AWS, resolved as the AWS CLI and SDKs resolve it: the region from the flag, then
/// <c>AWS_REGION</c>/<c>AWS_DEFAULT_REGION</c>, then the profile; credentials from AWSSDK.Core's standard chain
/// (environment, the profile's keys, SSO, process and web-identity credentials, container and instance metadata);
/// the endpoint from <c>--endpoint-url</c>, then <c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>, then <c>AWS_ENDPOINT_URL</c>,
/// then AWS's own (<c>https://greengrass.REGION.amazonaws.com</c>, …).
/// </summary>
public sealed class AwsSettings
{
    private readonly Uri? _endpointUrl;

    private AwsSettings(string region, AWSCredentials credentials, Uri? endpointUrl, string? profile)
    {
        Region = region;
        Credentials = credentials;
        _endpointUrl = endpointUrl;
        Profile = profile;
    }

    /// <summary>The region.</summary>
    public string Region { get; }

    /// <summary>The credentials (they refresh themselves when temporary).</summary>
    public AWSCredentials Credentials { get; }

    /// <summary>The named profile, when one was used.</summary>
    public string? Profile { get; }

    /// <summary>Whether an endpoint URL replaces AWS's own for any service (a local cloud).</summary>
    public bool HasEndpointOverride => _endpointUrl is not null
        || new[] { "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GREENGRASSV2", "AWS_ENDPOINT_URL_IOT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS" }
            .Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)));

    private static Uri? ParseEndpoint(string? value, string source)
    {
        if (string.IsNullOrEmpty(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : throw new AwsSettingsException($"the endpoint URL '{value}' ({source}) is not an absolute http or https URL");
    }

    /// <summary>Resolves the settings. Throws <see cref="AwsSettingsException"/> saying what is missing.</summary>
    /// <param name="region">The <c>--region</c> flag, if given.</param>
    /// <param name="profile">The <c>--profile</c> flag, if given (else <c>AWS_PROFILE</c>).</param>
    /// <param name="endpointUrl">The <c>--endpoint-url</c> flag, if given.</param>
    /// <param name="credentials">Credentials to use instead of the chain (tests).</param>
    public static AwsSettings Resolve(string? region = null, string? profile = null, string? endpointUrl = null, AWSCredentials? credentials = null)
    {
        profile ??= Environment.GetEnvironmentVariable("AWS_PROFILE");
        CredentialProfile? namedProfile = null;
        if (profile is not null && !new CredentialProfileStoreChain().TryGetProfile(profile, out namedProfile))
        {
            throw new AwsSettingsException($"the AWS profile '{profile}' was not found in ~/.aws/config or ~/.aws/credentials");
        }

        region ??= Environment.GetEnvironmentVariable("AWS_REGION") ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") ?? namedProfile?.Region?.SystemName;
        if (string.IsNullOrEmpty(region))
        {
            try
            {
                region = FallbackRegionFactory.GetRegionEndpoint()?.SystemName;
            }
            catch (AmazonClientException)
            {
                region = null;
            }
        }

        if (string.IsNullOrEmpty(region))
        {
            throw new AwsSettingsException("no AWS region: pass --region, or set AWS_REGION, or a region in your AWS profile");
        }

        if (credentials is null)
        {
            try
            {
                credentials = namedProfile is not null && AWSCredentialsFactory.TryGetAWSCredentials(namedProfile, new CredentialProfileStoreChain(), out var fromProfile)
                    ? fromProfile
                    : Amazon.Runtime.Credentials.DefaultAWSCredentialsIdentityResolver.GetCredentials();
            }
            catch (AmazonClientException e)
            {
                throw new AwsSettingsException("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a profile (--profile or AWS_PROFILE) or SSO (" + e.Message + ")");
            }
        }

        return new AwsSettings(region, credentials, ParseEndpoint(endpointUrl, "--endpoint-url"), profile);
    }

    /// <summary>The endpoint of <paramref name="service"/>: the override, else AWS's own for the region.</summary>
    public Uri EndpointFor(AwsService service)
    {
        var variable = "AWS_ENDPOINT_URL_" + service switch
        {
            AwsService.GreengrassV2 => "GREENGRASSV2",
            AwsService.Iot => "IOT",
            AwsService.S3 => "S3",
            AwsService.IotData => "IOT_DATA_PLANE",
            _ => "STS",
        };
        var configured = _endpointUrl
            ?? ParseEndpoint(Environment.GetEnvironmentVariable(variable), variable)
            ?? ParseEndpoint(Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL"), "AWS_ENDPOINT_URL");
        if (configured is not null)
        {
            return configured;
        }

        var host = service switch
        {
            AwsService.GreengrassV2 => "greengrass",
            AwsService.Iot => "iot",
            AwsService.S3 => "s3",
            AwsService.IotData => "data-ats.iot",
            _ => "sts",
        };
        return new Uri($"https://{host}.{Region}.amazonaws.com");
    }

    /// <summary>The current credentials (fetched or refreshed by the SDK's provider when needed).</summary>
    public async Task<ImmutableCredentials> CurrentCredentialsAsync()
    {
        try
        {
            return await Credentials.GetCredentialsAsync().ConfigureAwait(false);
        }
        catch (AmazonClientException e)
        {
            throw new AwsSettingsException("the AWS credentials could not be obtained: " + e.Message, e);
        }
    }

    /// <summary>The region as the SDK's clients take it.</summary>
    public RegionEndpoint RegionEndpoint => RegionEndpoint.GetBySystemName(Region);
}

/// <summary>The AWS settings are missing or wrong (no region, no credentials, a bad endpoint URL).</summary>
public sealed class AwsSettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AwsSettingsException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public AwsSettingsException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AwsSettingsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
