using System.Device.I2c;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources.Shared;
using Iot.Device.Ads1115;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// TI ADS1115 16-bit ADC on I2C (address 0x48 to 0x4B), through dotnet/iot's Ads1115 driver in single-shot mode: each
/// configured channel (<c>input</c> 0–3 against ground, or "0-1", "0-3", "1-3", "2-3" differential) read at the
/// configured <c>gain</c> (full scale ±6.144, 4.096, 2.048, 1.024, 0.512 or 0.256 V) and <c>dataRate</c> (8 to 860
/// samples/s), then scaled linearly from <c>volts</c> [a, b] to <c>to</c> [c, d] (a 4–20 mA loop across 200 Ω is
/// 0.8–4.0 V: <c>"volts": [0.8, 4.0], "to": [0, 10]</c> for 0–10 bar). A value outside [<c>min</c>, <c>max</c>]
/// (default: the <c>to</c> range widened by 5 % of its span each side, so a broken loop's 0 mA is rejected) or a
/// voltage at the ADC's full scale (clipped) is rejected.
/// </summary>
public sealed class Ads1115Source : I2cSensorSource
{
    private readonly MeasuringRange _range;
    private readonly DataRate _rate;
    private readonly double _fullScale;
    private readonly Channel[] _channels;
    private readonly BusMetric[] _metrics;

    /// <summary>Reads the device's configuration.</summary>
    public Ads1115Source(ConfigNode device, TimeProvider time, SourceEvents events, I2cDeviceFactory? factory = null)
        : base(device, time, events, factory, 0x48)
    {
        (_range, _fullScale) = device["gain"].OneOf("4.096", "6.144", "4.096", "2.048", "1.024", "0.512", "0.256") switch
        {
            "6.144" => (MeasuringRange.FS6144, 6.144),
            "2.048" => (MeasuringRange.FS2048, 2.048),
            "1.024" => (MeasuringRange.FS1024, 1.024),
            "0.512" => (MeasuringRange.FS0512, 0.512),
            "0.256" => (MeasuringRange.FS0256, 0.256),
            _ => (MeasuringRange.FS4096, 4.096),
        };
        _rate = device["dataRate"].Int32(128, 8, 860) switch
        {
            8 => DataRate.SPS008,
            16 => DataRate.SPS016,
            32 => DataRate.SPS032,
            64 => DataRate.SPS064,
            128 => DataRate.SPS128,
            250 => DataRate.SPS250,
            475 => DataRate.SPS475,
            860 => DataRate.SPS860,
            _ => throw device["dataRate"].Error("the ADS1115's data rates are 8, 16, 32, 64, 128, 250, 475 and 860 samples/s"),
        };
        var channels = new List<Channel>();
        foreach (var c in device["channels"].Items())
        {
            var input = c["input"].String() switch
            {
                "0" => InputMultiplexer.AIN0,
                "1" => InputMultiplexer.AIN1,
                "2" => InputMultiplexer.AIN2,
                "3" => InputMultiplexer.AIN3,
                "0-1" => InputMultiplexer.AIN0_AIN1,
                "0-3" => InputMultiplexer.AIN0_AIN3,
                "1-3" => InputMultiplexer.AIN1_AIN3,
                "2-3" => InputMultiplexer.AIN2_AIN3,
                var other => throw c["input"].Error($"'{other}' is not an ADS1115 input (0, 1, 2, 3, 0-1, 0-3, 1-3 or 2-3)"),
            };
            var volts = Pair(c["volts"], (0, _fullScale));
            var to = Pair(c["to"], volts);
            if (volts.A == volts.B)
            {
                throw c["volts"].Error("the two voltages must differ");
            }

            var span = Math.Abs(to.B - to.A);
            var low = Math.Min(to.A, to.B) - (0.05 * span);
            var high = Math.Max(to.A, to.B) + (0.05 * span);
            var metric = new BusMetric(c["metric"].String(), c["unit"].StringOrNull(), c["min"].Double(low), c["max"].Double(high));
            channels.Add(new Channel(input, volts.A, volts.B, to.A, to.B, metric));
        }

        if (channels.Count == 0)
        {
            throw device["channels"].Error("an ADS1115 needs at least one channel");
        }

        _channels = [.. channels];
        _metrics = [.. channels.Select(c => c.Metric)];
    }

    /// <inheritdoc />
    protected override string Chip => "ADS1115";

    /// <inheritdoc />
    protected override IReadOnlyList<BusMetric> Metrics => _metrics;

    /// <inheritdoc />
    protected override IDisposable Attach(I2cDevice device) =>
        new Ads1115(device, _channels[0].Input, _range, _rate, DeviceMode.PowerDown);

    /// <inheritdoc />
    protected override void Measure(List<SourceValue> values)
    {
        var adc = Driver<Ads1115>();
        foreach (var c in _channels)
        {
            var raw = adc.ReadRaw(c.Input, _range, _rate);
            if (raw is short.MaxValue or short.MinValue)
            {
                // At full scale the input is clipped: its true value is unknown.
                values.Add(new SourceValue(c.Metric.Name, c.Metric.Unit, double.NaN, 2) { OutOfRange = true });
                continue;
            }

            var volts = adc.RawToVoltage(raw).Volts;
            Add(values, c.Metric, c.ToA + ((volts - c.VoltsA) * (c.ToB - c.ToA) / (c.VoltsB - c.VoltsA)));
        }
    }

    private static (double A, double B) Pair(ConfigNode node, (double A, double B) fallback)
    {
        if (!node.Exists)
        {
            return fallback;
        }

        var items = node.Items().ToList();
        if (items.Count != 2)
        {
            throw node.Error("must be two numbers [from, to]");
        }

        return (items[0].Double(), items[1].Double());
    }

    private sealed record Channel(InputMultiplexer Input, double VoltsA, double VoltsB, double ToA, double ToB, BusMetric Metric);
}
