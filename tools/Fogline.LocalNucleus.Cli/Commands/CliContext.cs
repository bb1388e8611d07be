using Fogline.LocalNucleus.CliAccess;
using System.CommandLine;
using System.Net.Sockets;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Cli.Commands;

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

/// <summary>What a verb runs with: its output, errors, and the root of the Nucleus it talks to.</summary>
internal sealed class CliContext
{
    private CliContext(TextWriter output, TextWriter error, string root)
    {
        Out = output;
        Err = error;
        Root = root;
    }

    public TextWriter Out { get; }

    public TextWriter Err { get; }

    /// <summary>The Nucleus root, absolute.</summary>
    public string Root { get; }

    /// <summary>
    /// Sets the action of a verb: the body runs with a context; <see cref="CliException"/>, IPC errors and connection
    /// failures become one <c>error: </c> line on stderr and exit code 1; cancellation ends with 0.
    /// </summary>
    public static void SetAction(Command command, Option<string> rootOption, Func<CliContext, ParseResult, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var context = new CliContext(parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, Path.GetFullPath(parse.GetValue(rootOption) ?? Cli.DefaultRoot));
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
            catch (GreengrassIpcServiceException ex)
            {
                return await context.FailAsync($"{ex.ErrorCode}: {ex.ServiceMessage ?? ex.Message}");
            }
            catch (GreengrassIpcUnsupportedOperationException ex)
            {
                return await context.FailAsync($"the local Nucleus does not serve this operation (Unsupported Operation): {ex.Message}");
            }
            catch (GreengrassIpcException ex)
            {
                return await context.FailAsync($"IPC with the local Nucleus at {context.Root} failed: {ex.Message}");
            }
        });
    }

    /// <summary>Writes one error line and returns exit code 1.</summary>
    public async Task<int> FailAsync(string message)
    {
        await Err.WriteLineAsync("error: " + message);
        return 1;
    }

    /// <summary>Connects to the running Nucleus as the CLI, with the token and socket of <c>&lt;root&gt;/cli_ipc_info</c>.</summary>
    public async Task<GreengrassIpcClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var endpoint = CliIpcInfo.TryRead(Root) ?? throw NotRunning("no cli_ipc_info found");
        if (!File.Exists(endpoint.SocketPath))
        {
            throw NotRunning($"no IPC socket at {endpoint.SocketPath}");
        }

        try
        {
            return await GreengrassIpcClient.ConnectAsync(
                new GreengrassIpcClientOptions { SocketPath = endpoint.SocketPath, AuthToken = endpoint.AuthToken, ConnectTimeout = TimeSpan.FromSeconds(10) },
                cancellationToken);
        }
        catch (Exception ex) when (ex is GreengrassIpcException or SocketException or IOException)
        {
            throw NotRunning(ex.Message);
        }
    }

    /// <summary>The error of a root where no Nucleus answers.</summary>
    public CliException NotRunning(string why) => new($"no local Nucleus is running at {Root} ({why})");

    /// <summary>greengrass-cli's reading of a content argument: the file's text when it names an existing file, else the text itself.</summary>
    public static string ContentOf(string value) => File.Exists(value) ? File.ReadAllText(value) : value;
}
