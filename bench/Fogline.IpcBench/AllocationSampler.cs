using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Fogline.IpcBench;

/// <summary>
/// Which types a phase allocates, from the runtime's GCAllocationTick events (one event about every 100 KB allocated,
/// naming the type of the object that crossed the threshold): a statistical allocation profile without any tool or
/// package. Enable only for a dedicated run: it perturbs timing a little.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private const int AllocationTickEventId = 10;

    private readonly ConcurrentDictionary<string, (long Samples, long Bytes)> _byType = new();
    private volatile bool _recording;

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    public void Reset() => _byType.Clear();

    /// <summary>Types by sampled bytes, largest first, with their share of the total.</summary>
    public IReadOnlyList<(string Type, long Samples, long Bytes, double Share)> Top(int count)
    {
        var total = Math.Max(1, _byType.Values.Sum(v => v.Bytes));
        return [.. _byType
            .OrderByDescending(kv => kv.Value.Bytes)
            .Take(count)
            .Select(kv => (kv.Key, kv.Value.Samples, kv.Value.Bytes, (double)kv.Value.Bytes / total))];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventId != AllocationTickEventId || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        string? type = null;
        long bytes = 0;
        for (var i = 0; i < eventData.PayloadNames.Count; i++)
        {
            switch (eventData.PayloadNames[i])
            {
                case "TypeName":
                    type = eventData.Payload[i] as string;
                    break;
                case "AllocationAmount64":
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "AllocationAmount" when bytes == 0:
                    bytes = Convert.ToInt64(eventData.Payload[i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        _byType.AddOrUpdate(type ?? "(unknown)", static (_, b) => (1, b), static (_, v, b) => (v.Samples + 1, v.Bytes + b), bytes);
    }
}
