using System.Buffers.Binary;

namespace Fogline.SensorGateway.Sources.Shared;

/// <summary>
/// The Modbus application PDU both transports carry (MBAP over TCP, address + CRC over a serial line): a read of holding
/// or input registers and its response.
/// </summary>
public static class ModbusPdu
{
    /// <summary>Length of a read request: function, address, count.</summary>
    public const int ReadRequestLength = 5;

    /// <summary>Writes a read request (function 3 or 4) for <paramref name="count"/> registers at <paramref name="address"/>.</summary>
    public static void WriteReadRequest(Span<byte> pdu, byte function, ushort address, ushort count)
    {
        pdu[0] = function;
        BinaryPrimitives.WriteUInt16BigEndian(pdu[1..], address);
        BinaryPrimitives.WriteUInt16BigEndian(pdu[3..], count);
    }

    /// <summary>
    /// Reads a response PDU to a read of <paramref name="count"/> registers with <paramref name="function"/>: the
    /// registers' bytes, or an empty span for an exception response (<paramref name="exceptionCode"/> says which:
    /// illegal address, device busy, …). A response that is neither is <see cref="InvalidDataException"/>.
    /// </summary>
    public static ReadOnlySpan<byte> ReadResponse(ReadOnlySpan<byte> pdu, byte function, ushort count, out byte exceptionCode)
    {
        exceptionCode = 0;
        if (pdu.Length >= 2 && pdu[0] == (function | 0x80))
        {
            exceptionCode = pdu[1];
            return [];
        }

        if (pdu.Length < 2 + (count * 2) || pdu[0] != function || pdu[1] != count * 2)
        {
            throw new InvalidDataException($"unexpected Modbus response (function {(pdu.Length > 0 ? pdu[0] : 0)}, {pdu.Length} bytes) to function {function} for {count} registers");
        }

        return pdu.Slice(2, count * 2);
    }
}
