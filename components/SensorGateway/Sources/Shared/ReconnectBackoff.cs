namespace Fogline.SensorGateway.Sources.Shared;

/// <summary>
/// When a source may try its device again after a failure: exponential backoff from 0.5 s doubling to 30 s, reset by a
/// success. Shared by every source that connects to something (Modbus TCP and RTU, bus sensors).
/// </summary>
public sealed class ReconnectBackoff(TimeProvider time)
{
    /// <summary>The first wait after a failure.</summary>
    public static readonly TimeSpan Min = TimeSpan.FromMilliseconds(500);

    /// <summary>The longest wait.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(30);

    private TimeSpan _next = Min;
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;

    /// <summary>Attempts made (each counted when it starts).</summary>
    public long Attempts { get; private set; }

    /// <summary>Whether an attempt may be made now; counts it when so.</summary>
    public bool TryBegin()
    {
        if (time.GetUtcNow() < _notBefore)
        {
            return false;
        }

        Attempts++;
        return true;
    }

    /// <summary>The attempt failed (or the device went away): wait, and wait longer next time.</summary>
    public void Failed()
    {
        _notBefore = time.GetUtcNow() + _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, Max.Ticks));
    }

    /// <summary>The attempt succeeded: the next failure waits the shortest time again.</summary>
    public void Succeeded() => _next = Min;
}
