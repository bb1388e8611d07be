using System.Text;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Secrets;
using Fogline.LocalNucleus.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Tests.Secrets;

[CancelAfter(30_000)]
public class GetSecretValueTests
{
    private const string SecretManager = "aws.greengrass.SecretManager";
    private const string DbArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf";
    private const string KeyArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:signing-key-XyZ123";
    private const string CurrentValue = "current-db-password-7d1f";
    private const string PreviousValue = "previous-db-password-93ac";

    private static readonly byte[] s_key = [0xde, 0xad, 0xbe, 0xef, 0x01];

    private static readonly string s_secretsJson = $$"""
        [
          { "arn": "{{DbArn}}", "name": "db-password", "versionId": "v2", "versionStages": ["AWSCURRENT"], "secretString": "{{CurrentValue}}" },
          { "arn": "{{DbArn}}", "name": "db-password", "versionId": "v1", "versionStages": ["AWSPREVIOUS", "OLD"], "secretString": "{{PreviousValue}}" },
          // comments are allowed
          { "arn": "{{KeyArn}}", "name": "signing-key", "versionId": "k1", "secretBinary": "{{Convert.ToBase64String(s_key)}}" },
        ]
        """;

    private TestNucleus _nucleus = null!;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync(root =>
    {
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, SecretStore.FileName), s_secretsJson);
        return new NucleusOptions { RootPath = root };
    });

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    [Test]
    public async Task TheFileIsLoadedAtStart_AndSecretsAreFoundByNameOrArn_CurrentByDefault()
    {
        Assert.That(_nucleus.Nucleus.Secrets.LastLoadError, Is.Null);
        Assert.That(_nucleus.Nucleus.Secrets.Secrets, Has.Count.EqualTo(3));
        var client = await ConnectAsync("com.example.App", [DbArn, KeyArn]);

        var byName = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password" });
        var byArn = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = DbArn });
        var binary = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "signing-key" });

        Assert.That((byName.SecretId, byName.VersionId, byName.SecretValue!.SecretString), Is.EqualTo((DbArn, "v2", CurrentValue)));
        Assert.That(byName.VersionStage, Is.EqualTo(new[] { "AWSCURRENT" }));
        Assert.That(byName.SecretValue.SecretBinary, Is.Null);
        Assert.That(byArn.SecretValue!.SecretString, Is.EqualTo(CurrentValue));
        Assert.That(binary.SecretValue!.SecretBinary!.Value.ToArray(), Is.EqualTo(s_key));
        Assert.That(binary.SecretValue.SecretString, Is.Null);
        Assert.That(binary.VersionStage, Is.EqualTo(new[] { "AWSCURRENT" }), "stages default to AWSCURRENT");
    }

    [Test]
    public async Task VersionIdAndVersionStage_SelectTheVersion()
    {
        var client = await ConnectAsync("com.example.App", [DbArn]);

        var byStage = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", VersionStage = "AWSPREVIOUS" });
        var byOtherStage = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", VersionStage = "OLD" });
        var byId = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = DbArn, VersionId = "v2" });

        Assert.That((byStage.VersionId, byStage.SecretValue!.SecretString), Is.EqualTo(("v1", PreviousValue)));
        Assert.That(byStage.VersionStage, Is.EqualTo(new[] { "AWSPREVIOUS", "OLD" }));
        Assert.That(byOtherStage.VersionId, Is.EqualTo("v1"));
        Assert.That(byId.SecretValue!.SecretString, Is.EqualTo(CurrentValue));
    }

    [Test]
    public async Task Errors_AreTheSecretManagers()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        const string UnknownArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nothing-QwErTy";

        var notConfigured = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "nope" }));
        var unknownArn = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = UnknownArn }));
        var badVersion = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", VersionId = "v9" }));
        var badStage = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", VersionStage = "AWSPENDING" }));
        var both = await Assert.ThrowsAsync<ServiceException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", VersionId = "v1", VersionStage = "AWSPREVIOUS" }));
        var empty = await Assert.ThrowsAsync<ServiceException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "" }));
        _nucleus.Nucleus.Components.TryGet("com.example.App", out var app);
        var absent = await Components.RawIpc.CallAsync(_nucleus.Nucleus, app, GreengrassCoreIpc.GetSecretValue, "{}");

        Assert.That((notConfigured!.Error.Message, notConfigured.Error.ResourceType), Is.EqualTo(("Secret not configured nope", "secret")));
        Assert.That(unknownArn!.Error.Message, Is.EqualTo("Secret not found " + UnknownArn));
        Assert.That(badVersion!.Error.Message, Is.EqualTo("Version Id v9 not found for secret db-password"));
        Assert.That(badStage!.Error.Message, Is.EqualTo("Version stage AWSPENDING not found for secret db-password"));
        Assert.That(both!.Error.Message, Is.EqualTo("Both versionId and Stage are set in the request"));
        Assert.That(empty!.Error.Message, Is.EqualTo("SecretId absent in the request"));
        Assert.That((absent.ModelType, absent.Message), Is.EqualTo(("aws.greengrass#ServiceError", "SecretId absent in the request")));
    }

    [Test]
    public async Task Authorization_IsOnTheSecretArn_WhicheverWayTheSecretIsNamed()
    {
        var client = await ConnectAsync("com.example.App", [KeyArn]);

        var byName = await Assert.ThrowsAsync<UnauthorizedException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password" }));
        var byArn = await Assert.ThrowsAsync<UnauthorizedException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = DbArn, VersionId = "nope" }));
        var noPolicy = await _nucleus.ConnectAsync(_nucleus.Add("com.example.NoPolicy"));
        var none = await Assert.ThrowsAsync<UnauthorizedException>(() => noPolicy.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "signing-key" }));

        var expected = $"Principal com.example.App is not authorized to perform aws.greengrass.SecretManager:aws.greengrass#GetSecretValue on resource {DbArn}";
        Assert.That(byName!.Error.Message, Is.EqualTo(expected));
        Assert.That(byArn!.Error.Message, Is.EqualTo(expected), "authorization comes before the version lookup");
        Assert.That(none!.Error.Message, Is.EqualTo($"Principal com.example.NoPolicy is not authorized to perform aws.greengrass.SecretManager:aws.greengrass#GetSecretValue on resource {KeyArn}"));
        Assert.That((await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "signing-key" })).VersionId, Is.EqualTo("k1"));
    }

    [Test]
    public async Task TheFileIsReadAgain_OnReload_OnRefresh_AndForAnArnNotLoaded()
    {
        var client = await ConnectAsync("com.example.App", ["*"]);
        const string NewArn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token-PoIuYt";
        var path = _nucleus.Nucleus.Secrets.FilePath;

        File.WriteAllText(path, s_secretsJson.Replace(CurrentValue, "rotated-value", StringComparison.Ordinal));
        var cached = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password" });
        var refreshed = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", Refresh = true });
        Assert.That(cached.SecretValue!.SecretString, Is.EqualTo(CurrentValue), "served from memory");
        Assert.That(refreshed.SecretValue!.SecretString, Is.EqualTo("rotated-value"));

        File.WriteAllText(path, $$"""[{ "arn": "{{NewArn}}", "name": "api-token", "versionId": "t1", "secretString": "tok" }]""");
        var unknownName = await Assert.ThrowsAsync<ResourceNotFoundException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "api-token" }));
        Assert.That(unknownName!.Error.Message, Is.EqualTo("Secret not configured api-token"), "names are only known once loaded");
        var byArn = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = NewArn });
        Assert.That(byArn.SecretValue!.SecretString, Is.EqualTo("tok"));
        Assert.That((await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "api-token" })).VersionId, Is.EqualTo("t1"));

        File.WriteAllText(path, "[]");
        _nucleus.Nucleus.Secrets.Reload();
        Assert.That(_nucleus.Nucleus.Secrets.Secrets, Is.Empty);
    }

    [Test]
    public async Task AnInvalidFile_IsReported_AndKeepsTheSecretsLoaded()
    {
        var store = _nucleus.Nucleus.Secrets;
        var invalid = new[]
        {
            ("""{"arn":"x"}""", "must hold a JSON array"),
            ("""[{"arn":"not-an-arn","name":"n","versionId":"v","secretString":"s"}]""", "entry 0: arn is missing or is not a Secrets Manager secret ARN"),
            ($$"""[{"arn":"{{DbArn}}","name":"n","versionId":"v"}]""", "entry 0: exactly one of secretString and secretBinary is required"),
            ($$"""[{"arn":"{{DbArn}}","name":"n","versionId":"v","secretString":"a"},{"arn":"{{DbArn}}","name":"n","versionId":"w","secretString":"b"}]""", "entry 1: stage AWSCURRENT of " + DbArn + " is on two versions"),
            ($$"""[{"arn":"{{DbArn}}","name":"n","versionId":"v","secretBinary":"***"}]""", "entry 0: secretBinary must be base64"),
            ("""[{"arn": "secret-value-in-a-broken-file""", "not valid JSON"),
        };

        foreach (var (json, problem) in invalid)
        {
            File.WriteAllText(store.FilePath, json);
            var ex = Assert.Throws<InvalidDataException>(store.Reload);
            Assert.That(ex!.Message, Does.Contain(problem));
            Assert.That(ex.Message, Does.Not.Contain("secret-value-in-a-broken-file"));
            Assert.That(store.LastLoadError, Is.EqualTo(ex.Message));
            Assert.That(store.Secrets, Has.Count.EqualTo(3), "the loaded secrets stay");
        }

        var client = await ConnectAsync("com.example.App", ["*"]);
        Assert.That((await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password" })).SecretValue!.SecretString, Is.EqualTo(CurrentValue));
    }

    [Test]
    public async Task SecretValues_NeverAppearInTheLogs()
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-secrets-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, SecretStore.FileName), s_secretsJson);
        var logs = new CapturingLoggerFactory();
        await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root }, logs);
        try
        {
            var app = nucleus.AddComponent("com.example.App", configuration: System.Text.Json.Nodes.JsonNode.Parse(TestNucleus.Policy(SecretManager, "s", ["aws.greengrass#GetSecretValue"], [DbArn]))!.AsObject());
            var other = nucleus.AddComponent("com.example.Other");
            await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = app.Token });
            await using var otherClient = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = other.Token });

            var current = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password" });
            var previous = await client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = DbArn, VersionStage = "AWSPREVIOUS", Refresh = true });
            await Assert.CatchAsync<GreengrassIpcServiceException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password", VersionId = "v7" }));
            await Assert.CatchAsync<GreengrassIpcServiceException>(() => client.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "signing-key" }));
            await Assert.CatchAsync<GreengrassIpcServiceException>(() => otherClient.GetSecretValueAsync(new GetSecretValueRequest { SecretId = "db-password" }));
            File.WriteAllText(Path.Combine(root, SecretStore.FileName), """[{"arn": "current-db-password-7d1f" """);
            Assert.Throws<InvalidDataException>(nucleus.Secrets.Reload);

            Assert.That(current.SecretValue!.SecretString, Is.EqualTo(CurrentValue));
            Assert.That(previous.SecretValue!.SecretString, Is.EqualTo(PreviousValue));
            var text = logs.Text();
            Assert.That(text, Does.Contain("requested secret db-password"), "the accesses are logged");
            Assert.That(text, Does.Contain("Error happened with secret access"));
            Assert.That(text, Does.Not.Contain(CurrentValue));
            Assert.That(text, Does.Not.Contain(PreviousValue));
            Assert.That(text, Does.Not.Contain(Convert.ToBase64String(s_key)));
            Assert.That(text, Does.Not.Contain(app.Token), "nor tokens");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private async Task<GreengrassIpcClient> ConnectAsync(string component, string[] resources) =>
        await _nucleus.ConnectAsync(_nucleus.Add(component, TestNucleus.Policy(SecretManager, "secrets", ["aws.greengrass#GetSecretValue"], resources)));
}
