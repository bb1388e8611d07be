using System.Text.Json;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Hosting;

namespace Fogline.Samples.FleetWorkload;

/// <summary>The stand-in's configuration: its workload.</summary>
/// <param name="PayloadsPerSecond">Synthetic payloads handled per second (counted as <c>received</c>).</param>
/// <param name="InputFaultFile">
/// A file the simulated fleet writes when the devices' input goes bad everywhere (<c>{"rejectedShare": 0.2}</c>): its
/// share is rejected on top, whatever the version. Null: none.
/// </param>
public sealed record FleetWorkloadOptions(int PayloadsPerSecond, string? InputFaultFile);

/// <summary>What a version's code does wrong (from its command line, so it goes with the version).</summary>
/// <param name="RejectedShare">The share of payloads it rejects as malformed (counted as <c>rejected</c>).</param>
/// <param name="CrashAfter">Exits with code 1 this long after starting (zero: never).</param>
public sealed record VersionFaults(double RejectedShare, TimeSpan CrashAfter);

/// <summary>
/// A component that stands in for a real one on a simulated fleet's devices, at a fraction of its cost: every second
/// it handles <see cref="FleetWorkloadOptions.PayloadsPerSecond"/> synthetic payloads and rejects a share of them, so
/// that its <c>received</c> and <c>rejected</c> counters (published by the hosting kit, and sent to IoT Core when
/// <c>cloudMetrics</c> is configured) behave like a filter's. A version's faults are on its recipe's command line, as
/// different code would be (a deployment keeps the configuration across versions): a higher rejected share (a
/// degraded version), a crash some time after start (a late crash); a crash loop needs no binary at all. Rejections are spread evenly (a running remainder), not drawn at random, so two
/// devices on the same version report the same rate.
/// </summary>
public sealed class FleetWorkloadComponent(string name, VersionFaults faults) : FoglineComponent<FleetWorkloadOptions>
{
    private ComponentContext<FleetWorkloadOptions> _context = null!;
    private DateTimeOffset _started;
    private double _owed;
    private double _inputShare;
    private DateTime _inputChecked;

    /// <inheritdoc />
    public override string Name { get; } = name;

    /// <inheritdoc />
    public override FleetWorkloadOptions ParseOptions(ConfigNode configuration) => new(
        configuration["payloadsPerSecond"].Int32(10, 0, 1_000_000),
        configuration["inputFaultFile"].StringOrNull());

    /// <inheritdoc />
    public override Task StartAsync(ComponentContext<FleetWorkloadOptions> context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        _started = context.Time.GetUtcNow();
        context.Every(TimeSpan.FromSeconds(1), Tick);
        return Task.CompletedTask;
    }

    private ValueTask Tick(CancellationToken cancellationToken)
    {
        var options = _context.Options;
        if (faults.CrashAfter > TimeSpan.Zero && _context.Time.GetUtcNow() - _started >= faults.CrashAfter)
        {
            Console.Error.WriteLine($"{Name}: crashing {faults.CrashAfter.TotalSeconds} s after start, as this version does");
            Environment.Exit(1);
        }

        var payloads = options.PayloadsPerSecond;
        _owed += payloads * Math.Min(1, faults.RejectedShare + InputShare(options.InputFaultFile));
        var rejected = (long)Math.Min(payloads, Math.Floor(_owed));
        _owed -= rejected;
        _context.Counters.Received.Add(payloads);
        _context.Counters.Rejected.Add(rejected);
        return ValueTask.CompletedTask;
    }

    /// <summary>The fleet-wide input fault's share, read at most every 5 s (0 when there is none).</summary>
    private double InputShare(string? file)
    {
        if (file is null || DateTime.UtcNow - _inputChecked < TimeSpan.FromSeconds(5))
        {
            return file is null ? 0 : _inputShare;
        }

        _inputChecked = DateTime.UtcNow;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            _inputShare = document.RootElement.TryGetProperty("rejectedShare", out var share) && share.TryGetDouble(out var value) ? Math.Clamp(value, 0, 1) : 0;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            _inputShare = 0;
        }

        return _inputShare;
    }
}
