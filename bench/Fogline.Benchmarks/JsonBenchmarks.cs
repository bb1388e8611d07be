using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Fogline.Greengrass.Ipc;

namespace Fogline.Benchmarks;

/// <summary>
/// The JSON of a PublishToTopicRequest with a 256-byte binary message (base64 on the wire), through the
/// source-generated <see cref="GreengrassCoreIpcJsonContext"/>: serialise into a reused writer, deserialise from bytes.
/// </summary>
[MemoryDiagnoser]
public class JsonBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private Utf8JsonWriter _writer = null!;
    private PublishToTopicRequest _request = null!;
    private byte[] _json = [];

    [GlobalSetup]
    public void Setup()
    {
        var message = new byte[256];
        new Random(12345).NextBytes(message);
        _request = new PublishToTopicRequest
        {
            Topic = "bench/telemetry",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = message } },
        };
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        _json = JsonSerializer.SerializeToUtf8Bytes(_request, GreengrassCoreIpcJsonContext.Default.PublishToTopicRequest);
        var back = JsonSerializer.Deserialize(_json, GreengrassCoreIpcJsonContext.Default.PublishToTopicRequest);
        if (back?.PublishMessage?.BinaryMessage?.Message is not { } roundTripped || !roundTripped.Span.SequenceEqual(message))
        {
            throw new InvalidOperationException("The JSON benchmark does not read back what was written.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _writer.Dispose();

    [Benchmark(Description = "Serialize PublishToTopicRequest (256 B binary)")]
    public int Serialize()
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        JsonSerializer.Serialize(_writer, _request, GreengrassCoreIpcJsonContext.Default.PublishToTopicRequest);
        _writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark(Description = "Deserialize PublishToTopicRequest (256 B binary)")]
    public PublishToTopicRequest? Deserialize() =>
        JsonSerializer.Deserialize(_json, GreengrassCoreIpcJsonContext.Default.PublishToTopicRequest);

    [Benchmark(Description = "Serialize + deserialize")]
    public PublishToTopicRequest? RoundTrip()
    {
        Serialize();
        return JsonSerializer.Deserialize(_buffer.WrittenSpan, GreengrassCoreIpcJsonContext.Default.PublishToTopicRequest);
    }
}
