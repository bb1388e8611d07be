using System.Text;

namespace Fogline.LocalNucleus.Components;

/// <summary>One metric a component reported with PutComponentMetric, as the Nucleus's telemetry records it.</summary>
/// <param name="Component">The component (the metric's namespace in the Nucleus's telemetry).</param>
/// <param name="Name">The metric name.</param>
/// <param name="Unit">The telemetry unit: Bytes, BytesPerSecond, Count, CountPerSecond, Megabytes, None, Percent or Seconds.</param>
/// <param name="Value">The value.</param>
/// <param name="Timestamp">When the Nucleus received it.</param>
public sealed record ComponentMetric(string Component, string Name, string Unit, double Value, DateTimeOffset Timestamp);

/// <summary>
/// Metrics components reported with PutComponentMetric. The Nucleus aggregates them with the Sum aggregation per
/// component (namespace), name and unit and publishes them with its telemetry; here they are kept as reported, the
/// latest <see cref="MaxPerComponent"/> per component, and <see cref="Sum"/> gives the aggregate.
/// </summary>
public sealed class ComponentMetrics
{
    /// <summary>How many metrics are kept per component; older ones are dropped.</summary>
    public const int MaxPerComponent = 10_000;

    /// <summary>The longest metric name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 32;

    private static readonly string[] s_units = ["Bytes", "BytesPerSecond", "Count", "CountPerSecond", "Megabytes", "None", "Percent", "Seconds"];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Queue<ComponentMetric>> _byComponent = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    internal ComponentMetrics(NucleusContext context)
    {
        _time = context.Time;
    }

    /// <summary>Raised after each recorded metric (on the thread that recorded it).</summary>
    public event EventHandler<ComponentMetric>? Recorded;

    /// <summary>Every metric kept, oldest first per component.</summary>
    public IReadOnlyList<ComponentMetric> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _byComponent.Values.SelectMany(q => q).OrderBy(m => m.Timestamp)];
            }
        }
    }

    /// <summary>The metrics kept for a component, oldest first.</summary>
    public IReadOnlyList<ComponentMetric> For(string component)
    {
        lock (_lock)
        {
            return _byComponent.TryGetValue(component, out var queue) ? [.. queue] : [];
        }
    }

    /// <summary>The Sum aggregate of a component's metric, as the Nucleus's telemetry aggregates it.</summary>
    public double Sum(string component, string name) => For(component).Where(m => m.Name == name).Sum(m => m.Value);

    /// <summary>
    /// The telemetry unit for a PutComponentMetric unit, as the Nucleus maps it: non-alphanumeric characters removed,
    /// then matched without regard to case (<c>BYTES_PER_SECOND</c> → <c>BytesPerSecond</c>). Null when none matches.
    /// </summary>
    public static string? TelemetryUnit(string? unit)
    {
        if (string.IsNullOrEmpty(unit))
        {
            return null;
        }

        var letters = new StringBuilder(unit.Length);
        foreach (var c in unit)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                letters.Append(c);
            }
        }

        var normalized = letters.ToString();
        return s_units.FirstOrDefault(u => string.Equals(u, normalized, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Records a metric of <paramref name="component"/> (already validated and authorized).</summary>
    public ComponentMetric Record(string component, string name, string unit, double value)
    {
        ArgumentException.ThrowIfNullOrEmpty(component);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(unit);
        var metric = new ComponentMetric(component, name, unit, value, _time.GetUtcNow());
        lock (_lock)
        {
            if (!_byComponent.TryGetValue(component, out var queue))
            {
                queue = new Queue<ComponentMetric>();
                _byComponent[component] = queue;
            }

            queue.Enqueue(metric);
            while (queue.Count > MaxPerComponent)
            {
                queue.Dequeue();
            }
        }

        Recorded?.Invoke(this, metric);
        return metric;
    }
}
