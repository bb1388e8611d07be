using System.Text;
using Fogline.EventStream.Rpc;
using Fogline.EventStream.Transport;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>An <see cref="EchoService"/> served on a Unix socket in a temporary directory.</summary>
internal sealed class RpcHarness : IAsyncDisposable
{
    private readonly TempDirectory _directory;

    private RpcHarness(TempDirectory directory, RpcServer server, EchoService service, string socketPath)
    {
        _directory = directory;
        Server = server;
        Service = service;
        SocketPath = socketPath;
    }

    public RpcServer Server { get; }

    public EchoService Service { get; }

    public string SocketPath { get; }

    public static RpcHarness Start(TimeSpan? connectTimeout = null)
    {
        var directory = new TempDirectory();
        var service = new EchoService();
        var server = new RpcServer(service, new RpcServerOptions { ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(30) });
        var path = directory.File("ipc.sock");
        server.Listen(path);
        return new RpcHarness(directory, server, service, path);
    }

    public async Task<RpcClientConnection> ConnectClientAsync(string token = EchoService.GoodToken)
    {
        var transport = await UnixDomainSocket.ConnectAsync(SocketPath);
        return await RpcClientConnection.ConnectAsync(transport, new RpcClientConnectionOptions
        {
            ConnectPayload = Encoding.UTF8.GetBytes(RpcFrames.AuthPayload(token)),
        }).Within("the client handshake");
    }

    /// <summary>Opens an echo stream on <paramref name="client"/>, checks one request/response, and closes the stream.</summary>
    public static async Task AssertEchoWorksAsync(RpcClientConnection client, string text = "{\"ping\":\"still alive\"}")
    {
        var handler = new RecordingStreamHandler();
        var stream = client.NewStream(handler);
        await stream.ActivateAsync("echo", new RpcOutgoingMessage { ContentType = RpcHeaders.ContentTypeJson, Payload = Encoding.UTF8.GetBytes(text) });
        var answer = await handler.NextAsync();
        Assert.That(answer.Type, Is.EqualTo(MessageType.ApplicationMessage));
        Assert.That(answer.Text, Is.EqualTo(text));
        await stream.CloseAsync();
    }

    public async Task<RawPeer> ConnectRawAsync() => await RawPeer.ConnectAsync(SocketPath);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.DisposeAsync().AsTask().Within("the server to shut down");
        }
        finally
        {
            _directory.Dispose();
        }
    }
}
