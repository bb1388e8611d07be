using System.CommandLine;
using System.Globalization;
using Fogline.Anomaly.Detection;
using Fogline.Anomaly.Nab;
using Fogline.Nab;

// fogline-nab: AnomalyDetector's scoring code over a NAB corpus, NAB result files, NAB's scores.
//   run    --corpus DIR --model FILE [--results DIR] [--detector NAME]   score with the ONNX model, as the component does
//   score  --corpus DIR --results DIR --detector NAME                    score existing NAB result files (any detector's)
//   tune   --corpus DIR [--grid k=3,5;window=8,16;…]                     the parameter sweep used to choose the shipped model
var corpusOption = new Option<DirectoryInfo>("--corpus") { Description = "The NAB corpus: <category>/<file>.csv, combined_windows.json (and profiles.json).", Required = true };
var resultsOption = new Option<DirectoryInfo?>("--results") { Description = "Where NAB result files go (or are read from): <results>/<detector>/<category>/<detector>_<file>.csv." };
var detectorOption = new Option<string>("--detector") { Description = "The detector's name in the result files.", DefaultValueFactory = _ => "fogline" };
var modelOption = new Option<FileInfo>("--model") { Description = "The ONNX model file (as shipped with AnomalyDetector).", Required = true };
var quietOption = new Option<int>("--quiet-readings") { Description = "Readings a series stays quiet after a detection (AnomalyDetector's quietReadings).", DefaultValueFactory = _ => new DetectorOptions().QuietReadings };
var quietLevelOption = new Option<double>("--quiet-level") { Description = "The score that starts a quiet period (AnomalyDetector's quietLevel).", DefaultValueFactory = _ => new DetectorOptions().QuietLevel };
var gridOption = new Option<string>("--grid") { Description = "Parameter lists to sweep: name=v1,v2;… (scales, history, calibration, k, tolerance, rankWeight, floor, quiet, quietLevel, minHistory).", DefaultValueFactory = _ => "" };

var root = new RootCommand("AnomalyDetector on the Numenta Anomaly Benchmark: result files in NAB's format and NAB's scores (standard, reward_low_FP_rate, reward_low_FN_rate).");

var run = new Command("run", "Score every series of the corpus with an ONNX model through AnomalyDetector's detector, write NAB result files, print NAB's scores.");
foreach (var option in new Option[] { corpusOption, modelOption, resultsOption, detectorOption, quietOption, quietLevelOption })
{
    run.Options.Add(option);
}

run.SetAction(parse =>
{
    var corpus = NabCorpus.Load(parse.GetValue(corpusOption)!.FullName);
    var model = parse.GetValue(modelOption)!.FullName;
    var options = new DetectorOptions(QuietReadings: parse.GetValue(quietOption), QuietLevel: parse.GetValue(quietLevelOption));
    var (scores, elapsed, readings) = NabRun.Run(corpus, () => OnnxScoringModel.Load(model), options);
    var detector = parse.GetValue(detectorOption)!;
    if (parse.GetValue(resultsOption) is { } results)
    {
        foreach (var series in corpus.Series)
        {
            NabResults.Write(results.FullName, detector, series, scores[series.RelativePath]);
        }

        Console.WriteLine($"results: {Path.Combine(results.FullName, detector)}");
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{readings} readings in {elapsed.TotalSeconds:F1} s ({elapsed.TotalMicroseconds / readings:F1} µs per reading, model {Path.GetFileName(model)})"));
    Report.Print(corpus, scores, detector);
    return 0;
});

var score = new Command("score", "Score NAB result files with NAB's rules.");
foreach (var option in new Option[] { corpusOption, resultsOption, detectorOption })
{
    score.Options.Add(option);
}

score.SetAction(parse =>
{
    var corpus = NabCorpus.Load(parse.GetValue(corpusOption)!.FullName);
    var results = parse.GetValue(resultsOption) ?? throw new ArgumentException("--results is required");
    var detector = parse.GetValue(detectorOption)!;
    Report.Print(corpus, NabResults.Read(results.FullName, detector, corpus), detector);
    return 0;
});

var tune = new Command("tune", "Sweep the model's and the detector's parameters with the C# reference of the model (the sweep that chose the shipped model; see models/README.md).");
tune.Options.Add(corpusOption);
tune.Options.Add(gridOption);
tune.SetAction(parse =>
{
    var corpus = NabCorpus.Load(parse.GetValue(corpusOption)!.FullName);
    Tuning.Sweep(corpus, parse.GetValue(gridOption)!);
    return 0;
});

root.Subcommands.Add(run);
root.Subcommands.Add(score);
root.Subcommands.Add(tune);
try
{
    return root.Parse(args).Invoke();
}
catch (Exception e) when (e is InvalidDataException or ModelLoadException or IOException or ArgumentException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
