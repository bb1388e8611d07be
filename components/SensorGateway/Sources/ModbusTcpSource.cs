using System.Buffers.Binary;
using System.Net.Sockets;
using Fogline.ComponentKit.Configuration;
using Fogline.SensorGateway.Sources.Shared;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Modbus TCP: each metric's registers (<see cref="ModbusRegister"/>) read with one request per metric in an MBAP
/// frame. Each request has a timeout; a device that does not answer or refuses the connection makes its metrics stale
/// (the last value) and the connection is tried again with backoff (<see cref="ReconnectBackoff"/>). A Modbus exception
/// response gives a bad reading for that register; a value outside the register's [min, max] is rejected.
/// </summary>
public sealed class ModbusTcpSource : ISensorSource
{
    private readonly string _host;
    private readonly int _port;
    private readonly byte _unit;
    private readonly TimeSpan _timeout;
    private readonly List<ModbusRegister> _registers;
    private readonly ReconnectBackoff _backoff;
    private readonly byte[] _request = new byte[7 + ModbusPdu.ReadRequestLength];
    private readonly byte[] _response = new byte[260];
    private TcpClient? _client;
    private ushort _transaction;
    private int _responsePduLength;

    /// <summary>Reads the device's <c>host</c>, <c>port</c>, <c>unitId</c>, <c>timeoutMs</c> and <c>registers</c>.</summary>
    public ModbusTcpSource(ConfigNode device, TimeProvider time)
    {
        _host = device["host"].String();
        _port = device["port"].Int32(502, 1, 65535);
        _unit = (byte)device["unitId"].Int32(1, 0, 255);
        _timeout = TimeSpan.FromMilliseconds(device["timeoutMs"].Int32(1000, 10, 60_000));
        _registers = ModbusRegister.ParseAll(device);
        _backoff = new ReconnectBackoff(time);
    }

    /// <summary>Whether the last poll reached the device.</summary>
    public bool Connected => _client is { Connected: true };

    /// <summary>Connection attempts made (each one waits for the device up to the timeout).</summary>
    public long ConnectAttempts => _backoff.Attempts;

    /// <inheritdoc />
    public string Describe() => $"modbus {_host}:{_port} unit {_unit}";

    /// <inheritdoc />
    public async ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        values.Clear();
        if (_client is null && !await TryConnectAsync(cancellationToken).ConfigureAwait(false))
        {
            ModbusValues.AddStale(_registers, values, 0);
            return;
        }

        for (var i = 0; i < _registers.Count; i++)
        {
            var r = _registers[i];
            try
            {
                await ExchangeAsync(r, cancellationToken).ConfigureAwait(false);
                ModbusValues.Add(r, values, _response.AsSpan(7, _responsePduLength));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                // The device went away (or answered garbage): drop the connection, the rest are stale.
                Disconnect();
                _backoff.Failed();
                ModbusValues.AddStale(_registers, values, i);
                return;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Disconnect();
        return ValueTask.CompletedTask;
    }

    private async ValueTask<bool> TryConnectAsync(CancellationToken cancellationToken)
    {
        if (!_backoff.TryBegin())
        {
            return false;
        }

        var client = new TcpClient { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await client.ConnectAsync(_host, _port, timeout.Token).ConfigureAwait(false);
            _client = client;
            _backoff.Succeeded();
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            _backoff.Failed();
            return false;
        }
    }

    private void Disconnect()
    {
        _client?.Dispose();
        _client = null;
    }

    /// <summary>Sends the read request of <paramref name="r"/> in an MBAP frame and reads the response into <c>_response</c>.</summary>
    private async ValueTask ExchangeAsync(ModbusRegister r, CancellationToken cancellationToken)
    {
        var id = ++_transaction;
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(0), id);
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(2), 0); // protocol: Modbus
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(4), 1 + ModbusPdu.ReadRequestLength); // unit + PDU
        _request[6] = _unit;
        ModbusPdu.WriteReadRequest(_request.AsSpan(7), r.Function, r.Address, r.Count);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var stream = _client!.GetStream();
        await stream.WriteAsync(_request, timeout.Token).ConfigureAwait(false);
        await stream.ReadExactlyAsync(_response.AsMemory(0, 7), timeout.Token).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadUInt16BigEndian(_response.AsSpan(4));
        if (BinaryPrimitives.ReadUInt16BigEndian(_response) != id || length < 2 || length > 254)
        {
            throw new InvalidDataException($"unexpected Modbus response header (transaction {BinaryPrimitives.ReadUInt16BigEndian(_response)}, length {length})");
        }

        await stream.ReadExactlyAsync(_response.AsMemory(7, length - 1), timeout.Token).ConfigureAwait(false);
        _responsePduLength = length - 1;
    }
}
