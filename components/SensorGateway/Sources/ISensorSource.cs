namespace Fogline.SensorGateway.Sources;

/// <summary>One value a source read, for one metric.</summary>
/// <param name="Metric">The metric.</param>
/// <param name="Unit">Its unit, or null.</param>
/// <param name="Value">The value (NaN when there is none).</param>
/// <param name="Quality">0 good, 1 stale (the device is unreachable: the last value), 2 bad (could not be converted, or
/// outside the sensor's physical range).</param>
public readonly record struct SourceValue(string Metric, string? Unit, double Value, int Quality)
{
    /// <summary>For a bad value: the device answered a value outside the sensor's physical range (counted apart).</summary>
    public bool OutOfRange { get; init; }
}

/// <summary>A device's source of readings, polled by the gateway at the device's interval.</summary>
public interface ISensorSource : IAsyncDisposable
{
    /// <summary>What the device is, for logs ("modbus 10.0.0.5:502 unit 1").</summary>
    string Describe();

    /// <summary>
    /// Reads every metric once; writes the values into <paramref name="values"/> (cleared first). A source that
    /// cannot reach its device returns its metrics as stale rather than throwing.
    /// </summary>
    ValueTask PollAsync(List<SourceValue> values, CancellationToken cancellationToken);

    /// <summary>
    /// Checks at start that the device's bus or port can be used at all (it exists, it is not busy, it is the expected
    /// chip); throws <see cref="InvalidOperationException"/> saying which and why (the component then reports ERRORED).
    /// A device that goes away later gives stale readings instead. The default checks nothing.
    /// </summary>
    void CheckAtStart()
    {
    }
}
