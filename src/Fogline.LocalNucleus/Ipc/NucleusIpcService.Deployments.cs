using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Deployments;

namespace Fogline.LocalNucleus.Ipc;

/// <summary>
/// The Greengrass CLI's local deployment operations (CreateLocalDeployment, GetLocalDeploymentStatus,
/// ListLocalDeployments, CancelLocalDeployment), authorized like its other operations.
/// </summary>
public sealed partial class NucleusIpcService
{
    /// <inheritdoc />
    protected override ValueTask<CreateLocalDeploymentResponse> CreateLocalDeploymentAsync(CreateLocalDeploymentRequest request, IpcCallContext context) =>
        Translate<CreateLocalDeploymentResponse>(context, async () =>
        {
            AuthorizeCli(context, "*");
            try
            {
                // Importing copies recipes and artifacts (maybe large): off the socket's event thread.
                return new CreateLocalDeploymentResponse { DeploymentId = await Task.Run(() => _nucleus.Deployments.Submit(request)).ConfigureAwait(false) };
            }
            catch (DeploymentValidationException e)
            {
                // Every problem, one per line, so the CLI can show them all; nothing was imported or queued.
                throw new InvalidArgumentsException(string.Join("\n", e.Errors));
            }
        });

    /// <inheritdoc />
    protected override ValueTask<GetLocalDeploymentStatusResponse> GetLocalDeploymentStatusAsync(GetLocalDeploymentStatusRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            AuthorizeCli(context, "*");
            var id = request.DeploymentId;
            if (string.IsNullOrEmpty(id))
            {
                throw new InvalidArgumentsException("Deployment Id cannot be empty");
            }

            var record = _nucleus.Deployments.Find(id) ?? throw new ResourceNotFoundException(new ResourceNotFoundError
            {
                Message = $"Cannot find deployment {id}",
                ResourceType = "LocalDeployment",
                ResourceName = id,
            });
            return new GetLocalDeploymentStatusResponse { Deployment = record.ToIpc() };
        });

    /// <inheritdoc />
    protected override ValueTask<ListLocalDeploymentsResponse> ListLocalDeploymentsAsync(ListLocalDeploymentsRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            AuthorizeCli(context, "*");
            return new ListLocalDeploymentsResponse { LocalDeployments = [.. _nucleus.Deployments.List().Select(d => d.ToIpc())] };
        });

    /// <inheritdoc />
    protected override ValueTask<CancelLocalDeploymentResponse> CancelLocalDeploymentAsync(CancelLocalDeploymentRequest request, IpcCallContext context) =>
        Translate(context, () =>
        {
            AuthorizeCli(context, "*");
            var id = request.DeploymentId;
            if (string.IsNullOrEmpty(id))
            {
                throw new InvalidArgumentsException("Deployment Id cannot be empty");
            }

            try
            {
                return new CancelLocalDeploymentResponse { Message = _nucleus.Deployments.Cancel(id) };
            }
            catch (KeyNotFoundException)
            {
                throw new ResourceNotFoundException(new ResourceNotFoundError { Message = $"Cannot find deployment {id}", ResourceType = "LocalDeployment", ResourceName = id });
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidArgumentsException(e.Message);
            }
        });
}
