using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Secrets;

/// <summary>
/// The secrets the local secret manager (<c>aws.greengrass.SecretManager</c>) serves with GetSecretValue, kept in
/// <c>&lt;root&gt;/secrets.json</c> in place of the secrets the real component downloads from AWS Secrets Manager.
/// </summary>
/// <remarks>
/// <para>The file is a JSON array with one object per secret version:</para>
/// <code>
/// [
///   { "arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf", "name": "db-password",
///     "versionId": "v2", "versionStages": ["AWSCURRENT"], "secretString": "s3cr3t" },
///   { "arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf", "name": "db-password",
///     "versionId": "v1", "versionStages": ["AWSPREVIOUS"], "secretBinary": "AAEC" }
/// ]
/// </code>
/// <para>
/// <c>arn</c> must be a Secrets Manager secret ARN (as the component checks ARNs); <c>name</c> and <c>versionId</c>
/// are required; <c>versionStages</c> defaults to <c>["AWSCURRENT"]</c>; exactly one of <c>secretString</c> and
/// <c>secretBinary</c> (base64) is required. Versions of one secret share its ARN and name; a version id and a stage
/// belong to one version of a secret.
/// </para>
/// <para>
/// The file is read when the Nucleus starts (a missing file means no secrets; an invalid one is logged, see
/// <see cref="LastLoadError"/>, and leaves no secrets) and again by <see cref="Reload"/>, by GetSecretValue with
/// <c>refresh: true</c> (the real component fetches from the cloud then), and when a secret is asked for by an ARN that
/// is not loaded or is not found (the component reloads its local store and fetches from the cloud then). Values are
/// never logged.
/// </para>
/// </remarks>
public sealed partial class SecretStore
{
    /// <summary>The file name in the root directory.</summary>
    public const string FileName = "secrets.json";

    /// <summary>The stage of a secret's current version, used when a request names neither version nor stage.</summary>
    public const string CurrentStage = "AWSCURRENT";

    private static readonly JsonDocumentOptions s_jsonOptions = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    private readonly ILogger _logger;
    private readonly Lock _reloadLock = new();
    private volatile Contents _contents = Contents.Empty;

    internal SecretStore(NucleusContext context)
    {
        _logger = context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.Secrets");
        FilePath = Path.Combine(Path.GetFullPath(context.RootPath), FileName);
        try
        {
            Reload();
        }
        catch (InvalidDataException)
        {
            // As the secret manager does with secrets it cannot parse: logged (by Reload), and the Nucleus carries on.
        }
    }

    /// <summary>The secrets file, <c>&lt;root&gt;/secrets.json</c>.</summary>
    public string FilePath { get; }

    /// <summary>Why the last load of the file failed, or null when it succeeded.</summary>
    public string? LastLoadError { get; private set; }

    /// <summary>Every secret version loaded.</summary>
    public IReadOnlyList<LocalSecret> Secrets => _contents.All;

    /// <summary>Whether a string is a secret ARN, by the pattern the secret manager uses.</summary>
    public static bool IsSecretArn(string secretId) => SecretArnPattern().IsMatch(secretId);

    /// <summary>
    /// Reads the file again and replaces the secrets. A missing file means no secrets. Throws
    /// <see cref="InvalidDataException"/> (and keeps the current secrets) when the file is invalid.
    /// </summary>
    public void Reload()
    {
        lock (_reloadLock)
        {
            List<LocalSecret> secrets;
            try
            {
                secrets = File.Exists(FilePath) ? Parse(File.ReadAllBytes(FilePath)) : [];
            }
            catch (InvalidDataException ex)
            {
                LastLoadError = ex.Message;
                SecretsLog.LoadFailed(_logger, FilePath, ex.Message);
                throw;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LastLoadError = ex.Message;
                SecretsLog.LoadFailed(_logger, FilePath, ex.Message);
                throw new InvalidDataException($"{FileName}: {ex.Message}", ex);
            }

            _contents = Contents.Build(secrets);
            LastLoadError = null;
            SecretsLog.Loaded(_logger, secrets.Count, FilePath);
        }
    }

