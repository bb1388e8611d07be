using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.PubSub;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Shadows;

/// <summary>
/// Local shadows as the shadow manager component (<c>aws.greengrass.ShadowManager</c>) serves them over IPC
/// (GetThingShadow, UpdateThingShadow, DeleteThingShadow, ListNamedShadowsForThing) and over local publish/subscribe
/// (requests published on <c>$aws/things/{thing}/shadow[/name/{shadow}]/{update|get|delete}</c>, see
/// <see cref="HandleLocalPublish"/> and <see cref="LocalRequestsEnabled"/>), with the documents, errors, messages and
/// limits of that component.
/// </summary>
/// <remarks>
/// <para>
/// Shadows are kept in <c>&lt;root&gt;/shadows</c>, one JSON file per shadow (see <see cref="DirectoryPath"/>), so a
/// Nucleus started again on the same root has them, versions included; a deleted shadow's file is removed (as with the
/// component, a shadow updated after being deleted starts again at version 1). Updates and deletes of one shadow are
/// serialized.
/// </para>
/// <para>
/// The component's configuration, when a component named <c>aws.greengrass.ShadowManager</c> has one, is honoured:
/// <c>shadowDocumentSizeLimitBytes</c> (default 8192, at most 30720; the size of desired plus reported as stored) and
/// <c>rateLimits</c> (<c>maxTotalLocalRequestsRate</c> default 200, <c>maxLocalRequestsPerSecondPerThing</c> default
/// 20, per second, for IPC requests). Synchronization with the cloud is not done.
/// </para>
/// <para>
/// Every message the component publishes (<c>.../accepted</c>, <c>/rejected</c>, <c>/delta</c>, <c>/documents</c>)
/// goes to local publish/subscribe, published by the component, and is raised as <see cref="MessagePublished"/>.
/// Requests published on local publish/subscribe are handled once <see cref="LocalRequestsEnabled"/> is set.
/// </para>
/// </remarks>
public sealed partial class ShadowService : IDisposable
{
    /// <summary>The component's name: its IPC service (policy destination) and the principal always allowed.</summary>
    public const string ComponentName = "aws.greengrass.ShadowManager";

    /// <summary>The directory of the shadows in the root directory.</summary>
    public const string DirectoryName = "shadows";

    /// <summary>The local topics the component subscribes to for shadow requests.</summary>
    public const string LocalRequestTopicFilter = "$aws/things/+/shadow/#";

    /// <summary>The default limit of desired plus reported, in bytes.</summary>
    public const int DefaultDocumentSizeLimit = 8 * 1024;

    /// <summary>The largest limit of desired plus reported that can be configured, in bytes.</summary>
    public const int MaxDocumentSizeLimit = 30 * 1024;

    /// <summary>The page size of ListNamedShadowsForThing when none is asked.</summary>
    public const int DefaultPageSize = 25;

    /// <summary>The smallest page size of ListNamedShadowsForThing.</summary>
    public const int MinPageSize = 1;

    /// <summary>The largest page size of ListNamedShadowsForThing.</summary>
    public const int MaxPageSize = 100;

    internal const string GetOperation = "aws.greengrass#GetThingShadow";
    internal const string UpdateOperation = "aws.greengrass#UpdateThingShadow";
    internal const string DeleteOperation = "aws.greengrass#DeleteThingShadow";
    internal const string ListOperation = "aws.greengrass#ListNamedShadowsForThing";

    private const string ResourceType = "shadow";
    private const int DefaultMaxOutboundSyncUpdatesPerSecond = 100;

    private readonly NucleusContext _context;
    private readonly ILogger _logger;
    private readonly ShadowStore _store;
    private readonly ShadowRateLimiter _rateLimiter;
    private readonly ConcurrentDictionary<ShadowKey, Lock> _locks = new();
    private readonly Lock _settingsLock = new();
    private readonly Lock _pubSubLock = new();
    private Settings _settings = new(DefaultDocumentSizeLimit, ShadowRateLimiter.DefaultTotalRate, ShadowRateLimiter.DefaultRatePerThing);
    private string? _lastInvalidConfiguration;
    private volatile LocalPubSub? _pubSub;
    private PubSubSubscription? _subscription;
    private bool _localRequestsEnabled;

