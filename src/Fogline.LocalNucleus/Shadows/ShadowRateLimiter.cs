namespace Fogline.LocalNucleus.Shadows;

/// <summary>
/// The shadow manager's limit on local shadow requests (its <c>InboundRateLimiter</c> and <c>IpcRateLimiter</c>): at
/// most <c>maxTotalLocalRequestsRate</c> requests (default 200) and <c>maxLocalRequestsPerSecondPerThing</c> per
/// thing (default 20) in each one-second window. A window starts with the first request after the previous one has
/// lasted a second. The per-thing windows of at most <c>maxTotalLocalRequestsRate</c> things are kept, the oldest
/// dropped first.
/// </summary>
internal sealed class ShadowRateLimiter(TimeProvider time)
{
    public const int DefaultRatePerThing = 20;
    public const int DefaultTotalRate = 200;

    private readonly Lock _lock = new();
    private readonly OrderedDictionary<string, Window> _perThing = new(StringComparer.Ordinal);
    private Window? _total;
    private int _ratePerThing = DefaultRatePerThing;
    private int _totalRate = DefaultTotalRate;

    /// <summary>Sets the rates (as the component does when its configuration changes).</summary>
    public void SetRates(int totalRate, int ratePerThing)
    {
        lock (_lock)
        {
            if (totalRate == _totalRate && ratePerThing == _ratePerThing)
            {
                return;
            }

            _totalRate = totalRate;
            _total?.SetRate(totalRate);
            _ratePerThing = ratePerThing;
            foreach (var window in _perThing.Values)
            {
                window.SetRate(ratePerThing);
            }
        }
    }

    /// <summary>
    /// Takes a request for <paramref name="thingName"/> (none is taken for a missing thing name); the reason it is
    /// throttled, or null when it is not.
    /// </summary>
    public string? TryAcquire(string? thingName)
    {
        if (string.IsNullOrEmpty(thingName))
        {
            return null;
        }

        lock (_lock)
        {
            var now = time.GetTimestamp();
            _total ??= new Window(_totalRate, now);
            if (!_total.TryAcquire(now, time.TimestampFrequency))
            {
                return "Max total local shadow request rate exceeded";
            }

            if (!_perThing.TryGetValue(thingName, out var window))
            {
                window = new Window(_ratePerThing, now);
                _perThing.Add(thingName, window);
                while (_perThing.Count > _totalRate)
                {
                    _perThing.RemoveAt(0);
                }
            }

            return window.TryAcquire(now, time.TimestampFrequency) ? null : "Local shadow request throttled for thing";
        }
    }

    private sealed class Window(int rate, long start)
    {
        private int _count;
        private int _rate = rate;
        private long _start = start;

        public void SetRate(int rate)
        {
            _count = (int)((long)_count * rate / _rate);
            _rate = rate;
        }

        public bool TryAcquire(long now, long frequency)
        {
            if (now - _start >= frequency)
            {
                _count = 1;
                _start = now;
                return true;
            }

            if (_count < _rate)
            {
                _count++;
                return true;
            }

            return false;
        }
    }
}
