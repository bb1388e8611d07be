namespace Fogline.LocalNucleus.Secrets;

/// <summary>
/// One version of a secret served by the local secret manager. Exactly one of <see cref="SecretString"/> and
/// <see cref="SecretBinary"/> is set. <see cref="ToString"/> never shows the value.
/// </summary>
public sealed class LocalSecret
{
    /// <summary>Creates a version of a secret; see <see cref="SecretStore"/> for the rules.</summary>
    public LocalSecret(string arn, string name, string versionId, IReadOnlyList<string>? versionStages, string? secretString, ReadOnlyMemory<byte>? secretBinary)
    {
        Arn = arn;
        Name = name;
        VersionId = versionId;
        VersionStages = versionStages is null || versionStages.Count == 0 ? [SecretStore.CurrentStage] : [.. versionStages];
        SecretString = secretString;
        SecretBinary = secretBinary;
    }

    /// <summary>The secret's full ARN (<c>arn:aws:secretsmanager:region:account:secret:name-AbCdEf</c>).</summary>
    public string Arn { get; }

    /// <summary>The secret's name.</summary>
    public string Name { get; }

    /// <summary>This version's id.</summary>
    public string VersionId { get; }

    /// <summary>This version's stages (labels); <c>AWSCURRENT</c> when none were given.</summary>
    public IReadOnlyList<string> VersionStages { get; }

    /// <summary>The value as text, or null.</summary>
    public string? SecretString { get; }

    /// <summary>The value as bytes, or null.</summary>
    public ReadOnlyMemory<byte>? SecretBinary { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Arn} version {VersionId} [{string.Join(",", VersionStages)}] (value hidden)";
}
