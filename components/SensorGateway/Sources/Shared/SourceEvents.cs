namespace Fogline.SensorGateway.Sources.Shared;

/// <summary>What a source counts besides its readings (CRC errors, timeouts, retries, …): the gateway adds them to its counters.</summary>
public sealed class SourceEvents(Action<string>? count = null)
{
    /// <summary>Events that go nowhere (a source built only to check its configuration).</summary>
    public static SourceEvents None { get; } = new();

    /// <summary>Counts one event named <paramref name="name"/>.</summary>
    public void Count(string name) => count?.Invoke(name);
}
