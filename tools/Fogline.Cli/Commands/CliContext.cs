using System.CommandLine;
using Fogline.Aws;
using Fogline.LocalCloud;

namespace Fogline.Cli.Commands;

/// <summary>A failure the command line reports as one line on stderr, with exit code 1.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Options every verb takes (after the verb or before it).</summary>
internal sealed class GlobalOptions
{
    public Option<string?> CloudDir { get; } = new("--cloud-dir")
    {
        Description = "The local cloud's state directory (default $FOGLINE_CLOUD_DIR, else ~/.local/state/fogline/cloud).",
        Recursive = true,
    };

    public void AddTo(Command command) => command.Options.Add(CloudDir);

    public string CloudDirectory(ParseResult parse) => Path.GetFullPath(parse.GetValue(CloudDir) ?? LocalCloudDirectory.DefaultPath);
}

/// <summary>What a verb runs with: its output, its errors.</summary>
internal sealed class CliContext
{
    private CliContext(TextWriter output, TextWriter error)
    {
        Out = output;
        Err = error;
    }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    /// <summary>
    /// Sets the action of a verb: the body runs with a context; <see cref="CliException"/>, AWS errors and settings
    /// errors become one <c>error: </c> line on stderr and exit code 1; cancellation ends with 0.
    /// </summary>
    public static void SetAction(Command command, Func<CliContext, ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var context = new CliContext(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error);
            try
            {
                return await body(context, parse, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (CliException ex)
            {
                return await context.FailAsync(ex.Message);
            }
            catch (AwsSettingsException ex)
            {
                return await context.FailAsync(ex.Message);
            }
            catch (LocalCloudBusyException ex)
            {
                return await context.FailAsync(ex.Message);
            }
            catch (AwsServiceException ex)
            {
                return await context.FailAsync($"{ex.Code}: {ex.Message}");
            }
        });
    }

    /// <summary>Writes one error line and returns exit code 1.</summary>
    public async Task<int> FailAsync(string message)
    {
        await Err.WriteLineAsync("error: " + message.ReplaceLineEndings(" "));
        return 1;
    }
}
