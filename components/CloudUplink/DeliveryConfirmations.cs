using System.Collections.Concurrent;

namespace Fogline.CloudUplink;

/// <summary>
/// What CloudUplink knows about the delivery of what it published. PublishToIoTCore succeeds as soon as the Nucleus
/// has a QoS 1 message in its spool, which is in memory (2.5 MB by default) and lost when the Nucleus restarts, so a
/// successful publish does not mean the message reached IoT Core. After the records it publishes, the uplink publishes
/// a marker to a topic it is itself subscribed to through IoT Core; when the marker comes back, IoT Core has the
/// marker, and the records published before it on the same connection (the Nucleus sends its spool in order). Only
/// then are they removed from the durable log.
/// <list type="bullet">
/// <item>Records published since the last marker are <em>open</em>; <see cref="Seal"/> puts them under a new marker.</item>
/// <item>An echoed marker confirms its records. Markers come back in the order they were sent, so a marker still
/// pending when a later one comes back was lost (with its records): <see cref="Process"/> reports a loss, and the
/// uplink sends everything unconfirmed again (same ids: the cloud drops duplicates).</item>
/// <item>At most <see cref="WindowBytes"/> of payload is published and unconfirmed at a time, so an outage moves at most
/// that much into the Nucleus's volatile spool; the rest waits in the durable log.</item>
/// </list>
/// The echo handler may call <see cref="Echoed"/> from any thread; everything else is called from the send loop.
/// </summary>
internal sealed class DeliveryConfirmations
{
    private readonly ConcurrentQueue<long> _echoes = new();
    private readonly LinkedList<Marker> _markers = new();
    private List<long> _open = [];
    private long _openBytes;
    private long _nextMarker = 1;

    public DeliveryConfirmations(long windowBytes, TimeSpan timeout)
    {
        WindowBytes = windowBytes;
        Timeout = timeout;
    }

    /// <summary>The most payload published and not yet confirmed.</summary>
    public long WindowBytes { get; }

    /// <summary>How long a marker may take to come back before the link is considered down.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>Payload bytes published and not yet confirmed (open and under markers).</summary>
    public long UnconfirmedBytes { get; private set; }

    /// <summary>Records published and not yet confirmed.</summary>
    public int UnconfirmedRecords { get; private set; }

    /// <summary>Whether the window is full: nothing more is published until confirmations come.</summary>
    public bool WindowFull => UnconfirmedBytes >= WindowBytes;

    /// <summary>Records published since the last marker.</summary>
    public int OpenRecords => _open.Count;

    /// <summary>When the oldest pending marker was sent, or null.</summary>
    public DateTimeOffset? OldestPending => _markers.First?.Value.SentAt;

    /// <summary>When the newest marker was sent, or null when none is pending.</summary>
    public DateTimeOffset? NewestPending => _markers.Last?.Value.SentAt;

    /// <summary>Notes records the Nucleus accepted for publishing.</summary>
    public void Published(IReadOnlyList<long> sequences, long payloadBytes)
    {
        _open.AddRange(sequences);
        _openBytes += payloadBytes;
        UnconfirmedBytes += payloadBytes;
        UnconfirmedRecords += sequences.Count;
    }

    /// <summary>
    /// Puts the open records under a new marker (maybe none: a probe of the link) and returns its id, to be published;
    /// when publishing it fails, <see cref="Unseal"/> takes it back.
    /// </summary>
    public long Seal(DateTimeOffset now)
    {
        var marker = new Marker(_nextMarker++, _open, _openBytes, now);
        _markers.AddLast(marker);
        _open = [];
        _openBytes = 0;
        return marker.Id;
    }

    /// <summary>The marker could not be published: its records are open again.</summary>
    public void Unseal(long id)
    {
        if (_markers.Last is { } last && last.Value.Id == id)
        {
            _markers.RemoveLast();
            last.Value.Sequences.AddRange(_open);
            _open = last.Value.Sequences;
            _openBytes += last.Value.Bytes;
        }
    }

    /// <summary>A marker came back through IoT Core (any thread).</summary>
    public void Echoed(long id) => _echoes.Enqueue(id);

    /// <summary>
    /// Applies the markers that came back: returns the sequences now confirmed, and whether a marker was lost (then
    /// every unconfirmed record is forgotten here and must be sent again).
    /// </summary>
    public (List<long> Confirmed, bool Lost) Process()
    {
        var confirmed = new List<long>();
        var lost = false;
        while (_echoes.TryDequeue(out var id))
        {
            if (_markers.First is null || id < _markers.First.Value.Id)
            {
                continue; // a duplicate delivery of one already applied
            }

            while (_markers.First is { } first && first.Value.Id <= id)
            {
                _markers.RemoveFirst();
                if (first.Value.Id < id)
                {
                    lost = true;
                    continue;
                }

                confirmed.AddRange(first.Value.Sequences);
                UnconfirmedBytes -= first.Value.Bytes;
                UnconfirmedRecords -= first.Value.Sequences.Count;
            }
        }

        if (lost)
        {
            Reset();
        }

        return (confirmed, lost);
    }

    /// <summary>Forgets everything unconfirmed (it will be sent again).</summary>
    public void Reset()
    {
        _markers.Clear();
        _open = [];
        _openBytes = 0;
        UnconfirmedBytes = 0;
        UnconfirmedRecords = 0;
    }

    private sealed record Marker(long Id, List<long> Sequences, long Bytes, DateTimeOffset SentAt);
}
