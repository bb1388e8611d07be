using System.Text;
using Fogline.EventStream.Framing;

namespace Fogline.EventStream.Rpc;

/// <summary>
/// A received frame read as an RPC message: the protocol headers are picked out once, the rest stay available through
/// <see cref="Frame"/>. A view over the frame's bytes, valid only during the callback that receives it.
/// </summary>
public readonly ref struct RpcMessage
{
    internal RpcMessage(Frame frame, MessageType type, MessageFlags flags, int streamId, ReadOnlySpan<byte> operation, ReadOnlySpan<byte> serviceModelType, ReadOnlySpan<byte> contentType)
    {
        Frame = frame;
        Type = type;
        Flags = flags;
        StreamId = streamId;
        OperationUtf8 = operation;
        ServiceModelTypeUtf8 = serviceModelType;
        ContentTypeUtf8 = contentType;
    }

    /// <summary>The underlying frame (all headers, payload).</summary>
    public Frame Frame { get; }

    /// <summary><c>:message-type</c>.</summary>
    public MessageType Type { get; }

    /// <summary><c>:message-flags</c>.</summary>
    public MessageFlags Flags { get; }

    /// <summary><c>:stream-id</c>.</summary>
    public int StreamId { get; }

    /// <summary>UTF-8 of the <c>operation</c> header, empty when absent.</summary>
    public ReadOnlySpan<byte> OperationUtf8 { get; }

    /// <summary>UTF-8 of the <c>service-model-type</c> header, empty when absent.</summary>
    public ReadOnlySpan<byte> ServiceModelTypeUtf8 { get; }

    /// <summary>UTF-8 of the <c>:content-type</c> header, empty when absent.</summary>
    public ReadOnlySpan<byte> ContentTypeUtf8 { get; }

    /// <summary>The payload.</summary>
    public ReadOnlySpan<byte> Payload => Frame.Payload;

    /// <summary>Whether <see cref="MessageFlags.TerminateStream"/> is set.</summary>
    public bool IsTerminal => (Flags & MessageFlags.TerminateStream) != 0;

    /// <summary>The <c>service-model-type</c> as a string, or null (allocates).</summary>
    public string? ServiceModelType => ServiceModelTypeUtf8.IsEmpty ? null : Encoding.UTF8.GetString(ServiceModelTypeUtf8);

    /// <summary>The <c>operation</c> as a string, or null (allocates).</summary>
    public string? Operation => OperationUtf8.IsEmpty ? null : Encoding.UTF8.GetString(OperationUtf8);

    /// <summary>The payload as UTF-8 text (allocates; for errors and logs).</summary>
    public string PayloadText => Encoding.UTF8.GetString(Frame.Payload);

    /// <summary>
    /// Reads the protocol headers of <paramref name="frame"/>. Like aws-c-event-stream, the three required headers are
    /// matched by name ignoring case and must be int32; <c>operation</c> must be a string.
    /// </summary>
    public static bool TryParse(Frame frame, out RpcMessage message, out string? error)
    {
        int? type = null, flags = null, streamId = null;
        ReadOnlySpan<byte> operation = default, modelType = default, contentType = default;
        foreach (var header in frame.Headers)
        {
            if (header.Type == HeaderType.Int32)
            {
                if (header.NameIsIgnoreCase(RpcHeaders.MessageTypeUtf8))
                {
                    type = header.GetInt32();
                }
                else if (header.NameIsIgnoreCase(RpcHeaders.MessageFlagsUtf8))
                {
                    flags = header.GetInt32();
                }
                else if (header.NameIsIgnoreCase(RpcHeaders.StreamIdUtf8))
                {
                    streamId = header.GetInt32();
                }
            }
            else if (header.Type == HeaderType.String)
            {
                if (header.NameIsIgnoreCase(RpcHeaders.OperationUtf8))
                {
                    operation = header.ValueBytes;
                }
                else if (header.NameIs(RpcHeaders.ServiceModelTypeUtf8))
                {
                    modelType = header.ValueBytes;
                }
                else if (header.NameIs(RpcHeaders.ContentTypeUtf8))
                {
                    contentType = header.ValueBytes;
                }
            }
        }

        if (type is null || flags is null || streamId is null)
        {
            message = default;
            error = $"the message lacks {Missing(type, flags, streamId)} (each an int32 header)";
            return false;
        }

        message = new RpcMessage(frame, (MessageType)type.Value, (MessageFlags)flags.Value, streamId.Value, operation, modelType, contentType);
        error = null;
        return true;
    }

    private static string Missing(int? type, int? flags, int? streamId)
    {
        var missing = new List<string>(3);
        if (type is null)
        {
            missing.Add(RpcHeaders.MessageType);
        }

        if (flags is null)
        {
            missing.Add(RpcHeaders.MessageFlags);
        }

        if (streamId is null)
        {
            missing.Add(RpcHeaders.StreamId);
        }

        return string.Join(", ", missing);
    }
}
