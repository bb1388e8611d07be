using System.Device.I2c;

namespace Fogline.Testing.EmulatedChips;

/// <summary>
/// A chip behind System.Device.I2c's <see cref="I2cDevice"/> abstraction, written from its datasheet, so that the real
/// dotnet/iot driver runs against it. Every transfer goes to <see cref="OnWrite"/>/<see cref="OnRead"/>; a chip that is
/// not <see cref="Present"/> fails every transfer as Linux's i2c-dev does when nothing acknowledges (an IOException).
/// </summary>
public abstract class EmulatedI2cDevice(int bus, int address) : I2cDevice
{
    /// <summary>Whether the chip acknowledges its address.</summary>
    public bool Present { get; set; } = true;

    /// <summary>Transfers made.</summary>
    public int Transfers { get; private set; }

    /// <inheritdoc />
    public override I2cConnectionSettings ConnectionSettings { get; } = new(bus, address);

    /// <inheritdoc />
    public override byte ReadByte()
    {
        Span<byte> one = stackalloc byte[1];
        Read(one);
        return one[0];
    }

    /// <inheritdoc />
    public override void Read(Span<byte> buffer)
    {
        Transfer();
        OnRead(buffer);
    }

    /// <inheritdoc />
    public override void WriteByte(byte value) => Write([value]);

    /// <inheritdoc />
    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Transfer();
        OnWrite(buffer);
    }

    /// <inheritdoc />
    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    /// <summary>The bytes the master wrote in one transfer.</summary>
    protected abstract void OnWrite(ReadOnlySpan<byte> data);

    /// <summary>The bytes the chip answers to a read transfer.</summary>
    protected abstract void OnRead(Span<byte> data);

    private void Transfer()
    {
        Transfers++;
        if (!Present)
        {
            throw new IOException($"Error 121 performing I2C data transfer: no acknowledgement at address 0x{ConnectionSettings.DeviceAddress:x2}");
        }
    }

    /// <summary>A device the driver disposes: the emulated chip stays, as a real one stays on the bus.</summary>
    public I2cDevice Lease() => new ChipLease(this);
}

/// <summary>What a driver gets and disposes; the chip lives on for the next attach.</summary>
internal sealed class ChipLease(EmulatedI2cDevice chip) : I2cDevice
{
    public override I2cConnectionSettings ConnectionSettings => chip.ConnectionSettings;

    public override byte ReadByte() => chip.ReadByte();

    public override void Read(Span<byte> buffer) => chip.Read(buffer);

    public override void WriteByte(byte value) => chip.WriteByte(value);

    public override void Write(ReadOnlySpan<byte> buffer) => chip.Write(buffer);

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => chip.WriteRead(writeBuffer, readBuffer);
}
