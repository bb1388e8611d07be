using System.Collections.Concurrent;
using System.Device.I2c;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.Testing.EmulatedChips;
using Fogline.SensorGateway.Sources;
using Fogline.SensorGateway.Sources.Shared;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// SensorGateway's bus sensors: dotnet/iot's real drivers (Iot.Device.Bindings) against chips emulated from their
/// datasheets behind System.Device.I2c's I2cDevice, and DS18B20s from a w1-sysfs-shaped tree.
/// </summary>
public class BusSensorSourceTests
{
    private readonly ConcurrentDictionary<string, int> _events = new();

    [SetUp]
    public void SetUp() => _events.Clear();

    private SourceEvents Events => new(name => _events.AddOrUpdate(name, 1, (_, n) => n + 1));

    private static ConfigNode Node(string json) => new(JsonDocument.Parse(json).RootElement.Clone());

    private static I2cDeviceFactory On(EmulatedI2cDevice chip) => settings =>
        settings.BusId == chip.ConnectionSettings.BusId && settings.DeviceAddress == chip.ConnectionSettings.DeviceAddress
            ? chip.Lease()
            : throw new IOException($"Error 121 performing I2C data transfer: nothing at bus {settings.BusId} address 0x{settings.DeviceAddress:x2}");

    private static async Task<List<SourceValue>> PollAsync(ISensorSource source)
    {
        var values = new List<SourceValue>();
        await source.PollAsync(values, CancellationToken.None);
        return values;
    }

    [Test]
    public async Task Bme280_GivesTheDatasheetsWorkedExample_ThroughTheDotnetIotDriver()
    {
        var chip = new Bme280Chip();
        await using var source = new Bme280Source(Node("""{"bus": 1, "address": 118, "oversampling": {"temperature": 2, "pressure": 16, "humidity": 1}}"""), TimeProvider.System, Events, withHumidity: true, On(chip));
        source.CheckAtStart();
        var values = await PollAsync(source);

        Assert.That(values.Select(v => (v.Metric, v.Unit, v.Quality)), Is.EqualTo(new[] { ("temperature", "C", 0), ("pressure", "hPa", 0), ("humidity", "%", 0) }));
        Assert.That(values[0].Value, Is.EqualTo(25.08).Within(0.005), "BMP280 datasheet 3.12: adc_T 519888 is 25.08 °C");
        Assert.That(values[1].Value, Is.EqualTo(1006.5327).Within(0.02), "adc_P 415148 is 100653.27 Pa");
        Assert.That(values[2].Value, Is.EqualTo(ExpectedHumidity(519888, 30000)).Within(0.05));
        Assert.That(chip.Measurements, Is.EqualTo(1), "one forced measurement per poll");
        Assert.That((chip.ControlMeasurement >> 5, (chip.ControlMeasurement >> 2) & 0b111, chip.ControlHumidity & 0b111), Is.EqualTo((2, 5, 1)), "oversampling x2, x16, x1 written to ctrl_meas and ctrl_hum");
        Assert.That(_events, Is.Empty);
    }

