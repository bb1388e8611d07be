using System.Device.I2c;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources.Shared;
using Iot.Device.Sht3x;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Sensirion SHT3x (temperature −40 to 125 °C, humidity 0 to 100 %) on I2C (address 0x44 or 0x45), through dotnet/iot's
/// Sht3x driver with the configured <c>repeatability</c> (high, medium, low). The driver keeps its last values when a
/// measurement's CRC does not match, so the source checks each measurement's CRC-8 itself on the way from the bus
/// (<see cref="Sht3xCrcCheck"/>): a mismatch is counted (<c>i2c_crc_errors</c>), measured once more, then bad.
/// </summary>
public sealed class Sht3xSource : I2cSensorSource
{
    private readonly Resolution _resolution;
    private readonly BusMetric[] _metrics = [new("temperature", "C", -40, 125), new("humidity", "%", 0, 100)];
    private Sht3xCrcCheck? _check;

    /// <summary>Reads the device's configuration.</summary>
    public Sht3xSource(ConfigNode device, TimeProvider time, SourceEvents events, I2cDeviceFactory? factory = null)
        : base(device, time, events, factory, 0x44)
    {
        _resolution = device["repeatability"].OneOf("high", "high", "medium", "low") switch
        {
            "low" => Resolution.Low,
            "medium" => Resolution.Medium,
            _ => Resolution.High,
        };
    }

    /// <inheritdoc />
    protected override string Chip => "SHT3x";

    /// <inheritdoc />
    protected override IReadOnlyList<BusMetric> Metrics => _metrics;

    /// <inheritdoc />
    protected override IDisposable Attach(I2cDevice device)
    {
        _check = new Sht3xCrcCheck(device);
        return new Sht3x(_check, _resolution);
    }

    /// <inheritdoc />
    protected override void Measure(List<SourceValue> values)
    {
        var driver = Driver<Sht3x>();
        for (var attempt = 0; ; attempt++)
        {
            _check!.Reset();
            var temperature = driver.Temperature.DegreesCelsius;
            var humidity = driver.Humidity.Percent;
            if (_check.Mismatches == 0)
            {
                Add(values, _metrics[0], temperature);
                Add(values, _metrics[1], humidity);
                return;
            }

            Events.Count("i2c_crc_errors");
            if (attempt == 1)
            {
                values.Add(new SourceValue(_metrics[0].Name, _metrics[0].Unit, double.NaN, 2));
                values.Add(new SourceValue(_metrics[1].Name, _metrics[1].Unit, double.NaN, 2));
                return;
            }
        }
    }
}

/// <summary>
/// Passes an SHT3x's bus traffic through and checks the CRC-8 (polynomial 0x31, initial 0xFF) of each 2-byte word of
/// every 6-byte measurement read, counting the mismatches.
/// </summary>
public sealed class Sht3xCrcCheck(I2cDevice inner) : I2cDevice
{
    /// <summary>CRC mismatches since <see cref="Reset"/>.</summary>
    public int Mismatches { get; private set; }

    /// <inheritdoc />
    public override I2cConnectionSettings ConnectionSettings => inner.ConnectionSettings;

    /// <summary>Starts counting again.</summary>
    public void Reset() => Mismatches = 0;

    /// <inheritdoc />
    public override byte ReadByte() => inner.ReadByte();

    /// <inheritdoc />
    public override void Read(Span<byte> buffer)
    {
        inner.Read(buffer);
        Check(buffer);
    }

    /// <inheritdoc />
    public override void WriteByte(byte value) => inner.WriteByte(value);

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

    /// <inheritdoc />
    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        inner.WriteRead(writeBuffer, readBuffer);
        Check(readBuffer);
    }

    /// <summary>The SHT3x CRC-8 of a 2-byte word.</summary>
    public static byte Crc8(ReadOnlySpan<byte> word)
    {
        byte crc = 0xFF;
        foreach (var b in word)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x80) != 0 ? (byte)((crc << 1) ^ 0x31) : (byte)(crc << 1);
            }
        }

        return crc;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Check(ReadOnlySpan<byte> data)
    {
        if (data.Length != 6)
        {
            return;
        }

        if (Crc8(data[..2]) != data[2] || Crc8(data.Slice(3, 2)) != data[5])
        {
            Mismatches++;
        }
    }
}
