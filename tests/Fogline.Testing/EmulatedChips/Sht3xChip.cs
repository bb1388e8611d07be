namespace Fogline.Testing.EmulatedChips;

/// <summary>
/// A Sensirion SHT3x from its datasheet: 16-bit commands (soft reset 0x30A2, single-shot measurement at high/medium/low
/// repeatability 0x2C06/0x2C0D/0x2C10 with clock stretching or 0x2400/0x240B/0x2416 without, heater 0x306D/0x3066), a measurement read as temperature word, CRC-8, humidity word, CRC-8
/// (polynomial 0x31, initial 0xFF); S_T = (T + 45) × 65535 / 175, S_RH = RH × 65535 / 100.
/// </summary>
public sealed class Sht3xChip(int bus = 1, int address = 0x44) : EmulatedI2cDevice(bus, address)
{
    private readonly byte[] _result = new byte[6];

    /// <summary>The temperature the next measurement gives, °C.</summary>
    public double Temperature { get; set; } = 21.5;

    /// <summary>The relative humidity, %.</summary>
    public double Humidity { get; set; } = 48.2;

    /// <summary>How many of the next measurements are read with a corrupted CRC.</summary>
    public int CorruptNext { get; set; }

    /// <summary>Measurements made.</summary>
    public int Measurements { get; private set; }

    /// <inheritdoc />
    protected override void OnWrite(ReadOnlySpan<byte> data)
    {
        if (data.Length != 2)
        {
            throw new IOException("SHT3x commands are two bytes");
        }

        if ((data[0] == 0x2C && data[1] is 0x06 or 0x0D or 0x10) || (data[0] == 0x24 && data[1] is 0x00 or 0x0B or 0x16))
        {
            Measurements++;
            Word(0, (ushort)Math.Round((Temperature + 45) * 65535 / 175));
            Word(3, (ushort)Math.Round(Humidity * 65535 / 100));
            if (CorruptNext > 0)
            {
                CorruptNext--;
                _result[2] ^= 0x01;
            }
        }
    }

    /// <inheritdoc />
    protected override void OnRead(Span<byte> data) => _result.AsSpan(0, Math.Min(6, data.Length)).CopyTo(data);

    private void Word(int at, ushort value)
    {
        _result[at] = (byte)(value >> 8);
        _result[at + 1] = (byte)value;
        _result[at + 2] = Crc8(_result.AsSpan(at, 2));
    }

    /// <summary>The datasheet's CRC-8: polynomial 0x31, initial 0xFF, no reflection, no final XOR.</summary>
    private static byte Crc8(ReadOnlySpan<byte> word)
    {
        var crc = 0xFF;
        foreach (var b in word)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x31) & 0xFF : (crc << 1) & 0xFF;
            }
        }

        return (byte)crc;
    }
}
