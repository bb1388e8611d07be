using System.Device.I2c;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources.Shared;
using Iot.Device.Bmxx80;
using Iot.Device.Bmxx80.PowerMode;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Bosch BME280 (temperature, pressure, humidity) or BMP280 (temperature, pressure) on I2C (address 0x76 or 0x77),
/// through dotnet/iot's Bmxx80 driver: a forced measurement per poll with the configured oversampling
/// (<c>oversampling</c>: {temperature, pressure, humidity} of 0 (skip), 1, 2, 4, 8 or 16; default 1). Temperature in
/// °C (−40 to 85), pressure in hPa (300 to 1100), humidity in % (0 to 100): the chip's operating ranges.
/// </summary>
public sealed class Bme280Source : I2cSensorSource
{
    private readonly bool _humidity;
    private readonly Sampling _temperatureSampling;
    private readonly Sampling _pressureSampling;
    private readonly Sampling _humiditySampling;
    private readonly BusMetric[] _metrics;

    /// <summary>Reads the device's configuration; <paramref name="withHumidity"/>: a BME280 rather than a BMP280.</summary>
    public Bme280Source(ConfigNode device, TimeProvider time, SourceEvents events, bool withHumidity, I2cDeviceFactory? factory = null)
        : base(device, time, events, factory, 0x76)
    {
        _humidity = withHumidity;
        var oversampling = device["oversampling"];
        _temperatureSampling = Oversampling(oversampling["temperature"]);
        _pressureSampling = Oversampling(oversampling["pressure"]);
        _humiditySampling = withHumidity ? Oversampling(oversampling["humidity"]) : Sampling.Skipped;
        var metrics = new List<BusMetric>
        {
            new("temperature", "C", -40, 85),
            new("pressure", "hPa", 300, 1100),
        };
        if (withHumidity)
        {
            metrics.Add(new BusMetric("humidity", "%", 0, 100));
        }

        _metrics = [.. metrics];
    }

    /// <inheritdoc />
    protected override string Chip => _humidity ? "BME280" : "BMP280";

    /// <inheritdoc />
    protected override IReadOnlyList<BusMetric> Metrics => _metrics;

    /// <inheritdoc />
    protected override IDisposable Attach(I2cDevice device)
    {
        // The driver reads the chip id (0x60 for a BME280, 0x58 for a BMP280) and refuses any other.
        Bmx280Base driver = _humidity ? new Bme280(device) : new Bmp280(device);
        driver.TemperatureSampling = _temperatureSampling;
        driver.PressureSampling = _pressureSampling;
        if (driver is Bme280 bme)
        {
            bme.HumiditySampling = _humiditySampling;
        }

        return driver;
    }

    /// <inheritdoc />
    protected override void Measure(List<SourceValue> values)
    {
        var driver = Driver<Bmx280Base>();
        driver.SetPowerMode(Bmx280PowerMode.Forced);
        Thread.Sleep(driver.GetMeasurementDuration());
        Add(values, _metrics[0], driver.TryReadTemperature(out var temperature) ? temperature.DegreesCelsius : double.NaN);
        Add(values, _metrics[1], driver.TryReadPressure(out var pressure) ? pressure.Pascals / 100 : double.NaN);
        if (driver is Bme280 bme)
        {
            Add(values, _metrics[2], bme.TryReadHumidity(out var humidity) ? humidity.Percent : double.NaN);
        }
    }

    private static Sampling Oversampling(ConfigNode node) => node.Int32(1, 0, 16) switch
    {
        0 => Sampling.Skipped,
        1 => Sampling.UltraLowPower,
        2 => Sampling.LowPower,
        4 => Sampling.Standard,
        8 => Sampling.HighResolution,
        16 => Sampling.UltraHighResolution,
        _ => throw node.Error("oversampling is 0 (skip), 1, 2, 4, 8 or 16"),
    };
}
