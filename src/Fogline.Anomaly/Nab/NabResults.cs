using System.Text;

namespace Fogline.Anomaly.Nab;

/// <summary>
/// NAB's result files: <c>&lt;results&gt;/&lt;detector&gt;/&lt;category&gt;/&lt;detector&gt;_&lt;file&gt;.csv</c> with the
/// header <c>timestamp,value,anomaly_score,label</c> (label 1 inside a window, else 0), one line per row of the data file.
/// </summary>
public static class NabResults
{
    /// <summary>The header of a result file.</summary>
    public const string Header = "timestamp,value,anomaly_score,label";

    /// <summary>The path of a detector's result file for a data file.</summary>
    public static string PathOf(string resultsDirectory, string detectorName, NabSeries series)
    {
        ArgumentException.ThrowIfNullOrEmpty(resultsDirectory);
        ArgumentException.ThrowIfNullOrEmpty(detectorName);
        ArgumentNullException.ThrowIfNull(series);
        var folder = Path.Combine([resultsDirectory, detectorName, .. series.Category.Split('/', StringSplitOptions.RemoveEmptyEntries)]);
        return Path.Combine(folder, detectorName + "_" + series.FileName);
    }

    /// <summary>Writes a detector's result file for a data file (creating its folders), repeating the file's timestamps as written.</summary>
    /// <param name="resultsDirectory">The results folder (NAB's <c>results</c>).</param>
    /// <param name="detectorName">The detector's name: the folder and the file name prefix.</param>
    /// <param name="series">The data file.</param>
    /// <param name="scores">The anomaly score of every row.</param>
    /// <exception cref="ArgumentException">There is not one score per row.</exception>
    public static void Write(string resultsDirectory, string detectorName, NabSeries series, ReadOnlySpan<double> scores)
    {
        var path = PathOf(resultsDirectory, detectorName, series);
        if (scores.Length != series.Length)
        {
            throw new ArgumentException($"'{series.RelativePath}' has {series.Length} rows but {scores.Length} anomaly scores were given.", nameof(scores));
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var text = new StringBuilder((series.Length + 1) * 48);
        text.Append(Header).Append('\n');
        for (var i = 0; i < series.Length; i++)
        {
            text.Append(series.TimestampTexts[i]).Append(',')
                .Append(NabText.FormatNumber(series.Values[i])).Append(',')
                .Append(NabText.FormatNumber(scores[i])).Append(',')
                .Append(series.Labels[i] ? '1' : '0').Append('\n');
        }

        File.WriteAllText(path, text.ToString());
    }

    /// <summary>
    /// Reads a detector's result files for every file of the corpus: the <c>anomaly_score</c> column by relative path.
    /// Each file must have one line per row of its data file, with the same timestamps.
    /// </summary>
    /// <exception cref="FileNotFoundException">A result file is missing (the message names it).</exception>
    /// <exception cref="InvalidDataException">A result file is malformed, has another row count, or other timestamps (the message names the file and line).</exception>
    public static IReadOnlyDictionary<string, double[]> Read(string resultsDirectory, string detectorName, NabCorpus corpus)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        var result = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var series in corpus.Series)
        {
            result[series.RelativePath] = ReadFile(PathOf(resultsDirectory, detectorName, series), series);
        }

        return result;
    }

    private static double[] ReadFile(string path, NabSeries series)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The result file {path} for '{series.RelativePath}' does not exist.", path);
        }

        var scores = new double[series.Length];
        using var reader = new StreamReader(path);
        var header = reader.ReadLine()?.TrimEnd('\r');
        if (header is null)
        {
            throw new InvalidDataException($"{path}:1: the file is empty; expected the header '{Header}'.");
        }

        var names = header.Split(',');
        var timestampColumn = Array.IndexOf(names, "timestamp");
        var scoreColumn = Array.IndexOf(names, "anomaly_score");
        if (timestampColumn < 0 || scoreColumn < 0)
        {
            throw new InvalidDataException($"{path}:1: the header '{header}' has no 'timestamp' or no 'anomaly_score' column.");
        }

        Span<Range> fields = stackalloc Range[Math.Max(timestampColumn, scoreColumn) + 1];
        var row = 0;
        foreach (var (lineNumber, line) in NabText.DataLines(reader))
        {
            if (row >= series.Length)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: the file has more lines than the {series.Length} rows of '{series.RelativePath}'.");
            }

            if (NabText.Split(line, fields) != names.Length)
            {
                throw new InvalidDataException($"{path}:{lineNumber}: expected {names.Length} comma-separated fields as in the header, found '{line}'.");
            }

            if (!NabText.TryParseTimestamp(line.AsSpan()[fields[timestampColumn]], out var timestamp) || timestamp != series.Timestamps[row])
            {
                throw new InvalidDataException($"{path}:{lineNumber}: the timestamp '{line[fields[timestampColumn]]}' is not that of row {row} of '{series.RelativePath}' ({series.TimestampTexts[row]}).");
            }

            if (!NabText.TryParseNumber(line.AsSpan()[fields[scoreColumn]], out var score))
            {
                throw new InvalidDataException($"{path}:{lineNumber}: the anomaly score '{line[fields[scoreColumn]]}' is not a number.");
            }

            scores[row++] = score;
        }

        if (row != series.Length)
        {
            throw new InvalidDataException($"{path}: the file has {row} rows but '{series.RelativePath}' has {series.Length}.");
        }

        return scores;
    }
}