    internal ShadowService(NucleusContext context)
    {
        _context = context;
        _logger = context.LoggerFactory.CreateLogger("Fogline.LocalNucleus.Shadows");
        DirectoryPath = Path.Combine(Path.GetFullPath(context.RootPath), DirectoryName);
        _store = new ShadowStore(DirectoryPath, _logger);
        _rateLimiter = new ShadowRateLimiter(context.Time);
    }

    /// <summary>The messages the component publishes on local publish/subscribe (raised synchronously).</summary>
    public event EventHandler<ShadowMessageEventArgs>? MessagePublished;

    /// <summary>Where the shadows are kept: <c>&lt;root&gt;/shadows</c>.</summary>
    public string DirectoryPath { get; }

    /// <summary>How many shadows there are.</summary>
    public int Count => _store.Count;

    /// <summary>
    /// GetThingShadow: the shadow document (<c>{"state": {desired, reported, delta}, "metadata": {desired,
    /// reported}, "version", "timestamp"}</c>) as the component answers it to <paramref name="principal"/>. Throws
    /// the modeled errors the component throws (InvalidArguments, Unauthorized, ResourceNotFound, Service).
    /// </summary>
    public byte[] GetThingShadow(string? thingName, string? shadowName, string principal = ComponentName)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Run("GetThingShadow", thingName, shadowName, () => Get(principal, thingName, Normalize(shadowName)));
    }

    /// <summary>
    /// UpdateThingShadow: applies the update document <paramref name="payload"/> (<c>{"state": {"desired": ...,
    /// "reported": ...}, "version"?, "clientToken"?}</c>) for <paramref name="principal"/> and answers
    /// <c>{"version", "clientToken"?, "timestamp", "state": what was asked, "metadata": its metadata}</c>. Throws the
    /// modeled errors the component throws (InvalidArguments, Unauthorized, Conflict, Service).
    /// </summary>
    public byte[] UpdateThingShadow(string? thingName, string? shadowName, ReadOnlyMemory<byte>? payload, string principal = ComponentName)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Run("UpdateThingShadow", thingName, shadowName, () => Update(principal, thingName, Normalize(shadowName), payload));
    }

    /// <summary>
    /// DeleteThingShadow for <paramref name="principal"/>: answers an empty payload. Throws the modeled errors the
    /// component throws (InvalidArguments, Unauthorized, ResourceNotFound, Service).
    /// </summary>
    public byte[] DeleteThingShadow(string? thingName, string? shadowName, string principal = ComponentName)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Run("DeleteThingShadow", thingName, shadowName, () => Delete(principal, thingName, Normalize(shadowName)));
    }

    /// <summary>
    /// ListNamedShadowsForThing for <paramref name="principal"/>: the names of a thing's named shadows (in name
    /// order), a page of <paramref name="pageSize"/> (default 25, 1 to 100), with a <c>nextToken</c> whenever the page
    /// is full. Throws the modeled errors the component throws (InvalidArguments, Unauthorized, Service).
    /// </summary>
    public ListNamedShadowsForThingResponse ListNamedShadowsForThing(string? thingName, string? nextToken = null, int? pageSize = null, string principal = ComponentName)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Run("ListNamedShadowsForThing", thingName, null, () => List(principal, thingName, nextToken, pageSize, throttled: false));
    }

    /// <summary>ListNamedShadowsForThing as IPC serves it: throttled after the thing name is checked.</summary>
    internal ListNamedShadowsForThingResponse ListNamedShadowsForThingOverIpc(string? thingName, string? nextToken, int? pageSize, string principal) =>
        Run("ListNamedShadowsForThing", thingName, null, () => List(principal, thingName, nextToken, pageSize, throttled: true));

    /// <summary>
    /// The rate limit the component puts on IPC requests (GetThingShadow, UpdateThingShadow, DeleteThingShadow) before
    /// anything else: throws ServiceError "Too Many Requests" when the thing's or the total rate is exceeded.
    /// </summary>
    internal void ThrottleIpc(string operation, string? thingName)
    {
        CurrentSettings();
        if (_rateLimiter.TryAcquire(thingName) is { } reason)
        {
            ShadowsLog.ShadowRequestThrottled(_logger, operation, thingName, reason);
            throw new ServiceException("Too Many Requests");
        }
    }

    /// <summary>
    /// A message published on local publish/subscribe, as the component handles those it receives through its
    /// subscription to <see cref="LocalRequestTopicFilter"/>: a request on
    /// <c>$aws/things/{thing}/shadow[/name/{shadow}]/{update|get|delete}</c> is carried out as the component itself
    /// (always authorized, not rate limited), its outcome published on the matching <c>/accepted</c> or
    /// <c>/rejected</c> topic; response topics and other topics are ignored. Returns whether a request was carried out
    /// successfully.
    /// </summary>
    public bool HandleLocalPublish(string topic, ReadOnlyMemory<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (ResponseTopicRegex().IsMatch(topic))
        {
            ShadowsLog.ShadowLocalPublish(_logger, topic, "a response message, not processed");
            return false;
        }

        var match = RequestTopicRegex().Match(topic);
        if (!match.Success)
        {
            ShadowsLog.ShadowLocalPublish(_logger, topic, "unable to parse the shadow topic");
            return false;
        }

        var thingName = match.Groups[1].Value;
        var shadowName = match.Groups[3].Success ? match.Groups[3].Value : null;
        try
        {
            switch (match.Groups[4].Value)
            {
                case "update":
                    UpdateThingShadow(thingName, shadowName, payload);
                    break;
                case "delete":
                    DeleteThingShadow(thingName, shadowName);
                    break;
                default:
                    GetThingShadow(thingName, shadowName);
                    break;
            }

            ShadowsLog.ShadowLocalPublish(_logger, topic, "processed");
            return true;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The component logs the failure (its rejected message is already published) and carries on.
            ShadowsLog.ShadowLocalPublish(_logger, topic, "unable to perform shadow operation: " + ex.Message);
            return false;
        }
    }

    /// <summary>
    /// Whether requests published on local publish/subscribe (<see cref="LocalRequestTopicFilter"/>) are handled, as
    /// the running component handles them (see <see cref="HandleLocalPublish"/>): the component's subscription, with
    /// RECEIVE_MESSAGES_FROM_OTHERS. Off by default, so that local publish/subscribe starts without subscribers; the
    /// messages the component publishes reach local publish/subscribe either way.
    /// </summary>
    public bool LocalRequestsEnabled
    {
        get
        {
            lock (_pubSubLock)
            {
                return _localRequestsEnabled;
            }
        }

        set
        {
            lock (_pubSubLock)
            {
                _localRequestsEnabled = value;
                UpdateSubscription();
            }
        }
    }

    /// <summary>
    /// Connects the component to local publish/subscribe, as it connects itself to the Nucleus's: it publishes its
    /// messages there as <c>aws.greengrass.ShadowManager</c>, and subscribes for requests when
    /// <see cref="LocalRequestsEnabled"/>.
    /// </summary>
    internal void ConnectPubSub(LocalPubSub pubSub)
    {
        ArgumentNullException.ThrowIfNull(pubSub);
        lock (_pubSubLock)
        {
            _pubSub = pubSub;
            UpdateSubscription();
        }
    }

    private void UpdateSubscription()
    {
        if (_localRequestsEnabled && _pubSub is { } pubSub && _subscription is null)
        {
            _subscription = pubSub.Subscribe(LocalRequestTopicFilter, (topic, payload) => HandleLocalPublish(topic, payload), ComponentName);
        }
        else if (!_localRequestsEnabled && _subscription is { } subscription)
        {
            subscription.Dispose();
            _subscription = null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Every write is on disk when its request is answered; nothing to flush.
        lock (_pubSubLock)
        {
            _subscription?.Dispose();
            _subscription = null;
            _pubSub = null;
        }
    }

    private byte[] Get(string principal, string? thingName, string shadowName)
    {
        try
        {
            ShadowValidation.ValidateShadowRequest(thingName, shadowName);
            var key = new ShadowKey(thingName!, shadowName);
            Authorize(principal, GetOperation, key);
            var document = Load(key);
            if (document is null)
            {
                ShadowsLog.ShadowNotFound(_logger, thingName, shadowName, "GetThingShadow", principal);
                PublishRejected(thingName, shadowName, "/get", null, ShadowError.NotFound(shadowName));
                throw new ResourceNotFoundException(new ResourceNotFoundError { Message = "No shadow found", ResourceType = ResourceType });
            }

            var response = new JObject();
            response.Set(ShadowDocument.StateKey, document.State is null ? new JObject() : document.State.ToJsonWithDelta());
            response.Set(ShadowDocument.MetadataKey, document.Metadata.ToJson());
            response.Set(ShadowDocument.VersionKey, new JInteger(document.Version!.Value));
            response.Set(ShadowDocument.TimestampKey, new JInteger(Now()));
            var bytes = ShadowJson.ToBytes(response);
            Publish(Topic(thingName, shadowName, "/get", "/accepted"), bytes);
            return bytes;
        }
        catch (UnauthorizedException)
        {
            ShadowsLog.ShadowUnauthorized(_logger, "GetThingShadow", thingName, shadowName, principal);
            PublishRejected(thingName, shadowName, "/get", null, ShadowError.Unauthorized);
            throw;
        }
        catch (ShadowRequestException ex)
        {
            throw InvalidArguments("GetThingShadow", "/get", thingName, shadowName, null, principal, ex);
        }
        catch (Exception ex) when (IsDataFailure(ex))
        {
            throw ServiceFailure("GetThingShadow", "/get", thingName, shadowName, null, ex);
        }
    }

    private byte[] Update(string principal, string? thingName, string shadowName, ReadOnlyMemory<byte>? payload)
    {
        const string operation = "UpdateThingShadow";
        string? clientToken = null;
        try
        {
            ShadowValidation.ValidateShadowRequest(thingName, shadowName);
        }
        catch (ShadowRequestException ex)
        {
            throw InvalidArguments(operation, "/update", thingName, shadowName, clientToken, principal, ex);
        }

        var key = new ShadowKey(thingName!, shadowName);
        lock (LockOf(key))
        {
            ShadowDocument current;
            JNode request;
            try
            {
                if (payload is not { Length: > 0 } bytes)
                {
                    throw new ShadowRequestException(ShadowError.PayloadMissing);
                }

                Authorize(principal, UpdateOperation, key);
                current = Load(key) ?? new ShadowDocument();
                var parsed = ParsePayload(bytes.Span);
                if (JNode.IsNullOrMissing(parsed))
                {
                    throw new ShadowRequestException(ShadowError.InvalidJson(string.Empty));
                }

                request = parsed!;

                // "delta" is not for clients to set: it is dropped from the state.
                if (request.Get(ShadowDocument.StateKey) is JObject requestState)
                {
                    requestState.Remove(ShadowDocument.DeltaKey);
                }

                ShadowValidation.ValidateSchema(request);
                clientToken = request.Get(ShadowDocument.ClientTokenKey) is JString token ? token.Value : null;
                ShadowValidation.ValidatePayload(current, request);
            }
            catch (UnauthorizedException)
            {
                ShadowsLog.ShadowUnauthorized(_logger, operation, thingName, shadowName, principal);
                PublishRejected(thingName, shadowName, "/update", clientToken, ShadowError.Unauthorized);
                throw;
            }
            catch (ShadowVersionConflictException ex)
            {
                ShadowsLog.ShadowVersionConflict(_logger, key.ThingName, shadowName, _store.TryGet(key, out var stored) ? stored.Version : 1, principal);
                PublishRejected(thingName, shadowName, "/update", clientToken, ShadowError.VersionConflict);
                throw new ConflictException(ex.Message);
            }
            catch (ShadowRequestException ex)
            {
                throw InvalidArguments(operation, "/update", thingName, shadowName, clientToken, principal, ex);
            }
            catch (Exception ex) when (IsDataFailure(ex))
            {
                throw ServiceFailure(operation, "/update", thingName, shadowName, clientToken, ex);
            }

            try
            {
                var updated = current.Copy();
                var metadata = updated.Update(request, Now());

                // The size is that of desired plus reported, as stored.
                var size = 0;
                if (updated.State is { } state)
                {
                    size += JNode.IsNullOrMissing(state.Desired) ? 0 : ShadowJson.ToBytes(state.Desired!).Length;
                    size += JNode.IsNullOrMissing(state.Reported) ? 0 : ShadowJson.ToBytes(state.Reported!).Length;
                }

                var limit = CurrentSettings().DocumentSizeLimit;
                if (size > limit)
                {
                    throw new ShadowRequestException(ShadowError.PayloadTooLarge);
                }

                var version = updated.Version!.Value;
                _store.Put(new StoredShadow(key, ShadowJson.ToBytes(updated.ToJson(withVersion: false)), version, Now()));

                PublishDelta(thingName!, shadowName, clientToken, updated);
                PublishDocuments(thingName!, shadowName, clientToken, current, updated);

                var response = new JObject();
                response.Set(ShadowDocument.VersionKey, new JInteger(version));
                if (clientToken is not null)
                {
                    response.Set(ShadowDocument.ClientTokenKey, new JString(clientToken));
                }

                response.Set(ShadowDocument.TimestampKey, new JInteger(Now()));
                response.Set(ShadowDocument.StateKey, request.Get(ShadowDocument.StateKey));
                response.Set(ShadowDocument.MetadataKey, metadata);
                var responseBytes = ShadowJson.ToBytes(response);
                Publish(Topic(thingName, shadowName, "/update", "/accepted"), responseBytes);
                ShadowsLog.ShadowUpdated(_logger, key.ThingName, shadowName, version, principal);
                return responseBytes;
            }
            catch (ShadowRequestException ex)
            {
                throw InvalidArguments(operation, "/update", thingName, shadowName, clientToken, principal, ex);
            }
            catch (Exception ex) when (IsDataFailure(ex))
            {
                throw ServiceFailure(operation, "/update", thingName, shadowName, clientToken, ex);
            }
        }
    }

    private byte[] Delete(string principal, string? thingName, string shadowName)
    {
        const string operation = "DeleteThingShadow";
        try
        {
            ShadowValidation.ValidateShadowRequest(thingName, shadowName);
        }
        catch (ShadowRequestException ex)
        {
            throw InvalidArguments(operation, "/delete", thingName, shadowName, null, principal, ex);
        }

        var key = new ShadowKey(thingName!, shadowName);
        lock (LockOf(key))
        {
            try
            {
                Authorize(principal, DeleteOperation, key);
                var deleted = Load(key);
                if (deleted is null || !_store.Remove(key))
                {
                    ShadowsLog.ShadowNotFound(_logger, thingName, shadowName, operation, principal);
                    PublishRejected(thingName, shadowName, "/delete", null, ShadowError.NotFound(shadowName));
                    throw new ResourceNotFoundException(new ResourceNotFoundError { Message = "No shadow found", ResourceType = ResourceType });
                }

                ShadowsLog.ShadowDeleted(_logger, key.ThingName, shadowName, principal);
                var accepted = new JObject();
                accepted.Set(ShadowDocument.VersionKey, new JInteger(deleted.Version!.Value));
                accepted.Set(ShadowDocument.TimestampKey, new JInteger(Now()));
                Publish(Topic(thingName, shadowName, "/delete", "/accepted"), ShadowJson.ToBytes(accepted));

                // After a delete the synchronous answer is an empty payload.
                return [];
            }
            catch (UnauthorizedException)
            {
                ShadowsLog.ShadowUnauthorized(_logger, operation, thingName, shadowName, principal);
                PublishRejected(thingName, shadowName, "/delete", null, ShadowError.Unauthorized);
                throw;
            }
            catch (Exception ex) when (IsDataFailure(ex))
            {
                throw ServiceFailure(operation, "/delete", thingName, shadowName, null, ex);
            }
        }
    }

    private ListNamedShadowsForThingResponse List(string principal, string? thingName, string? nextToken, int? pageSize, bool throttled)
    {
        const string operation = "ListNamedShadowsForThing";
        try
        {
            ShadowValidation.ValidateThingName(thingName);
            if (throttled)
            {
                ThrottleIpc(operation, thingName);
            }

            if (principal != ComponentName)
            {
                _context.Authorization.Authorize(IpcServices.ShadowManager, principal, ListOperation, thingName);
            }

            var size = pageSize ?? DefaultPageSize;
            if (size is < MinPageSize or > MaxPageSize)
            {
                throw new ShadowRequestException("pageSize argument must be between 1 and 100");
            }

            var offset = string.IsNullOrEmpty(nextToken) ? 0 : ShadowPageToken.Decode(nextToken, principal, thingName!);
            if (offset < 0)
            {
                throw new ServiceException("Could not process ListNamedShadowsForThing Request due to internal service error");
            }

            var results = _store.ListNamed(thingName!, offset, size);
            return new ListNamedShadowsForThingResponse
            {
                Results = results,
                Timestamp = _context.Time.GetUtcNow(),
                NextToken = results.Count == size ? ShadowPageToken.Encode(offset + size, principal, thingName!) : null,
            };
        }
        catch (UnauthorizedException)
        {
            ShadowsLog.ShadowUnauthorized(_logger, operation, thingName, string.Empty, principal);
            throw;
        }
        catch (ShadowRequestException ex)
        {
            ShadowsLog.ShadowRequestInvalid(_logger, operation, thingName, string.Empty, principal, ex.Message);
            throw new InvalidArgumentsException(ex.Message);
        }
    }

    private T Run<T>(string operation, string? thingName, string? shadowName, Func<T> body)
    {
        try
        {
            return body();
        }
        catch (ShadowJavaFailureException ex)
        {
            // The Nucleus answers the component's unexpected failures with a ServiceError carrying their message.
            ShadowsLog.ShadowUnhandled(_logger, operation, thingName, shadowName, ex);
            throw new ServiceException(ex.Message);
        }
    }

    private void Authorize(string principal, string operation, ShadowKey key)
    {
        // The component itself is always allowed.
        if (principal == ComponentName)
        {
            return;
        }

        _context.Authorization.Authorize(IpcServices.ShadowManager, principal, operation, Resource(key.ThingName, key.ShadowName));
    }

    /// <summary>The authorization resource (and topic prefix) of a shadow: <c>$aws/things/{thing}/shadow[/name/{shadow}]</c> (classic for a blank name).</summary>
    internal static string Resource(string? thingName, string shadowName) =>
        ShadowValidation.IsBlank(shadowName) ? $"$aws/things/{thingName ?? "null"}/shadow" : $"$aws/things/{thingName ?? "null"}/shadow/name/{shadowName}";

    private static string Topic(string? thingName, string shadowName, string operation, string suffix) => Resource(thingName, shadowName) + operation + suffix;

    private ShadowDocument? Load(ShadowKey key) =>
        _store.TryGet(key, out var stored) ? ShadowDocument.FromStored(ShadowJson.Parse(stored.Document), stored.Version) : null;

    private static JNode? ParsePayload(ReadOnlySpan<byte> payload)
    {
        try
        {
            return ShadowJson.Parse(payload);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    private static bool IsDataFailure(Exception ex) => ex is IOException or UnauthorizedAccessException;

    private InvalidArgumentsException InvalidArguments(string operation, string topicOperation, string? thingName, string shadowName, string? clientToken, string principal, ShadowRequestException ex)
    {
        ShadowsLog.ShadowRequestInvalid(_logger, operation, thingName, shadowName, principal, ex.Message);
        PublishRejected(thingName, shadowName, topicOperation, clientToken, ex.Error);
        return new InvalidArgumentsException(ex.Message);
    }

    private ServiceException ServiceFailure(string operation, string topicOperation, string? thingName, string shadowName, string? clientToken, Exception ex)
    {
        ShadowsLog.ShadowServiceFailure(_logger, operation, thingName, shadowName, ex.Message);
        PublishRejected(thingName, shadowName, topicOperation, clientToken, ShadowError.InternalServiceFailure);
        return new ServiceException(ex.Message);
    }

    private void PublishRejected(string? thingName, string shadowName, string operation, string? clientToken, ShadowError error)
    {
        var message = new JObject();
        message.Set(ShadowDocument.TimestampKey, new JInteger(Now()));
        if (clientToken is not null)
        {
            message.Set(ShadowDocument.ClientTokenKey, new JString(clientToken));
        }

        message.Set("code", new JInteger(error.Code));
        message.Set("message", new JString(error.Message));
        Publish(Topic(thingName, shadowName, operation, "/rejected"), ShadowJson.ToBytes(message));
    }

    // The delta, when desired differs from reported, on .../update/delta.
    private void PublishDelta(string thingName, string shadowName, string? clientToken, ShadowDocument updated)
    {
        if (updated.GetDelta() is not { } delta)
        {
            return;
        }

        var message = new JObject();
        message.Set(ShadowDocument.VersionKey, new JInteger(updated.Version!.Value));
        message.Set(ShadowDocument.TimestampKey, new JInteger(Now()));
        message.Set(ShadowDocument.StateKey, delta.Delta);
        message.Set(ShadowDocument.MetadataKey, delta.Metadata);
        if (clientToken is not null)
        {
            message.Set(ShadowDocument.ClientTokenKey, new JString(clientToken));
        }

        Publish(Topic(thingName, shadowName, "/update", "/delta"), ShadowJson.ToBytes(message));
    }

    // The documents before (null for a new shadow) and after, on .../update/documents.
    private void PublishDocuments(string thingName, string shadowName, string? clientToken, ShadowDocument previous, ShadowDocument current)
    {
        var message = new JObject();
        message.Set("previous", previous.IsNew ? null : previous.ToJson(withVersion: true));
        message.Set("current", current.ToJson(withVersion: true));
        if (clientToken is not null)
        {
            message.Set(ShadowDocument.ClientTokenKey, new JString(clientToken));
        }

        message.Set(ShadowDocument.TimestampKey, new JInteger(Now()));
        Publish(Topic(thingName, shadowName, "/update", "/documents"), ShadowJson.ToBytes(message));
    }

    private void Publish(string topic, byte[] payload)
    {
        if (_pubSub is { } pubSub)
        {
            try
            {
                pubSub.Publish(topic, payload, ComponentName);
            }
            catch (Exception ex) when (ex is InvalidArgumentsException or ObjectDisposedException)
            {
                // As the component: a topic local publish/subscribe refuses is logged, and the operation goes on.
                ShadowsLog.ShadowPublishFailed(_logger, topic, ex);
            }
        }

        var handlers = MessagePublished;
        if (handlers is null)
        {
            return;
        }

        try
        {
            handlers(this, new ShadowMessageEventArgs(topic, payload));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ShadowsLog.ShadowPublishFailed(_logger, topic, ex);
        }
    }

    private Lock LockOf(ShadowKey key) => _locks.GetOrAdd(key, static _ => new Lock());

    private long Now() => _context.Time.GetUtcNow().ToUnixTimeSeconds();

    private static string Normalize(string? shadowName) => shadowName ?? string.Empty;

    // The component's configuration (rate limits and document size), read as it changes; an invalid one leaves the
    // previous one in force, as the component does (it reports itself errored).
    private Settings CurrentSettings()
    {
        var configuration = _context.Configuration;
        if (!configuration.HasComponent(ComponentName))
        {
            return Apply(new Settings(DefaultDocumentSizeLimit, ShadowRateLimiter.DefaultTotalRate, ShadowRateLimiter.DefaultRatePerThing));
        }

        var total = CoerceInt(configuration, ["rateLimits", "maxTotalLocalRequestsRate"], ShadowRateLimiter.DefaultTotalRate);
        var perThing = CoerceInt(configuration, ["rateLimits", "maxLocalRequestsPerSecondPerThing"], ShadowRateLimiter.DefaultRatePerThing);
        var outbound = CoerceInt(configuration, ["rateLimits", "maxOutboundSyncUpdatesPerSecond"], DefaultMaxOutboundSyncUpdatesPerSecond);
        var size = CoerceInt(configuration, ["shadowDocumentSizeLimitBytes"], DefaultDocumentSizeLimit);
        string? invalid = null;
        if (total <= 0)
        {
            invalid = $"Maximum total local shadow request rate per second provided {total} is invalid. It should be greater than 0.";
        }
        else if (perThing <= 0)
        {
            invalid = $"Maximum local shadow requests per thing per second provided {perThing} is invalid. It should be greater than 0.";
        }
        else if (outbound <= 0)
        {
            invalid = $"Maximum outbound sync update per second provided {outbound} is invalid. It should be greater than 0.";
        }
        else if (size is > MaxDocumentSizeLimit or < 0)
        {
            invalid = $"Maximum shadow size provided {size} is either less than 0 or exceeds default maximum shadow size of {MaxDocumentSizeLimit}";
        }

        if (invalid is not null)
        {
            lock (_settingsLock)
            {
                if (invalid != _lastInvalidConfiguration)
                {
                    _lastInvalidConfiguration = invalid;
                    ShadowsLog.ShadowConfigurationInvalid(_logger, invalid);
                }

                return _settings;
            }
        }

        return Apply(new Settings(size == 0 ? DefaultDocumentSizeLimit : size, total, perThing));
    }

    private Settings Apply(Settings settings)
    {
        lock (_settingsLock)
        {
            _lastInvalidConfiguration = null;
            _settings = settings;

            _rateLimiter.SetRates(settings.TotalRate, settings.RatePerThing);
            return _settings;
        }
    }

    // The Nucleus's Coerce.toInt of a configuration value (or the default when there is none): booleans as 1 or 0,
    // numbers truncated, text read as a leading integer (0 when there is none).
    private static int CoerceInt(Configuration.ConfigurationStore configuration, string[] path, int defaultValue)
    {
        var node = configuration.GetValue(ComponentName, path);
        if (node is null)
        {
            return defaultValue;
        }

        if (node is not JsonValue value)
        {
            return 0;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.True:
                return 1;
            case JsonValueKind.False:
                return 0;
            case JsonValueKind.Number:
                if (value.TryGetValue<long>(out var integer))
                {
                    return unchecked((int)integer);
                }

                var real = value.GetValue<double>();
                return double.IsNaN(real) ? 0 : real >= int.MaxValue ? int.MaxValue : real <= int.MinValue ? int.MinValue : (int)real;
            case JsonValueKind.String:
                var text = value.GetValue<string>().TrimStart(' ', '+');
                var negative = text.StartsWith('-');
                var digits = new string([.. (negative ? text[1..] : text).TakeWhile(char.IsAsciiDigit)]);
                return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? unchecked((int)(negative ? -parsed : parsed)) : 0;
            default:
                return 0;
        }
    }

    [GeneratedRegex(@"\$aws/things/(.*)/shadow(/name/(.*))?/(update|delete|get)$")]
    private static partial Regex RequestTopicRegex();

    [GeneratedRegex(@"^\$aws/things/(.*)/shadow(/name/(.*))?/(update|delete|get)/(accepted|rejected|delta|documents)\z")]
    private static partial Regex ResponseTopicRegex();

    private sealed record Settings(int DocumentSizeLimit, int TotalRate, int RatePerThing);
}

/// <summary>A message the shadow manager publishes on local publish/subscribe.</summary>
public sealed class ShadowMessageEventArgs : EventArgs
{
    internal ShadowMessageEventArgs(string topic, ReadOnlyMemory<byte> payload)
    {
        Topic = topic;
        Payload = payload;
    }

    /// <summary>The topic, e.g. <c>$aws/things/MyThing/shadow/update/accepted</c>.</summary>
    public string Topic { get; }

    /// <summary>The JSON payload (UTF-8).</summary>
    public ReadOnlyMemory<byte> Payload { get; }

    /// <summary>The publisher: the shadow manager component.</summary>
    public string Publisher => ShadowService.ComponentName;
}
