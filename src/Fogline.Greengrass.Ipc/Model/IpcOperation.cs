using System.Text;
using System.Text.Json.Serialization.Metadata;

namespace Fogline.Greengrass.Ipc;

/// <summary>A modeled shape (structure or union) of the IPC model.</summary>
public interface IIpcShape
{
    /// <summary>Whether every member marked <c>@required</c> is set, in this shape and the shapes it contains. Allocates nothing.</summary>
    bool HasAllRequiredMembers();

    /// <summary>
    /// The members marked <c>@required</c> in the model that are not set (for a union: a note when not exactly one
    /// member is set). Empty when the shape is complete.
    /// </summary>
    IEnumerable<string> MissingRequiredMembers();
}

/// <summary>Makes the typed exception for a modeled error shape from its JSON payload; null when the shape is not an error of the model.</summary>
public delegate GreengrassIpcServiceException? IpcErrorFactory(string modelType, ReadOnlySpan<byte> payload);

/// <summary>What every operation of the model declares: its wire name and its shapes.</summary>
public abstract class IpcOperationModel
{
    private protected IpcOperationModel(string name, string requestModelType, string responseModelType, string? eventModelType, IReadOnlyList<string> errorModelTypes, IpcErrorFactory errorFactory)
    {
        Name = name;
        ShortName = name[(name.IndexOf('#', StringComparison.Ordinal) + 1)..];
        RequestModelType = requestModelType;
        ResponseModelType = responseModelType;
        EventModelType = eventModelType;
        ErrorModelTypes = errorModelTypes;
        ErrorFactory = errorFactory;
        ResponseModelTypeUtf8 = Encoding.UTF8.GetBytes(responseModelType);
        EventModelTypeUtf8 = eventModelType is null ? [] : Encoding.UTF8.GetBytes(eventModelType);
    }

    /// <summary>The name on the wire, in the <c>operation</c> header: <c>aws.greengrass#PublishToTopic</c>.</summary>
    public string Name { get; }

    /// <summary>The name without namespace: <c>PublishToTopic</c>.</summary>
    public string ShortName { get; }

    /// <summary>The request shape id.</summary>
    public string RequestModelType { get; }

    /// <summary>The response shape id.</summary>
    public string ResponseModelType { get; }

    /// <summary>The shape id of the events of a streaming operation; null for request/response.</summary>
    public string? EventModelType { get; }

    /// <summary>Whether the server sends events after the response.</summary>
    public bool IsStreaming => EventModelType is not null;

    /// <summary>The error shapes the model declares for this operation.</summary>
    public IReadOnlyList<string> ErrorModelTypes { get; }

    /// <summary>Makes typed exceptions from error payloads.</summary>
    public IpcErrorFactory ErrorFactory { get; }

    internal byte[] ResponseModelTypeUtf8 { get; }

    internal byte[] EventModelTypeUtf8 { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>A request/response operation.</summary>
/// <typeparam name="TRequest">Request shape.</typeparam>
/// <typeparam name="TResponse">Response shape.</typeparam>
public sealed class IpcOperation<TRequest, TResponse> : IpcOperationModel
    where TRequest : class, IIpcShape
    where TResponse : class, IIpcShape
{
    /// <summary>Creates the model of an operation.</summary>
    public IpcOperation(string name, string requestModelType, string responseModelType, IReadOnlyList<string> errorModelTypes, IpcErrorFactory errorFactory, JsonTypeInfo<TRequest> requestInfo, JsonTypeInfo<TResponse> responseInfo)
        : base(name, requestModelType, responseModelType, null, errorModelTypes, errorFactory)
    {
        RequestInfo = requestInfo;
        ResponseInfo = responseInfo;
    }

    /// <summary>JSON metadata of the request.</summary>
    public JsonTypeInfo<TRequest> RequestInfo { get; }

    /// <summary>JSON metadata of the response.</summary>
    public JsonTypeInfo<TResponse> ResponseInfo { get; }
}

/// <summary>A streaming operation: a request, a first response, then events from the server until either side ends the stream.</summary>
/// <typeparam name="TRequest">Request shape.</typeparam>
/// <typeparam name="TResponse">Response shape.</typeparam>
/// <typeparam name="TEvent">Event shape (a union).</typeparam>
public sealed class IpcStreamingOperation<TRequest, TResponse, TEvent> : IpcOperationModel
    where TRequest : class, IIpcShape
    where TResponse : class, IIpcShape
    where TEvent : class, IIpcShape
{
    /// <summary>Creates the model of an operation.</summary>
    public IpcStreamingOperation(string name, string requestModelType, string responseModelType, string eventModelType, IReadOnlyList<string> errorModelTypes, IpcErrorFactory errorFactory, JsonTypeInfo<TRequest> requestInfo, JsonTypeInfo<TResponse> responseInfo, JsonTypeInfo<TEvent> eventInfo)
        : base(name, requestModelType, responseModelType, eventModelType, errorModelTypes, errorFactory)
    {
        RequestInfo = requestInfo;
        ResponseInfo = responseInfo;
        EventInfo = eventInfo;
    }

    /// <summary>JSON metadata of the request.</summary>
    public JsonTypeInfo<TRequest> RequestInfo { get; }

    /// <summary>JSON metadata of the response.</summary>
    public JsonTypeInfo<TResponse> ResponseInfo { get; }

    /// <summary>JSON metadata of the events.</summary>
    public JsonTypeInfo<TEvent> EventInfo { get; }
}
