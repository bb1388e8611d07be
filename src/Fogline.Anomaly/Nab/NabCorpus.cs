using System.Collections.Concurrent;
using System.Text.Json;

namespace Fogline.Anomaly.Nab;

/// <summary>
/// A NAB corpus: every <c>&lt;category&gt;/&lt;file&gt;.csv</c> (header <c>timestamp,value</c>) under a folder, with
/// the anomaly windows of its label file (<c>combined_windows.json</c>).
/// </summary>
public sealed class NabCorpus
{
    /// <summary>The name of NAB's label file in the corpus folder.</summary>
    public const string WindowsFileName = "combined_windows.json";

    private readonly ConcurrentDictionary<NabProfile, double> _nullBaselines = new();
    private readonly Lazy<NabRanking> _nullRanking;

    private NabCorpus(NabSeries[] series)
    {
        Series = series;
        WindowCount = series.Sum(s => s.Windows.Count);
        Layout = new NabLayout(series);
        _nullRanking = new Lazy<NabRanking>(() => NabRanking.Build(this, NullDetectorScores()), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The data files, sorted by <see cref="NabSeries.RelativePath"/> (ordinal).</summary>
    public IReadOnlyList<NabSeries> Series { get; }

    /// <summary>The number of anomaly windows in the label file: NAB's perfect score is this many true positives.</summary>
    public int WindowCount { get; }

    /// <summary>The corpus' scorable rows laid end to end, for the scorer.</summary>
    internal NabLayout Layout { get; }

    /// <summary>The null detector's ranking (every row 0.5), built once.</summary>
    internal NabRanking NullRanking => _nullRanking.Value;

    /// <summary>
    /// Reads every CSV file under <paramref name="corpusDirectory"/> (at any depth, names starting with '.' skipped) and
    /// the windows of the label file.
    /// </summary>
    /// <param name="corpusDirectory">The corpus folder.</param>
    /// <param name="windowsFile">The label file; <c>combined_windows.json</c> in the corpus folder by default.</param>
    /// <exception cref="InvalidDataException">A CSV line is malformed (the message names the file and line), a window's
    /// timestamp is not exactly one row's, the windows are out of order, or a file has no entry in the label file.</exception>
    public static NabCorpus Load(string corpusDirectory, string? windowsFile = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(corpusDirectory);
        var root = Path.GetFullPath(corpusDirectory);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The NAB corpus folder {root} does not exist.");
        }

        windowsFile ??= Path.Combine(root, WindowsFileName);
        var windowTexts = ReadWindows(windowsFile);

        var files = Directory.EnumerateFiles(root, "*.csv", SearchOption.AllDirectories)
            .Select(path => (Path: path, Relative: Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/')))
            .Where(f => !f.Relative.Split('/').Any(part => part.StartsWith('.')))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .ToArray();

        var present = files.Select(f => f.Relative).ToHashSet(StringComparer.Ordinal);
        var orphan = windowTexts.FirstOrDefault(w => w.Value.Count > 0 && !present.Contains(w.Key));
        if (orphan.Key is not null)
        {
            throw new InvalidDataException($"{windowsFile}: windows are labelled for '{orphan.Key}', which is not in the corpus {root}.");
        }

        var series = new NabSeries[files.Length];
        for (var i = 0; i < files.Length; i++)
        {
            var (path, relative) = files[i];
            if (!windowTexts.TryGetValue(relative, out var windows))
            {
                throw new InvalidDataException($"{windowsFile}: there is no entry for the corpus file '{relative}'.");
            }

            series[i] = ReadSeries(path, relative, windows, windowsFile);
        }

        return new NabCorpus(series);
    }

    /// <summary>The optimised raw score of NAB's null detector (0.5 on every row) under a profile: the 0 of normalised scores.</summary>
    internal double NullBaseline(NabProfile profile) =>
        _nullBaselines.GetOrAdd(profile, p => NabScorer.Evaluate(this, NullRanking, p, null).RawScore);

    /// <summary>The null detector's scores: 0.5 on every row of every file.</summary>
    internal Dictionary<string, double[]> NullDetectorScores()
    {
        var scores = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var s in Series)
        {
            var constant = new double[s.Length];
            Array.Fill(constant, 0.5);
            scores[s.RelativePath] = constant;
        }

        return scores;
    }

    private static Dictionary<string, List<(string Start, string End)>> ReadWindows(string windowsFile)
    {
        if (!File.Exists(windowsFile))
        {
            throw new FileNotFoundException($"The NAB label file {windowsFile} does not exist.", windowsFile);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(windowsFile));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{windowsFile}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{windowsFile}: expected an object mapping each file to its windows.");
            }

            var result = new Dictionary<string, List<(string Start, string End)>>(StringComparer.Ordinal);
            foreach (var file in document.RootElement.EnumerateObject())
            {
                if (file.Value.ValueKind != JsonValueKind.Array)
                {
                    throw new InvalidDataException($"{windowsFile}: the windows of '{file.Name}' are not a list.");
                }

                var windows = new List<(string Start, string End)>();
                foreach (var window in file.Value.EnumerateArray())
                {
                    if (window.ValueKind != JsonValueKind.Array || window.GetArrayLength() != 2
                        || window[0].ValueKind != JsonValueKind.String || window[1].ValueKind != JsonValueKind.String)
                    {
                        throw new InvalidDataException($"{windowsFile}: a window of '{file.Name}' is not a [start, end] pair of timestamp strings.");
                    }

                    windows.Add((window[0].GetString()!, window[1].GetString()!));
                }

                result[file.Name.Replace('\\', '/')] = windows;
            }

            return result;
        }
    }

