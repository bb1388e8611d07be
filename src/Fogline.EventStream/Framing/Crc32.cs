using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Fogline.EventStream.Framing;

/// <summary>
/// CRC-32 as eventstream uses it (IEEE 802.3, reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF).
/// Runs of 64 bytes or more are folded with carry-less multiplication (PCLMULQDQ) where the CPU has it, 16 bytes at a
/// time; the rest uses the slicing-by-8 tables. Allocation-free; the tables are built once per process.
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
        if (data.Length >= 64 && Pclmulqdq.IsSupported && Sse41.IsSupported)
        {
            var folded = data.Length & ~15;
            c = Fold(data[..folded], c);
            data = data[folded..];
        }

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

    // Folding constants for the reflected polynomial: x^(4*128+32), x^(4*128-32) mod P (fold by 4 x 128 bits),
    // x^(128+32), x^(128-32) mod P (fold by 128 bits), x^64 mod P, then P and mu for the Barrett reduction.
    private static readonly Vector128<ulong> K1K2 = Vector128.Create(0x0154442bd4UL, 0x01c6e41596UL);
    private static readonly Vector128<ulong> K3K4 = Vector128.Create(0x01751997d0UL, 0x00ccaa009eUL);
    private static readonly Vector128<ulong> K5 = Vector128.Create(0x0163cd6124UL, 0UL);
    private static readonly Vector128<ulong> PolyMu = Vector128.Create(0x01db710641UL, 0x01f7011641UL);

    /// <summary>
    /// Folds <paramref name="data"/> (a multiple of 16 bytes, at least 64) into the running (inverted) CRC state with
    /// carry-less multiplication, then reduces to 32 bits.
    /// </summary>
    private static uint Fold(ReadOnlySpan<byte> data, uint state)
    {
        ref var start = ref MemoryMarshal.GetReference(data);
        var length = data.Length;
        nuint offset = 0;

        var x1 = Vector128.LoadUnsafe(ref start, 0).AsUInt64();
        var x2 = Vector128.LoadUnsafe(ref start, 16).AsUInt64();
        var x3 = Vector128.LoadUnsafe(ref start, 32).AsUInt64();
        var x4 = Vector128.LoadUnsafe(ref start, 48).AsUInt64();
        x1 = Sse2.Xor(x1, Vector128.CreateScalar(state).AsUInt64());
        offset += 64;
        length -= 64;

        var k = K1K2;
        while (length >= 64)
        {
            x1 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x1, k, 0x00), Pclmulqdq.CarrylessMultiply(x1, k, 0x11)), Vector128.LoadUnsafe(ref start, offset).AsUInt64());
            x2 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x2, k, 0x00), Pclmulqdq.CarrylessMultiply(x2, k, 0x11)), Vector128.LoadUnsafe(ref start, offset + 16).AsUInt64());
            x3 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x3, k, 0x00), Pclmulqdq.CarrylessMultiply(x3, k, 0x11)), Vector128.LoadUnsafe(ref start, offset + 32).AsUInt64());
            x4 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x4, k, 0x00), Pclmulqdq.CarrylessMultiply(x4, k, 0x11)), Vector128.LoadUnsafe(ref start, offset + 48).AsUInt64());
            offset += 64;
            length -= 64;
        }

        k = K3K4;
        x1 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x1, k, 0x00), Pclmulqdq.CarrylessMultiply(x1, k, 0x11)), x2);
        x1 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x1, k, 0x00), Pclmulqdq.CarrylessMultiply(x1, k, 0x11)), x3);
        x1 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x1, k, 0x00), Pclmulqdq.CarrylessMultiply(x1, k, 0x11)), x4);
        while (length >= 16)
        {
            x1 = Sse2.Xor(Sse2.Xor(Pclmulqdq.CarrylessMultiply(x1, k, 0x00), Pclmulqdq.CarrylessMultiply(x1, k, 0x11)), Vector128.LoadUnsafe(ref start, offset).AsUInt64());
            offset += 16;
            length -= 16;
        }

        // 128 bits to 64.
        var mask = Vector128.Create(~0u, 0u, ~0u, 0u).AsUInt64();
        var y = Pclmulqdq.CarrylessMultiply(x1, k, 0x10);
        x1 = Sse2.Xor(Sse2.ShiftRightLogical128BitLane(x1, 8), y);
        y = Sse2.ShiftRightLogical128BitLane(x1, 4);
        x1 = Sse2.Xor(Pclmulqdq.CarrylessMultiply(Sse2.And(x1, mask), K5, 0x00), y);

        // Barrett reduction to 32 bits.
        y = Sse2.And(x1, mask);
        y = Pclmulqdq.CarrylessMultiply(y, PolyMu, 0x10);
        y = Sse2.And(y, mask);
        y = Pclmulqdq.CarrylessMultiply(y, PolyMu, 0x00);
        x1 = Sse2.Xor(x1, y);
        return Sse41.Extract(x1.AsUInt32(), 1);
    }

    /// <summary>The table-only computation, for tests that compare it with the folded one.</summary>
    internal static uint AppendWithTables(uint crc, ReadOnlySpan<byte> data)
    {
        var c = ~crc;
        ref var t = ref Table[0];
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
