using System.Buffers.Binary;

namespace Fogline.Testing.EmulatedChips;

/// <summary>
/// A TI ADS1115 from its datasheet: a pointer register (0 conversion, 1 config, 2 lo_thresh, 3 hi_thresh) set by the
/// first byte of a write, 16-bit registers written and read big-endian; writing the config with OS = 1 starts a single
/// conversion of the input MUX[14:12] selects at the full scale PGA[11:9] selects (±6.144 … ±0.256 V), giving
/// round(V / FS × 32768) clipped to a 16-bit signed value; OS reads 1 when no conversion is running.
/// </summary>
public sealed class Ads1115Chip(int bus = 1, int address = 0x48) : EmulatedI2cDevice(bus, address)
{
    private static readonly double[] FullScale = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256];
    private readonly ushort[] _registers = [0, 0x8583, 0x8000, 0x7FFF];
    private int _pointer;

    /// <summary>The voltages on AIN0 to AIN3.</summary>
    public double[] Inputs { get; } = new double[4];

    /// <summary>Conversions made.</summary>
    public int Conversions { get; private set; }

    /// <inheritdoc />
    protected override void OnWrite(ReadOnlySpan<byte> data)
    {
        _pointer = data[0] & 0b11;
        if (data.Length < 3)
        {
            return;
        }

        var value = BinaryPrimitives.ReadUInt16BigEndian(data[1..]);
        _registers[_pointer] = (ushort)(value & 0x7FFF);
        if (_pointer == 1 && (value & 0x8000) != 0)
        {
            Convert(value);
        }
    }

    /// <inheritdoc />
    protected override void OnRead(Span<byte> data)
    {
        var value = _pointer == 1 ? (ushort)(_registers[1] | 0x8000) : _registers[_pointer];
        BinaryPrimitives.WriteUInt16BigEndian(data, value);
    }

    private void Convert(ushort config)
    {
        Conversions++;
        var mux = (config >> 12) & 0b111;
        var volts = mux switch
        {
            0 => Inputs[0] - Inputs[1],
            1 => Inputs[0] - Inputs[3],
            2 => Inputs[1] - Inputs[3],
            3 => Inputs[2] - Inputs[3],
            _ => Inputs[mux - 4],
        };
        var raw = Math.Clamp(Math.Round(volts / FullScale[(config >> 9) & 0b111] * 32768), short.MinValue, short.MaxValue);
        _registers[0] = unchecked((ushort)(short)raw);
    }
}
