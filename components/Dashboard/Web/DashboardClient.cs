using System.Threading.Channels;

namespace Fogline.Dashboard.Web;

/// <summary>
/// One connected browser: a bounded queue of pushes (shared, immutable frames) and a token cancelled when it is
/// disconnected. A browser that falls <see cref="DashboardOptions.ClientQueueFrames"/> pushes behind is disconnected
/// rather than slowing the others down or growing the component's memory; its page reconnects and catches up.
/// </summary>
public sealed class DashboardClient : IDisposable
{
    private readonly CancellationTokenSource _closed = new();

    /// <summary>Creates a client with room for <paramref name="capacity"/> pushes.</summary>
    public DashboardClient(string remote, int capacity)
    {
        Remote = remote;
        Queue = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>The remote address (for logs).</summary>
    public string Remote { get; }

    /// <summary>Pushes waiting to be written.</summary>
    public Channel<ReadOnlyMemory<byte>> Queue { get; }

    /// <summary>Cancelled when the client is disconnected by the dashboard.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Why it was disconnected, or null.</summary>
    public string? DroppedBecause { get; private set; }

    /// <summary>Queues a push; false (and the client is disconnected) when its queue is full.</summary>
    public bool TryPush(ReadOnlyMemory<byte> frame)
    {
        if (Queue.Writer.TryWrite(frame))
        {
            return true;
        }

        Disconnect("too slow: its queue of pushes is full");
        return false;
    }

    /// <summary>Disconnects the client.</summary>
    public void Disconnect(string reason)
    {
        DroppedBecause ??= reason;
        Queue.Writer.TryComplete();
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <inheritdoc />
    public void Dispose() => _closed.Dispose();
}

/// <summary>The connected browsers. Thread-safe.</summary>
public sealed class ClientHub
{
    private readonly List<DashboardClient> _clients = [];
    private readonly Lock _gate = new();

    /// <summary>Browsers connected.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Browsers disconnected for being too slow.</summary>
    public long DroppedSlow { get; private set; }

    /// <summary>Adds a browser unless <paramref name="max"/> are connected.</summary>
    public bool TryAdd(DashboardClient client, int max)
    {
        lock (_gate)
        {
            if (_clients.Count >= max)
            {
                return false;
            }

            _clients.Add(client);
            return true;
        }
    }

    /// <summary>Removes a browser.</summary>
    public void Remove(DashboardClient client)
    {
        lock (_gate)
        {
            _clients.Remove(client);
        }
    }

    /// <summary>Queues <paramref name="frame"/> for every browser; those too far behind are disconnected.</summary>
    public void Broadcast(ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            for (var i = _clients.Count - 1; i >= 0; i--)
            {
                if (!_clients[i].TryPush(frame))
                {
                    DroppedSlow++;
                    _clients.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>Disconnects every browser (shutdown, or the server restarting on a new port).</summary>
    public void DisconnectAll(string reason)
    {
        lock (_gate)
        {
            foreach (var c in _clients)
            {
                c.Disconnect(reason);
            }

            _clients.Clear();
        }
    }
}
