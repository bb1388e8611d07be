using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace Fogline.Benchmarks;

/// <summary>
/// Runs the micro-benchmarks. Without arguments every benchmark runs with a short job (about 1.5 minutes in all on a
/// 2-core machine); any BenchmarkDotNet argument works too, e.g. <c>--filter *Codec*</c>, <c>--inProcess</c>, or
/// <c>--job default</c> for BenchmarkDotNet's full statistics.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        // Short but not sloppy: one process, 3 warm-up and 15 measured iterations of ~250 ms each.
        var shortJob = Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(15)
            .WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(250))
            .WithId("Short");
        var userChoseJob = args.Any(a => a.Equals("--job", StringComparison.OrdinalIgnoreCase) || a.Equals("-j", StringComparison.Ordinal));
        var config = userChoseJob ? DefaultConfig.Instance : DefaultConfig.Instance.AddJob(shortJob);
        if (!args.Any(a => a.StartsWith("--filter", StringComparison.OrdinalIgnoreCase) || a.Equals("-f", StringComparison.Ordinal) || a.StartsWith("--list", StringComparison.OrdinalIgnoreCase)))
        {
            // BenchmarkSwitcher asks interactively which benchmark to run when there is no filter: run them all.
            args = [.. args, "--filter", "*"];
        }

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
