using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Fogline.EventStream.Rpc;
using Fogline.Greengrass.Ipc.Serialization;
using Microsoft.Extensions.Logging;

namespace Fogline.Greengrass.Ipc;

/// <summary>How the server answers, shared by the handlers: responses, modeled errors and the unmodeled ones, as the Nucleus writes them.</summary>
internal static class IpcReplies
{
    public static async ValueTask SendShapeAsync<T>(RpcServerStream stream, T value, JsonTypeInfo<T> typeInfo, string modelType, MessageType type, MessageFlags flags)
    {
        using var json = PooledJsonWriter.Serialize(value, typeInfo);
        await stream.SendAsync(new RpcOutgoingMessage
        {
            Type = type,
            Flags = flags,
            ContentType = RpcHeaders.ContentTypeJson,
            ServiceModelType = modelType,
            Payload = json.WrittenMemory,
        }).ConfigureAwait(false);
    }

    public static async ValueTask SendErrorAsync(IpcServiceBase service, RpcServerStream stream, Exception exception)
    {
        try
        {
            switch (exception)
            {
                case GreengrassIpcServiceException modeled:
                    {
                        var typeInfo = service.JsonContext.GetTypeInfo(modeled.ErrorShape.GetType())
                            ?? throw new InvalidOperationException($"No JSON metadata for {modeled.ErrorShape.GetType()}.");
                        var payload = JsonSerializer.SerializeToUtf8Bytes(modeled.ErrorShape, typeInfo);
                        await stream.SendAsync(new RpcOutgoingMessage
                        {
                            Type = MessageType.ApplicationError,
                            Flags = MessageFlags.TerminateStream,
                            ContentType = RpcHeaders.ContentTypeJson,
                            ServiceModelType = modeled.ModelType,
                            Payload = payload,
                        }).ConfigureAwait(false);
                        break;
                    }

                case IpcOperationNotServedException:
                    await stream.SendAsync(new RpcOutgoingMessage
                    {
                        Type = MessageType.ApplicationError,
                        Flags = MessageFlags.TerminateStream,
                        ContentType = RpcHeaders.ContentTypeJson,
                        Payload = Encoding.UTF8.GetBytes("{ \"error\": \"Unsupported Operation\", \"message\": \"" + JsonEncodedText.Encode(stream.Operation) + " is an unsupported operation.\" }"),
                    }).ConfigureAwait(false);
                    break;
                default:
                    await SendInternalErrorAsync(stream, "InternalServerError").ConfigureAwait(false);
                    break;
            }
        }
        catch (RpcException)
        {
            // The stream or connection is gone; nobody is left to tell.
        }
    }

    /// <summary>The Nucleus's answer to a failure that is not a modeled error: <c>text/plain</c>, ApplicationError, stream terminated.</summary>
    public static async ValueTask SendInternalErrorAsync(RpcServerStream stream, string text)
    {
        try
        {
            await stream.SendAsync(new RpcOutgoingMessage
            {
                Type = MessageType.ApplicationError,
                Flags = MessageFlags.TerminateStream,
                ContentType = RpcHeaders.ContentTypeText,
                Payload = Encoding.UTF8.GetBytes(text),
            }).ConfigureAwait(false);
        }
        catch (RpcException)
        {
        }
    }

    public static bool TryReadRequest<T>(IpcServiceBase service, RpcServerStream stream, in RpcMessage message, JsonTypeInfo<T> typeInfo, string modelType, out T? request)
        where T : class
    {
        try
        {
            request = JsonSerializer.Deserialize(message.Payload, typeInfo);
            if (request is not null)
            {
                return true;
            }

            IpcLog.BadRequest(service.Logger, stream.Connection.Description, stream.Operation, $"the payload is null, not a {modelType}");
            _ = SendInternalErrorAsync(stream, $"InternalServerError: the request is null, not a {modelType}").AsTask();
        }
        catch (JsonException ex)
        {
            IpcLog.BadRequest(service.Logger, stream.Connection.Description, stream.Operation, ex.Message);
            _ = SendInternalErrorAsync(stream, $"InternalServerError: the request is not a valid {modelType}: {ex.Message}").AsTask();
            request = null;
        }

        return false;
    }
}

