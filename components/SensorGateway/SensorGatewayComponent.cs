using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;
using Fogline.ComponentKit.Messages;
using Fogline.SensorGateway.Sources;
using Fogline.SensorGateway.Sources.Shared;

namespace Fogline.SensorGateway;

/// <summary>One configured device.</summary>
/// <param name="Zone">Its zone.</param>
/// <param name="Device">Its name.</param>
/// <param name="Kind">simulator, csv, iio or modbus.</param>
/// <param name="Interval">How often it is polled.</param>
/// <param name="Node">Its configuration (the source reads the rest).</param>
public sealed record DeviceOptions(string Zone, string Device, string Kind, TimeSpan Interval, ConfigNode Node);

/// <summary>SensorGateway's configuration: the devices.</summary>
/// <param name="Devices">The devices.</param>
public sealed record SensorGatewayOptions(IReadOnlyList<DeviceOptions> Devices);

/// <summary>
/// SensorGateway: polls each configured device (Modbus TCP, Linux IIO, a simulator or a CSV replay) at its interval
/// and publishes one reading per metric on <c>fogline/raw/{zone}/{device}/{metric}</c>. A device that cannot be
/// reached gives stale readings (its last value, quality "stale") while the gateway keeps trying, and never holds up
/// the other devices: each device is polled on its own.
/// </summary>
public sealed class SensorGatewayComponent : FoglineComponent<SensorGatewayOptions>
{
    private readonly List<(CancellationTokenSource Stop, Task Loop)> _loops = [];
    private ComponentContext<SensorGatewayOptions> _context = null!;

    /// <inheritdoc />
    public override string Name => "com.fogline.SensorGateway";

    /// <inheritdoc />
    public override SensorGatewayOptions ParseOptions(ConfigNode configuration)
    {
        var devices = new List<DeviceOptions>();
        var seen = new HashSet<(string, string)>();
        foreach (var d in configuration["devices"].Items())
        {
            var zone = Segment(d["zone"]);
            var device = Segment(d["device"]);
            if (!seen.Add((zone, device)))
            {
                throw d["device"].Error($"device {zone}/{device} is configured twice");
            }

            var kind = d["source"].OneOf("simulator", "simulator", "csv", "iio", "modbus", "modbus-rtu", "bme280", "bmp280", "sht3x", "ads1115", "ds18b20");
            var options = new DeviceOptions(zone, device, kind, TimeSpan.FromMilliseconds(d["intervalMs"].Int32(1000, 1, 3_600_000)), d);

            // Build (and drop) the source now, so a bad device is a configuration error, not a crash later.
            CreateSource(options, TimeProvider.System, SourceEvents.None).DisposeAsync().AsTask().GetAwaiter().GetResult();
            devices.Add(options);
        }

        return new SensorGatewayOptions(devices);
    }

    /// <inheritdoc />
    public override async Task StartAsync(ComponentContext<SensorGatewayOptions> context, CancellationToken cancellationToken)
    {
        _context = context;

        // A bus or port that cannot be used at all is an error at start (ERRORED with the reason), not stale readings.
        foreach (var device in context.Options.Devices)
        {
            await using var source = CreateSource(device, context.Time, SourceEvents.None);
            try
            {
                source.CheckAtStart();
            }
            catch (InvalidOperationException e)
            {
                throw new InvalidOperationException($"device {device.Zone}/{device.Device}: {e.Message}", e);
            }
        }

        StartDevices(context.Options);
    }

    /// <inheritdoc />
    public override async ValueTask OnOptionsChangedAsync(SensorGatewayOptions previous, SensorGatewayOptions current, CancellationToken cancellationToken)
    {
        await StopDevicesAsync().ConfigureAwait(false);
        StartDevices(current);
    }

    /// <inheritdoc />
    public override async ValueTask DrainAsync(CancellationToken cancellationToken) => await StopDevicesAsync().ConfigureAwait(false);

    /// <summary>
    /// How I2C devices are opened: Linux's /dev/i2c-N (null, the default), or emulated chips when a test hosts the
    /// gateway in-process.
    /// </summary>
    public static I2cDeviceFactory? I2cDevices { get; set; }

