using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources;
using Fogline.SensorGateway.Sources.Shared;

using Fogline.Testing.Modbus;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// SensorGateway's Modbus RTU source against a real peer: pymodbus's serial RTU server (Debian's python3-pymodbus) on a
/// pseudo-terminal made by socat, the source on another, and the test relaying the bytes between the two lines so that
/// it can corrupt responses (CRC errors) and take the server away and back.
/// </summary>
[NonParallelizable]
[CancelAfter(120_000)]
public class ModbusRtuSourceTests
{
    private readonly ConcurrentDictionary<string, int> _events = new();
    private SerialLines _lines = null!;

    [SetUp]
    public async Task SetUp()
    {
        _events.Clear();
        _lines = await SerialLines.StartAsync();
        await _lines.StartModbusServerAsync();
    }

    [TearDown]
    public async Task TearDown() => await _lines.DisposeAsync();

    [Test]
    public async Task ReadsEveryRegisterFormat_OverTheSerialLine_AsModbusTcpDoes()
    {
        await using var source = Source();
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
        }), string.Join(", ", _events.Select(e => $"{e.Key}={e.Value}")));
        Assert.That(_events, Is.Empty, "no errors on a clean line");
    }

    [Test]
    public async Task CorruptedResponses_AreCountedAsCrcErrorsAndRetried()
    {
        await using var source = Source("\"retries\": 3");
        var values = new List<SourceValue>();
        _lines.CorruptResponses(2);
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values[0], Is.EqualTo(new SourceValue("temperature", null, 23.5, 0)), "read on the third attempt");
        Assert.That(_events.GetValueOrDefault("rtu_crc_errors"), Is.EqualTo(2));

        // More corrupted answers than retries: this poll's readings are stale, the next poll reads again.
        _lines.CorruptResponses(4);
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1));
        Assert.That(values[0].Value, Is.EqualTo(23.5), "a stale reading carries the last value");
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values[0].Quality, Is.Zero);
        Assert.That(_events.GetValueOrDefault("rtu_crc_errors"), Is.EqualTo(6));
    }

    [Test]
    public async Task TheServerGoingAway_GivesStaleReadingsAndTimeouts_AndItIsReadAgainWhenItComesBack()
    {
        await using var source = Source("\"retries\": 0");
        var values = new List<SourceValue>();
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values[0].Quality, Is.Zero);

        _lines.StopModbusServer();
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1));
        Assert.That(_events.GetValueOrDefault("rtu_timeouts"), Is.EqualTo(1), "one timeout, then the rest of the poll is stale");

        await _lines.StartModbusServerAsync();
        await Eventually.UntilAsync(async () =>
        {
            await source.PollAsync(values, CancellationToken.None);
            return values[0].Quality == 0;
        }, "read again after the server came back");
        Assert.That(values[0].Value, Is.EqualTo(23.5));
    }

    [Test]
    public async Task AValueOutsideThePlausibleRange_IsRejectedAsOutOfRange()
    {
        await using var source = new ModbusRtuSource(Node($$"""
            {"port": {{JsonSerializer.Serialize(_lines.GatewayPort)}}, "baudRate": 19200, "parity": "none", "timeoutMs": 300, "registers": [
              {"metric": "temperature", "address": 0, "type": "int16", "scale": 0.1, "min": -40, "max": 20}]}
            """), TimeProvider.System, new SourceEvents(Count));
        var values = new List<SourceValue>();
        await source.PollAsync(values, CancellationToken.None);
        Assert.That((values[0].Quality, values[0].OutOfRange), Is.EqualTo((2, true)), "23.5 is above the configured 20");
    }

    [Test]
    public void APortThatDoesNotExist_IsAnErrorAtStartThatNamesIt()
    {
        var source = new ModbusRtuSource(Node("""{"port": "/dev/ttyFOGLINE-NONE", "registers": [{"metric": "m", "address": 0}]}"""), TimeProvider.System, SourceEvents.None);
        var e = Assert.Throws<InvalidOperationException>(source.CheckAtStart);
        Assert.That(e!.Message, Does.Contain("/dev/ttyFOGLINE-NONE"));
    }

    [Test]
    public void Crc16Modbus_MatchesTheSpecificationsExample()
    {
        // Read 10 holding registers from 0 of unit 1: 01 03 00 00 00 0A, CRC C5 CD (low byte first).
        byte[] frame = [0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD];
        Assert.That(ModbusCrc.Compute(frame.AsSpan(0, 6)), Is.EqualTo(0xCDC5));
        Assert.That(ModbusCrc.IsValid(frame), Is.True);
        frame[3] ^= 1;
        Assert.That(ModbusCrc.IsValid(frame), Is.False);
    }

    private void Count(string name) => _events.AddOrUpdate(name, 1, (_, n) => n + 1);

    private ModbusRtuSource Source(string extra = "") => new(Node($$"""
        {"port": {{JsonSerializer.Serialize(_lines.GatewayPort)}}, "baudRate": 19200, "parity": "none", "unitId": 1, "timeoutMs": 300{{(extra.Length > 0 ? ", " + extra : "")}},
         "registers": [
          {"metric": "temperature", "table": "holding", "address": 0, "type": "int16", "scale": 0.1},
          {"metric": "offset", "table": "holding", "address": 1, "type": "int16"},
          {"metric": "flow", "table": "holding", "address": 2, "type": "float32", "wordOrder": "big"},
          {"metric": "energy", "table": "holding", "address": 4, "type": "uint32", "wordOrder": "little"},
          {"metric": "level", "table": "input", "address": 10, "type": "uint16", "offset": 1},
          {"metric": "missing", "table": "holding", "address": 100, "type": "uint16"}]}
        """), TimeProvider.System, new SourceEvents(Count));

    private static ConfigNode Node(string json) => new(JsonDocument.Parse(json).RootElement.Clone());

}
