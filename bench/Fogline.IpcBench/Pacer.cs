using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Fogline.IpcBench;

/// <summary>
/// Paces a loop at a fixed rate on an absolute schedule by sleeping until each send time
/// (<c>clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME)</c>), so the publisher gives its core away between sends
/// instead of spinning or yielding on it: on a 2-core machine a spinning publisher takes one of the two cores from the
/// path it measures. Late wake-ups do not shift the schedule (the next send is due at start + n × interval).
/// </summary>
internal sealed partial class Pacer
{
    private const int ClockMonotonic = 1;
    private const int TimerAbstime = 1;
    private readonly long _intervalNs;
    private long _nextNs;

    public Pacer(double ratePerSecond)
    {
        _intervalNs = (long)(1e9 / ratePerSecond);
        _nextNs = NowNs();
    }

    /// <summary>Sleeps until the next send time.</summary>
    public void WaitNext()
    {
        _nextNs += _intervalNs;
        var due = new Timespec { Seconds = _nextNs / 1_000_000_000, Nanoseconds = _nextNs % 1_000_000_000 };
        while (ClockNanosleep(ClockMonotonic, TimerAbstime, ref due, IntPtr.Zero) == 4)
        {
            // EINTR: sleep again until the same time.
        }
    }

    /// <summary>CLOCK_MONOTONIC in nanoseconds (Stopwatch uses the same clock on Linux).</summary>
    private static long NowNs() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, ref Timespec request, IntPtr remain);
}
