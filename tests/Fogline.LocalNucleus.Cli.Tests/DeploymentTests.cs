using Fogline.LocalNucleus.CliAccess;
using System.Collections.Concurrent;
using System.Text.Json;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Tests;

/// <summary>
/// The deployment verbs against an in-test IPC server that serves the local-deployment operations as the Nucleus's
/// model describes them (the local Nucleus's own deployment service is not there yet), reached through a
/// cli_ipc_info file as the CLI finds any Nucleus.
/// </summary>
[CancelAfter(60_000)]
public class DeploymentTests
{
    private string _root = null!;
    private FakeDeploymentService _service = null!;
    private RpcServer _server = null!;

    [SetUp]
    public void SetUp()
    {
        _root = CliHarness.NewRoot();
        Directory.CreateDirectory(Path.Combine(_root, CliIpcInfo.DirectoryName));
        _service = new FakeDeploymentService();
        _server = new RpcServer(_service);
        var socket = Path.Combine(_root, "ipc.socket");
        _server.Listen(socket);
        File.WriteAllText(
            Path.Combine(_root, CliIpcInfo.DirectoryName, "user-test"),
            $$"""{"cli_auth_token":"{{FakeDeploymentService.Token}}","domain_socket_path":"{{socket}}"}""");
    }

    [TearDown]
    public async Task TearDown()
    {
        await _server.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Test]
    public async Task Create_SendsEveryOption_AndPrintsTheDeploymentId()
    {
        var recipes = Path.Combine(_root, "recipes");
        var config = Path.Combine(_root, "config.json");
        await File.WriteAllTextAsync(config, """{"com.example.Hello":{"MERGE":{"greeting":"hi"}}}""");

        var result = await CliHarness.RunInAsync(_root, "deployment", "create",
            "--recipeDir", recipes, "--artifactDir", "artifacts",
            "--merge", "com.example.Hello=1.0.0", "-m", "com.example.World=2.1.0",
            "--remove", "com.example.Old", "--remove", "com.example.Older",
            "--update-config", config, "--groupId", "thinggroup/local", "--failure-handling-policy", "DO_NOTHING");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Is.EqualTo("Local deployment submitted! Deployment Id: deployment-1\n"));
        var request = _service.Created.Single();
        Assert.That(request.RecipeDirectoryPath, Is.EqualTo(recipes));
        Assert.That(request.ArtifactsDirectoryPath, Is.EqualTo(Path.GetFullPath("artifacts")));
        Assert.That(request.RootComponentVersionsToAdd, Is.EquivalentTo(new Dictionary<string, string> { ["com.example.Hello"] = "1.0.0", ["com.example.World"] = "2.1.0" }));
        Assert.That(request.RootComponentsToRemove, Is.EqualTo(new[] { "com.example.Old", "com.example.Older" }));
        Assert.That(request.GroupName, Is.EqualTo("thinggroup/local"));
        Assert.That(request.FailureHandlingPolicy, Is.EqualTo(FailureHandlingPolicy.DoNothing));
        Assert.That(request.ComponentToConfiguration!["com.example.Hello"].GetProperty("MERGE").GetProperty("greeting").GetString(), Is.EqualTo("hi"));
    }

    [Test]
    public async Task Create_WithAJsonStringConfiguration_SendsIt()
    {
        var result = await CliHarness.RunInAsync(_root, "deployment", "create", "-c", """{"com.example.Hello":{"RESET":[""]}}""");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(_service.Created.Single().ComponentToConfiguration!["com.example.Hello"].GetProperty("RESET")[0].GetString(), Is.EqualTo(string.Empty));
    }

    [Test]
    public async Task Create_WithBadConfigurationJson_FailsBeforeCallingTheNucleus()
    {
        var result = await CliHarness.RunInAsync(_root, "deployment", "create", "--update-config", "{not json");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Does.StartWith("error: Update configuration parameter is not a properly formatted JSON file or a JSON string"));
        Assert.That(_service.Created, Is.Empty);
    }

    [Test]
    public async Task Status_OfAFailedDeployment_PrintsItsDetails()
    {
        var result = await CliHarness.RunInAsync(_root, "deployment", "status", "-i", "failed-1");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Is.EqualTo(
            "failed-1: FAILED\nCreated on: 1700000000000\nDetailed Status: FAILED_ROLLBACK_COMPLETE\n"
            + "Deployment Error Stack: DEPLOYMENT_FAILURE, COMPONENT_BROKEN\nDeployment Error Types: COMPONENT_ERROR\n"
            + "Deployment Failure Cause: com.example.Hello broke\n"));
    }

    [Test]
    public async Task Status_OfAnUnknownDeployment_IsTheServersError()
    {
        var result = await CliHarness.RunInAsync(_root, "deployment", "status", "--deploymentId", "nope");

        Assert.That(result.ExitCode, Is.EqualTo(1));
        Assert.That(result.Error, Is.EqualTo("error: ResourceNotFoundError: Cannot find deployment\n"));
    }

    [Test]
    public async Task List_PrintsBlocksSeparatedByAnEmptyLine()
    {
        var result = await CliHarness.RunInAsync(_root, "deployment", "list");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Is.EqualTo(
            "Deployment ID: d-1\nCreated on: 1700000000000\nStatus: SUCCEEDED\n\nDeployment ID: d-2\nCreated on: 1700000001000\nStatus: IN_PROGRESS\n"));
    }

    [Test]
    public async Task Cancel_PrintsTheServersMessage()
    {
        var result = await CliHarness.RunInAsync(_root, "deployment", "cancel", "-i", "d-2");

        Assert.That(result.ExitCode, Is.Zero, result.Error);
        Assert.That(result.Output, Is.EqualTo("Successfully canceled deployment d-2\n"));
    }

    [Test]
    public async Task TheRealNucleus_WithoutADeploymentService_AnswersUnsupportedOperation()
    {
        await using var cli = await CliHarness.StartAsync();

        var result = await cli.RunAsync("deployment", "list");

        // When the Nucleus serves local deployments this answers an empty list instead.
        Assert.That(result.ExitCode == 0 ? result.Output : result.Error, Is.Empty.Or.Contains("Unsupported Operation"));
    }

    private sealed class FakeDeploymentService : GreengrassCoreIpcService
    {
        public const string Token = "cli-test-token";

        public ConcurrentQueue<CreateLocalDeploymentRequest> Created { get; } = new();

        public override ValueTask<RpcConnectResult> AuthenticateAsync(RpcConnectRequest request, CancellationToken cancellationToken) =>
            ValueTask.FromResult(ReadAuthToken(request.Payload) == Token ? RpcConnectResult.Accept("aws.greengrass.Cli") : RpcConnectResult.Reject("unknown token"));

        protected override ValueTask<CreateLocalDeploymentResponse> CreateLocalDeploymentAsync(CreateLocalDeploymentRequest request, IpcCallContext context)
        {
            Created.Enqueue(request);
            return ValueTask.FromResult(new CreateLocalDeploymentResponse { DeploymentId = "deployment-" + Created.Count });
        }

        protected override ValueTask<GetLocalDeploymentStatusResponse> GetLocalDeploymentStatusAsync(GetLocalDeploymentStatusRequest request, IpcCallContext context)
        {
            if (request.DeploymentId != "failed-1")
            {
                throw new ResourceNotFoundException("Cannot find deployment");
            }

            return ValueTask.FromResult(new GetLocalDeploymentStatusResponse
            {
                Deployment = new LocalDeployment
                {
                    DeploymentId = "failed-1",
                    Status = DeploymentStatus.Failed,
                    CreatedOn = "1700000000000",
                    DeploymentStatusDetails = new DeploymentStatusDetails
                    {
                        DetailedDeploymentStatus = DetailedDeploymentStatus.FailedRollbackComplete,
                        DeploymentErrorStack = ["DEPLOYMENT_FAILURE", "COMPONENT_BROKEN"],
                        DeploymentErrorTypes = ["COMPONENT_ERROR"],
                        DeploymentFailureCause = "com.example.Hello broke",
                    },
                },
            });
        }

        protected override ValueTask<ListLocalDeploymentsResponse> ListLocalDeploymentsAsync(ListLocalDeploymentsRequest request, IpcCallContext context) =>
            ValueTask.FromResult(new ListLocalDeploymentsResponse
            {
                LocalDeployments =
                [
                    new LocalDeployment { DeploymentId = "d-1", Status = DeploymentStatus.Succeeded, CreatedOn = "1700000000000" },
                    new LocalDeployment { DeploymentId = "d-2", Status = DeploymentStatus.InProgress, CreatedOn = "1700000001000" },
                ],
            });

        protected override ValueTask<CancelLocalDeploymentResponse> CancelLocalDeploymentAsync(CancelLocalDeploymentRequest request, IpcCallContext context) =>
            ValueTask.FromResult(new CancelLocalDeploymentResponse { Message = "Successfully canceled deployment " + request.DeploymentId });
    }
}
