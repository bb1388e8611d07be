using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Secrets;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>GetSecretValue, as the secret manager component's <c>SecretManagerIPCAgent</c> and <c>SecretManager</c> serve it.</summary>
public sealed partial class NucleusIpcService
{
    /// <inheritdoc />
    protected override ValueTask<GetSecretValueResponse> GetSecretValueAsync(GetSecretValueRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var principal = Caller(context).Name;
            var secretId = request.SecretId;
            SecretsLog.SecretRequested(Logger, principal, secretId);
            var store = _nucleus.Secrets;

            // The secret id is resolved to an ARN and authorized on the ARN before anything else is looked at.
            if (string.IsNullOrEmpty(secretId))
            {
                throw SecretFailure(principal, secretId, "SecretId absent in the request");
            }

            if (!store.TryResolveArn(secretId, out var arn))
            {
                throw SecretNotFound(principal, secretId, "Secret not configured " + secretId);
            }

            if (!store.Contains(arn))
            {
                store.TryReload();
            }

            Authorize(IpcServices.SecretManager, context, arn);

            var versionId = request.VersionId;
            var versionStage = request.VersionStage;
            if (!string.IsNullOrEmpty(versionId) && !string.IsNullOrEmpty(versionStage))
            {
                throw SecretFailure(principal, secretId, "Both versionId and Stage are set in the request");
            }

            // refresh fetches the secret from the cloud in the component: here, the file is read again. So is it when
            // the secret is not found by stage (the component then tries the cloud).
            if (request.Refresh == true && string.IsNullOrEmpty(versionId))
            {
                store.TryReload();
            }

            var secret = Find(store, arn, versionId, versionStage);
            if (secret is null && string.IsNullOrEmpty(versionId))
            {
                store.TryReload();
                secret = Find(store, arn, versionId, versionStage);
            }

            if (secret is null)
            {
                throw SecretNotFound(principal, secretId, !string.IsNullOrEmpty(versionId) ? $"Version Id {versionId} not found for secret {secretId}"
                    : !string.IsNullOrEmpty(versionStage) ? $"Version stage {versionStage} not found for secret {secretId}"
                    : "Secret not found " + secretId);
            }

            return new GetSecretValueResponse
            {
                SecretId = secret.Arn,
                VersionId = secret.VersionId,
                VersionStage = [.. secret.VersionStages],
                SecretValue = secret.SecretBinary is { } binary
                    ? new SecretValue { SecretBinary = binary }
                    : new SecretValue { SecretString = secret.SecretString },
            };
        });

    private static LocalSecret? Find(SecretStore store, string arn, string? versionId, string? versionStage) =>
        !string.IsNullOrEmpty(versionId) ? store.FindVersion(arn, versionId)
        : store.FindStage(arn, string.IsNullOrEmpty(versionStage) ? SecretStore.CurrentStage : versionStage);

    private ResourceNotFoundException SecretNotFound(string principal, string? secretId, string message)
    {
        SecretsLog.SecretAccessFailed(Logger, principal, secretId, message);
        return new ResourceNotFoundException(new ResourceNotFoundError { Message = message, ResourceType = "secret" });
    }

    private ServiceException SecretFailure(string principal, string? secretId, string message)
    {
        SecretsLog.SecretAccessFailed(Logger, principal, secretId, message);
        return new ServiceException(message);
    }
}