/// <summary>Serves one call of a request/response operation.</summary>
/// <typeparam name="TRequest">Request shape.</typeparam>
/// <typeparam name="TResponse">Response shape.</typeparam>
public sealed class IpcUnaryHandler<TRequest, TResponse> : IRpcServerStreamHandler
    where TRequest : class, IIpcShape
    where TResponse : class, IIpcShape
{
    private readonly IpcServiceBase _service;
    private readonly IpcOperation<TRequest, TResponse> _operation;
    private readonly Func<IpcServiceBase, TRequest, IpcCallContext, ValueTask<TResponse>> _implementation;
    private bool _started;

    /// <summary>Creates the handler (generated code does).</summary>
    public IpcUnaryHandler(IpcServiceBase service, IpcOperation<TRequest, TResponse> operation, Func<IpcServiceBase, TRequest, IpcCallContext, ValueTask<TResponse>> implementation)
    {
        _service = service;
        _operation = operation;
        _implementation = implementation;
    }

    /// <inheritdoc />
    public void OnMessage(RpcServerStream stream, in RpcMessage message)
    {
        if (_started)
        {
            return;
        }

        _started = true;
        if (IpcReplies.TryReadRequest(_service, stream, message, _operation.RequestInfo, _operation.RequestModelType, out var request))
        {
            _ = RunAsync(stream, request!);
        }
    }

    /// <inheritdoc />
    public void OnClosed(RpcServerStream stream)
    {
    }

    private async Task RunAsync(RpcServerStream stream, TRequest request)
    {
        var context = new IpcCallContext(stream, _operation);
        TResponse response;
        try
        {
            var pending = _implementation(_service, request, context);
            response = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogFailure(_service, stream, ex);
            await IpcReplies.SendErrorAsync(_service, stream, ex).ConfigureAwait(false);
            return;
        }

        try
        {
            await IpcReplies.SendShapeAsync(stream, response, _operation.ResponseInfo, _operation.ResponseModelType, MessageType.ApplicationMessage, MessageFlags.TerminateStream).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // The client left before the answer; nothing to do.
        }
    }

    internal static void LogFailure(IpcServiceBase service, RpcServerStream stream, Exception ex)
    {
        switch (ex)
        {
            case GreengrassIpcServiceException modeled:
                IpcLog.ModeledError(service.Logger, stream.Connection.Description, stream.Operation, modeled.ErrorCode, modeled.ServiceMessage ?? string.Empty);
                break;
            case IpcOperationNotServedException:
                IpcLog.NotServed(service.Logger, stream.Connection.Description, stream.Operation);
                break;
            case RpcException:
                break;
            default:
                IpcLog.HandlerFailed(service.Logger, stream.Connection.Description, stream.Operation, ex);
                break;
        }
    }
}

/// <summary>Serves one call of a streaming operation: the response first, then events until either side ends the stream.</summary>
/// <typeparam name="TRequest">Request shape.</typeparam>
/// <typeparam name="TResponse">Response shape.</typeparam>
/// <typeparam name="TEvent">Event shape.</typeparam>
public sealed class IpcStreamingHandler<TRequest, TResponse, TEvent> : IRpcServerStreamHandler
    where TRequest : class, IIpcShape
    where TResponse : class, IIpcShape
    where TEvent : class, IIpcShape
{
    private readonly IpcServiceBase _service;
    private readonly IpcStreamingOperation<TRequest, TResponse, TEvent> _operation;
    private readonly Func<IpcServiceBase, TRequest, IpcEventStream<TEvent>, IpcCallContext, ValueTask<TResponse>> _implementation;
    private IpcEventStream<TEvent>? _events;

    /// <summary>Creates the handler (generated code does).</summary>
    public IpcStreamingHandler(IpcServiceBase service, IpcStreamingOperation<TRequest, TResponse, TEvent> operation, Func<IpcServiceBase, TRequest, IpcEventStream<TEvent>, IpcCallContext, ValueTask<TResponse>> implementation)
    {
        _service = service;
        _operation = operation;
        _implementation = implementation;
    }

    /// <inheritdoc />
    public void OnMessage(RpcServerStream stream, in RpcMessage message)
    {
        if (_events is not null)
        {
            // Greengrass streaming operations have no client-to-server events; further messages (other than the
            // client's TerminateStream, handled by the RPC layer) are ignored.
            return;
        }

        _events = new IpcEventStream<TEvent>(stream, _operation.EventInfo, _operation.EventModelType!);
        if (IpcReplies.TryReadRequest(_service, stream, message, _operation.RequestInfo, _operation.RequestModelType, out var request))
        {
            _ = RunAsync(stream, request!, _events);
        }
        else
        {
            _events.ResponseFailed();
        }
    }

    /// <inheritdoc />
    public void OnClosed(RpcServerStream stream) => _events?.OnStreamClosed();

    private async Task RunAsync(RpcServerStream stream, TRequest request, IpcEventStream<TEvent> events)
    {
        var context = new IpcCallContext(stream, _operation);
        TResponse response;
        try
        {
            var pending = _implementation(_service, request, events, context);
            response = pending.IsCompletedSuccessfully ? pending.Result : await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            events.ResponseFailed();
            IpcUnaryHandler<TRequest, TResponse>.LogFailure(_service, stream, ex);
            await IpcReplies.SendErrorAsync(_service, stream, ex).ConfigureAwait(false);
            return;
        }

        try
        {
            await IpcReplies.SendShapeAsync(stream, response, _operation.ResponseInfo, _operation.ResponseModelType, MessageType.ApplicationMessage, MessageFlags.None).ConfigureAwait(false);
            events.ResponseSent();
        }
        catch (RpcException)
        {
            events.ResponseFailed();
        }
    }
}

