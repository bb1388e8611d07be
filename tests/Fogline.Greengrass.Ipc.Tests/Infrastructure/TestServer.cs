using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;

namespace Fogline.Greengrass.Ipc.Tests.Infrastructure;

/// <summary>A <see cref="TestIpcService"/> served on a Unix socket in a temporary directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(string directory, TestIpcService service, RpcServer server)
    {
        Directory = directory;
        Service = service;
        Server = server;
    }

    public string Directory { get; }

    public string SocketPath => Path.Combine(Directory, "ipc.socket");

    public TestIpcService Service { get; }

    public RpcServer Server { get; }

    public static TestServer Start(RpcServerOptions? options = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), "fogline-test-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(directory);
        var service = new TestIpcService();
        var server = new RpcServer(service, options);
        server.Listen(Path.Combine(directory, "ipc.socket"));
        return new TestServer(directory, service, server);
    }

    public Task<GreengrassIpcClient> ConnectAsync(string token = TestIpcService.GoodToken, IpcReconnectPolicy? reconnect = null) =>
        GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = SocketPath, AuthToken = token, Reconnect = reconnect ?? IpcReconnectPolicy.None });

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
