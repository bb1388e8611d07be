using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>Runs conformance steps as one client library would: the official Node.js client, or ours.</summary>
public interface IIpcRunner : IAsyncDisposable
{
    string Name { get; }

    Task<JsonObject> RunAsync(JsonObject step);
}

/// <summary>The official Greengrass IPC client for Node.js, driven line by line (tests/Conformance/js/ipc-runner.js).</summary>
public sealed class NodeIpcRunner : IIpcRunner
{
    private readonly Process _process;
    private readonly StreamWriter _input;
    private readonly StreamReader _output;
    private readonly Task<string> _stderr;

    private NodeIpcRunner(Process process)
    {
        _process = process;
        _input = process.StandardInput;
        _output = process.StandardOutput;
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string Name => "Node.js";

    public static async Task<NodeIpcRunner> StartAsync(string socketPath, IReadOnlyDictionary<string, string> tokens)
    {
        var directory = Path.Combine(Repository.Root, "tests", "Conformance", "js");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "aws-iot-device-sdk-v2")))
        {
            Assert.Fail($"The official Node.js IPC client is not installed: run `npm ci --ignore-scripts` in {directory} (the build.cake Test target and .ci/run do).");
        }

        var start = new ProcessStartInfo("node", ["ipc-runner.js"])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var runner = new NodeIpcRunner(Process.Start(start) ?? throw new InvalidOperationException("node did not start"));
        var hello = new JsonObject { ["socket"] = socketPath, ["tokens"] = JsonSerializer.SerializeToNode(tokens) };
        var ready = await runner.ExchangeAsync(hello);
        Assert.That(ready["ready"]?.GetValue<bool>(), Is.True, $"node runner did not start: {ready.ToJsonString()}");
        return runner;
    }

    public Task<JsonObject> RunAsync(JsonObject step) => ExchangeAsync(step);

    public async ValueTask DisposeAsync()
    {
        _input.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private async Task<JsonObject> ExchangeAsync(JsonObject message)
    {
        await _input.WriteLineAsync(message.ToJsonString());
        await _input.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var line = await _output.ReadLineAsync(timeout.Token);
        if (line is null)
        {
            Assert.Fail($"the node runner exited. stderr: {await _stderr}");
        }

        var result = JsonNode.Parse(line!)!.AsObject();
        if (result["fatal"] is { } fatal)
        {
            Assert.Fail($"the node runner failed on {message.ToJsonString()}: {fatal}");
        }

        return result;
    }
}

/// <summary>Our C# client, running the same steps in process, reporting results in the same wire form.</summary>
public sealed class CSharpIpcRunner : IIpcRunner
{
    private static readonly MethodInfo OpenGeneric = typeof(CSharpIpcRunner).GetMethod(nameof(OpenCoreAsync), BindingFlags.NonPublic | BindingFlags.Instance)!;
    private static readonly MethodInfo InvokeGeneric = typeof(CSharpIpcRunner).GetMethod(nameof(InvokeCoreAsync), BindingFlags.NonPublic | BindingFlags.Static)!;

    private readonly string _socketPath;
    private readonly IReadOnlyDictionary<string, string> _tokens;
    private readonly Dictionary<string, GreengrassIpcClient> _clients = [];
    private readonly Dictionary<string, Stream> _streams = [];

    public CSharpIpcRunner(string socketPath, IReadOnlyDictionary<string, string> tokens)
    {
        _socketPath = socketPath;
        _tokens = tokens;
    }

    public string Name => "C#";