    /// <summary>Creates the source of a device.</summary>
    public static ISensorSource CreateSource(DeviceOptions device, TimeProvider time, SourceEvents events) => device.Kind switch
    {
        "modbus" => new ModbusTcpSource(device.Node, time),
        "modbus-rtu" => new ModbusRtuSource(device.Node, time, events),
        "bme280" => new Bme280Source(device.Node, time, events, withHumidity: true, I2cDevices),
        "bmp280" => new Bme280Source(device.Node, time, events, withHumidity: false, I2cDevices),
        "sht3x" => new Sht3xSource(device.Node, time, events, I2cDevices),
        "ads1115" => new Ads1115Source(device.Node, time, events, I2cDevices),
        "ds18b20" => new Ds18b20Source(device.Node, events),
        "iio" => new IioSource(device.Node),
        "csv" => new CsvReplaySource(device.Node, time),
        _ => new SimulatorSource(device.Node, time, StableSeed(device.Zone + "/" + device.Device)),
    };

    private static string Segment(ConfigNode node)
    {
        var value = node.String();
        if (!Topics.IsValidSegment(value))
        {
            throw node.Error($"'{value}' cannot be a topic segment (no '/', '+', '#', and not empty)");
        }

        return value;
    }

    private static int StableSeed(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = (hash * 31) + c;
        }

        return hash;
    }

    private void StartDevices(SensorGatewayOptions options)
    {
        foreach (var device in options.Devices)
        {
            var stop = CancellationTokenSource.CreateLinkedTokenSource(_context.Stopping);
            _loops.Add((stop, Task.Run(() => PollLoopAsync(device, stop.Token))));
        }
    }

    private async Task StopDevicesAsync()
    {
        foreach (var (stop, _) in _loops)
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }

        foreach (var (stop, loop) in _loops)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            stop.Dispose();
        }

        _loops.Clear();
    }

    private async Task PollLoopAsync(DeviceOptions device, CancellationToken cancellationToken)
    {
        await using var source = CreateSource(device, _context.Time, new SourceEvents(name => _context.Counters.Get(name).Increment()));
        using var writer = new PayloadWriter();
        var values = new List<SourceValue>();
        var sequences = new Dictionary<string, long>(StringComparer.Ordinal);
        var topics = new Dictionary<string, string>(StringComparer.Ordinal);
        GatewayLog.Polling(_context.Logger, device.Zone, device.Device, source.Describe(), device.Interval.TotalMilliseconds);
        using var timer = new PeriodicTimer(device.Interval, _context.Time);
        var wasStale = false;
        do
        {
            await source.PollAsync(values, cancellationToken).ConfigureAwait(false);
            var now = _context.Time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
            var stale = false;
            foreach (var v in values)
            {
                sequences.TryGetValue(v.Metric, out var seq);
                sequences[v.Metric] = ++seq;
                if (!topics.TryGetValue(v.Metric, out var topic))
                {
                    topic = Topics.Raw(device.Zone, device.Device, v.Metric);
                    topics[v.Metric] = topic;
                }

                var reading = new Reading(device.Zone, device.Device, v.Metric, v.Value, now, v.Unit, seq) { Quality = (ReadingQuality)v.Quality };
                stale |= v.Quality == 1;
                await _context.PublishAsync(topic, writer.Write(reading), cancellationToken).ConfigureAwait(false);
                _context.Counters.Get(v.Quality == 0 ? "readings" : v.Quality == 1 ? "stale" : "bad").Increment();
                if (v.OutOfRange)
                {
                    _context.Counters.Get("out_of_range").Increment();
                }
            }

            if (stale != wasStale)
            {
                GatewayLog.Reachability(_context.Logger, device.Zone, device.Device, stale ? "unreachable: readings are stale" : "reachable again");
                wasStale = stale;
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}

internal static partial class GatewayLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(3300, Microsoft.Extensions.Logging.LogLevel.Information, "Polling {Zone}/{Device} ({Source}) every {IntervalMs} ms")]
    public static partial void Polling(Microsoft.Extensions.Logging.ILogger logger, string zone, string device, string source, double intervalMs);

    [Microsoft.Extensions.Logging.LoggerMessage(3301, Microsoft.Extensions.Logging.LogLevel.Warning, "Device {Zone}/{Device} {What}")]
    public static partial void Reachability(Microsoft.Extensions.Logging.ILogger logger, string zone, string device, string what);
}