/// <summary>
/// The events of one streaming call, server side. Events sent before the response has gone out wait for it, so the
/// client always sees the response first. Serialise your own calls to <see cref="SendAsync"/> when order matters.
/// </summary>
/// <typeparam name="TEvent">Event shape.</typeparam>
public sealed class IpcEventStream<TEvent>
    where TEvent : class, IIpcShape
{
    private readonly RpcServerStream _stream;
    private readonly JsonTypeInfo<TEvent> _typeInfo;
    private readonly string _modelType;
    private readonly TaskCompletionSource<bool> _responseGate = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal IpcEventStream(RpcServerStream stream, JsonTypeInfo<TEvent> typeInfo, string modelType)
    {
        _stream = stream;
        _typeInfo = typeInfo;
        _modelType = modelType;
    }

    /// <summary>Whether the stream has ended (closed by the client, by this side, or with the connection).</summary>
    public bool IsClosed => _stream.IsEnded;

    /// <summary>Cancelled when the stream ends.</summary>
    public CancellationToken Closed => _stream.EndedToken;

    /// <summary>The RPC stream.</summary>
    public RpcServerStream Stream => _stream;

    /// <summary>Sends one event. Throws <see cref="RpcStreamEndedException"/> when the stream has ended.</summary>
    public async ValueTask SendAsync(TEvent value, CancellationToken cancellationToken = default)
    {
        var gate = _responseGate.Task;
        var ok = gate.IsCompletedSuccessfully ? gate.Result : await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!ok)
        {
            throw new RpcStreamEndedException($"Stream {_stream.StreamId} ({_stream.Operation}) ended without a response.");
        }

        using var json = PooledJsonWriter.Serialize(value, _typeInfo);
        await _stream.SendAsync(new RpcOutgoingMessage
        {
            ContentType = RpcHeaders.ContentTypeJson,
            ServiceModelType = _modelType,
            Payload = json.WrittenMemory,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one event that is already serialised as the JSON of <typeparamref name="TEvent"/>: for fan-out, where one
    /// message goes to many subscribers and is serialised once. The caller vouches for the bytes.
    /// </summary>
    public async ValueTask SendSerializedAsync(ReadOnlyMemory<byte> utf8Json, CancellationToken cancellationToken = default)
    {
        var gate = _responseGate.Task;
        var ok = gate.IsCompletedSuccessfully ? gate.Result : await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (!ok)
        {
            throw new RpcStreamEndedException($"Stream {_stream.StreamId} ({_stream.Operation}) ended without a response.");
        }

        await _stream.SendAsync(new RpcOutgoingMessage
        {
            ContentType = RpcHeaders.ContentTypeJson,
            ServiceModelType = _modelType,
            Payload = utf8Json,
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the stream from the server side (TerminateStream).</summary>
    public async ValueTask CloseAsync()
    {
        var gate = _responseGate.Task;
        if (!gate.IsCompleted)
        {
            await gate.ConfigureAwait(false);
        }

        await _stream.CloseAsync().ConfigureAwait(false);
    }

    internal void ResponseSent() => _responseGate.TrySetResult(true);

    internal void ResponseFailed() => _responseGate.TrySetResult(false);

    internal void OnStreamClosed() => _responseGate.TrySetResult(false);
}
