using System.Buffers.Binary;
using Fogline.ComponentKit.Configuration;

namespace Fogline.SensorGateway.Sources.Shared;

/// <summary>
/// One metric read from Modbus registers, the same over TCP and RTU: holding (function 3) or input (function 4)
/// registers, 16-bit (int16/uint16) or 32-bit (int32/uint32/float32, in the word order the device uses), then
/// value = raw × scale + offset; a value outside [min, max] (when given) is rejected.
/// </summary>
public sealed class ModbusRegister
{
    private ModbusRegister(string metric, string? unit, byte function, ushort address, string type, bool bigWordOrder, double scale, double offset, double min, double max)
    {
        Metric = metric;
        Unit = unit;
        Function = function;
        Address = address;
        Type = type;
        BigWordOrder = bigWordOrder;
        Scale = scale;
        Offset = offset;
        Min = min;
        Max = max;
    }

    /// <summary>The metric.</summary>
    public string Metric { get; }

    /// <summary>Its unit, or null.</summary>
    public string? Unit { get; }

    /// <summary>3 (holding registers) or 4 (input registers).</summary>
    public byte Function { get; }

    /// <summary>The first register's address.</summary>
    public ushort Address { get; }

    /// <summary>uint16, int16, uint32, int32 or float32.</summary>
    public string Type { get; }

    /// <summary>For 32-bit values: whether the high word comes first.</summary>
    public bool BigWordOrder { get; }

    /// <summary>Multiplies the raw value.</summary>
    public double Scale { get; }

    /// <summary>Added after scaling.</summary>
    public double Offset { get; }

    /// <summary>The smallest plausible value (−∞ when not given).</summary>
    public double Min { get; }

    /// <summary>The largest plausible value (+∞ when not given).</summary>
    public double Max { get; }

    /// <summary>Registers to read: 1 or 2.</summary>
    public ushort Count => Type is "int16" or "uint16" ? (ushort)1 : (ushort)2;

    /// <summary>The last good value (NaN before the first), reported while the device is unreachable.</summary>
    public double Last { get; set; } = double.NaN;

    /// <summary>Reads a device's <c>registers</c> (at least one).</summary>
    public static List<ModbusRegister> ParseAll(ConfigNode device)
    {
        var registers = new List<ModbusRegister>();
        foreach (var r in device["registers"].Items())
        {
            var min = r["min"].Double(double.NegativeInfinity);
            var max = r["max"].Double(double.PositiveInfinity);
            if (min > max)
            {
                throw r.Error("min must not be above max");
            }

            registers.Add(new ModbusRegister(
                r["metric"].String(),
                r["unit"].StringOrNull(),
                r["table"].OneOf("holding", "holding", "input") == "holding" ? (byte)3 : (byte)4,
                (ushort)r["address"].Int32(0, 0, 65535),
                r["type"].OneOf("uint16", "int16", "uint16", "int32", "uint32", "float32"),
                r["wordOrder"].OneOf("big", "big", "little") == "big",
                r["scale"].Double(1),
                r["offset"].Double(0),
                min,
                max));
        }

        if (registers.Count == 0)
        {
            throw device["registers"].Error("a Modbus device needs at least one register");
        }

        return registers;
    }

    /// <summary>The engineering value of the registers' bytes (big-endian words, as on the wire).</summary>
    public double Decode(ReadOnlySpan<byte> data)
    {
        double raw;
        if (Count == 1)
        {
            var word = BinaryPrimitives.ReadUInt16BigEndian(data);
            raw = Type == "int16" ? (short)word : word;
        }
        else
        {
            var first = BinaryPrimitives.ReadUInt16BigEndian(data);
            var second = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
            var bits = BigWordOrder ? ((uint)first << 16) | second : ((uint)second << 16) | first;
            raw = Type switch
            {
                "int32" => (int)bits,
                "float32" => BitConverter.UInt32BitsToSingle(bits),
                _ => bits,
            };
        }

        return (raw * Scale) + Offset;
    }

    /// <summary>Whether a value is plausible (finite and within [min, max]).</summary>
    public bool IsPlausible(double value) => double.IsFinite(value) && value >= Min && value <= Max;
}
