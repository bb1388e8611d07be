using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc.Tests.Infrastructure;

namespace Fogline.Greengrass.Ipc.Tests.Conformance;

/// <summary>
/// The official Greengrass IPC client for Node.js (npm aws-iot-device-sdk-v2, greengrasscoreipc.createClient())
/// against our server role, and our C# client against the same server, in the same scenarios with the same
/// expectations. Prints a table scenario x client x result.
/// </summary>
[Category("Conformance")]
[NonParallelizable]
public class JsClientConformanceTests
{
    private static readonly List<(string Scenario, string Client, bool Passed)> Results = [];
    private TestServer _server = null!;

    private static readonly Dictionary<string, Func<TestServer, Task<JsonNode>>> CSharpScenarios = new()
    {
        ["handshake"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            return new JsonObject { ["connected"] = true };
        },
        ["rejectedHandshake"] = async server =>
        {
            try
            {
                await using var client = await server.ConnectAsync("wrong-token");
                return new JsonObject { ["connected"] = true };
            }
            catch (GreengrassIpcConnectionException)
            {
                return new JsonObject { ["connected"] = false };
            }
        },
        ["requestResponse"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            var r = await client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["threshold"] });
            return new JsonObject { ["componentName"] = r.ComponentName, ["value"] = JsonNode.Parse(r.Value!.Value.GetRawText()) };
        },
        ["streaming"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            var events = new JsonArray();
            await using (var stream = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "conformance/cs" }))
            {
                for (var n = 0; n < 3; n++)
                {
                    await client.PublishToTopicAsync(new PublishToTopicRequest
                    {
                        Topic = "conformance/cs",
                        PublishMessage = new PublishMessage { JsonMessage = new JsonMessage { Message = JsonSerializer.SerializeToElement(new Dictionary<string, int> { ["n"] = n }) } },
                    });
                }

                await foreach (var m in stream)
                {
                    events.Add(new JsonObject { ["topic"] = "conformance/js", ["n"] = m.JsonMessage!.Message!.Value.GetProperty("n").GetInt32() });
                    if (events.Count == 3)
                    {
                        break;
                    }
                }
            }

            return new JsonObject { ["events"] = events };
        },
        ["modeledError"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            try
            {
                await client.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = ["missing", "x"] });
                return new JsonObject { ["error"] = false };
            }
            catch (ResourceNotFoundException e)
            {
                return new JsonObject { ["error"] = true, ["type"] = "ServiceError", ["errorCode"] = e.ErrorCode, ["resourceName"] = e.Error.ResourceName, ["message"] = e.Error.Message };
            }
        },
        ["streamingError"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            try
            {
                await using var s = await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "forbidden/x" });
                return new JsonObject { ["error"] = false };
            }
            catch (UnauthorizedException e)
            {
                return new JsonObject { ["error"] = true, ["type"] = "ServiceError", ["errorCode"] = e.ErrorCode };
            }
        },
        ["blobAndTimestamp"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            var payload = Enumerable.Range(0, 300).Select(i => (byte)(i % 256)).ToArray();
            await client.PublishToIoTCoreAsync(new PublishToIoTCoreRequest { TopicName = "dt/conformance", Qos = QOS.AtLeastOnce, Payload = payload });
            var p = await client.CreateDebugPasswordAsync(new CreateDebugPasswordRequest());
            return new JsonObject { ["passwordExpirationMs"] = p.PasswordExpiration!.Value.ToUnixTimeMilliseconds(), ["username"] = p.Username };
        },
        ["unsupported"] = async server =>
        {
            await using var client = await server.ConnectAsync();
            try
            {
                await client.ListComponentsAsync(new ListComponentsRequest());
                return new JsonObject { ["error"] = false };
            }
            catch (GreengrassIpcUnsupportedOperationException)
            {
                return new JsonObject { ["error"] = true, ["type"] = "InternalError" };
            }
        },
    };

    // What both clients must report. The JS client reports an unmodeled answer as RpcErrorType.InternalError.
    private static readonly Dictionary<string, string> Expected = new()
    {
        ["handshake"] = """{"connected":true}""",
        ["rejectedHandshake"] = """{"connected":false}""",
        ["requestResponse"] = """{"componentName":"com.example.ComponentA","value":{"threshold":21.5,"enabled":true,"names":["a","b"]}}""",
        ["streaming"] = """{"events":[{"topic":"conformance/js","n":0},{"topic":"conformance/js","n":1},{"topic":"conformance/js","n":2}]}""",
        ["modeledError"] = """{"error":true,"type":"ServiceError","errorCode":"ResourceNotFoundError","resourceName":"missing/x","message":"Key not found"}""",
        ["streamingError"] = """{"error":true,"type":"ServiceError","errorCode":"UnauthorizedError"}""",
        ["blobAndTimestamp"] = """{"passwordExpirationMs":1700000000250,"username":"debug"}""",
        ["unsupported"] = """{"error":true,"type":"InternalError"}""",
    };

    public static IEnumerable<string> Scenarios => Expected.Keys;

    [OneTimeSetUp]
    public void CheckPeer() => NodePeer.EnsureInstalled();

    [SetUp]
    public void SetUp() => _server = TestServer.Start();

    [TearDown]
    public async Task TearDown() => await _server.DisposeAsync();

    [OneTimeTearDown]
    public void PrintTable()
    {
        var table = new StringBuilder();
        table.AppendLine("| scenario | C# client | Node.js client |");
        table.AppendLine("|---|---|---|");
        foreach (var scenario in Scenarios)
        {
            string Cell(string client) => Results.Where(r => r.Scenario == scenario && r.Client == client).Select(r => r.Passed ? "pass" : "FAIL").FirstOrDefault() ?? "-";
            table.AppendLine($"| {scenario} | {Cell("C#")} | {Cell("Node.js")} |");
        }

        TestContext.Progress.WriteLine(table.ToString());
    }

    [TestCaseSource(nameof(Scenarios))]
    public async Task NodeJsClient(string scenario)
    {
        var result = await NodePeer.RunAsync("scenario.js", scenario, _server.SocketPath, scenario == "rejectedHandshake" ? "wrong-token" : TestIpcService.GoodToken);
        Check(scenario, "Node.js", JsonNode.Parse(result.GetRawText())!);
        if (scenario == "streaming")
        {
            await Eventually.UntilAsync(() => _server.Service.SubscriberCount == 0, "the subscription released on the server");
        }

        if (scenario == "blobAndTimestamp")
        {
            Assert.That(_server.Service.IoTCorePublished.Single().Payload!.Value.ToArray(), Is.EqualTo(Enumerable.Range(0, 300).Select(i => (byte)(i % 256)).ToArray()));
        }
    }

    [TestCaseSource(nameof(Scenarios))]
    public async Task CSharpClient(string scenario)
    {
        var result = await CSharpScenarios[scenario](_server);
        Check(scenario, "C#", result);
        if (scenario == "streaming")
        {
            await Eventually.UntilAsync(() => _server.Service.SubscriberCount == 0, "the subscription released on the server");
        }
    }

    private static void Check(string scenario, string client, JsonNode actual)
    {
        var expected = JsonNode.Parse(Expected[scenario])!;
        var passed = JsonNode.DeepEquals(expected, actual);
        lock (Results)
        {
            Results.Add((scenario, client, passed));
        }

        Assert.That(passed, Is.True, $"{client} client, scenario {scenario}: expected {expected.ToJsonString()} but got {actual.ToJsonString()}");
    }
}