    private static NabSeries ReadSeries(string path, string relative, List<(string Start, string End)> windowTexts, string windowsFile)
    {
        var texts = new List<string>();
        var timestamps = new List<DateTime>();
        var values = new List<double>();
        using (var reader = new StreamReader(path))
        {
            Span<Range> fields = stackalloc Range[3];
            var header = reader.ReadLine()?.TrimEnd('\r');
            var columns = header is null ? 0 : NabText.Split(header, fields);
            if (header is null || columns < 2 || header[fields[0]] != "timestamp" || header[fields[1]] != "value")
            {
                throw new InvalidDataException($"{path}:1: expected the header 'timestamp,value', found '{header}'.");
            }

            foreach (var (lineNumber, line) in NabText.DataLines(reader))
            {
                if (NabText.Split(line, fields) != columns)
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: expected {columns} comma-separated fields as in the header, found '{line}'.");
                }

                var timestampText = line[fields[0]];
                if (!NabText.TryParseTimestamp(timestampText, out var timestamp))
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: '{timestampText}' is not a timestamp (yyyy-MM-dd HH:mm:ss).");
                }

                if (!NabText.TryParseNumber(line.AsSpan()[fields[1]], out var value))
                {
                    throw new InvalidDataException($"{path}:{lineNumber}: '{line[fields[1]]}' is not a number.");
                }

                texts.Add(timestampText);
                timestamps.Add(timestamp);
                values.Add(value);
            }
        }

        var times = timestamps.ToArray();
        var windows = new (int Start, int End)[windowTexts.Count];
        for (var w = 0; w < windows.Length; w++)
        {
            var (startText, endText) = windowTexts[w];
            var start = FindRow(times, startText, relative, path, windowsFile);
            var end = FindRow(times, endText, relative, path, windowsFile);
            if (end < start)
            {
                throw new InvalidDataException($"{windowsFile}: the window [{startText}, {endText}] of '{relative}' ends before it starts.");
            }

            if (w > 0 && start <= windows[w - 1].End)
            {
                throw new InvalidDataException($"{windowsFile}: the window [{startText}, {endText}] of '{relative}' starts before the previous window ends (windows must be in time order and must not overlap).");
            }

            windows[w] = (start, end);
        }

        return new NabSeries(relative, texts.ToArray(), times, values.ToArray(), windows);
    }

    private static int FindRow(DateTime[] timestamps, string text, string relative, string path, string windowsFile)
    {
        if (!NabText.TryParseTimestamp(text, out var timestamp))
        {
            throw new InvalidDataException($"{windowsFile}: the window timestamp '{text}' of '{relative}' is not a timestamp.");
        }

        var row = Array.IndexOf(timestamps, timestamp);
        if (row < 0)
        {
            throw new InvalidDataException($"{windowsFile}: the window timestamp '{text}' of '{relative}' is not the timestamp of any row of {path}.");
        }

        if (Array.IndexOf(timestamps, timestamp, row + 1) >= 0)
        {
            throw new InvalidDataException($"{windowsFile}: the window timestamp '{text}' of '{relative}' is the timestamp of more than one row of {path}.");
        }

        return row;
    }
}
