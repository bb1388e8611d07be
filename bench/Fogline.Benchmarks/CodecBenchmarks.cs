using System.Buffers;
using BenchmarkDotNet.Attributes;
using Fogline.EventStream.Framing;
using Fogline.EventStream.Rpc;

namespace Fogline.Benchmarks;

/// <summary>
/// The eventstream codec on the frame the RPC layer sends for a request: the six RPC headers (three int32, three
/// strings) and a 256-byte payload. Encode writes into a reused buffer writer; decode reads the frame from a
/// <see cref="ReadOnlySequence{T}"/> and walks its headers the way <see cref="RpcMessage.TryParse"/> does, comparing
/// names as UTF-8 bytes. Both should allocate nothing in steady state.
/// </summary>
[MemoryDiagnoser]
public class CodecBenchmarks : IDisposable
{
    private const int PayloadLength = 256;

    private readonly ArrayBufferWriter<byte> _writer = new(4096);
    private readonly FrameDecoder _decoder = new();
    private EventStreamHeader[] _headers = [];
    private byte[] _payload = [];
    private byte[] _crc256 = [];
    private byte[] _crc64K = [];
    private ReadOnlySequence<byte> _frame;
    private ReadOnlySequence<byte> _frameInTwoSegments;

    [GlobalSetup]
    public void Setup()
    {
        _headers =
        [
            EventStreamHeader.FromInt32(RpcHeaders.MessageType, (int)MessageType.ApplicationMessage),
            EventStreamHeader.FromInt32(RpcHeaders.MessageFlags, 0),
            EventStreamHeader.FromInt32(RpcHeaders.StreamId, 42),
            EventStreamHeader.FromString(RpcHeaders.Operation, "aws.greengrass#PublishToTopic"),
            EventStreamHeader.FromString(RpcHeaders.ServiceModelType, "aws.greengrass#PublishToTopicRequest"),
            EventStreamHeader.FromString(RpcHeaders.ContentType, RpcHeaders.ContentTypeJson),
        ];
        _payload = Filled(PayloadLength);
        _crc256 = Filled(256);
        _crc64K = Filled(64 * 1024);

        var frame = FrameEncoder.Encode(_headers, _payload);
        _frame = new ReadOnlySequence<byte>(frame);

        // The same frame split in the middle of its header block, as it arrives when a socket read ends mid-frame:
        // the decoder then copies it into its (reused) scratch buffer.
        var split = frame.Length / 3;
        var first = new Segment(frame.AsMemory(0, split));
        var last = first.Append(frame.AsMemory(split));
        _frameInTwoSegments = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);

        if (Decode() != ExpectedChecksum || DecodeTwoSegments() != ExpectedChecksum)
        {
            throw new InvalidOperationException("The decode benchmark does not read back what was encoded.");
        }
    }

    [Benchmark(Description = "Encode (6 RPC headers + 256 B payload)")]
    public int Encode()
    {
        _writer.ResetWrittenCount();
        return FrameEncoder.Write(_writer, _headers, _payload);
    }

    [Benchmark(Description = "Decode (1 segment, walk headers)")]
    public int Decode()
    {
        var buffer = _frame;
        return _decoder.TryDecode(ref buffer, out var frame) ? ReadHeaders(frame) : -1;
    }

    [Benchmark(Description = "Decode (2 segments, walk headers)")]
    public int DecodeTwoSegments()
    {
        var buffer = _frameInTwoSegments;
        return _decoder.TryDecode(ref buffer, out var frame) ? ReadHeaders(frame) : -1;
    }

    [Benchmark(Description = "Crc32 256 B")]
    public uint Crc32Small() => Crc32.Compute(_crc256);

    [Benchmark(Description = "Crc32 64 KiB")]
    public uint Crc32Large() => Crc32.Compute(_crc64K);

    public void Dispose()
    {
        _decoder.Dispose();
        GC.SuppressFinalize(this);
    }

    private static int ExpectedChecksum => (int)MessageType.ApplicationMessage + 0 + 42 + 1 + 1 + 1 + PayloadLength;

    /// <summary>What a reader of an RPC message does: pick out the protocol headers by name, without allocating.</summary>
    private static int ReadHeaders(Frame frame)
    {
        var result = 0;
        foreach (var header in frame.Headers)
        {
            if (header.Type == HeaderType.Int32)
            {
                if (header.NameIs(":message-type"u8) || header.NameIs(":message-flags"u8) || header.NameIs(":stream-id"u8))
                {
                    result += header.GetInt32();
                }
            }
            else if (header.Type == HeaderType.String)
            {
                if (header.NameIs("operation"u8))
                {
                    result += header.StringValueIs("aws.greengrass#PublishToTopic"u8) ? 1 : 0;
                }
                else if (header.NameIs("service-model-type"u8))
                {
                    result += header.StringValueIs("aws.greengrass#PublishToTopicRequest"u8) ? 1 : 0;
                }
                else if (header.NameIs(":content-type"u8))
                {
                    result += header.StringValueIs("application/json"u8) ? 1 : 0;
                }
            }
        }

        return result + frame.Payload.Length;
    }

    private static byte[] Filled(int length)
    {
        var bytes = new byte[length];
        new Random(12345).NextBytes(bytes);
        return bytes;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory)
        {
            Memory = memory;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
