using System.CommandLine;
using Amazon.Runtime;
using Fogline.Aws;
using Fogline.LocalCloud;

namespace Fogline.Cli.Commands;

/// <summary>
/// Where a command sends its AWS calls. <c>--endpoint-url</c> (or <c>AWS_ENDPOINT_URL</c>/<c>AWS_ENDPOINT_URL_&lt;SERVICE&gt;</c>)
/// wins, with the credentials of the standard chain, as the AWS CLI does. Otherwise <c>--target aws</c> is AWS itself
/// and <c>--target local</c> the local Greengrass cloud (the one running on the cloud directory, else one started in
/// this process for as long as the command runs); <c>--target auto</c>, the default, is AWS when AWS credentials are
/// configured (environment, profile files, SSO, container or web identity) and the local cloud when none are. The
/// first line a command prints says which it is.
/// </summary>
internal sealed class CloudTarget : IAsyncDisposable
{
    private readonly LocalCloudDirectory? _local;

    private CloudTarget(AwsClients clients, string description, LocalCloudDirectory? local)
    {
        Clients = clients;
        Description = description;
        _local = local;
    }

    /// <summary>The clients.</summary>
    public AwsClients Clients { get; }

    /// <summary>Where the calls go, for people.</summary>
    public string Description { get; }

    /// <summary>Opens the target for <paramref name="region"/> (null: the AWS settings' region).</summary>
    public static async Task<CloudTarget> OpenAsync(ParseResult parse, GlobalOptions options, string? region, CancellationToken cancellationToken)
    {
        var endpoint = parse.GetValue(options.EndpointUrl);
        var profile = parse.GetValue(options.Profile);
        var target = parse.GetValue(options.Target) ?? "auto";
        var overridden = endpoint is not null || AwsEndpointVariables.Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)));
        var local = target == "local" || (target == "auto" && !overridden && profile is null && !AwsCredentialsConfigured());
        if (!local || overridden)
        {
            var settings = AwsSettings.Resolve(region, profile, endpoint);
            var where = settings.HasEndpointOverride ? $"{settings.EndpointFor(AwsService.GreengrassV2)} ({settings.Region})" : $"AWS ({settings.Region})";
            return new CloudTarget(new AwsClients(settings), where, null);
        }

        return await OpenLocalAsync(options.CloudDirectory(parse), region, cancellationToken);
    }

    /// <summary>The local Greengrass cloud on <paramref name="directory"/> (the running one, else one started for this command).</summary>
    public static async Task<CloudTarget> OpenLocalAsync(string directory, string? region, CancellationToken cancellationToken)
    {
        var cloud = await LocalCloudDirectory.OpenAsync(directory, reuseRunning: true, cancellationToken: cancellationToken);
        var key = cloud.Keys.Default;
        var localSettings = AwsSettings.Resolve(region ?? "us-east-1", profile: null, endpointUrl: cloud.Endpoint.ToString(), credentials: new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey));
        var description = $"the local Greengrass cloud at {cloud.Endpoint} ({localSettings.Region}; {(cloud.Embedded ? "started by this command" : "running")}, state in {directory})";
        return new CloudTarget(new AwsClients(localSettings), description, cloud);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Clients.Dispose();
        if (_local is not null)
        {
            await _local.DisposeAsync();
        }
    }

    private static readonly string[] AwsEndpointVariables = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_GREENGRASSV2", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IOT"];

    /// <summary>Whether AWS credentials are configured, without calling anything (instance metadata is not probed: use <c>--target aws</c> there).</summary>
    private static bool AwsCredentialsConfigured()
    {
        if (new[] { "AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE" }
            .Any(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))))
        {
            return true;
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var credentials = Environment.GetEnvironmentVariable("AWS_SHARED_CREDENTIALS_FILE") is { Length: > 0 } c ? c : Path.Combine(home, ".aws", "credentials");
        var config = Environment.GetEnvironmentVariable("AWS_CONFIG_FILE") is { Length: > 0 } f ? f : Path.Combine(home, ".aws", "config");
        return (File.Exists(credentials) && new FileInfo(credentials).Length > 0) || (File.Exists(config) && File.ReadAllText(config).Contains("sso_", StringComparison.Ordinal));
    }
}
