using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;

namespace Fogline.IpcBench;

/// <summary>The smallest useful Greengrass IPC server: one fixed token, UpdateState and PublishToTopic that do nothing.</summary>
internal sealed class BenchIpcService : GreengrassCoreIpcService
{
    public const string Token = "ipcbench-token";
    public const string ComponentName = "com.example.IpcBench";

    public override ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(ReadAuthToken(request.Payload) == Token
            ? RpcConnectResult.Accept(ComponentName)
            : RpcConnectResult.Reject("unknown token"));

    protected override ValueTask<UpdateStateResponse> UpdateStateAsync(UpdateStateRequest request, IpcCallContext context) =>
        ValueTask.FromResult(new UpdateStateResponse());

    protected override ValueTask<PublishToTopicResponse> PublishToTopicAsync(PublishToTopicRequest request, IpcCallContext context) =>
        ValueTask.FromResult(new PublishToTopicResponse());
}
