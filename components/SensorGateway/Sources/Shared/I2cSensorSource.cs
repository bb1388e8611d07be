using System.Device.I2c;
using Fogline.ComponentKit.Configuration;

namespace Fogline.SensorGateway.Sources.Shared;

/// <summary>Opens an I2C device: <see cref="I2cDevice.Create"/> (Linux's /dev/i2c-N) in production, an emulated chip in tests.</summary>
public delegate I2cDevice I2cDeviceFactory(I2cConnectionSettings settings);

/// <summary>One metric of a bus sensor, with the chip's physical range (readings outside it are rejected).</summary>
/// <param name="Name">The metric's name.</param>
/// <param name="Unit">Its unit.</param>
/// <param name="Min">The smallest value the chip can measure.</param>
/// <param name="Max">The largest.</param>
public sealed record BusMetric(string Name, string? Unit, double Min, double Max)
{
    /// <summary>The last good value (NaN before the first), reported while the chip does not answer.</summary>
    public double Last { get; set; } = double.NaN;
}

/// <summary>
/// What every sensor on the gateway's I2C bus shares (BME280/BMP280, SHT3x, ADS1115): the bus and address from the
/// configuration, the dotnet/iot driver attached when the chip first answers (a chip with the wrong id is refused by the
/// driver), stale readings and a reconnect with backoff (<see cref="ReconnectBackoff"/>) when the chip stops answering,
/// and readings outside the chip's physical range rejected (<c>out_of_range</c>). Drivers block (they sleep while the
/// chip measures), so a poll runs on the device's own poll loop, never on the component's processing loop.
/// </summary>
public abstract class I2cSensorSource : ISensorSource
{
    private readonly I2cDeviceFactory _factory;
    private readonly ReconnectBackoff _backoff;
    private IDisposable? _driver;

    /// <summary>Reads <c>bus</c> (1) and <c>address</c> (<paramref name="defaultAddress"/>).</summary>
    protected I2cSensorSource(ConfigNode device, TimeProvider time, SourceEvents events, I2cDeviceFactory? factory, int defaultAddress)
    {
        Bus = device["bus"].Int32(1, 0, 255);
        Address = device["address"].Int32(defaultAddress, 0x03, 0x77);
        Events = events ?? throw new ArgumentNullException(nameof(events));
        _factory = factory ?? I2cDevice.Create;
        _backoff = new ReconnectBackoff(time);
    }

    /// <summary>The I2C bus number (/dev/i2c-N).</summary>
    public int Bus { get; }

    /// <summary>The chip's 7-bit address.</summary>
    public int Address { get; }

    /// <summary>Where the source counts what went wrong.</summary>
    protected SourceEvents Events { get; }

    /// <summary>The chip's name for logs and errors ("BME280").</summary>
    protected abstract string Chip { get; }

    /// <summary>The metrics in the order they are reported.</summary>
    protected abstract IReadOnlyList<BusMetric> Metrics { get; }

    /// <inheritdoc />
    public string Describe() => $"{Chip} on i2c bus {Bus} address 0x{Address:x2}";

    /// <inheritdoc />
    public void CheckAtStart()
    {
        try
        {
            using var device = _factory(new I2cConnectionSettings(Bus, Address));
            using var driver = Attach(device);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException or TimeoutException)
        {
            throw new InvalidOperationException($"{Describe()}: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(values);
        values.Clear();
        if (_driver is null && !TryAttach())
        {
            AddStale(values);
            return ValueTask.CompletedTask;
        }

        try
        {
            Measure(values);
        }
        catch (Exception e) when (e is IOException or TimeoutException or InvalidOperationException)
        {
            // The chip stopped answering (or the bus went away): stale readings, attach again with backoff.
            Events.Count("i2c_errors");
            Detach();
            _backoff.Failed();
            values.Clear();
            AddStale(values);
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Detach();
        return ValueTask.CompletedTask;
    }

    /// <summary>Creates the chip's driver on <paramref name="device"/> (which it then owns); throws when the chip is not the expected one.</summary>
    protected abstract IDisposable Attach(I2cDevice device);

    /// <summary>Measures with the attached driver and adds every metric (through <see cref="Add"/>).</summary>
    protected abstract void Measure(List<SourceValue> values);

    /// <summary>The attached driver.</summary>
    protected T Driver<T>()
        where T : class => (T)_driver!;

    /// <summary>Adds a measured value: good, or bad and counted when outside the metric's physical range.</summary>
    protected static void Add(List<SourceValue> values, BusMetric metric, double value)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(metric);
        if (!double.IsFinite(value) || value < metric.Min || value > metric.Max)
        {
            values.Add(new SourceValue(metric.Name, metric.Unit, double.NaN, 2) { OutOfRange = double.IsFinite(value) });
            return;
        }

        metric.Last = value;
        values.Add(new SourceValue(metric.Name, metric.Unit, value, 0));
    }

    private bool TryAttach()
    {
        if (!_backoff.TryBegin())
        {
            return false;
        }

        I2cDevice? device = null;
        try
        {
            device = _factory(new I2cConnectionSettings(Bus, Address));
            _driver = Attach(device);
            _backoff.Succeeded();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TimeoutException or InvalidOperationException)
        {
            device?.Dispose();
            Events.Count("i2c_errors");
            _backoff.Failed();
            return false;
        }
    }

    private void Detach()
    {
        _driver?.Dispose();
        _driver = null;
    }

    private void AddStale(List<SourceValue> values)
    {
        foreach (var m in Metrics)
        {
            values.Add(new SourceValue(m.Name, m.Unit, m.Last, 1));
        }
    }
}
