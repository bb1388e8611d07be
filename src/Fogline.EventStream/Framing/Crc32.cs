using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Fogline.EventStream.Framing;

/// <summary>
/// CRC-32 as eventstream uses it (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF),
/// computed with the slicing-by-8 method over spans. Allocation-free; the tables are built once per process.
/// </summary>
public static class Crc32
{
    private const uint Polynomial = 0xEDB88320u;

    // 8 tables of 256 entries, laid out contiguously: table k at [k * 256].
    private static readonly uint[] Table = BuildTable();

    /// <summary>Computes the CRC-32 of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Computes the CRC-32 of <paramref name="data"/>, which may span several segments.</summary>
    public static uint Compute(in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment)
        {
            return Append(0, data.FirstSpan);
        }

        uint crc = 0;
        foreach (var segment in data)
        {
            crc = Append(crc, segment.Span);
        }

        return crc;
    }

    /// <summary>
    /// Continues a CRC: <c>Append(Compute(a), b) == Compute(a + b)</c>. Start from 0 for an empty prefix.
    /// </summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var table = Table;
        var c = ~crc;
        ref var t = ref table[0];

        while (data.Length >= 8)
        {
            var lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ c;
            var hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            c = Unsafe.Add(ref t, (7 * 256) + (int)(lo & 0xFF))
                ^ Unsafe.Add(ref t, (6 * 256) + (int)((lo >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (5 * 256) + (int)((lo >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (4 * 256) + (int)(lo >> 24))
                ^ Unsafe.Add(ref t, (3 * 256) + (int)(hi & 0xFF))
                ^ Unsafe.Add(ref t, (2 * 256) + (int)((hi >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, (1 * 256) + (int)((hi >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(hi >> 24));
            data = data[8..];
        }

        foreach (var b in data)
        {
            c = Unsafe.Add(ref t, (int)((c ^ b) & 0xFF)) ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[8 * 256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? Polynomial ^ (c >> 1) : c >> 1;
            }

            table[i] = c;
        }

        for (var i = 0; i < 256; i++)
        {
            var c = table[i];
            for (var k = 1; k < 8; k++)
            {
                c = table[(int)(c & 0xFF)] ^ (c >> 8);
                table[(k * 256) + i] = c;
            }
        }

        return table;
    }
}
