using System.Buffers.Binary;
using System.Net.Sockets;
using Fogline.ComponentKit.Configuration;

namespace Fogline.SensorGateway.Sources;

/// <summary>
/// Modbus TCP: reads holding (function 3) or input (function 4) registers per metric, 16-bit (int16/uint16) or 32-bit
/// (int32/uint32/float32, with the word order the device uses), then value = raw × scale + offset. Each poll has a
/// timeout; a device that does not answer or refuses the connection makes its metrics stale (the last value) and the
/// connection is tried again with exponential backoff (0.5 s doubling to 30 s). Modbus exception responses give bad
/// readings for that register.
/// </summary>
public sealed class ModbusTcpSource : ISensorSource
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly string _host;
    private readonly int _port;
    private readonly byte _unit;
    private readonly TimeSpan _timeout;
    private readonly List<Register> _registers = [];
    private readonly TimeProvider _time;
    private readonly byte[] _request = new byte[12];
    private readonly byte[] _response = new byte[260];
    private TcpClient? _client;
    private ushort _transaction;
    private TimeSpan _backoff = MinBackoff;
    private DateTimeOffset _nextAttempt = DateTimeOffset.MinValue;

    /// <summary>Reads the device's <c>host</c>, <c>port</c>, <c>unitId</c>, <c>timeoutMs</c> and <c>registers</c>.</summary>
    public ModbusTcpSource(ConfigNode device, TimeProvider time)
    {
        _time = time;
        _host = device["host"].String();
        _port = device["port"].Int32(502, 1, 65535);
        _unit = (byte)device["unitId"].Int32(1, 0, 255);
        _timeout = TimeSpan.FromMilliseconds(device["timeoutMs"].Int32(1000, 10, 60_000));
        foreach (var r in device["registers"].Items())
        {
            var type = r["type"].OneOf("uint16", "int16", "uint16", "int32", "uint32", "float32");
            _registers.Add(new Register(
                r["metric"].String(),
                r["unit"].StringOrNull(),
                r["table"].OneOf("holding", "holding", "input") == "holding" ? (byte)3 : (byte)4,
                (ushort)r["address"].Int32(0, 0, 65535),
                type,
                r["wordOrder"].OneOf("big", "big", "little") == "big",
                r["scale"].Double(1),
                r["offset"].Double(0)));
        }

        if (_registers.Count == 0)
        {
            throw device["registers"].Error("a Modbus device needs at least one register");
        }
    }

    /// <summary>Whether the last poll reached the device.</summary>
    public bool Connected => _client is { Connected: true };

    /// <summary>Connection attempts made (each one waits for the device up to the timeout).</summary>
    public long ConnectAttempts { get; private set; }

    /// <inheritdoc />
    public string Describe() => $"modbus {_host}:{_port} unit {_unit}";

    /// <inheritdoc />
    public async ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken)
    {
        values.Clear();
        if (_client is null && !await TryConnectAsync(cancellationToken).ConfigureAwait(false))
        {
            AddStale(values, 0);
            return;
        }

        for (var i = 0; i < _registers.Count; i++)
        {
            var r = _registers[i];
            try
            {
                var raw = await ReadAsync(r, cancellationToken).ConfigureAwait(false);
                if (raw is null)
                {
                    values.Add(new SourceValue(r.Metric, r.Unit, double.NaN, 2));
                    continue;
                }

                r.Last = (raw.Value * r.Scale) + r.Offset;
                values.Add(new SourceValue(r.Metric, r.Unit, r.Last, 0));
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidDataException)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    throw;
                }

                // The device went away (or answered garbage): drop the connection, the rest are stale.
                Disconnect();
                _nextAttempt = _time.GetUtcNow() + _backoff;
                AddStale(values, i);
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

    private void AddStale(List<SourceValue> values, int from)
    {
        for (var i = from; i < _registers.Count; i++)
        {
            values.Add(new SourceValue(_registers[i].Metric, _registers[i].Unit, _registers[i].Last, 1));
        }
    }

    private async ValueTask<bool> TryConnectAsync(CancellationToken cancellationToken)
    {
        if (_time.GetUtcNow() < _nextAttempt)
        {
            return false;
        }

        ConnectAttempts++;
        var client = new TcpClient { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        try
        {
            await client.ConnectAsync(_host, _port, timeout.Token).ConfigureAwait(false);
            _client = client;
            _backoff = MinBackoff;
            return true;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            client.Dispose();
            _nextAttempt = _time.GetUtcNow() + _backoff;
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
            return false;
        }
    }

    private void Disconnect()
    {
        _client?.Dispose();
        _client = null;
    }

    /// <summary>Reads one register (or two); null for a Modbus exception response.</summary>
    private async ValueTask<double?> ReadAsync(Register r, CancellationToken cancellationToken)
    {
        var count = r.Type is "int16" or "uint16" ? (ushort)1 : (ushort)2;
        var id = ++_transaction;
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(0), id);
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(2), 0); // protocol: Modbus
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(4), 6); // unit + PDU
        _request[6] = _unit;
        _request[7] = r.Function;
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(8), r.Address);
        BinaryPrimitives.WriteUInt16BigEndian(_request.AsSpan(10), count);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        var stream = _client!.GetStream();
        await stream.WriteAsync(_request, timeout.Token).ConfigureAwait(false);
        await stream.ReadExactlyAsync(_response.AsMemory(0, 8), timeout.Token).ConfigureAwait(false);
        var length = BinaryPrimitives.ReadUInt16BigEndian(_response.AsSpan(4));
        if (BinaryPrimitives.ReadUInt16BigEndian(_response) != id || length < 2 || length > 254)
        {
            throw new InvalidDataException($"unexpected Modbus response header (transaction {BinaryPrimitives.ReadUInt16BigEndian(_response)}, length {length})");
        }

        await stream.ReadExactlyAsync(_response.AsMemory(8, length - 2), timeout.Token).ConfigureAwait(false);
        if ((_response[7] & 0x80) != 0)
        {
            return null; // exception response: illegal address, device busy, ...
        }

        if (_response[7] != r.Function || _response[8] != count * 2)
        {
            throw new InvalidDataException("unexpected Modbus response");
        }

        var data = _response.AsSpan(9, count * 2);
        if (count == 1)
        {
            var word = BinaryPrimitives.ReadUInt16BigEndian(data);
            return r.Type == "int16" ? (short)word : word;
        }

        var first = BinaryPrimitives.ReadUInt16BigEndian(data);
        var second = BinaryPrimitives.ReadUInt16BigEndian(data[2..]);
        var bits = r.BigWordOrder ? ((uint)first << 16) | second : ((uint)second << 16) | first;
        return r.Type switch
        {
            "int32" => (int)bits,
            "float32" => BitConverter.UInt32BitsToSingle(bits),
            _ => bits,
        };
    }

    private sealed class Register(string metric, string? unit, byte function, ushort address, string type, bool bigWordOrder, double scale, double offset)
    {
        public string Metric { get; } = metric;

        public string? Unit { get; } = unit;

        public byte Function { get; } = function;

        public ushort Address { get; } = address;

        public string Type { get; } = type;

        public bool BigWordOrder { get; } = bigWordOrder;

        public double Scale { get; } = scale;

        public double Offset { get; } = offset;

        public double Last { get; set; } = double.NaN;
    }
}
