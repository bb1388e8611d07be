using System.Globalization;
using System.IO.Compression;
using System.Text.Json;

namespace Fogline.ComponentKit.Messages;

/// <summary>
/// CloudUplink's JSON batches (<c>batchEncoding: json</c>, the format before <see cref="UplinkBatchCodec"/>):
/// <c>{"batchId", "priority", "count", "messages": [{"id": "{thing}-{seq}", "seq", "enqueuedMs", "body"}]}</c>, gzip
/// unless asked not to; a body that is not JSON is written as a base64 string.
/// </summary>
public static class UplinkJsonBatch
{
    /// <summary>Writes <paramref name="records"/> as one JSON batch.</summary>
    /// <param name="batchId">The batch's id.</param>
    /// <param name="priority">"normal" or "low".</param>
    /// <param name="thing">The thing's name (message ids are <c>{thing}-{seq}</c>).</param>
    /// <param name="records">The records.</param>
    /// <param name="compress">Whether to gzip the document.</param>
    public static byte[] Encode(string batchId, string priority, string thing, IReadOnlyList<UplinkRecord> records, bool compress = true)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var buffer = new MemoryStream();
        Stream target = compress ? new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true) : buffer;
        using (var w = new Utf8JsonWriter(target))
        {
            w.WriteStartObject();
            w.WriteString("batchId", batchId);
            w.WriteString("priority", priority);
            w.WriteNumber("count", records.Count);
            w.WriteStartArray("messages");
            foreach (var r in records)
            {
                w.WriteStartObject();
                WriteMessage(w, thing, r);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        if (compress)
        {
            target.Dispose();
        }

        return buffer.ToArray();
    }

    /// <summary>Writes one message's members (id, seq, enqueuedMs, body) into the open object of <paramref name="w"/>.</summary>
    public static void WriteMessage(Utf8JsonWriter w, string thing, UplinkRecord record)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.WriteString("id", string.Create(CultureInfo.InvariantCulture, $"{thing}-{record.Sequence}"));
        w.WriteNumber("seq", record.Sequence);
        w.WriteNumber("enqueuedMs", record.EnqueuedMs);
        w.WritePropertyName("body");
        try
        {
            using var doc = JsonDocument.Parse(record.Body);
            doc.RootElement.WriteTo(w);
        }
        catch (JsonException)
        {
            w.WriteBase64StringValue(record.Body.Span);
        }
    }
}
