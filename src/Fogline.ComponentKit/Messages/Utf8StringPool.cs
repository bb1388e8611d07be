using System.Text;

namespace Fogline.ComponentKit.Messages;

/// <summary>
/// Interns the short strings of the pipeline's messages (zone, device, metric, unit names) from their UTF-8 bytes, so
/// decoding a message whose names were seen before allocates nothing. Bounded: once <see cref="Capacity"/> distinct
/// strings are held, new ones are returned without being kept (garbage input cannot grow it without limit).
/// Not thread-safe: use one per decoding loop.
/// </summary>
public sealed class Utf8StringPool
{
    private const int MaxPooledLength = 128;
    private readonly HashSet<string> _strings = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Creates a pool holding at most <paramref name="capacity"/> strings (default 4,096).</summary>
    public Utf8StringPool(int capacity = 4096)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _lookup = _strings.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The most strings the pool keeps.</summary>
    public int Capacity { get; }

    /// <summary>The strings held.</summary>
    public int Count => _strings.Count;

    /// <summary>The string of <paramref name="utf8"/>, from the pool when it was seen before.</summary>
    /// <exception cref="DecoderFallbackException">The bytes are not valid UTF-8.</exception>
    public string Get(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxPooledLength)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        Span<char> chars = stackalloc char[MaxPooledLength];
        var length = Strict.GetChars(utf8, chars);
        var span = chars[..length];
        if (_lookup.TryGetValue(span, out var existing))
        {
            return existing;
        }

        var created = new string(span);
        if (_strings.Count < Capacity)
        {
            _strings.Add(created);
        }

        return created;
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
