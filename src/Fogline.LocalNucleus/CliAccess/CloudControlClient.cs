using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.CliAccess;

/// <summary>A client of the cloud-control endpoint (<see cref="CloudControlServer"/>) of a running Nucleus.</summary>
public static class CloudControlClient
{
    /// <summary>
    /// Sends one request to the Nucleus at <paramref name="rootPath"/> and returns its answer. Throws
    /// <see cref="SocketException"/> or <see cref="IOException"/> when no Nucleus serves cloud control there.
    /// </summary>
    public static async Task<JsonObject> RequestAsync(string rootPath, JsonObject request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(CloudControlServer.SocketPathFor(rootPath)), cancellationToken).ConfigureAwait(false);
        using var stream = new NetworkStream(socket, ownsSocket: false);
        using var reader = new StreamReader(stream, new UTF8Encoding(false));
        using var writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        await writer.WriteLineAsync(request.ToJsonString().AsMemory(), cancellationToken).ConfigureAwait(false);
        var line = await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new IOException("the Nucleus closed the cloud-control connection without an answer");
        return JsonNode.Parse(line) as JsonObject ?? throw new IOException("the Nucleus answered cloud control with something else than a JSON object");
    }
}
