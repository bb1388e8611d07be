using Fogline.LocalCloud;
using Fogline.LocalCloud.Auth;

namespace Fogline.LocalCloud.Tests;

/// <summary>
/// A local cloud on a temporary directory, its developer key, and the AWS CLI pointed at it (also compiled into
/// Fogline.Cli.Tests). <see cref="Fault"/> injects failures: while set, it is asked about every request.
/// </summary>
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

    /// <summary>While set, answers the requests it returns an error for with that error (method, raw target).</summary>
    public Func<string, string, Fogline.Aws.AwsServiceException?>? Fault { get; set; }

    public static async Task<LocalCloudFixture> StartAsync(TimeProvider? time = null, string? directory = null)
    {
        directory ??= System.IO.Directory.CreateTempSubdirectory("fogline-cloud-").FullName;
        LocalCloudFixture? fixture = null;
        var server = await LocalCloudServer.StartAsync(Options(directory, time, (method, target) => fixture?.Fault?.Invoke(method, target)));
        fixture = new LocalCloudFixture(directory, server);
        return fixture;
    }

    /// <summary>Stops the cloud and starts a new one on the same directory (a new port).</summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = await LocalCloudServer.StartAsync(Options(Directory, null, (method, target) => Fault?.Invoke(method, target)));
        Cli = Cli with { Endpoint = Server.Endpoint };
        OtherCli = OtherCli with { Endpoint = Server.Endpoint };
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private static LocalCloudOptions Options(string directory, TimeProvider? time, Func<string, string, Fogline.Aws.AwsServiceException?> fault) => new()
    {
        Fault = fault,
        DataDirectory = directory,
        Credentials = [Other],
        ComponentProcessingDelay = TimeSpan.FromMilliseconds(300),
        Time = time ?? TimeProvider.System,
    };
}
