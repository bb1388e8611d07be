using System.CommandLine;
using Fogline.LocalCloud;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline cloud start</c>: serves the local Greengrass cloud on loopback until interrupted, state in the cloud
/// directory (a restart loses nothing). Commands and tests started meanwhile use it instead of starting their own.
/// </summary>
internal static class CloudStartCommand
{
    /// <summary>The port used when none is given.</summary>
    public const int DefaultPort = 4580;

    public static Command Create(GlobalOptions options)
    {
        var port = new Option<int>("--port") { Description = $"The loopback port (default {DefaultPort}; 0 for any free one).", DefaultValueFactory = _ => DefaultPort };
        var command = new Command("start", "Serve the local Greengrass cloud (S3, STS, Greengrass V2) on 127.0.0.1 until interrupted.") { port };
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var directory = options.CloudDirectory(parse);
            await using var cloud = await LocalCloudDirectory.OpenAsync(directory, reuseRunning: false, parse.GetValue(port), cancellationToken: ct);
            await cli.Out.WriteLineAsync($"local Greengrass cloud on {cloud.Endpoint} (account {cloud.Keys.Default.AccountId}; state in {directory})");
            await cli.Out.WriteLineAsync($"to use it from the AWS CLI: eval \"$(fogline cloud env{(parse.GetValue(options.CloudDir) is null ? string.Empty : " --cloud-dir " + directory)})\"");
            await cli.Out.FlushAsync(ct);
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }

            await cli.Out.WriteLineAsync("local Greengrass cloud stopped");
            return 0;
        });
        return command;
    }
}
