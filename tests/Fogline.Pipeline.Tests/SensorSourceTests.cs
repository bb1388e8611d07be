using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway;
using Fogline.SensorGateway.Sources;

using Fogline.Testing.Modbus;

namespace Fogline.Pipeline.Tests;

/// <summary>SensorGateway's sources against real peers: a Modbus TCP server (pymodbus) and a sysfs-shaped IIO tree.</summary>
[NonParallelizable]
public class SensorSourceTests
{
    private readonly List<Process> _servers = [];

    [TearDown]
    public void TearDown()
    {
        foreach (var server in _servers)
        {
            if (!server.HasExited)
            {
                server.Kill();
                server.WaitForExit();
            }

            server.Dispose();
        }

        _servers.Clear();
    }

    [Test]
    public async Task Modbus_ReadsHoldingAndInputRegisters_InEveryFormat()
    {
        var port = FreePort();
        await StartModbusServerAsync(port);
        await using var source = new ModbusTcpSource(Device(port), TimeProvider.System);
        var values = new List<SourceValue>();

        await source.PollAsync(values, CancellationToken.None);

        Assert.That(values.Select(v => (v.Metric, v.Value, v.Quality)), Is.EqualTo(new[]
        {
            ("temperature", 23.5, 0),
            ("offset", -5.0, 0),
            ("flow", 12.5, 0),
            ("energy", 100000.0, 0),
            ("level", 42.0 + 1, 0),
            ("missing", double.NaN, 2),
        }));
    }

    [Test]
    public async Task Modbus_ServerThatDisappears_GivesStaleReadings_AndIsReadAgainWhenItComesBack()
    {
        var port = FreePort();
        var server = await StartModbusServerAsync(port);
        await using var source = new ModbusTcpSource(Device(port), TimeProvider.System);
        var values = new List<SourceValue>();
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values[0].Quality, Is.EqualTo(0));

