using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.ComponentKit.Hosting;
using Fogline.Greengrass.Ipc;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.Deployments;
using Fogline.Testing.EmulatedChips;
using Fogline.SensorGateway;

using Fogline.Testing.Modbus;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// A gateway with an emulated BME280 on its I2C bus and a Modbus RTU meter (pymodbus on a socat serial line) feeds the
/// pipeline on a local Nucleus: SensorGateway runs in the test's process (so that its I2C bus can be the emulated chip),
/// with its recipe's permissions; Aggregator is the NativeAOT binary deployed from the repository.
/// </summary>
[NonParallelizable]
[CancelAfter(120_000)]
public class SensorGatewayBusesEndToEndTests
{
    [Test]
    public async Task AnEmulatedBme280AndAnRtuMeter_FeedThePipeline_TheMeterGoesStaleAndComesBack()
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-buses-" + Guid.NewGuid().ToString("N")[..8]);
        await using var lines = await SerialLines.StartAsync();
        await lines.StartModbusServerAsync();
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) } });
        var deployed = await nucleus.DeployFromRepositoryAsync(new Dictionary<string, string> { ["com.fogline.Aggregator"] = """{"MERGE": {"windowSeconds": 1}}""" });
        Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);

        var probe = nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
        await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
        var seen = new ConcurrentQueue<(string Topic, JsonNode Body)>();
        foreach (var topic in new[] { "fogline/raw/#", "fogline/summary/#" })
        {
            await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = topic }, e =>
            {
                if (e.BinaryMessage?.Message is { } m)
                {
                    seen.Enqueue((e.BinaryMessage.Context!.Topic!, JsonNode.Parse(m.Span)!));
                }
            });
        }

        // The gateway with the recipe's permissions and these two devices.
        var configuration = ComponentRecipe.Load(Path.Combine(Repository.Recipes, "com.fogline.SensorGateway-1.0.0.yaml")).DefaultConfiguration;
        configuration["devices"] = JsonNode.Parse($$"""
            [{"zone": "hall-a", "device": "env-1", "source": "bme280", "bus": 1, "address": 118, "intervalMs": 100},
             {"zone": "yard-b", "device": "meter-3", "source": "modbus-rtu", "port": {{JsonSerializer.Serialize(lines.GatewayPort)}}, "baudRate": 19200,
              "parity": "none", "timeoutMs": 300, "retries": 0, "intervalMs": 100,
              "registers": [{"metric": "temperature", "address": 0, "type": "int16", "scale": 0.1, "unit": "C"}]}]
            """);
        var record = nucleus.AddComponent("com.fogline.SensorGateway", "1.0.0", configuration);
        var chip = new Bme280Chip();
        SensorGatewayComponent.I2cDevices = settings => settings.BusId == 1 && settings.DeviceAddress == 0x76 ? chip.Lease() : throw new IOException("nothing there");
        using var stop = new CancellationTokenSource();
        var gateway = ComponentHost.RunAsync(new SensorGatewayComponent(), new ComponentHostOptions
        {
            Ipc = new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = record.Token },
            HandleSignals = false,
            LogOutput = Stream.Null,
        }, stop.Token);
        try
        {
            double? Mean(string topic) => seen.LastOrDefault(s => s.Topic == topic).Body?["mean"]?.GetValue<double>();
            await Eventually.UntilAsync(() => Mean("fogline/summary/hall-a/env-1/temperature") is not null && Mean("fogline/summary/yard-b/meter-3/temperature") is not null,
                "Aggregator's windows of the BME280's and the meter's readings", TimeSpan.FromSeconds(30));
            Assert.That(Mean("fogline/summary/hall-a/env-1/temperature"), Is.EqualTo(25.08).Within(0.005));
            Assert.That(Mean("fogline/summary/hall-a/env-1/pressure"), Is.EqualTo(1006.53).Within(0.02));
            Assert.That(Mean("fogline/summary/yard-b/meter-3/temperature"), Is.EqualTo(23.5));

            // The meter's server goes away: its readings are stale; it comes back: good again.
            lines.StopModbusServer();
            await Eventually.UntilAsync(() => seen.Any(s => s.Topic == "fogline/raw/yard-b/meter-3/temperature" && s.Body["quality"]?.GetValue<string>() == "stale"), "stale meter readings");
            Assert.That(seen.Last(s => s.Topic == "fogline/raw/hall-a/env-1/temperature").Body["quality"], Is.Null, "the BME280 is still read meanwhile");
            seen.Clear();
            await lines.StartModbusServerAsync();
            await Eventually.UntilAsync(() => seen.Any(s => s.Topic == "fogline/raw/yard-b/meter-3/temperature" && s.Body["quality"] is null), "good meter readings again", TimeSpan.FromSeconds(40));
        }
        finally
        {
            await stop.CancelAsync();
            Assert.That(await gateway, Is.Zero, "the gateway stops cleanly");
            SensorGatewayComponent.I2cDevices = null;
            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public async Task ASerialPortOrI2cChipThatCannotBeUsedAtStart_IsErroredWithTheDeviceAndTheReason()
    {
        var root = Path.Combine(Path.GetTempPath(), "fogline-buses-" + Guid.NewGuid().ToString("N")[..8]);
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root });
        try
        {
            var run = 0;
            foreach (var (device, expected) in new[]
            {
                ("""{"zone": "a", "device": "meter", "source": "modbus-rtu", "port": "/dev/ttyFOGLINE-NONE", "registers": [{"metric": "m", "address": 0}]}""", "device a/meter: serial port /dev/ttyFOGLINE-NONE cannot be opened"),
                ("""{"zone": "a", "device": "env", "source": "bme280", "bus": 7, "address": 119}""", "device a/env: BME280 on i2c bus 7 address 0x77"),
            })
            {
                var configuration = ComponentRecipe.Load(Path.Combine(Repository.Recipes, "com.fogline.SensorGateway-1.0.0.yaml")).DefaultConfiguration;
                configuration["devices"] = new JsonArray(JsonNode.Parse(device));
                var record = nucleus.AddComponent($"com.fogline.test.Gateway{++run}", "1.0.0", configuration);
                SensorGatewayComponent.I2cDevices = _ => throw new IOException("No such file or directory: /dev/i2c-7");
                using var log = new MemoryStream();
                var exit = await ComponentHost.RunAsync(new SensorGatewayComponent(), new ComponentHostOptions
                {
                    Ipc = new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = record.Token },
                    HandleSignals = false,
                    LogOutput = log,
                });
                Assert.That(exit, Is.EqualTo(ComponentHost.ExitStartFailed));
                Assert.That(System.Text.Encoding.UTF8.GetString(log.ToArray()), Does.Contain(expected));
                Assert.That(record.State, Is.EqualTo(LifecycleState.Errored));
            }
        }
        finally
        {
            SensorGatewayComponent.I2cDevices = null;
            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public async Task TheNativeAotBinary_ReadsAnRtuMeter_WithTheSerialShimItShipsBesideIt()
    {
        var artifacts = Path.Combine(Repository.ComponentArtifacts, "com.fogline.SensorGateway", "1.0.0");
        Assert.That(File.Exists(Path.Combine(artifacts, "libSystem.IO.Ports.Native-linux-x64.so")), Is.True, "dotnet cake --target=Components ships System.IO.Ports' shim");
        var root = Path.Combine(Path.GetTempPath(), "fogline-buses-" + Guid.NewGuid().ToString("N")[..8]);
        await using var lines = await SerialLines.StartAsync();
        await lines.StartModbusServerAsync();
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root, Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(60) } });
        try
        {
            var probe = nucleus.AddComponent("com.fogline.test.Probe", "1.0.0", JsonNode.Parse("""{"accessControl": {"aws.greengrass.ipc.pubsub": {"p:1": {"operations": ["*"], "resources": ["*"]}}}}""")!.AsObject());
            await using var client = await GreengrassIpcClient.ConnectAsync(new GreengrassIpcClientOptions { SocketPath = nucleus.SocketPath, AuthToken = probe.Token });
            var readings = new ConcurrentQueue<JsonNode>();
            await client.SubscribeToTopicAsync(new SubscribeToTopicRequest { Topic = "fogline/raw/#" }, e => readings.Enqueue(JsonNode.Parse(e.BinaryMessage!.Message!.Value.Span)!));
            var deployed = await nucleus.DeployFromRepositoryAsync(new Dictionary<string, string>
            {
                ["com.fogline.SensorGateway"] = new JsonObject
                {
                    ["RESET"] = new JsonArray("/devices"),
                    ["MERGE"] = new JsonObject
                    {
                        ["devices"] = JsonNode.Parse($$"""
                            [{"zone": "yard-b", "device": "meter-3", "source": "modbus-rtu", "port": {{JsonSerializer.Serialize(lines.GatewayPort)}},
                              "baudRate": 19200, "parity": "none", "intervalMs": 200,
                              "registers": [{"metric": "temperature", "address": 0, "type": "int16", "scale": 0.1, "unit": "C"}]}]
                            """),
                    },
                }.ToJsonString(),
            });
            Assert.That(deployed.Status, Is.EqualTo(DeploymentStatus.Succeeded), deployed.FailureCause);
            await Eventually.UntilAsync(() => readings.Any(r => r["device"]!.GetValue<string>() == "meter-3" && r["quality"] is null && r["value"]!.GetValue<double>() == 23.5),
                "the binary's readings of the meter", TimeSpan.FromSeconds(30));
        }
        finally
        {
            await nucleus.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }
    }
}
