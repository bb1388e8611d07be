namespace Fogline.LocalNucleus.Tests.Infrastructure;

/// <summary>A clock the Shadows tests set by hand: it stands still until <see cref="Advance"/>. Timers are the system's.</summary>
public sealed class ShadowsFakeTimeProvider : TimeProvider
{
    private readonly Lock _lock = new();
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The current time in epoch seconds.</summary>
    public long EpochSeconds => GetUtcNow().ToUnixTimeSeconds();

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
        {
            return _now;
        }
    }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        lock (_lock)
        {
            _now += by;
        }
    }
}
