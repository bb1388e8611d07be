using System.Text.Json.Serialization;
using Fogline.EventStream.Rpc;
using Microsoft.Extensions.Logging;

namespace Fogline.Greengrass.Ipc;

/// <summary>
/// Base of a Greengrass IPC server (the local Nucleus derives from it). Override the operations you serve; the others
/// are answered as the Nucleus answers an operation it does not know. Serve it with
/// <see cref="RpcServer"/>: <c>new RpcServer(service).Listen(socketPath)</c>.
/// </summary>
public abstract partial class GreengrassCoreIpcService : IpcServiceBase
{
    /// <summary>Creates the service.</summary>
    protected GreengrassCoreIpcService(ILogger? logger = null)
        : base(logger)
    {
    }

    /// <inheritdoc />
    protected internal override JsonSerializerContext JsonContext => GreengrassCoreIpcJsonContext.Default;

    /// <inheritdoc />
    protected override IRpcServerStreamHandler? CreateStreamHandler(string operation) => CreateHandler(operation);
}
