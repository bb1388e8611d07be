namespace Fogline.SensorGateway.Sources.Shared;

/// <summary>What a Modbus source reports for its registers, the same over TCP and RTU.</summary>
public static class ModbusValues
{
    /// <summary>
    /// Adds the reading of <paramref name="register"/> from a response PDU: good, bad for an exception response, or
    /// rejected (bad, marked out of range) when the value is outside the register's plausible range.
    /// </summary>
    public static void Add(ModbusRegister register, List<SourceValue> values, ReadOnlySpan<byte> responsePdu)
    {
        ArgumentNullException.ThrowIfNull(register);
        ArgumentNullException.ThrowIfNull(values);
        var data = ModbusPdu.ReadResponse(responsePdu, register.Function, register.Count, out _);
        if (data.IsEmpty)
        {
            values.Add(new SourceValue(register.Metric, register.Unit, double.NaN, 2));
            return;
        }

        var value = register.Decode(data);
        if (!register.IsPlausible(value))
        {
            values.Add(new SourceValue(register.Metric, register.Unit, double.NaN, 2) { OutOfRange = true });
            return;
        }

        register.Last = value;
        values.Add(new SourceValue(register.Metric, register.Unit, value, 0));
    }

    /// <summary>Adds the registers from <paramref name="from"/> on as stale (their last values).</summary>
    public static void AddStale(List<ModbusRegister> registers, List<SourceValue> values, int from)
    {
        ArgumentNullException.ThrowIfNull(registers);
        ArgumentNullException.ThrowIfNull(values);
        for (var i = from; i < registers.Count; i++)
        {
            values.Add(new SourceValue(registers[i].Metric, registers[i].Unit, registers[i].Last, 1));
        }
    }
}
