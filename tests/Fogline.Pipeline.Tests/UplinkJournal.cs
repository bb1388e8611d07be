using System.IO.Compression;
using System.Text.Json.Nodes;

namespace Fogline.Pipeline.Tests;

/// <summary>CloudUplink's messages as the emulated IoT Core's journal holds them: single messages and gzip batches.</summary>
internal static class UplinkJournal
{
    /// <summary>The messages of one payload: itself, or the contents of its (gzip) batch.</summary>
    public static IEnumerable<JsonNode> Decode(byte[] payload)
    {
        if (payload.Length > 2 && payload[0] == 0x1f && payload[1] == 0x8b)
        {
            using var gzip = new GZipStream(new MemoryStream(payload), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gzip.CopyTo(plain);
            payload = plain.ToArray();
        }

        var json = JsonNode.Parse(payload)!;
        return json["messages"] is JsonArray batch ? [.. batch.Select(m => m!)] : [json];
    }
}
