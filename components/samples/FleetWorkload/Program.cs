using System.Globalization;
using Fogline.ComponentKit.Hosting;
using Fogline.Samples.FleetWorkload;

// FleetWorkload NAME [--rejected-share X] [--crash-after SECONDS]: what a version's code does is on its command line
// (its recipe's Run), not in its configuration, which a deployment of another version keeps.
const string Usage = "usage: FleetWorkload COMPONENT_NAME [--rejected-share 0..1] [--crash-after SECONDS]";
if (args.Length == 0 || string.IsNullOrWhiteSpace(args[0]) || args[0].StartsWith('-'))
{
    await Console.Error.WriteLineAsync(Usage);
    return 64;
}

var faults = new VersionFaults(0, TimeSpan.Zero);
for (var i = 1; i < args.Length; i += 2)
{
    if (i + 1 >= args.Length || !double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < 0)
    {
        await Console.Error.WriteLineAsync($"{args[i]}: a number of 0 or more is needed. {Usage}");
        return 64;
    }

    switch (args[i])
    {
        case "--rejected-share" when value <= 1:
            faults = faults with { RejectedShare = value };
            break;
        case "--crash-after":
            faults = faults with { CrashAfter = TimeSpan.FromSeconds(value) };
            break;
        default:
            await Console.Error.WriteLineAsync($"{args[i]} {args[i + 1]}: not understood. {Usage}");
            return 64;
    }
}

return await ComponentHost.RunAsync(new FleetWorkloadComponent(args[0], faults));
