using System.Text.Json.Nodes;
using Fogline.Aws.IotData;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.Iot;

/// <summary>
/// The AWS IoT data plane's retained messages (GetRetainedMessage, ListRetainedMessages) for the devices' broker:
/// every message a device publishes with the retain flag is kept per topic (the latest one; an empty payload deletes
/// it), with the time IoT Core stored it. The broker is one IoT Core endpoint, so its retained messages are one
/// namespace, answered to any signed caller of the local cloud. They are kept in the data directory, and a message the
/// broker hands again unchanged (the cloud restarted and subscribed again) keeps the time it was first stored.
/// </summary>
internal sealed class RetainedMessages : IDisposable
{
    /// <summary>IoT Core's largest retained payload (8 KB); a bigger one is not retained.</summary>
    public const int MaxPayloadBytes = 8 * 1024;

    private readonly Lock _sync = new();
    private readonly Dictionary<string, Entry> _entries;
    private readonly TimeProvider _time;
    private readonly WriteBehind _writer;

    public RetainedMessages(string dataDirectory, TimeProvider time)
    {
        _time = time;
        var file = Path.Combine(dataDirectory, "iot-data", "retained.json");
        _entries = (JsonFiles.Read(file)?["messages"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(m => new Entry(m["topic"]!.GetValue<string>(), Convert.FromBase64String(m["payload"]!.GetValue<string>()), m["qos"]!.GetValue<int>(), m["lastModifiedTime"]!.GetValue<long>()))
            .ToDictionary(e => e.Topic, StringComparer.Ordinal);
        _writer = new WriteBehind(file, _sync, () => new JsonObject
        {
            ["messages"] = new JsonArray([.. _entries.Values.OrderBy(e => e.Topic, StringComparer.Ordinal).Select(e => (JsonNode)new JsonObject
            {
                ["topic"] = e.Topic,
                ["payload"] = Convert.ToBase64String(e.Payload),
                ["qos"] = e.Qos,
                ["lastModifiedTime"] = e.LastModified,
            })]),
        });
    }

    public void Register(RestJsonEndpoint endpoint)
    {
        endpoint.Handle(IotDataOperations.GetRetainedMessage, (input, _) => Task.FromResult(Get(input)));
        endpoint.Handle(IotDataOperations.ListRetainedMessages, (input, _) => Task.FromResult(List(input)));
    }

    /// <summary>A message the broker delivered with the retain flag.</summary>
    public void Retained(string topic, ReadOnlySpan<byte> payload, int qos)
    {
        if (payload.Length > MaxPayloadBytes)
        {
            return;
        }

        lock (_sync)
        {
            if (payload.IsEmpty)
            {
                if (!_entries.Remove(topic))
                {
                    return;
                }
            }
            else if (_entries.TryGetValue(topic, out var known) && known.Qos == qos && payload.SequenceEqual(known.Payload))
            {
                return;
            }
            else
            {
                _entries[topic] = new Entry(topic, payload.ToArray(), qos, _time.GetUtcNow().ToUnixTimeMilliseconds());
            }
        }

        _writer.Changed();
    }

    public void Dispose() => _writer.Dispose();

    private GetRetainedMessageResponse Get(GetRetainedMessageRequest input)
    {
        lock (_sync)
        {
            if (!_entries.TryGetValue(input.Topic ?? string.Empty, out var entry))
            {
                throw IotDataErrors.CreateResourceNotFoundException($"No retained message exists for topic {input.Topic}.");
            }

            return new GetRetainedMessageResponse { Topic = entry.Topic, Payload = entry.Payload, Qos = entry.Qos, LastModifiedTime = entry.LastModified };
        }
    }

    private ListRetainedMessagesResponse List(ListRetainedMessagesRequest input)
    {
        List<RetainedMessageSummary> all;
        lock (_sync)
        {
            all = [.. _entries.Values.OrderBy(e => e.Topic, StringComparer.Ordinal).Select(e => new RetainedMessageSummary { Topic = e.Topic, PayloadSize = e.Payload.Length, Qos = e.Qos, LastModifiedTime = e.LastModified })];
        }

        var (page, next) = Paging.Page(all, input.MaxResults, input.NextToken, 200, 200, (member, message) => IotDataErrors.CreateInvalidRequestException($"{member}: {message}"));
        return new ListRetainedMessagesResponse { RetainedTopics = [.. page], NextToken = next };
    }

    private sealed record Entry(string Topic, byte[] Payload, int Qos, long LastModified);
}
