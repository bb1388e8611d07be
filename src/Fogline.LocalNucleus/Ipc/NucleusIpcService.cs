using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Components;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>
/// The IPC service of the local Nucleus. Connections authenticate with a component's token (SVCUID); every call
/// knows its calling component and is authorized as the Nucleus authorizes it. Operations are implemented in the
/// partial files of this class, one per area; unexpected failures are answered as the Nucleus answers them, with a
/// ServiceError carrying the message.
/// </summary>
public sealed partial class NucleusIpcService : GreengrassCoreIpcService
{
    private readonly Nucleus _nucleus;

    internal NucleusIpcService(Nucleus nucleus, ILogger logger)
        : base(logger)
    {
        _nucleus = nucleus;
    }

    /// <inheritdoc />
    public override ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var token = ReadAuthToken(request.Payload);
        if (token is null)
        {
            return ValueTask.FromResult(RpcConnectResult.Reject("the Connect payload has no authToken"));
        }

        return ValueTask.FromResult(_nucleus.Components.TryGetByToken(token, out var component)
            ? RpcConnectResult.Accept(new ComponentIdentity(component))
            : RpcConnectResult.Reject("the authToken belongs to no component"));
    }

    /// <summary>The component making the call.</summary>
    internal static ComponentRecord Caller(IpcCallContext context) => ((ComponentIdentity)context.Identity!).Component;

    /// <summary>Authorizes the call's operation on <paramref name="resource"/> for the calling component; throws UnauthorizedError otherwise.</summary>
    internal void Authorize(string destination, IpcCallContext context, string resource, ResourceLookupPolicy lookup = ResourceLookupPolicy.Standard) =>
        _nucleus.Authorization.Authorize(destination, Caller(context).Name, context.Operation.Name, resource, lookup);

    /// <summary>
    /// Runs an operation body as the Nucleus does: modeled errors pass through, anything else becomes a ServiceError
    /// with the exception's message (and is logged).
    /// </summary>
    internal async ValueTask<T> Translate<T>(IpcCallContext context, Func<ValueTask<T>> body)
    {
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (GreengrassIpcServiceException)
        {
            throw;
        }
        catch (IpcOperationNotServedException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            NucleusLog.UnhandledInIpc(Logger, context.Operation.Name, Caller(context).Name, ex);
            throw new ServiceException(ex.Message);
        }
    }

    /// <summary>Synchronous variant of <see cref="Translate{T}(IpcCallContext, Func{ValueTask{T}})"/>.</summary>
    internal ValueTask<T> Translate<T>(IpcCallContext context, Func<T> body)
    {
        try
        {
            return ValueTask.FromResult(body());
        }
        catch (GreengrassIpcServiceException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
        {
            NucleusLog.UnhandledInIpc(Logger, context.Operation.Name, Caller(context).Name, ex);
            throw new ServiceException(ex.Message);
        }
    }
}
