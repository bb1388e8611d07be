using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Fogline.Greengrass.Ipc.Serialization;

/// <summary>
/// Serialises a shape into a pooled buffer: rent, serialise, send <see cref="WrittenMemory"/>, dispose. In steady state
/// no buffer or writer is allocated per message.
/// </summary>
internal sealed class PooledJsonWriter : IBufferWriter<byte>, IDisposable
{
    private const int MaxRetainedBytes = 1024 * 1024;
    private static readonly ConcurrentQueue<PooledJsonWriter> Pool = new();

    private readonly Utf8JsonWriter _json;
    private byte[] _buffer = new byte[1024];
    private int _written;

    private PooledJsonWriter()
    {
        _json = new Utf8JsonWriter(this, new JsonWriterOptions { SkipValidation = true });
    }

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, _written);

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    public static PooledJsonWriter Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var writer = Pool.TryDequeue(out var pooled) ? pooled : new PooledJsonWriter();
        writer._json.Reset(writer);
        JsonSerializer.Serialize(writer._json, value, typeInfo);
        writer._json.Flush();
        return writer;
    }

    public void Advance(int count) => _written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    public void Dispose()
    {
        _written = 0;
        if (_buffer.Length > MaxRetainedBytes)
        {
            _buffer = new byte[1024];
        }

        Pool.Enqueue(this);
    }

    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1)
        {
            sizeHint = 256;
        }

        if (_buffer.Length - _written < sizeHint)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _written + sizeHint));
        }
    }
}