    public async Task<JsonObject> RunAsync(JsonObject step)
    {
        if (step["call"] is { } call)
        {
            var operation = Operation(call.GetValue<string>());
            var client = await ClientAsync(step["as"]!.GetValue<string>());
            var request = Request(operation, step["request"]);
            var arguments = operation.GetType().GetGenericArguments();
            try
            {
                var task = (Task<JsonNode?>)InvokeGeneric.MakeGenericMethod(arguments).Invoke(null, [client, operation, request])!;
                return new JsonObject { ["ok"] = await task ?? new JsonObject() };
            }
            catch (Exception ex)
            {
                return new JsonObject { ["error"] = ErrorOf(ex) };
            }
        }

        if (step["open"] is { } open)
        {
            var operation = Operation(open.GetValue<string>());
            var client = await ClientAsync(step["as"]!.GetValue<string>());
            var request = Request(operation, step["request"]);
            var stream = new Stream();
            try
            {
                var task = (Task<JsonNode?>)OpenGeneric.MakeGenericMethod(operation.GetType().GetGenericArguments()).Invoke(this, [client, operation, request, stream])!;
                var response = await task;
                _streams[step["stream"]!.GetValue<string>()] = stream;
                return new JsonObject { ["ok"] = response ?? new JsonObject() };
            }
            catch (Exception ex)
            {
                return new JsonObject { ["error"] = ErrorOf(ex) };
            }
        }

        if (step["events"] is { } events)
        {
            if (!_streams.TryGetValue(events.GetValue<string>(), out var stream))
            {
                return new JsonObject { ["error"] = new JsonObject { ["type"] = "NoSuchStream", ["stream"] = events.GetValue<string>() } };
            }

            var count = step["count"]!.GetValue<int>();
            var deadline = Environment.TickCount64 + (step["timeoutMs"]?.GetValue<int>() ?? 5000);

            // "exactly": wait out the whole timeout and return everything, so that an extra event is seen.
            var exactly = step["exactly"]?.GetValue<bool>() ?? false;
            if (exactly)
            {
                count = int.MaxValue;
            }

            while (stream.Count < count && !stream.Ended && Environment.TickCount64 < deadline)
            {
                await Task.Delay(5);
            }

            return new JsonObject { ["events"] = new JsonArray([.. stream.Take(count)]) };
        }

        if (step["close"] is { } close)
        {
            if (_streams.Remove(close.GetValue<string>(), out var stream) && stream.Disposable is { } d)
            {
                await d.DisposeAsync();
            }

            return new JsonObject { ["ok"] = new JsonObject() };
        }

        if (step["disconnect"] is { } disconnect)
        {
            if (_clients.Remove(disconnect.GetValue<string>(), out var client))
            {
                await client.DisposeAsync();
            }

            return new JsonObject { ["ok"] = new JsonObject() };
        }

        throw new InvalidOperationException($"unknown step {step.ToJsonString()}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var stream in _streams.Values)
        {
            if (stream.Disposable is { } d)
            {
                await d.DisposeAsync();
            }
        }

        foreach (var client in _clients.Values)
        {
            await client.DisposeAsync();
        }
    }

    internal static JsonObject ErrorOf(Exception ex)
    {
        if (ex is TargetInvocationException { InnerException: { } inner })
        {
            ex = inner;
        }

        return ex switch
        {
            GreengrassIpcServiceException s => new JsonObject { ["type"] = "ServiceError", ["code"] = s.ErrorCode, ["message"] = s.ServiceMessage },
            GreengrassIpcUnsupportedOperationException or GreengrassIpcProtocolException => new JsonObject { ["type"] = "InternalError", ["description"] = ex.Message },
            ArgumentException => new JsonObject { ["type"] = "ValidationError", ["description"] = ex.Message },
            GreengrassIpcConnectionException => new JsonObject { ["type"] = "NetworkError", ["description"] = ex.Message },
            _ => new JsonObject { ["type"] = "Exception", ["description"] = ex.ToString() },
        };
    }

    private static IpcOperationModel Operation(string lowerCamel) =>
        GreengrassCoreIpc.Operations.SingleOrDefault(o => string.Equals(o.ShortName, lowerCamel, StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidOperationException($"no operation {lowerCamel}");

    private static object Request(IpcOperationModel operation, JsonNode? request)
    {
        var type = operation.GetType().GetGenericArguments()[0];
        var wire = ToWire(request ?? new JsonObject());
        return JsonSerializer.Deserialize(wire.ToJsonString(), GreengrassCoreIpcJsonContext.Default.GetTypeInfo(type)!)!;
    }

    /// <summary>Turns the scenario markers into wire JSON: {"$blob": b64} → "b64", {"$timestamp": s} → s.</summary>
    private static JsonNode ToWire(JsonNode node) => node switch
    {
        JsonObject o when o["$blob"] is { } b => JsonValue.Create(b.GetValue<string>()),
        JsonObject o when o["$timestamp"] is { } t => JsonValue.Create(t.GetValue<double>()),
        JsonObject o => new JsonObject(o.Select(kv => KeyValuePair.Create(kv.Key, kv.Value is null ? null : ToWire(kv.Value)))),
        JsonArray a => new JsonArray([.. a.Select(x => x is null ? null : ToWire(x))]),
        _ => node.DeepClone(),
    };

    private static JsonNode? Wire<T>(T value)
    {
        return JsonSerializer.SerializeToNode(value, GreengrassCoreIpcJsonContext.Default.GetTypeInfo(typeof(T))!);
    }

    private static async Task<JsonNode?> InvokeCoreAsync<TRequest, TResponse>(GreengrassIpcClient client, IpcOperation<TRequest, TResponse> operation, TRequest request)
        where TRequest : class, IIpcShape
        where TResponse : class, IIpcShape =>
        Wire(await client.InvokeAsync(operation, request));

    private async Task<JsonNode?> OpenCoreAsync<TRequest, TResponse, TEvent>(GreengrassIpcClient client, IpcStreamingOperation<TRequest, TResponse, TEvent> operation, TRequest request, Stream stream)
        where TRequest : class, IIpcShape
        where TResponse : class, IIpcShape
        where TEvent : class, IIpcShape
    {
        var opened = await client.OpenStreamAsync(operation, request, evt => stream.Add(Wire(evt)));
        stream.Disposable = opened;
        _ = opened.Completion.ContinueWith(_ => stream.Ended = true, TaskScheduler.Default);
        return Wire(opened.Response);
    }

    private async Task<GreengrassIpcClient> ClientAsync(string component)
    {
        if (!_clients.TryGetValue(component, out var client))
        {
            client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = _socketPath, AuthToken = _tokens[component] });
            _clients[component] = client;
        }

        return client;
    }

    private sealed class Stream
    {
        private readonly List<JsonNode?> _events = [];

        public IAsyncDisposable? Disposable { get; set; }

        public volatile bool Ended;

        public int Count
        {
            get
            {
                lock (_events)
                {
                    return _events.Count;
                }
            }
        }

        public void Add(JsonNode? evt)
        {
            lock (_events)
            {
                _events.Add(evt);
            }
        }

        public IEnumerable<JsonNode?> Take(int count)
        {
            lock (_events)
            {
                var taken = _events.Take(count).ToList();
                _events.RemoveRange(0, taken.Count);
                return taken;
            }
        }
    }
}
