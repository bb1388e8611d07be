using System.Text;

namespace Fogline.EventStream.Rpc;

/// <summary>
/// Operation names seen on the wire, decoded once: a service has a few dozen operations, so the strings are kept and
/// found again by their UTF-8 bytes instead of being decoded for every call. Bounded, so a peer sending made-up names
/// cannot grow it.
/// </summary>
internal static class OperationNames
{
    private const int Capacity = 128;
    private static readonly Lock Gate = new();
    private static Entry[] _entries = [];

    public static string Get(ReadOnlySpan<byte> utf8)
    {
        var entries = Volatile.Read(ref _entries);
        foreach (var entry in entries)
        {
            if (utf8.SequenceEqual(entry.Utf8))
            {
                return entry.Value;
            }
        }

        var value = Encoding.UTF8.GetString(utf8);
        if (entries.Length < Capacity)
        {
            lock (Gate)
            {
                if (_entries.Length < Capacity && Array.TrueForAll(_entries, e => e.Value != value))
                {
                    Volatile.Write(ref _entries, [.. _entries, new Entry(utf8.ToArray(), value)]);
                }
            }
        }

        return value;
    }

    private sealed record Entry(byte[] Utf8, string Value);
}
