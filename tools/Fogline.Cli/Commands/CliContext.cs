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

    public Option<string?> EndpointUrl { get; } = new("--endpoint-url")
    {
        Description = "Send every AWS call to this URL (as the AWS CLI's --endpoint-url); AWS_ENDPOINT_URL works too.",
        Recursive = true,
    };

    public Option<string?> Profile { get; } = new("--profile")
    {
        Description = "The AWS profile (else AWS_PROFILE, else the default chain).",
        Recursive = true,
    };

    public Option<string?> Target { get; } = CreateTarget();

    public void AddTo(Command command)
    {
        command.Options.Add(CloudDir);
        command.Options.Add(EndpointUrl);
        command.Options.Add(Profile);
        command.Options.Add(Target);
    }

    private static Option<string?> CreateTarget()
    {
        var option = new Option<string?>("--target")
        {
            Description = "aws, local (the local Greengrass cloud), or auto (the default: AWS when AWS credentials are configured, else local).",
            Recursive = true,
        };
        option.AcceptOnlyFromAmong("auto", "aws", "local");
        return option;
    }

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

    /// <summary>Whether the output is a terminal (the process's own standard output, not redirected): live views redraw a line there.</summary>
    public bool IsTerminal => ReferenceEquals(Out, Console.Out) && !Console.IsOutputRedirected;

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
            catch (Fogline.Gdk.GdkException ex)
            {
                return await context.FailAsync(ex.Message);
            }
            catch (Amazon.Runtime.AmazonServiceException ex)
            {
                return await context.FailAsync($"{ex.ErrorCode ?? ex.StatusCode.ToString()}: {ex.Message}");
            }
            catch (Amazon.Runtime.AmazonClientException ex)
            {
                return await context.FailAsync(ex.Message);
            }
            catch (HttpRequestException ex)
            {
                return await context.FailAsync("the service could not be reached: " + ex.Message);
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
