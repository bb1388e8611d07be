using System.Buffers;

namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>
/// A buffer writer that never hands out more than <c>chunk</c> bytes at a time (unless a smaller hint is given), like a
/// writer over fixed-size blocks; used to drive the encoder's piece-by-piece path.
/// </summary>
internal sealed class ChunkedBufferWriter(int chunk) : IBufferWriter<byte>
{
    private readonly List<byte> _written = [];
    private byte[] _current = [];

    public int GetSpanCalls { get; private set; }

    public byte[] WrittenBytes => [.. _written];

    public void Advance(int count)
    {
        if (count < 0 || count > _current.Length)
        {
            throw new InvalidOperationException($"Advance({count}) past the {_current.Length}-byte buffer.");
        }

        _written.AddRange(_current.AsSpan(0, count).ToArray());
        _current = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        GetSpanCalls++;
        _current = new byte[Math.Min(Math.Max(sizeHint, 1), chunk)];
        return _current;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