        server.Kill();
        await server.WaitForExitAsync();
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1), "unreachable: stale");
        Assert.That(values[0].Value, Is.EqualTo(23.5), "a stale reading carries the last value");
        var attempts = source.ConnectAttempts;
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(source.ConnectAttempts, Is.EqualTo(attempts), "while backing off it does not try the device (nor wait for it)");
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1), "still stale");

        await StartModbusServerAsync(port);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        do
        {
            await Task.Delay(200);
            await source.PollAsync(values, CancellationToken.None);
        }
        while (values[0].Quality != 0 && DateTime.UtcNow < deadline);

        Assert.That(values[0].Quality, Is.EqualTo(0), "read again after the server came back");
        Assert.That(values[0].Value, Is.EqualTo(23.5));
    }

    [Test]
    public async Task Iio_AppliesOffsetAndScale_FromASysfsTree_StaleWhenTheDeviceIsGone_BadWhenUnreadable()
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-iio-" + Guid.NewGuid().ToString("N")[..8]);
        var device = Path.Combine(root, "iio:device0");
        Directory.CreateDirectory(device);
        File.WriteAllText(Path.Combine(device, "in_temp_raw"), "1200\n");
        File.WriteAllText(Path.Combine(device, "in_temp_offset"), "-200\n");
        File.WriteAllText(Path.Combine(device, "in_temp_scale"), "0.01\n");
        File.WriteAllText(Path.Combine(device, "in_voltage0_raw"), "512\n");
        File.WriteAllText(Path.Combine(device, "in_voltage_scale"), "0.5\n");
        File.WriteAllText(Path.Combine(device, "in_humidityrelative_raw"), "garbage\n");
        try
        {
            await using var source = new IioSource(Node($$"""
                {"path": {{JsonSerializer.Serialize(device)}}, "channels": [
                  {"metric": "temperature", "channel": "in_temp", "unit": "C"},
                  {"metric": "voltage", "channel": "in_voltage0", "unit": "mV"},
                  {"metric": "humidity", "channel": "in_humidityrelative"}]}
                """));
            var values = new List<SourceValue>();

            await source.PollAsync(values, CancellationToken.None);
            Assert.That(values.Select(v => (v.Metric, v.Value, v.Quality)), Is.EqualTo(new[] { ("temperature", 10.0, 0), ("voltage", 256.0, 0), ("humidity", double.NaN, 2) }));

            Directory.Delete(root, recursive: true);
            await source.PollAsync(values, CancellationToken.None);
            Assert.That(values[0], Is.EqualTo(new SourceValue("temperature", "C", 10.0, 1)), "the device is gone: stale, last value");
        }
        finally
        {
            if (Directory.Exists(root))
            {
                Directory.Delete(root, recursive: true);
            }
        }
    }

    [Test]
    public async Task Simulator_Profiles()
    {
        await using var source = new SimulatorSource(Node("""
            {"metrics": [
              {"name": "stuck", "profile": "stuck", "base": 7},
              {"name": "noisy", "profile": "steady", "base": 10, "noise": 1},
              {"name": "gaps", "profile": "dropouts", "base": 1, "dropoutProbability": 0.5}]}
            """), TimeProvider.System, seed: 1);
        var values = new List<SourceValue>();
        var noisy = new List<double>();
        var gaps = 0;
        for (var i = 0; i < 2000; i++)
        {
            await source.PollAsync(values, CancellationToken.None);
            Assert.That(values[0].Value, Is.EqualTo(7));
            noisy.Add(values[1].Value);
            gaps += values.Count == 2 ? 1 : 0;
        }

        var mean = noisy.Average();
        var std = Math.Sqrt(noisy.Average(v => (v - mean) * (v - mean)));
        Assert.That(mean, Is.EqualTo(10).Within(0.1));
        Assert.That(std, Is.EqualTo(1).Within(0.1));
        Assert.That(gaps, Is.InRange(850, 1150), "about half the readings of 'dropouts' are missing");
    }

    [Test]
    public void BadDeviceConfiguration_IsAClearErrorWithItsPath()
    {
        var gateway = new SensorGatewayComponent();
        var e = Assert.Throws<ConfigurationException>(() => gateway.ParseOptions(Node("""{"devices": [{"zone": "a", "device": "b", "source": "modbus", "host": "h", "registers": [{"metric": "m", "type": "int64"}]}]}""")));
        Assert.That(e!.Message, Does.Contain("/devices/0/registers/0/type"));
        e = Assert.Throws<ConfigurationException>(() => gateway.ParseOptions(Node("""{"devices": [{"zone": "a/b", "device": "c", "source": "simulator", "metrics": [{"name": "x"}]}]}""")));
        Assert.That(e!.Message, Does.Contain("/devices/0/zone"));
        e = Assert.Throws<ConfigurationException>(() => gateway.ParseOptions(Node("""{"devices": [{"zone": "a", "device": "c", "source": "csv", "file": "/no/such.csv", "metric": "x"}]}""")));
        Assert.That(e!.Message, Does.Contain("does not exist"));
    }

    private static ConfigNode Device(int port) => Node($$"""
        {"host": "127.0.0.1", "port": {{port}}, "unitId": 1, "timeoutMs": 500, "registers": [
          {"metric": "temperature", "table": "holding", "address": 0, "type": "int16", "scale": 0.1},
          {"metric": "offset", "table": "holding", "address": 1, "type": "int16"},
          {"metric": "flow", "table": "holding", "address": 2, "type": "float32", "wordOrder": "big"},
          {"metric": "energy", "table": "holding", "address": 4, "type": "uint32", "wordOrder": "little"},
          {"metric": "level", "table": "input", "address": 10, "type": "uint16", "offset": 1},
          {"metric": "missing", "table": "holding", "address": 100, "type": "uint16"}]}
        """);

    private static ConfigNode Node(string json) => new(JsonDocument.Parse(json).RootElement.Clone());

    private static int FreePort() => LoopbackPorts.Free();

    private async Task<Process> StartModbusServerAsync(int port)
    {
        var script = ModbusServer.Script;
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, port.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        _servers.Add(process);
        var ready = process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(ready, Task.Delay(15_000)) != ready || await ready != "ready")
        {
            Assert.Fail("the Modbus server (Debian's python3-pymodbus, /usr/bin/python3) did not start: " + await process.StandardError.ReadToEndAsync());
        }

        return process;
    }
}
