using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Fogline.LocalNucleus.IoTCore;

/// <summary>One message that reached the emulated AWS IoT Core, as the journal records it.</summary>
public sealed class CloudJournalEntry
{
    /// <summary>The position of the message in the journal, from 1.</summary>
    public long Sequence { get; init; }

    /// <summary>When the cloud received it (the Nucleus's clock).</summary>
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The topic.</summary>
    public required string Topic { get; init; }

    /// <summary>The QoS it was published with (0 or 1).</summary>
    public int Qos { get; init; }

    /// <summary>The retain flag.</summary>
    public bool Retain { get; init; }

    /// <summary>The payload.</summary>
    public required byte[] Payload { get; init; }

    /// <summary>The payload as text, when it is valid UTF-8.</summary>
    public string? PayloadUtf8 { get; init; }

    /// <summary>The payload format indicator, <c>BYTES</c> or <c>UTF8</c>, if the message had one.</summary>
    public string? PayloadFormat { get; init; }

    /// <summary>The user properties (empty when none).</summary>
    public IReadOnlyList<MqttUserProperty> UserProperties { get; init; } = [];

    /// <summary>The content type, if any.</summary>
    public string? ContentType { get; init; }

    /// <summary>The correlation data, if any.</summary>
    public byte[]? CorrelationData { get; init; }

    /// <summary>The response topic, if any.</summary>
    public string? ResponseTopic { get; init; }

    /// <summary>The message expiry interval in seconds, if any.</summary>
    public long? MessageExpiryIntervalSeconds { get; init; }

    /// <summary>The component that published it (what the harness knows; the cloud itself sees only the device).</summary>
    public string? Component { get; init; }
}

/// <summary>
/// The JSON-lines journal of the cloud: one line per message that reached the cloud, appended and flushed as it
/// arrives, so it can be read (and tailed) while the Nucleus runs.
/// </summary>
internal sealed class CloudJournal : IDisposable
{
    private readonly Lock _lock = new();
    private readonly string _path;
    private FileStream? _stream;
    private long _sequence;

    public CloudJournal(string path)
    {
        _path = path;
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        // A journal that already holds messages (a root used again) continues its numbering; a line left incomplete
        // by a process that stopped while writing it is ended so the next entry starts on its own line.
        var endsMidLine = false;
        if (File.Exists(path) && new FileInfo(path).Length > 0)
        {
            using var existing = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            existing.Seek(-1, SeekOrigin.End);
            endsMidLine = existing.ReadByte() != '\n';
        }

        var entries = Read(path);
        _sequence = entries.Count == 0 ? 0 : entries[^1].Sequence;
        _stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        if (endsMidLine)
        {
            _stream.WriteByte((byte)'\n');
            _stream.Flush();
        }
    }

    public string Path => _path;

