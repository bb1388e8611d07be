using System.Diagnostics;
using System.IO.Ports;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources.Shared;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Modbus RTU on a serial line (RS-485/RS-232 through System.IO.Ports): the same registers as Modbus TCP
/// (<see cref="ModbusRegister"/>), each read as one frame <c>[unit][PDU][CRC-16 low, high]</c> after the line has been
/// silent for the inter-frame time (3.5 characters, 1.75 ms above 19,200 baud, as the Modbus serial line specification
/// says). A response with a bad CRC, from another unit, or none within the timeout is counted (<c>rtu_crc_errors</c>,
/// <c>rtu_wrong_unit</c>, <c>rtu_timeouts</c>) and the request is sent again up to <c>retries</c> times; then the
/// metrics are stale for this poll. A port that cannot be opened is retried with backoff, its metrics stale meanwhile;
/// at start it is an error that names the port and why.
/// </summary>
public sealed class ModbusRtuSource : ISensorSource
{
    private readonly string _port;
    private readonly int _baud;
    private readonly Parity _parity;
    private readonly int _dataBits;
    private readonly StopBits _stopBits;
    private readonly byte _unit;
    private readonly TimeSpan _timeout;
    private readonly TimeSpan _interFrame;
    private readonly int _retries;
    private readonly List<ModbusRegister> _registers;
    private readonly ReconnectBackoff _backoff;
    private readonly SourceEvents _events;
    private readonly byte[] _request = new byte[1 + ModbusPdu.ReadRequestLength + 2];
    private readonly byte[] _response = new byte[256];
    private readonly Stopwatch _sinceLastByte = Stopwatch.StartNew();
    private SerialPort? _serial;

    /// <summary>
    /// Reads the device's <c>port</c>, <c>baudRate</c> (9600), <c>parity</c> (even, the specification's default),
    /// <c>dataBits</c> (8), <c>stopBits</c> (1), <c>unitId</c> (1), <c>timeoutMs</c> (1000), <c>interFrameMs</c>
    /// (from the baud rate), <c>retries</c> (1) and <c>registers</c>.
    /// </summary>
    public ModbusRtuSource(ConfigNode device, TimeProvider time, SourceEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _port = device["port"].String();
        _baud = device["baudRate"].Int32(9600, 300, 4_000_000);
        _parity = device["parity"].OneOf("even", "none", "even", "odd") switch
        {
            "none" => Parity.None,
            "odd" => Parity.Odd,
            _ => Parity.Even,
        };
        _dataBits = device["dataBits"].Int32(8, 7, 8);
        _stopBits = device["stopBits"].Int32(1, 1, 2) == 2 ? StopBits.Two : StopBits.One;
        _unit = (byte)device["unitId"].Int32(1, 1, 247);
        _timeout = TimeSpan.FromMilliseconds(device["timeoutMs"].Int32(1000, 10, 60_000));
        var characterMs = 11 * 1000.0 / _baud;
        _interFrame = TimeSpan.FromMilliseconds(device["interFrameMs"].Double(_baud > 19_200 ? 1.75 : 3.5 * characterMs, 0, 1000));
        _retries = device["retries"].Int32(1, 0, 10);
        _registers = ModbusRegister.ParseAll(device);
        _backoff = new ReconnectBackoff(time);
        _events = events;
    }

    /// <inheritdoc />
    public string Describe() => $"modbus-rtu {_port} {_baud} baud unit {_unit}";

