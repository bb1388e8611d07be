using System.Text.Json;
using System.Threading.Channels;
using Fogline.EventStream.Rpc;
using Microsoft.Extensions.Logging;

namespace Fogline.Greengrass.Ipc;

/// <summary>
/// An open streaming call: the server's <see cref="Response"/>, then its events, consumed either with
/// <c>await foreach</c> (queued; see <see cref="IpcStreamOptions"/> for what happens when the consumer falls behind)
/// or through the handler given when it was opened (called on the read loop, not queued). Dispose it to close the
/// stream; leaving the <c>await foreach</c> early does not close it.
/// </summary>
/// <typeparam name="TResponse">The response shape.</typeparam>
/// <typeparam name="TEvent">The event shape.</typeparam>
public sealed class IpcStream<TResponse, TEvent> : IAsyncEnumerable<TEvent>, IAsyncDisposable, IRpcClientStreamHandler
    where TResponse : class, IIpcShape
    where TEvent : class, IIpcShape
{
    private readonly IpcOperationModel _operation;
    private readonly Func<ReadOnlySpan<byte>, TResponse?> _readResponse;
    private readonly Func<ReadOnlySpan<byte>, TEvent?> _readEvent;
    private readonly ILogger _logger;
    private readonly Channel<TEvent>? _channel;
    private readonly IpcStreamOptions? _options;
    private readonly Action<TEvent>? _handler;
    private readonly TaskCompletionSource<TResponse> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private RpcClientStream? _stream;
    private long _received;
    private long _dropped;
    private long _badEvents;
    private int _warnedFull;

    internal IpcStream(IpcOperationModel operation, Func<ReadOnlySpan<byte>, TResponse?> readResponse, Func<ReadOnlySpan<byte>, TEvent?> readEvent, IpcStreamOptions? options, Action<TEvent>? handler, ILogger logger)
    {
        _operation = operation;
        _readResponse = readResponse;
        _readEvent = readEvent;
        _logger = logger;
        _handler = handler;
        if (handler is null)
        {
            _options = options ?? new IpcStreamOptions();
            ArgumentOutOfRangeException.ThrowIfLessThan(_options.Capacity, 1);
            var channelOptions = new BoundedChannelOptions(_options.Capacity)
            {
                SingleReader = true,
                SingleWriter = true,
                FullMode = _options.FullMode switch
                {
                    IpcStreamFullMode.DropNewest => BoundedChannelFullMode.DropWrite,
                    IpcStreamFullMode.DropOldest => BoundedChannelFullMode.DropOldest,
                    _ => BoundedChannelFullMode.Wait,
                },
            };
            _channel = Channel.CreateBounded<TEvent>(channelOptions, OnDropped);
        }
    }

    /// <summary>The response the server sent when the stream opened.</summary>
    public TResponse Response => _response.Task.IsCompletedSuccessfully ? _response.Task.Result : throw new InvalidOperationException("The stream has not opened.");

    /// <summary>Completes when the stream ends: normally when either side closed it, with an exception when the connection was lost or the server ended it with an error.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Events received.</summary>
    public long EventsReceived => Interlocked.Read(ref _received);

    /// <summary>Events dropped because the consumer fell behind (<see cref="IpcStreamFullMode.DropOldest"/> or <see cref="IpcStreamFullMode.DropNewest"/>).</summary>
    public long EventsDropped => Interlocked.Read(ref _dropped);

    /// <summary>Events skipped because they could not be read (a payload not valid for the event shape); each is logged.</summary>
    public long BadEvents => Interlocked.Read(ref _badEvents);

    /// <summary>Whether the stream has ended.</summary>
    public bool IsEnded => _completion.Task.IsCompleted;

    internal Task<TResponse> ResponseTask => _response.Task;

    internal void Attach(RpcClientStream stream) => _stream = stream;

    /// <summary>Reads the events until the stream ends. One consumer at a time.</summary>
    public async IAsyncEnumerator<TEvent> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (_channel is null)
        {
            throw new InvalidOperationException("This stream hands its events to the handler it was opened with.");
        }

        var reader = _channel.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                yield return item;
            }
        }
    }

    /// <summary>Closes the stream (TerminateStream to the server) and ends the event sequence.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stream is not null)
        {
            await _stream.CloseAsync().ConfigureAwait(false);
        }

        _channel?.Writer.TryComplete();
        _completion.TrySetResult();
    }

    /// <inheritdoc />
    void IRpcClientStreamHandler.OnMessage(RpcClientStream stream, in RpcMessage message)
    {
        if (!_response.Task.IsCompleted)
        {
            if (IpcResponses.IsShape(message, _operation.ResponseModelTypeUtf8))
            {
                try
                {
                    _response.TrySetResult(_readResponse(message.Payload) ?? throw new JsonException("null response"));
                }
                catch (JsonException ex)
                {
                    _response.TrySetException(new GreengrassIpcProtocolException($"{_operation.Name}: the response is not a valid {_operation.ResponseModelType}: {ex.Message}", ex));
                }
            }
            else
            {
                _response.TrySetException(IpcResponses.ToException(_operation, message, _operation.ResponseModelType));
            }

            return;
        }

        if (!IpcResponses.IsShape(message, _operation.EventModelTypeUtf8))
        {
            if (message.Type == MessageType.ApplicationError || message.IsTerminal && !message.Payload.IsEmpty)
            {
                End(IpcResponses.ToException(_operation, message, _operation.EventModelType!));
            }
            else if (!message.IsTerminal)
            {
                Interlocked.Increment(ref _badEvents);
                IpcLog.BadEvent(_logger, _operation.Name, $"unexpected message {message.Type} of shape '{message.ServiceModelType}'");
            }

            return;
        }

        TEvent? value;
        try
        {
            value = _readEvent(message.Payload);
        }
        catch (JsonException ex)
        {
            value = null;
            IpcLog.BadEvent(_logger, _operation.Name, ex.Message);
        }

        if (value is null)
        {
            Interlocked.Increment(ref _badEvents);
            return;
        }

        Interlocked.Increment(ref _received);
        if (_handler is not null)
        {
            try
            {
                _handler(value);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                IpcLog.EventHandlerFailed(_logger, _operation.Name, ex);
            }

            return;
        }

        if (!_channel!.Writer.TryWrite(value) && _options!.FullMode == IpcStreamFullMode.Wait)
        {
            stream.Connection.PauseReadingUntil(_channel.Writer.WriteAsync(value).AsTask());
        }
    }

    /// <inheritdoc />
    void IRpcClientStreamHandler.OnClosed(RpcClientStream stream, Exception? error)
    {
        var failure = error is null ? null : new GreengrassIpcConnectionException($"{_operation.Name}: the connection to the Nucleus was lost: {error.Message}", error);
        if (!_response.Task.IsCompleted)
        {
            _response.TrySetException((Exception?)failure ?? new GreengrassIpcProtocolException($"{_operation.Name}: the server ended the stream without a response."));
        }

        End(failure);
    }

    private void End(Exception? error)
    {
        if (error is null)
        {
            _channel?.Writer.TryComplete();
            _completion.TrySetResult();
        }
        else
        {
            _channel?.Writer.TryComplete(error);
            _completion.TrySetException(error);
        }

        if (error is not null && _stream is { IsEnded: false } s)
        {
            _ = s.CloseAsync().AsTask();
        }
    }

    private void OnDropped(TEvent dropped)
    {
        Interlocked.Increment(ref _dropped);
        if (Interlocked.Exchange(ref _warnedFull, 1) == 0)
        {
            IpcLog.EventsDropped(_logger, _operation.Name, _options!.Capacity, _options.FullMode);
        }
    }
}
