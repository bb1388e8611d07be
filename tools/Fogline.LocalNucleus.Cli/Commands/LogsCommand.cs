using System.CommandLine;
using System.Text;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>
/// <c>logs get|list-log-files</c>, after greengrass-cli's <c>logs</c> verb, on the Nucleus's log files
/// <c>&lt;root&gt;/logs/*.log</c>. <c>get</c> prints the lines of the files (<c>--log-file</c>, repeatable;
/// <c>--log-dir</c>, repeatable, every <c>*.log</c> in it; <c>--component NAME</c>, <c>&lt;root&gt;/logs/NAME.log</c>;
/// default every log of the root), keeping the lines that contain every <c>--filter</c> substring, and with
/// <c>--follow</c> keeps printing lines as they are appended until interrupted. Lines are printed as they are in
/// the files, prefixed with the file name when several files are read.
/// </summary>
internal static class LogsCommand
{
    private static readonly TimeSpan FollowPollInterval = TimeSpan.FromMilliseconds(200);

    public static Command Create(Option<string> root)
    {
        var command = new Command("logs", "Read the Nucleus's and the components' log files.");

        var logFile = new Option<string[]>("--log-file", "-lf") { Description = "A log file to read (repeatable)." };
        var logDir = new Option<string[]>("--log-dir", "-ld") { Description = "A directory whose *.log files to read (repeatable)." };
        var component = new Option<string[]>("--component", "-n") { Description = "A component whose log (<root>/logs/NAME.log) to read (repeatable)." };
        var filter = new Option<string[]>("--filter") { Description = "Keep the lines that contain this text (repeatable: all must match)." };
        var follow = new Option<bool>("--follow") { Description = "Keep printing lines as they are appended, until interrupted." };
        var get = new Command("get", "Print log lines.") { logFile, logDir, component, filter, follow };
        CliContext.SetAction(get, root, async (cli, parse, ct) =>
        {
            var files = Files(cli, parse.GetValue(logFile), parse.GetValue(logDir), parse.GetValue(component));
            var filters = parse.GetValue(filter) ?? [];
            var prefix = files.Count > 1;
            var positions = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                positions[file] = await PrintNewLinesAsync(cli.Out, file, 0, filters, prefix, ct);
            }

            if (!parse.GetValue(follow))
            {
                return 0;
            }

            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(FollowPollInterval, ct);
                foreach (var file in files)
                {
                    positions[file] = await PrintNewLinesAsync(cli.Out, file, positions[file], filters, prefix, ct);
                }
            }

            return 0;
        });

        var listDir = new Option<string[]>("--log-dir", "-ld") { Description = "A directory whose *.log files to list (repeatable)." };
        var list = new Command("list-log-files", "List the log files.") { listDir };
        CliContext.SetAction(list, root, async (cli, parse, ct) =>
        {
            foreach (var file in Files(cli, null, parse.GetValue(listDir), null))
            {
                await cli.Out.WriteLineAsync(file);
            }

            return 0;
        });

        command.Subcommands.Add(get);
        command.Subcommands.Add(list);
        return command;
    }

    private static List<string> Files(CliContext cli, string[]? logFiles, string[]? logDirs, string[]? components)
    {
        var defaultDir = Path.Combine(cli.Root, "logs");
        var files = new List<string>();
        foreach (var file in logFiles ?? [])
        {
            files.Add(Path.GetFullPath(file));
        }

        foreach (var name in components ?? [])
        {
            files.Add(Path.Combine(defaultDir, name + ".log"));
        }

        var dirs = logDirs is { Length: > 0 } ? logDirs : files.Count == 0 ? [defaultDir] : [];
        foreach (var dir in dirs)
        {
            if (!Directory.Exists(dir))
            {
                throw new CliException($"the log directory {Path.GetFullPath(dir)} does not exist");
            }

            files.AddRange(Directory.EnumerateFiles(dir, "*.log").Select(Path.GetFullPath).Order(StringComparer.Ordinal));
        }

        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                throw new CliException($"the log file {file} does not exist");
            }
        }

        return [.. files.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Prints the complete lines after <paramref name="position"/>; returns the position after the last complete line.</summary>
    private static async Task<long> PrintNewLinesAsync(TextWriter output, string file, long position, string[] filters, bool prefix, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (stream.Length < position)
        {
            // Truncated or rotated: start again.
            position = 0;
        }

        stream.Seek(position, SeekOrigin.Begin);
        var buffer = new byte[stream.Length - position];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        var end = Array.LastIndexOf(buffer, (byte)'\n');
        if (end < 0)
        {
            return position;
        }

        var text = Encoding.UTF8.GetString(buffer, 0, end);
        var name = Path.GetFileName(file);
        foreach (var line in text.Split('\n'))
        {
            var clean = line.TrimEnd('\r');
            if (filters.All(f => clean.Contains(f, StringComparison.Ordinal)))
            {
                await output.WriteLineAsync(prefix ? $"{name}: {clean}" : clean);
            }
        }

        await output.FlushAsync(cancellationToken);
        return position + end + 1;
    }
}
