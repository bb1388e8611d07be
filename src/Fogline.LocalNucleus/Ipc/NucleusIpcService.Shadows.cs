using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Shadows;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>
/// The local shadow operations, as the shadow manager component (<c>aws.greengrass.ShadowManager</c>) serves them with
/// its <c>GetThingShadowIPCHandler</c>, <c>UpdateThingShadowIPCHandler</c>, <c>DeleteThingShadowIPCHandler</c> and
/// <c>ListNamedShadowsForThingIPCHandler</c>: rate limited per thing, then carried out for the calling component by
/// <see cref="ShadowService"/>.
/// </summary>
public sealed partial class NucleusIpcService
{
    /// <inheritdoc />
    protected override ValueTask<GetThingShadowResponse> GetThingShadowAsync(GetThingShadowRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var shadows = _nucleus.Shadows;
            shadows.ThrottleIpc("GetThingShadow", request.ThingName);
            return new GetThingShadowResponse { Payload = shadows.GetThingShadow(request.ThingName, request.ShadowName, Caller(context).Name) };
        });

    /// <inheritdoc />
    protected override ValueTask<UpdateThingShadowResponse> UpdateThingShadowAsync(UpdateThingShadowRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var shadows = _nucleus.Shadows;
            shadows.ThrottleIpc("UpdateThingShadow", request.ThingName);
            return new UpdateThingShadowResponse { Payload = shadows.UpdateThingShadow(request.ThingName, request.ShadowName, request.Payload, Caller(context).Name) };
        });

    /// <inheritdoc />
    protected override ValueTask<DeleteThingShadowResponse> DeleteThingShadowAsync(DeleteThingShadowRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            var shadows = _nucleus.Shadows;
            shadows.ThrottleIpc("DeleteThingShadow", request.ThingName);
            return new DeleteThingShadowResponse { Payload = shadows.DeleteThingShadow(request.ThingName, request.ShadowName, Caller(context).Name) };
        });

    /// <inheritdoc />
    protected override ValueTask<ListNamedShadowsForThingResponse> ListNamedShadowsForThingAsync(ListNamedShadowsForThingRequest request, IpcCallContext context) =>
        Translate(context, () => _nucleus.Shadows.ListNamedShadowsForThingOverIpc(request.ThingName, request.NextToken, request.PageSize, Caller(context).Name));
}
