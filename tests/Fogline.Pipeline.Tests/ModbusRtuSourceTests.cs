using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources;
using Fogline.SensorGateway.Sources.Shared;

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
    private Process? _server;

    [SetUp]
    public async Task SetUp()
    {
        _events.Clear();
        _lines = await SerialLines.StartAsync();
        _server = await StartServerAsync();
    }

    [TearDown]
    public async Task TearDown()
    {
        StopServer();
        await _lines.DisposeAsync();
    }

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

        StopServer();
        await source.PollAsync(values, CancellationToken.None);
        Assert.That(values.Select(v => v.Quality), Is.All.EqualTo(1));
        Assert.That(_events.GetValueOrDefault("rtu_timeouts"), Is.EqualTo(1), "one timeout, then the rest of the poll is stale");

        _server = await StartServerAsync();
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

    private async Task<Process> StartServerAsync()
    {
        var script = Path.Combine(AppContext.BaseDirectory, "modbus_server.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, "--rtu", _lines.ServerPort, "19200"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        var process = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        var ready = process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(ready, Task.Delay(15_000)) != ready || await ready != "ready")
        {
            Assert.Fail("the Modbus RTU server (Debian's python3-pymodbus) did not start: " + await process.StandardError.ReadToEndAsync());
        }

        // pymodbus opens the port right after saying so: wait until it answers through the relay.
        await Task.Delay(300);
        return process;
    }

    private void StopServer()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            _server.WaitForExit();
        }

        _server?.Dispose();
        _server = null;
    }

    /// <summary>
    /// Two pseudo-terminal pairs made by socat (Debian's socat): the gateway's line and the server's line, with the test
    /// copying bytes between their other ends, corrupting the next N chunks from the server when asked.
    /// </summary>
    private sealed class SerialLines : IAsyncDisposable
    {
        private readonly List<Process> _socats;
        private readonly FileStream _gatewaySide;
        private readonly FileStream _serverSide;
        private readonly Thread[] _pumps;
        private readonly string _directory;
        private int _corrupt;
        private volatile bool _stopping;

        private SerialLines(string directory, List<Process> socats, FileStream gatewaySide, FileStream serverSide)
        {
            _directory = directory;
            _socats = socats;
            _gatewaySide = gatewaySide;
            _serverSide = serverSide;
            _pumps = [new Thread(() => Pump(_gatewaySide, _serverSide, corrupt: false)) { IsBackground = true }, new Thread(() => Pump(_serverSide, _gatewaySide, corrupt: true)) { IsBackground = true }];
            foreach (var pump in _pumps)
            {
                pump.Start();
            }
        }

        public string GatewayPort => Path.Combine(_directory, "gateway");

        public string ServerPort => Path.Combine(_directory, "server");

        public static async Task<SerialLines> StartAsync()
        {
            Assert.That(File.Exists("/usr/bin/socat"), Is.True, "socat is missing: apt-get install socat (the test command installs it)");
            var directory = Path.Combine(Path.GetTempPath(), "fogline-rtu-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(directory);
            var socats = new List<Process>();
            foreach (var (a, b) in new[] { ("gateway", "relay-a"), ("relay-b", "server") })
            {
                var psi = new ProcessStartInfo("/usr/bin/socat", [$"pty,raw,echo=0,link={Path.Combine(directory, a)}", $"pty,raw,echo=0,link={Path.Combine(directory, b)}"]) { RedirectStandardError = true };
                socats.Add(Process.Start(psi)!);
                await Eventually.UntilAsync(() => File.Exists(Path.Combine(directory, a)) && File.Exists(Path.Combine(directory, b)), $"socat's {a}/{b} pair");
            }

            FileStream Open(string name) => new(File.ResolveLinkTarget(Path.Combine(directory, name), true)!.FullName, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            return new SerialLines(directory, socats, Open("relay-a"), Open("relay-b"));
        }

        public void CorruptResponses(int count) => Interlocked.Exchange(ref _corrupt, count);

        public async ValueTask DisposeAsync()
        {
            _stopping = true;
            foreach (var socat in _socats)
            {
                socat.Kill();
                await socat.WaitForExitAsync();
                socat.Dispose();
            }

            await _gatewaySide.DisposeAsync();
            await _serverSide.DisposeAsync();
            Directory.Delete(_directory, recursive: true);
        }

        private void Pump(FileStream from, FileStream to, bool corrupt)
        {
            var buffer = new byte[512];
            var pending = new List<byte>();
            try
            {
                while (!_stopping)
                {
                    var n = from.Read(buffer);
                    if (n <= 0)
                    {
                        return;
                    }

                    if (!corrupt)
                    {
                        to.Write(buffer, 0, n);
                        to.Flush();
                        continue;
                    }

                    // Responses are passed on a whole RTU frame at a time, so that one count corrupts one frame:
                    // address, function, then 3 more bytes for an exception or byte count + data + CRC.
                    pending.AddRange(buffer.AsSpan(0, n));
                    while (pending.Count >= 3)
                    {
                        var length = (pending[1] & 0x80) != 0 ? 5 : 5 + pending[2];
                        if (pending.Count < length)
                        {
                            break;
                        }

                        var frame = pending.GetRange(0, length).ToArray();
                        pending.RemoveRange(0, length);
                        if (Volatile.Read(ref _corrupt) > 0)
                        {
                            Interlocked.Decrement(ref _corrupt);
                            frame[^3] ^= 0x5A; // the last data byte: the CRC no longer matches
                        }

                        to.Write(frame);
                        to.Flush();
                    }
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        }
    }
}
