using System.CommandLine;
using System.Globalization;
using Fogline.Anomaly.Nab;
using Fogline.ComponentKit.Processing;
using Fogline.Plr;

// fogline-plr: the floor of piecewise-linear compression, and EdgeFilter's modes against it.
//   floor --file F.csv (--bound X | --percent P)                 the fewest runs and points at a bound
//   table --corpus DIR [--percent 0.5,1,2] [--hold-readings N]    floor, swinging door and optimalPlr on every series
//   optimum --file F.csv --percent P [--readings N] [--levels L]   the offline optimum with points at reading times
var fileOption = new Option<FileInfo>("--file") { Description = "A CSV series: a header, then time (ISO date-time or epoch seconds),value per line.", Required = true };
var boundOption = new Option<double?>("--bound") { Description = "The maximum error, in the series' unit." };
var percentOption = new Option<double?>("--percent") { Description = "The maximum error as a percentage of the series' range (max - min)." };
var corpusOption = new Option<DirectoryInfo>("--corpus") { Description = "A NAB corpus: <category>/<file>.csv.", Required = true };
var percentsOption = new Option<string>("--percent") { Description = "Bounds as percentages of each series' range, comma-separated.", DefaultValueFactory = _ => "0.5,1,2" };
var holdOption = new Option<int>("--hold-readings") { Description = "optimalPlr's hold-back cap in readings (EdgeFilter's maxHoldReadings).", DefaultValueFactory = _ => 256 };

var root = new RootCommand("The floor of piecewise-linear compression: the fewest points any filter that draws straight lines between forwarded points can send at an error bound, and EdgeFilter's modes against it.");

var floor = new Command("floor", "The minimum number of straight-line runs of a series at a bound, and the floor in points (runs + 1).");
floor.Options.Add(fileOption);
floor.Options.Add(boundOption);
floor.Options.Add(percentOption);
floor.SetAction(parse =>
{
    var series = SeriesFile.Read(parse.GetValue(fileOption)!.FullName);
    var range = SeriesFile.Range(series);
    var bound = (parse.GetValue(boundOption), parse.GetValue(percentOption)) switch
    {
        ({ } b, null) => b,
        (null, { } p) => p / 100 * range,
        _ => throw new ArgumentException("give either --bound or --percent"),
    };
    var runs = PiecewiseLinearFloor.MinimumRuns(series, bound);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"readings {series.Length}, range {range:G6}, bound {bound:G6}: {runs} runs, floor {PiecewiseLinearFloor.MinimumPoints(series, bound)} points"));
    return 0;
});

var table = new Command("table", "Floor, swinging door and optimalPlr (points, ratio to the floor, max error / bound) on every series of a corpus, as a markdown table.");
table.Options.Add(corpusOption);
table.Options.Add(percentsOption);
table.Options.Add(holdOption);
table.SetAction(parse =>
{
    var corpus = NabCorpus.Load(parse.GetValue(corpusOption)!.FullName);
    var percents = parse.GetValue(percentsOption)!.Split(',').Select(p => double.Parse(p, CultureInfo.InvariantCulture)).ToArray();
    var hold = parse.GetValue(holdOption);
    var results = new List<(string Name, double Percent, FilterComparison Result)>();
    foreach (var s in corpus.Series)
    {
        var series = SeriesFile.Points(s);
        var range = SeriesFile.Range(series);
        foreach (var percent in percents)
        {
            // A constant series has no range: its bound is then 0 (any filter forwards its two ends).
            results.Add((s.RelativePath, percent, FilterComparison.Run(series, percent / 100 * range, hold, double.MaxValue)));
        }
    }

    TableReport.Print(Console.Out, results, percents);
    return 0;
});

var readingsOption = new Option<int>("--readings") { Description = "Only the first N readings (the optimum takes O(N^2 levels^2) time).", DefaultValueFactory = _ => 300 };
var levelsOption = new Option<int>("--levels") { Description = "Candidate values per reading's band.", DefaultValueFactory = _ => 25 };
var optimum = new Command("optimum", "The floor, the offline optimum of points at reading times (what a filter forwarding points at reading times could reach knowing the whole series), optimalPlr and swinging door, on the first readings of a series.");
optimum.Options.Add(fileOption);
optimum.Options.Add(percentOption);
optimum.Options.Add(readingsOption);
optimum.Options.Add(levelsOption);
optimum.SetAction(parse =>
{
    var all = SeriesFile.Read(parse.GetValue(fileOption)!.FullName);
    var bound = (parse.GetValue(percentOption) ?? throw new ArgumentException("give --percent")) / 100 * SeriesFile.Range(all);
    var series = all.Take(parse.GetValue(readingsOption)).ToArray();
    var best = ReadingKnotOptimum.MinimumPoints(series, bound, parse.GetValue(levelsOption));
    var result = FilterComparison.Run(series, bound, 256, double.MaxValue);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{series.Length} readings, bound {bound:G6}: floor {result.Floor}, offline optimum at reading times {best} ({(double)best / result.Floor:0.00}x the floor), optimalPlr {result.OptimalPlr.Points} ({(double)result.OptimalPlr.Points / best:0.00}x that optimum), swinging door {result.SwingingDoor.Points} ({(double)result.SwingingDoor.Points / best:0.00}x)"));
    return 0;
});

root.Subcommands.Add(floor);
root.Subcommands.Add(optimum);
root.Subcommands.Add(table);
return await root.Parse(args).InvokeAsync().ConfigureAwait(false);
