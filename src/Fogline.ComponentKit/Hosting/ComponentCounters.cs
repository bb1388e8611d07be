using System.Collections.Concurrent;
using System.Text.Json;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// A component's counters: <c>received</c>, <c>published</c>, <c>dropped</c> (queue full or publish failed),
/// <c>rejected</c> (malformed payloads or unknown schema versions), <c>errors</c>, plus any the component adds. The host
/// publishes them as JSON on <c>fogline/metrics/{component}</c> so other components (the dashboard) can read them.
/// </summary>
public sealed class ComponentCounters
{
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private readonly List<Counter> _ordered = [];
    private readonly Lock _gate = new();

    /// <summary>Creates the standard counters.</summary>
    public ComponentCounters()
    {
        Received = Get("received");
        Published = Get("published");
        Dropped = Get("dropped");
        Rejected = Get("rejected");
        Errors = Get("errors");
    }

    /// <summary>Messages received.</summary>
    public Counter Received { get; }

    /// <summary>Messages published.</summary>
    public Counter Published { get; }

    /// <summary>Messages dropped (inbound queue full, publish failed after retries, shutdown timeout).</summary>
    public Counter Dropped { get; }

    /// <summary>Payloads rejected (malformed or of an unknown schema version).</summary>
    public Counter Rejected { get; }

    /// <summary>Errors (a handler threw, a publish failed).</summary>
    public Counter Errors { get; }

    /// <summary>The counter <paramref name="name"/>, created at zero on first use.</summary>
    public Counter Get(string name)
    {
        if (_counters.TryGetValue(name, out var existing))
        {
            return existing;
        }

        lock (_gate)
        {
            var counter = _counters.GetOrAdd(name, n => new Counter(n));
            if (!_ordered.Contains(counter))
            {
                _ordered.Add(counter);
            }

            return counter;
        }
    }

    /// <summary>A copy of every counter's value, in creation order.</summary>
    public IReadOnlyList<KeyValuePair<string, long>> Snapshot()
    {
        lock (_gate)
        {
            var list = new List<KeyValuePair<string, long>>(_ordered.Count);
            foreach (var c in _ordered)
            {
                list.Add(new KeyValuePair<string, long>(c.Name, c.Value));
            }

            return list;
        }
    }

    /// <summary>Writes <c>{"name": value, ...}</c>.</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartObject();
        foreach (var (name, value) in Snapshot())
        {
            writer.WriteNumber(name, value);
        }

        writer.WriteEndObject();
    }
}

/// <summary>A thread-safe 64-bit counter.</summary>
public sealed class Counter
{
    private long _value;

    internal Counter(string name) => Name = name;

    /// <summary>The counter's name.</summary>
    public string Name { get; }

    /// <summary>The current value.</summary>
    public long Value => Interlocked.Read(ref _value);

    /// <summary>Adds one.</summary>
    public void Increment() => Interlocked.Increment(ref _value);

    /// <summary>Adds <paramref name="amount"/>.</summary>
    public void Add(long amount) => Interlocked.Add(ref _value, amount);

    /// <summary>Sets the value (for gauges such as a queue depth).</summary>
    public void Set(long value) => Interlocked.Exchange(ref _value, value);
}
