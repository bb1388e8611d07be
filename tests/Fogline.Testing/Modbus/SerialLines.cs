using System.Diagnostics;
using NUnit.Framework;

namespace Fogline.Testing.Modbus;

/// <summary>
/// Two pseudo-terminal pairs made by socat (Debian's socat): the gateway's line and the server's line, with the test
/// copying bytes between their other ends, corrupting the next N response frames from the server when asked.
/// </summary>
public sealed class SerialLines : IAsyncDisposable
{
    private readonly List<Process> _socats;
    private readonly FileStream _gatewaySide;
    private readonly FileStream _serverSide;
    private readonly Thread[] _pumps;
    private readonly string _directory;
    private int _corrupt;
    private volatile bool _stopping;
    private Process? _server;

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

    /// <summary>The gateway's end: a symbolic link to a pseudo-terminal.</summary>
    public string GatewayPort => Path.Combine(_directory, "gateway");

    /// <summary>The server's end.</summary>
    public string ServerPort => Path.Combine(_directory, "server");

    /// <summary>Makes the two lines (Debian's socat) and starts relaying.</summary>
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

    /// <summary>Corrupts the next <paramref name="count"/> response frames (one data byte: the CRC no longer matches).</summary>
    public void CorruptResponses(int count) => Interlocked.Exchange(ref _corrupt, count);

    /// <summary>Starts pymodbus's serial RTU server (<see cref="ModbusServer"/>, 19,200 baud 8N1, unit 1) on the server's line.</summary>
    public async Task StartModbusServerAsync()
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", [ModbusServer.Script, "--rtu", ServerPort, "19200"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        _server = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        var ready = _server.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(ready, Task.Delay(15_000)) != ready || await ready != "ready")
        {
            Assert.Fail("the Modbus RTU server (Debian's python3-pymodbus) did not start: " + await _server.StandardError.ReadToEndAsync());
        }

        // pymodbus opens the port right after saying so.
        await Task.Delay(300);
    }

    /// <summary>Stops the server (the line stays).</summary>
    public void StopModbusServer()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill();
            _server.WaitForExit();
        }

        _server?.Dispose();
        _server = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        StopModbusServer();
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