    [Test]
    public async Task ABmp280ConfiguredOnABme280_IsRefusedAtStartByItsChipId_AndGivesStaleReadingsLater()
    {
        var chip = new Bme280Chip(chipId: 0x60);
        await using var source = new Bme280Source(Node("""{"address": 118}"""), TimeProvider.System, Events, withHumidity: false, On(chip));
        var e = Assert.Throws<InvalidOperationException>(source.CheckAtStart);
        Assert.That(e!.Message, Does.Contain("BMP280 on i2c bus 1 address 0x76").And.Contain("88"), "0x58 = 88 is the id the driver expects");
        var values = await PollAsync(source);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1));
        Assert.That(_events["i2c_errors"], Is.EqualTo(1));

        var nothing = new Bme280Source(Node("""{"address": 119}"""), TimeProvider.System, Events, withHumidity: true, On(chip));
        Assert.That(Assert.Throws<InvalidOperationException>(nothing.CheckAtStart)!.Message, Does.Contain("address 0x77"));
    }

    [Test]
    public async Task AChipThatStopsAnswering_GivesStaleReadingsWithItsLastValues_AndIsReadAgainWhenItAnswers()
    {
        var chip = new Bme280Chip();
        var clock = new ManualClock();
        await using var source = new Bme280Source(Node("{}"), clock, Events, withHumidity: true, On(chip));
        Assert.That((await PollAsync(source))[0].Quality, Is.Zero);

        chip.Present = false;
        var values = await PollAsync(source);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1));
        Assert.That(values[0].Value, Is.EqualTo(25.08).Within(0.005), "the last value");
        var transfers = chip.Transfers;
        await PollAsync(source);
        Assert.That(chip.Transfers, Is.EqualTo(transfers), "backing off: the bus is not tried");

        chip.Present = true;
        clock.Advance(TimeSpan.FromSeconds(1));
        values = await PollAsync(source);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(0), "attached again after the backoff");
        Assert.That(_events["i2c_errors"], Is.EqualTo(1), "the failed measurement; the backoff tried nothing");
    }

    [Test]
    public async Task AValueOutsideTheChipsPhysicalRange_IsRejected()
    {
        // adc_T 800000 compensates to about 113 °C: beyond the BMP280's −40 to 85 °C.
        var chip = new Bme280Chip(chipId: 0x58) { AdcTemperature = 800_000 };
        await using var source = new Bme280Source(Node("{}"), TimeProvider.System, Events, withHumidity: false, On(chip));
        var values = await PollAsync(source);
        Assert.That((values[0].Quality, values[0].OutOfRange), Is.EqualTo((2, true)));
    }

    [Test]
    public async Task Sht3x_ReadsTemperatureAndHumidity_ACrcMismatchIsCountedAndMeasuredAgain()
    {
        var chip = new Sht3xChip { Temperature = 21.5, Humidity = 48.2 };
        await using var source = new Sht3xSource(Node("""{"repeatability": "medium"}"""), TimeProvider.System, Events, On(chip));
        source.CheckAtStart();
        var values = await PollAsync(source);
        Assert.That(values.Select(v => (v.Metric, v.Value, v.Quality)), Is.EqualTo(new[] { ("temperature", 21.5, 0), ("humidity", 48.2, 0) }));

        chip.Temperature = 30;
        chip.CorruptNext = 1;
        values = await PollAsync(source);
        Assert.That(values[0], Is.EqualTo(new SourceValue("temperature", "C", 30, 0)), "measured again after the mismatch");
        Assert.That(_events["i2c_crc_errors"], Is.EqualTo(1));

        chip.CorruptNext = 4;
        values = await PollAsync(source);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(2), "two mismatches in a row: bad, never the driver's old values");
        Assert.That(_events["i2c_crc_errors"], Is.EqualTo(3));
    }

    [Test]
    public async Task Ads1115_ScalesA4To20mALoop_RejectsABrokenLoopAndAClippedInput()
    {
        var chip = new Ads1115Chip();
        chip.Inputs[0] = 2.4;   // 12 mA across 200 Ω: mid-scale
        chip.Inputs[1] = 0.0;   // 0 mA: the loop is broken
        chip.Inputs[2] = 5.0;   // beyond ±4.096 V: clipped
        chip.Inputs[3] = 1.0;
        await using var source = new Ads1115Source(Node("""
            {"gain": "4.096", "dataRate": 250, "channels": [
              {"input": "0", "metric": "pressure", "unit": "bar", "volts": [0.8, 4.0], "to": [0, 10]},
              {"input": "1", "metric": "flow", "unit": "m3/h", "volts": [0.8, 4.0], "to": [0, 50]},
              {"input": "2", "metric": "level", "unit": "m", "volts": [0, 4], "to": [0, 4]},
              {"input": "0-3", "metric": "difference", "unit": "V"}]}
            """), TimeProvider.System, Events, On(chip));
        source.CheckAtStart();
        var values = await PollAsync(source);
        Assert.That(values[0].Value, Is.EqualTo(5.0).Within(0.001), "12 mA is 5 bar");
        Assert.That((values[1].Quality, values[1].OutOfRange), Is.EqualTo((2, true)), "0 mA is below the loop's range");
        Assert.That((values[2].Quality, values[2].OutOfRange), Is.EqualTo((2, true)), "clipped at full scale");
        Assert.That(values[3].Value, Is.EqualTo(1.4).Within(0.001));
        Assert.That(chip.Conversions, Is.GreaterThanOrEqualTo(4), "one single-shot conversion per channel");
    }

    [TestCase("""{"gain": "3.3", "channels": [{"input": "0", "metric": "m"}]}""", "/gain")]
    [TestCase("""{"dataRate": 100, "channels": [{"input": "0", "metric": "m"}]}""", "/dataRate")]
    [TestCase("""{"channels": [{"input": "4", "metric": "m"}]}""", "/channels/0/input")]
    [TestCase("""{"channels": [{"input": "0", "metric": "m", "volts": [1, 1]}]}""", "/channels/0/volts")]
    [TestCase("""{"channels": []}""", "/channels")]
    public void Ads1115ConfigurationErrors_NameTheirPath(string json, string path)
    {
        var e = Assert.Throws<ConfigurationException>(() => _ = new Ads1115Source(Node(json), TimeProvider.System, SourceEvents.None));
        Assert.That(e!.Message, Does.Contain(path));
    }

    [Test]
    public async Task Ds18b20_FromAW1SysfsTree_CrcNoIsBad_PowerOnValueRejected_MissingIsStale()
    {
        var root = Directory.CreateTempSubdirectory("fogline-w1-").FullName;
        var id = "28-0316a2794bff";
        var file = Path.Combine(root, id, "w1_slave");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        void Write(string crc, int milli) => File.WriteAllText(file, $"72 01 4b 46 7f ff 0e 10 57 : crc=57 {crc}\n72 01 4b 46 7f ff 0e 10 57 t={milli}\n");
        try
        {
            await using var source = new Ds18b20Source(Node($$"""{"id": "{{id}}", "sysfsRoot": {{JsonSerializer.Serialize(root)}}}"""), Events);
            Write("YES", 23125);
            source.CheckAtStart();
            Assert.That((await PollAsync(source))[0], Is.EqualTo(new SourceValue("temperature", "C", 23.125, 0)));
            Write("YES", -10500);
            Assert.That((await PollAsync(source))[0].Value, Is.EqualTo(-10.5));

            Write("NO", 23125);
            Assert.That((await PollAsync(source))[0].Quality, Is.EqualTo(2));
            Assert.That(_events["w1_crc_errors"], Is.EqualTo(1));

            Write("YES", 85000);
            var value = (await PollAsync(source))[0];
            Assert.That((value.Quality, value.OutOfRange), Is.EqualTo((2, true)), "85 °C is the power-on value, not a measurement");

            File.Delete(file);
            Assert.That((await PollAsync(source))[0], Is.EqualTo(new SourceValue("temperature", "C", -10.5, 1)), "gone from the bus: stale, last value");
            Assert.That(Assert.Throws<InvalidOperationException>(source.CheckAtStart)!.Message, Does.Contain(file));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The BME280 datasheet's humidity compensation (section 8.1, double precision), with its t_fine.</summary>
    private static double ExpectedHumidity(int adcT, int adcH)
    {
        double var1 = ((adcT / 16384.0) - (27504 / 1024.0)) * 26435;
        double var2 = (adcT / 131072.0) - (27504 / 8192.0);
        var2 = var2 * var2 * -1000;
        var tFine = (int)(var1 + var2);
        double h = tFine - 76800.0;
        h = (adcH - ((Bme280Chip.H4 * 64.0) + (Bme280Chip.H5 / 16384.0 * h))) * (Bme280Chip.H2 / 65536.0 * (1.0 + (Bme280Chip.H6 / 67108864.0 * h * (1.0 + (Bme280Chip.H3 / 67108864.0 * h)))));
        h *= 1.0 - (Bme280Chip.H1 * h / 524288.0);
        return Math.Clamp(h, 0, 100);
    }
}
