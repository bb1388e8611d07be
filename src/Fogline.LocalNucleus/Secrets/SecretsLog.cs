using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Secrets;

/// <summary>Log messages of the local secret manager (event ids 2550-2599). Secret values are never logged.</summary>
internal static partial class SecretsLog
{
    [LoggerMessage(2550, LogLevel.Information, "{Principal} requested secret {SecretId}")]
    public static partial void SecretRequested(ILogger logger, string principal, string? secretId);

    [LoggerMessage(2551, LogLevel.Warning, "Error happened with secret access by {Principal} to {SecretId}: {Reason}")]
    public static partial void SecretAccessFailed(ILogger logger, string principal, string? secretId, string reason);

    [LoggerMessage(2552, LogLevel.Information, "Loaded {Count} secret versions from {Path}")]
    public static partial void Loaded(ILogger logger, int count, string path);

    [LoggerMessage(2553, LogLevel.Error, "Unable to load the secrets from {Path}: {Reason}")]
    public static partial void LoadFailed(ILogger logger, string path, string reason);
}
