using System.Text;
using System.Threading.Channels;
using Fogline.EventStream.Rpc;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>A message that arrived on a client stream, copied out of the frame.</summary>
internal sealed record ReceivedMessage(MessageType Type, MessageFlags Flags, int StreamId, string? ContentType, byte[] Payload)
{
    public string Text => Encoding.UTF8.GetString(Payload);

    public bool IsTerminal => (Flags & MessageFlags.TerminateStream) != 0;
}

/// <summary>Records what a client stream receives.</summary>
internal sealed class RecordingStreamHandler : IRpcClientStreamHandler
{
    private int _closedCalls;

    public Channel<ReceivedMessage> Messages { get; } = Channel.CreateUnbounded<ReceivedMessage>();

    /// <summary>Completes with the error passed to OnClosed (null for an orderly end).</summary>
    public TaskCompletionSource<Exception?> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int ClosedCalls => Volatile.Read(ref _closedCalls);

    public void OnMessage(RpcClientStream stream, in RpcMessage message)
    {
        var contentType = message.ContentTypeUtf8.IsEmpty ? null : Encoding.UTF8.GetString(message.ContentTypeUtf8);
        Messages.Writer.TryWrite(new ReceivedMessage(message.Type, message.Flags, message.StreamId, contentType, message.Payload.ToArray()));
    }

    public void OnClosed(RpcClientStream stream, Exception? error)
    {
        Interlocked.Increment(ref _closedCalls);
        Closed.TrySetResult(error);
    }

    public Task<ReceivedMessage> NextAsync() => Messages.Reader.ReadAsync().AsTask().Within("a message on the client stream");
}
