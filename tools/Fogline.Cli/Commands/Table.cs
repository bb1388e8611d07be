namespace Fogline.Cli.Commands;

/// <summary>Plain-text tables for the commands' output.</summary>
internal static class Table
{
    /// <summary>Writes rows under a header, columns padded to their widest cell.</summary>
    public static async Task WriteAsync(TextWriter output, IReadOnlyList<string> header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header.ToArray() };
        all.AddRange(rows);
        var widths = Enumerable.Range(0, header.Count).Select(i => all.Max(r => r[i].Length)).ToArray();
        foreach (var (row, index) in all.Select((r, i) => (r, i)))
        {
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd());
            if (index == 0)
            {
                await output.WriteLineAsync(string.Join("  ", widths.Select(w => new string('-', w))));
            }
        }
    }
}
