using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Storage;

/// <summary>
/// A document that changes often (a fleet's job executions and status reports) written behind the changes: at most
/// once per <see cref="Delay"/>, with everything changed by then, and at once when flushed (the cloud stopping). The
/// snapshot is taken under the owner's lock, the file written outside it (<see cref="JsonFiles.Write"/>, atomic). A
/// cloud killed loses at most the last <see cref="Delay"/> of such changes; one stopped loses nothing.
/// </summary>
internal sealed class WriteBehind : IDisposable
{
    /// <summary>The longest a change waits to be written.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(250);

    private readonly string _file;
    private readonly Lock _sync;
    private readonly Func<JsonNode> _snapshot;
    private readonly ITimer _timer;
    private readonly Lock _writing = new();
    private int _dirty;

    /// <summary>Writes <paramref name="snapshot"/> (taken under <paramref name="sync"/>) to <paramref name="file"/>.</summary>
    public WriteBehind(string file, Lock sync, Func<JsonNode> snapshot)
    {
        _file = file;
        _sync = sync;
        _snapshot = snapshot;
        // Persistence runs on the system clock whatever clock the cloud's services use.
        _timer = TimeProvider.System.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>The document changed: it is written within <see cref="Delay"/>.</summary>
    public void Changed()
    {
        if (Interlocked.Exchange(ref _dirty, 1) == 0)
        {
            _timer.Change(Delay, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Writes the document now if it changed.</summary>
    public void Flush()
    {
        lock (_writing)
        {
            if (Interlocked.Exchange(ref _dirty, 0) == 0)
            {
                return;
            }

            JsonNode snapshot;
            lock (_sync)
            {
                snapshot = _snapshot();
            }

            JsonFiles.Write(_file, snapshot);
        }
    }

    /// <summary>Stops the timer and writes what is left.</summary>
    public void Dispose()
    {
        _timer.Dispose();
        Flush();
    }
}