    /// <summary>Opens the port once and closes it: an error that says which port and why when it cannot be used.</summary>
    public void CheckAtStart()
    {
        using var serial = Create();
        try
        {
            serial.Open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            throw new InvalidOperationException($"serial port {_port} cannot be opened: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public async ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        values.Clear();
        if (_serial is null && !TryOpen())
        {
            ModbusValues.AddStale(_registers, values, 0);
            return;
        }

        for (var i = 0; i < _registers.Count; i++)
        {
            var r = _registers[i];
            int length;
            try
            {
                length = await ExchangeAsync(r, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
            {
                // The port went away (adapter unplugged): close it, open again with backoff; the rest are stale.
                Close();
                _backoff.Failed();
                _events.Count("rtu_port_errors");
                ModbusValues.AddStale(_registers, values, i);
                return;
            }

            if (length < 0)
            {
                // No valid answer after the retries: this register and the rest are stale for this poll.
                ModbusValues.AddStale(_registers, values, i);
                return;
            }

            try
            {
                ModbusValues.Add(r, values, _response.AsSpan(1, length - 3));
            }
            catch (InvalidDataException)
            {
                _events.Count("rtu_invalid_responses");
                values.Add(new SourceValue(r.Metric, r.Unit, double.NaN, 2));
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    private SerialPort Create() => new(ResolvePort(_port), _baud, _parity, _dataBits, _stopBits)
    {
        Handshake = Handshake.None,
        ReadTimeout = (int)_timeout.TotalMilliseconds,
        WriteTimeout = (int)_timeout.TotalMilliseconds,
    };

    /// <summary>A symbolic link (udev's /dev/serial/by-id/…, socat's pseudo-terminal links) is opened as its target.</summary>
    private static string ResolvePort(string port)
    {
        try
        {
            return File.ResolveLinkTarget(port, returnFinalTarget: true)?.FullName ?? port;
        }
        catch (IOException)
        {
            return port;
        }
    }

    private bool TryOpen()
    {
        if (!_backoff.TryBegin())
        {
            return false;
        }

        var serial = Create();
        try
        {
            serial.Open();
            serial.DiscardInBuffer();
            _serial = serial;
            _backoff.Succeeded();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            serial.Dispose();
            _backoff.Failed();
            _events.Count("rtu_port_errors");
            return false;
        }
    }

    private void Close()
    {
        _serial?.Dispose();
        _serial = null;
    }

    /// <summary>
    /// Sends the read of <paramref name="r"/> and reads a valid response frame into <c>_response</c>; returns its
    /// length (address, PDU and CRC), or −1 when no valid response came within the retries.
    /// </summary>
    private async ValueTask<int> ExchangeAsync(ModbusRegister r, CancellationToken cancellationToken)
    {
        _request[0] = _unit;
        ModbusPdu.WriteReadRequest(_request.AsSpan(1), r.Function, r.Address, r.Count);
        var crc = ModbusCrc.Compute(_request.AsSpan(0, 1 + ModbusPdu.ReadRequestLength));
        _request[^2] = (byte)crc;
        _request[^1] = (byte)(crc >> 8);
        var stream = _serial!.BaseStream;
        for (var attempt = 0; attempt <= _retries; attempt++)
        {
            // The line must be silent for the inter-frame time before a frame; late bytes of an earlier answer go.
            var silent = _interFrame - _sinceLastByte.Elapsed;
            if (silent > TimeSpan.Zero)
            {
                await Task.Delay(silent, cancellationToken).ConfigureAwait(false);
            }

            _serial.DiscardInBuffer();
            await stream.WriteAsync(_request, cancellationToken).ConfigureAwait(false);
            await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            _sinceLastByte.Restart();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            try
            {
                // Address and function first: they say how long the rest is.
                await ReadAsync(stream, 0, 2, timeout.Token).ConfigureAwait(false);
                int length;
                if ((_response[1] & 0x80) != 0)
                {
                    length = 5; // address, function | 0x80, exception code, CRC
                    await ReadAsync(stream, 2, 3, timeout.Token).ConfigureAwait(false);
                }
                else
                {
                    await ReadAsync(stream, 2, 1, timeout.Token).ConfigureAwait(false);
                    length = 3 + _response[2] + 2;
                    await ReadAsync(stream, 3, _response[2] + 2, timeout.Token).ConfigureAwait(false);
                }

                if (!ModbusCrc.IsValid(_response.AsSpan(0, length)))
                {
                    _events.Count("rtu_crc_errors");
                    continue;
                }

                if (_response[0] != _unit)
                {
                    _events.Count("rtu_wrong_unit");
                    continue;
                }

                return length;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _events.Count("rtu_timeouts");
            }
        }

        return -1;
    }

    private async ValueTask ReadAsync(Stream stream, int offset, int count, CancellationToken cancellationToken)
    {
        await stream.ReadExactlyAsync(_response.AsMemory(offset, count), cancellationToken).ConfigureAwait(false);
        _sinceLastByte.Restart();
    }
}