    /// <summary>Appends a message and flushes it; returns the entry written.</summary>
    public CloudJournalEntry Append(CloudMessage message, DateTimeOffset receivedAt, string? component)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stream is null, this);
            var entry = new CloudJournalEntry
            {
                Sequence = ++_sequence,
                ReceivedAt = receivedAt,
                Topic = message.Topic,
                Qos = (int)message.Qos,
                Retain = message.Retain,
                Payload = message.Payload.ToArray(),
                PayloadUtf8 = message.PayloadUtf8,
                PayloadFormat = message.PayloadFormat switch
                {
                    MqttPayloadFormat.Bytes => "BYTES",
                    MqttPayloadFormat.Utf8 => "UTF8",
                    _ => null,
                },
                UserProperties = message.UserProperties ?? [],
                ContentType = message.ContentType,
                CorrelationData = message.CorrelationData?.ToArray(),
                ResponseTopic = message.ResponseTopic,
                MessageExpiryIntervalSeconds = message.MessageExpiryIntervalSeconds,
                Component = component,
            };

            using (var writer = new Utf8JsonWriter(_stream, new JsonWriterOptions { Indented = false }))
            {
                Write(writer, entry);
            }

            _stream.WriteByte((byte)'\n');
            _stream.Flush();
            return entry;
        }
    }

    /// <summary>
    /// Reads every entry of a journal file; a line that is not complete (being written) ends the reading, and a line
    /// that is not an entry (cut short when a process stopped) is skipped.
    /// </summary>
    public static IReadOnlyList<CloudJournalEntry> Read(string path)
    {
        var entries = new List<CloudJournalEntry>();
        if (!File.Exists(path))
        {
            return entries;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        var start = 0;
        while (start < text.Length)
        {
            var end = text.IndexOf('\n', start);
            if (end < 0)
            {
                break;
            }

            var line = text.AsSpan(start, end - start).Trim();
            start = end + 1;
            if (line.IsEmpty)
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line.ToString());
                entries.Add(Parse(document.RootElement));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                // A line cut short by a process that stopped while writing it: not an entry.
            }
        }

        return entries;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }

    private static void Write(Utf8JsonWriter writer, CloudJournalEntry entry)
    {
        writer.WriteStartObject();
        writer.WriteNumber("sequence", entry.Sequence);
        writer.WriteString("receivedAt", entry.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture));
        writer.WriteString("topic", entry.Topic);
        writer.WriteNumber("qos", entry.Qos);
        writer.WriteBoolean("retain", entry.Retain);
        writer.WriteBase64String("payload", entry.Payload);
        WriteStringOrNull(writer, "payloadUtf8", entry.PayloadUtf8);
        WriteStringOrNull(writer, "payloadFormat", entry.PayloadFormat);
        writer.WriteStartArray("userProperties");
        foreach (var property in entry.UserProperties)
        {
            writer.WriteStartObject();
            writer.WriteString("key", property.Key);
            writer.WriteString("value", property.Value);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        WriteStringOrNull(writer, "contentType", entry.ContentType);
        if (entry.CorrelationData is { } correlation)
        {
            writer.WriteBase64String("correlationData", correlation);
        }
        else
        {
            writer.WriteNull("correlationData");
        }

        WriteStringOrNull(writer, "responseTopic", entry.ResponseTopic);
        if (entry.MessageExpiryIntervalSeconds is { } expiry)
        {
            writer.WriteNumber("messageExpiryIntervalSeconds", expiry);
        }
        else
        {
            writer.WriteNull("messageExpiryIntervalSeconds");
        }

        WriteStringOrNull(writer, "component", entry.Component);
        writer.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter writer, string name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }

    private static CloudJournalEntry Parse(JsonElement e) => new()
    {
        Sequence = e.GetProperty("sequence").GetInt64(),
        ReceivedAt = DateTimeOffset.Parse(e.GetProperty("receivedAt").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
        Topic = e.GetProperty("topic").GetString()!,
        Qos = e.GetProperty("qos").GetInt32(),
        Retain = e.GetProperty("retain").GetBoolean(),
        Payload = e.GetProperty("payload").GetBytesFromBase64(),
        PayloadUtf8 = StringOrNull(e, "payloadUtf8"),
        PayloadFormat = StringOrNull(e, "payloadFormat"),
        UserProperties = e.TryGetProperty("userProperties", out var properties) && properties.ValueKind == JsonValueKind.Array
            ? [.. properties.EnumerateArray().Select(p => new MqttUserProperty(p.GetProperty("key").GetString()!, p.GetProperty("value").GetString()!))]
            : [],
        ContentType = StringOrNull(e, "contentType"),
        CorrelationData = e.TryGetProperty("correlationData", out var correlation) && correlation.ValueKind == JsonValueKind.String ? correlation.GetBytesFromBase64() : null,
        ResponseTopic = StringOrNull(e, "responseTopic"),
        MessageExpiryIntervalSeconds = e.TryGetProperty("messageExpiryIntervalSeconds", out var expiry) && expiry.ValueKind == JsonValueKind.Number ? expiry.GetInt64() : null,
        Component = StringOrNull(e, "component"),
    };

    private static string? StringOrNull(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