    /// <summary>Replaces the secrets with <paramref name="secrets"/> (in memory; the file is not written). Throws <see cref="ArgumentException"/> when they break the rules.</summary>
    public void Replace(IEnumerable<LocalSecret> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var list = secrets.ToList();
        var problem = Validate(list);
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(secrets));
        }

        lock (_reloadLock)
        {
            _contents = Contents.Build(list);
        }
    }

    /// <summary>Reloads the file; a failure is logged and the current secrets stay.</summary>
    internal void TryReload()
    {
        try
        {
            Reload();
        }
        catch (InvalidDataException)
        {
            // Logged by Reload: the secret manager logs "Unable to load secrets from cache" and carries on.
        }
    }

    /// <summary>The ARN a secret id (ARN or name) stands for: an ARN as given, a name when a loaded secret has it.</summary>
    internal bool TryResolveArn(string secretId, out string arn)
    {
        if (IsSecretArn(secretId))
        {
            arn = secretId;
            return true;
        }

        return _contents.ArnByName.TryGetValue(secretId, out arn!);
    }

    /// <summary>Whether any version of the secret is loaded.</summary>
    internal bool Contains(string arn) => _contents.ByArn.ContainsKey(arn);

    /// <summary>The version of <paramref name="arn"/> with <paramref name="versionId"/>, or null.</summary>
    internal LocalSecret? FindVersion(string arn, string versionId) =>
        _contents.ByArn.TryGetValue(arn, out var versions) ? versions.FirstOrDefault(v => v.VersionId == versionId) : null;

    /// <summary>The version of <paramref name="arn"/> labelled <paramref name="stage"/>, or null.</summary>
    internal LocalSecret? FindStage(string arn, string stage) =>
        _contents.ByArn.TryGetValue(arn, out var versions) ? versions.FirstOrDefault(v => v.VersionStages.Contains(stage)) : null;

    private static List<LocalSecret> Parse(byte[] utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, s_jsonOptions);
        }
        catch (JsonException ex)
        {
            // Only the position: the reader's message may quote a character of the content.
            throw new InvalidDataException($"{FileName} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1})");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{FileName} must hold a JSON array of secret versions");
            }

            var secrets = new List<LocalSecret>();
            var index = 0;
            foreach (var entry in document.RootElement.EnumerateArray())
            {
                secrets.Add(ParseEntry(entry, index++));
            }

            var problem = Validate(secrets);
            return problem is null ? secrets : throw new InvalidDataException($"{FileName}: {problem}");
        }
    }

    private static LocalSecret ParseEntry(JsonElement entry, int index)
    {
        if (entry.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{FileName}: entry {index} is not an object");
        }

        string? Text(string property) =>
            entry.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null
                ? value.ValueKind == JsonValueKind.String ? value.GetString() : throw new InvalidDataException($"{FileName}: entry {index}: {property} must be a string")
                : null;

        List<string>? stages = null;
        if (entry.TryGetProperty("versionStages", out var stagesElement) && stagesElement.ValueKind != JsonValueKind.Null)
        {
            if (stagesElement.ValueKind != JsonValueKind.Array || stagesElement.EnumerateArray().Any(s => s.ValueKind != JsonValueKind.String))
            {
                throw new InvalidDataException($"{FileName}: entry {index}: versionStages must be an array of strings");
            }

            stages = [.. stagesElement.EnumerateArray().Select(s => s.GetString()!)];
        }

        var binaryText = Text("secretBinary");
        byte[]? binary = null;
        if (binaryText is not null)
        {
            try
            {
                binary = Convert.FromBase64String(binaryText);
            }
            catch (FormatException)
            {
                throw new InvalidDataException($"{FileName}: entry {index}: secretBinary must be base64");
            }
        }

        var arn = Text("arn") ?? string.Empty;
        var secret = new LocalSecret(arn, Text("name") ?? string.Empty, Text("versionId") ?? string.Empty, stages, Text("secretString"), binary is null ? default(ReadOnlyMemory<byte>?) : binary);
        var problem = ValidateOne(secret);
        return problem is null ? secret : throw new InvalidDataException($"{FileName}: entry {index}: {problem}");
    }

    private static string? ValidateOne(LocalSecret secret)
    {
        if (!IsSecretArn(secret.Arn))
        {
            return "arn is missing or is not a Secrets Manager secret ARN";
        }

        if (string.IsNullOrEmpty(secret.Name))
        {
            return "name is required";
        }

        if (string.IsNullOrEmpty(secret.VersionId))
        {
            return "versionId is required";
        }

        if (secret.VersionStages.Any(string.IsNullOrEmpty))
        {
            return "versionStages must not hold empty stages";
        }

        return (secret.SecretString is null) == (secret.SecretBinary is null) ? "exactly one of secretString and secretBinary is required" : null;
    }

    private static string? Validate(List<LocalSecret> secrets)
    {
        var nameOfArn = new Dictionary<string, string>(StringComparer.Ordinal);
        var arnOfName = new Dictionary<string, string>(StringComparer.Ordinal);
        var versions = new HashSet<(string, string)>();
        var stages = new HashSet<(string, string)>();
        for (var i = 0; i < secrets.Count; i++)
        {
            var secret = secrets[i];
            var problem = ValidateOne(secret);
            if (problem is not null)
            {
                return $"entry {i}: {problem}";
            }

            if (nameOfArn.TryGetValue(secret.Arn, out var name) && name != secret.Name)
            {
                return $"entry {i}: versions of one secret must have the same name";
            }

            if (arnOfName.TryGetValue(secret.Name, out var arn) && arn != secret.Arn)
            {
                return $"entry {i}: the name {secret.Name} belongs to another ARN";
            }

            nameOfArn[secret.Arn] = secret.Name;
            arnOfName[secret.Name] = secret.Arn;
            if (!versions.Add((secret.Arn, secret.VersionId)))
            {
                return $"entry {i}: version {secret.VersionId} of {secret.Arn} appears twice";
            }

            foreach (var stage in secret.VersionStages)
            {
                if (!stages.Add((secret.Arn, stage)))
                {
                    return $"entry {i}: stage {stage} of {secret.Arn} is on two versions";
                }
            }
        }

        return null;
    }

    [GeneratedRegex(@"\Aarn:([^:]+):secretsmanager:[a-z0-9\-]+:[0-9]{12}:secret:([a-zA-Z0-9\\]+/)*[a-zA-Z0-9/_+=,.@\-]+(-[a-zA-Z0-9]+)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex SecretArnPattern();

    private sealed class Contents
    {
        public static readonly Contents Empty = Build([]);

        private Contents(IReadOnlyList<LocalSecret> all, Dictionary<string, List<LocalSecret>> byArn, Dictionary<string, string> arnByName)
        {
            All = all;
            ByArn = byArn;
            ArnByName = arnByName;
        }

        public IReadOnlyList<LocalSecret> All { get; }

        public Dictionary<string, List<LocalSecret>> ByArn { get; }

        public Dictionary<string, string> ArnByName { get; }

        public static Contents Build(List<LocalSecret> secrets)
        {
            var byArn = new Dictionary<string, List<LocalSecret>>(StringComparer.Ordinal);
            var arnByName = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var secret in secrets)
            {
                if (!byArn.TryGetValue(secret.Arn, out var versions))
                {
                    versions = [];
                    byArn[secret.Arn] = versions;
                }

                versions.Add(secret);
                arnByName[secret.Name] = secret.Arn;
            }

            return new Contents([.. secrets], byArn, arnByName);
        }
    }
}
