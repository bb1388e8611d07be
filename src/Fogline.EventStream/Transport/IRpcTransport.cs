using System.IO.Pipelines;

namespace Fogline.EventStream.Transport;

/// <summary>A byte-stream connection the RPC layer runs over: a socket in production, an in-memory pipe pair in tests.</summary>
public interface IRpcTransport : IDuplexPipe, IAsyncDisposable
{
    /// <summary>What this connection is, for logs.</summary>
    string Description { get; }

    /// <summary>Closes both directions at once, without waiting for pending writes.</summary>
    void Abort();
}
