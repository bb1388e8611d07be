using Fogline.LocalCloud;
using Fogline.LocalCloud.Auth;

namespace Fogline.LocalCloud.Tests;

/// <summary>A local cloud on a temporary directory, its developer key, and the AWS CLI pointed at it.</summary>
internal sealed class LocalCloudFixture : IAsyncDisposable
{
    /// <summary>A second account's key (for "not yours" cases).</summary>
    public static readonly CloudCredential Other = new("AKIAOTHERACCOUNT0001", "other-secret-key-0000000000000000000000", "222222222222", "someone-else");

    private LocalCloudFixture(string directory, LocalCloudServer server)
    {
        Directory = directory;
        Server = server;
        Cli = new AwsCli(server.Endpoint, server.Keys.Default.AccessKeyId, server.Keys.Default.SecretAccessKey);
        OtherCli = Cli with { AccessKeyId = Other.AccessKeyId, SecretAccessKey = Other.SecretAccessKey };
    }

    public string Directory { get; }

    public LocalCloudServer Server { get; private set; }

    public AwsCli Cli { get; private set; }

    public AwsCli OtherCli { get; private set; }

    public string Account => Server.Keys.Default.AccountId;

    public static async Task<LocalCloudFixture> StartAsync(TimeProvider? time = null, string? directory = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("fogline-cloud-").FullName;
        var server = await LocalCloudServer.StartAsync(Options(directory, time));
        return new LocalCloudFixture(directory, server);
    }

    /// <summary>Stops the cloud and starts a new one on the same directory (a new port).</summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = await LocalCloudServer.StartAsync(Options(Directory, null));
        Cli = Cli with { Endpoint = Server.Endpoint };
        OtherCli = OtherCli with { Endpoint = Server.Endpoint };
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static LocalCloudOptions Options(string directory, TimeProvider? time) => new()
    {
        DataDirectory = directory,
        Credentials = [Other],
        ComponentProcessingDelay = TimeSpan.FromMilliseconds(300),
        Time = time ?? TimeProvider.System,
    };
}
