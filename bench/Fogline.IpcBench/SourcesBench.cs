using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway;
using Fogline.SensorGateway.Sources;
using Fogline.SensorGateway.Sources.Shared;
using Fogline.Testing;
using Fogline.Testing.EmulatedChips;
using Fogline.Testing.Modbus;

namespace Fogline.IpcBench;

/// <summary>
/// <c>sources</c>: each SensorGateway source polled back to back (its maximum poll rate) for a few seconds, one at a
/// time: readings per second and the gateway process's CPU per 1,000 readings. Modbus TCP and RTU against pymodbus
/// (RTU through socat pseudo-terminals, so no baud-rate delay: the figure is the protocol and the peer, not the line);
/// the I2C chips emulated (the figure is dotnet/iot's driver, including the waits it makes for a measurement); DS18B20
/// from a w1 tree on tmpfs (a real bus takes 750 ms per 12-bit conversion).
/// </summary>
internal static class SourcesBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var seconds = args.Length == 2 && args[0] == "--seconds" ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3.0;
        var bme = new Bme280Chip();
        var sht = new Sht3xChip();
        var ads = new Ads1115Chip();
        ads.Inputs[0] = 2.4;
        SensorGatewayComponent.I2cDevices = s => (s.DeviceAddress switch { 0x76 => (EmulatedI2cDevice)bme, 0x44 => sht, _ => ads }).Lease();
        var w1 = Directory.CreateTempSubdirectory("fogline-w1-bench-").FullName;
        Directory.CreateDirectory(Path.Combine(w1, "28-0316a2794bff"));
        await File.WriteAllTextAsync(Path.Combine(w1, "28-0316a2794bff", "w1_slave"), "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n");
        var port = LoopbackPorts.Free();
        using var tcpServer = Process.Start(new ProcessStartInfo("/usr/bin/python3", [ModbusServer.Script, port.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true })!;
        await tcpServer.StandardOutput.ReadLineAsync();
        await using var lines = await SerialLines.StartAsync();
        await lines.StartModbusServerAsync();
        const string Registers = """[{"metric": "temperature", "address": 0, "type": "int16", "scale": 0.1}, {"metric": "flow", "address": 2, "type": "float32"}]""";
        var devices = new (string Name, string Json)[]
        {
            ("simulator (2 metrics)", """{"source": "simulator", "metrics": [{"name": "a", "profile": "sine"}, {"name": "b", "profile": "spikes"}]}"""),
            ("modbus TCP (2 registers)", $$"""{"source": "modbus", "host": "127.0.0.1", "port": {{port}}, "registers": {{Registers}}}"""),
            ("modbus RTU (2 registers)", $$"""{"source": "modbus-rtu", "port": {{JsonSerializer.Serialize(lines.GatewayPort)}}, "baudRate": 19200, "parity": "none", "registers": {{Registers}}}"""),
            ("BME280 (3 metrics, x1)", """{"source": "bme280"}"""),
            ("SHT3x (2 metrics, high)", """{"source": "sht3x"}"""),
            ("ADS1115 (1 channel, 860 SPS)", """{"source": "ads1115", "dataRate": 860, "channels": [{"input": "0", "metric": "p", "volts": [0.8, 4.0], "to": [0, 10]}]}"""),
            ("DS18B20 (w1 sysfs)", $$"""{"source": "ds18b20", "id": "28-0316a2794bff", "sysfsRoot": {{JsonSerializer.Serialize(w1)}}}"""),
        };
        Console.WriteLine($"source                          readings/s   CPU ms per 1,000 readings   ({seconds:0} s each, back to back)");
        var values = new List<SourceValue>();
        foreach (var (name, json) in devices)
        {
            var node = new ConfigNode(JsonDocument.Parse(json).RootElement.Clone());
            var options = new DeviceOptions("z", "d", node["source"].String(), TimeSpan.FromMilliseconds(1), node);
            await using var source = SensorGatewayComponent.CreateSource(options, TimeProvider.System, SourceEvents.None);
            await source.PollAsync(values, CancellationToken.None);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            long readings = 0, bad = 0;
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                await source.PollAsync(values, CancellationToken.None);
                foreach (var v in values)
                {
                    readings++;
                    bad += v.Quality == 0 ? 0 : 1;
                }
            }

            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-31} {readings / clock.Elapsed.TotalSeconds,10:0}   {used / readings * 1000,25:0.0}{(bad > 0 ? $"   ({bad} not good)" : "")}"));
        }

        tcpServer.Kill();
        SensorGatewayComponent.I2cDevices = null;
        Directory.Delete(w1, recursive: true);
        return 0;
    }
}
