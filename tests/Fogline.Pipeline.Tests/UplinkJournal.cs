using System.IO.Compression;
using System.Text.Json.Nodes;
using Fogline.ComponentKit.Messages;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// CloudUplink's messages as the emulated IoT Core's journal holds them: single messages, columnar batches
/// (<see cref="UplinkBatchCodec"/>, the default) and gzip JSON batches (<c>batchEncoding: json</c>).
/// </summary>
internal static class UplinkJournal
{
    /// <summary>The messages of one payload, each as <c>{"id","seq","enqueuedMs","body"}</c>: itself, or the contents of its batch.</summary>
    public static IEnumerable<JsonNode> Decode(byte[] payload)
    {
        if (UplinkBatchCodec.IsBatch(payload))
        {
            return [.. UplinkBatchCodec.Decode(payload).Messages.Select(m => (JsonNode)new JsonObject
            {
                ["id"] = m.Id,
                ["seq"] = m.Sequence,
                ["enqueuedMs"] = m.EnqueuedMs,
                ["body"] = m.IsJson ? JsonNode.Parse(m.Body) : JsonValue.Create(Convert.ToBase64String(m.Body)),
            })];
        }

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
