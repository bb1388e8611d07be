using System.Buffers.Binary;

namespace Fogline.Testing.EmulatedChips;

/// <summary>
/// A Bosch BME280 (or, with <c>chipId</c> 0x58, a BMP280) from its datasheet: a register file addressed by the first
/// byte of a write (auto-incrementing on reads), the chip id at 0xD0, the trimming parameters at 0x88–0xA1 and
/// 0xE1–0xE7, ctrl_hum 0xF2, status 0xF3, ctrl_meas 0xF4 (a forced measurement loads the raw ADC values into
/// 0xF7–0xFE and returns to sleep), soft reset 0xE0. The calibration defaults are the BMP280 datasheet's worked
/// example (section 3.12) plus typical humidity trimming values.
/// </summary>
public sealed class Bme280Chip : EmulatedI2cDevice
{
    private readonly byte[] _registers = new byte[256];
    private byte _pointer;

    /// <summary>Creates the chip with the datasheet's example calibration.</summary>
    public Bme280Chip(int bus = 1, int address = 0x76, byte chipId = 0x60)
        : base(bus, address)
    {
        _registers[0xD0] = chipId;
        ushort[] t = [27504];
        short[] rest = [26435, -1000];
        BinaryPrimitives.WriteUInt16LittleEndian(_registers.AsSpan(0x88), t[0]);
        BinaryPrimitives.WriteInt16LittleEndian(_registers.AsSpan(0x8A), rest[0]);
        BinaryPrimitives.WriteInt16LittleEndian(_registers.AsSpan(0x8C), rest[1]);
        BinaryPrimitives.WriteUInt16LittleEndian(_registers.AsSpan(0x8E), 36477);
        short[] p = [-10685, 3024, 2855, 140, -7, 15500, -14600, 6000];
        for (var i = 0; i < p.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(_registers.AsSpan(0x90 + (2 * i)), p[i]);
        }

        _registers[0xA1] = H1;
        BinaryPrimitives.WriteInt16LittleEndian(_registers.AsSpan(0xE1), H2);
        _registers[0xE3] = H3;
        _registers[0xE4] = (byte)(H4 >> 4);
        _registers[0xE5] = (byte)((H4 & 0x0F) | ((H5 & 0x0F) << 4));
        _registers[0xE6] = (byte)(H5 >> 4);
        _registers[0xE7] = unchecked((byte)H6);
    }

    /// <summary>Humidity trimming values (typical).</summary>
    public const byte H1 = 75;

    /// <summary>dig_H2.</summary>
    public const short H2 = 362;

    /// <summary>dig_H3.</summary>
    public const byte H3 = 0;

    /// <summary>dig_H4.</summary>
    public const short H4 = 313;

    /// <summary>dig_H5.</summary>
    public const short H5 = 50;

    /// <summary>dig_H6.</summary>
    public const sbyte H6 = 30;

    /// <summary>The raw temperature ADC value the next measurement gives (the datasheet example's 519888: 25.08 °C).</summary>
    public int AdcTemperature { get; set; } = 519888;

    /// <summary>The raw pressure ADC value (the example's 415148: 100653.27 Pa).</summary>
    public int AdcPressure { get; set; } = 415148;

    /// <summary>The raw humidity ADC value.</summary>
    public int AdcHumidity { get; set; } = 30000;

    /// <summary>Forced measurements made.</summary>
    public int Measurements { get; private set; }

    /// <summary>The last ctrl_meas written (oversampling and mode).</summary>
    public byte ControlMeasurement => _registers[0xF4];

    /// <summary>The last ctrl_hum written.</summary>
    public byte ControlHumidity => _registers[0xF2];

    /// <inheritdoc />
    protected override void OnWrite(ReadOnlySpan<byte> data)
    {
        _pointer = data[0];
        for (var i = 1; i < data.Length; i++)
        {
            Store((byte)(_pointer + i - 1), data[i]);
        }
    }

    /// <inheritdoc />
    protected override void OnRead(Span<byte> data)
    {
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = _registers[(byte)(_pointer + i)];
        }
    }

    private void Store(byte register, byte value)
    {
        switch (register)
        {
            case 0xE0 when value == 0xB6:
                _registers[0xF2] = _registers[0xF4] = _registers[0xF5] = 0;
                break;
            case 0xF4:
                _registers[0xF4] = value;
                if ((value & 0b11) is 0b01 or 0b10)
                {
                    Measure();
                    _registers[0xF4] = (byte)(value & 0b1111_1100); // back to sleep after a forced measurement
                }

                break;
            case 0xF2 or 0xF5:
                _registers[register] = value;
                break;
        }
    }

    private void Measure()
    {
        Measurements++;
        Put20(0xF7, AdcPressure);
        Put20(0xFA, AdcTemperature);
        BinaryPrimitives.WriteUInt16BigEndian(_registers.AsSpan(0xFD), (ushort)AdcHumidity);
    }

    private void Put20(int register, int value)
    {
        _registers[register] = (byte)(value >> 12);
        _registers[register + 1] = (byte)(value >> 4);
        _registers[register + 2] = (byte)((value & 0x0F) << 4);
    }
}
