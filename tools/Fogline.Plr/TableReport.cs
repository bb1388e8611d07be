using System.Globalization;

namespace Fogline.Plr;

/// <summary>The markdown table of <c>fogline-plr table</c>.</summary>
public static class TableReport
{
    /// <summary>One row per series, three columns per filter per bound, then the means per bound.</summary>
    public static void Print(TextWriter output, IReadOnlyList<(string Name, double Percent, FilterComparison Result)> results, IReadOnlyList<double> percents)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(results);
        ArgumentNullException.ThrowIfNull(percents);
        var c = CultureInfo.InvariantCulture;
        output.Write("| series | readings |");
        foreach (var p in percents)
        {
            output.Write(string.Create(c, $" floor {p}% | swinging door | ratio | err/bound | optimalPlr | ratio | err/bound |"));
        }

        output.WriteLine();
        output.Write("|---|---:|");
        foreach (var unused in percents)
        {
            output.Write("---:|---:|---:|---:|---:|---:|---:|");
        }

        output.WriteLine();
        foreach (var group in results.GroupBy(r => r.Name))
        {
            output.Write(string.Create(c, $"| {group.Key} | {group.First().Result.Readings} |"));
            foreach (var p in percents)
            {
                var r = group.First(x => x.Percent == p).Result;
                output.Write(string.Create(c, $" {r.Floor} | {r.SwingingDoor.Points} | {Ratio(r.SwingingDoor.Points, r.Floor):F2} | {Relative(r.SwingingDoor.MaxError, r.Bound)} | {r.OptimalPlr.Points} | {Ratio(r.OptimalPlr.Points, r.Floor):F2} | {Relative(r.OptimalPlr.MaxError, r.Bound)} |"));
            }

            output.WriteLine();
        }

        // A series without range (a bound of 0, where optimalPlr forwards every reading for exactness) is left out of
        // the means, and so is any series whose bound is 0.
        var ranged = results.Where(r => r.Result.Bound > 0).ToList();
        output.Write(string.Create(c, $"| **mean of {ranged.Select(r => r.Name).Distinct().Count()} series with a range; total points** | |"));
        foreach (var p in percents)
        {
            var at = ranged.Where(r => r.Percent == p).Select(r => r.Result).ToList();
            output.Write(string.Create(c, $" {at.Sum(r => r.Floor)} | {at.Sum(r => r.SwingingDoor.Points)} | **{at.Average(r => Ratio(r.SwingingDoor.Points, r.Floor)):F2}** | {at.Max(r => Relative(r.SwingingDoor.MaxError, r.Bound))} | {at.Sum(r => r.OptimalPlr.Points)} | **{at.Average(r => Ratio(r.OptimalPlr.Points, r.Floor)):F2}** | {at.Max(r => Relative(r.OptimalPlr.MaxError, r.Bound))} |"));
        }

        output.WriteLine();
    }

    /// <summary>Points over the floor.</summary>
    public static double Ratio(long points, int floor) => floor == 0 ? 1 : (double)points / floor;

    private static string Relative(double error, double bound) =>
        bound == 0 ? (error == 0 ? "0" : "∞") : (error / bound).ToString("F4", CultureInfo.InvariantCulture);
}
