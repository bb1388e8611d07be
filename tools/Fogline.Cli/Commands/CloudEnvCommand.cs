using System.CommandLine;
using Fogline.LocalCloud;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline cloud env</c>: prints the shell exports that point the AWS CLI and SDKs at the running local cloud
/// (endpoint, the developer key, region), for <c>eval "$(fogline cloud env)"</c>. The key is only printed here, on
/// request; no other command writes it out.
/// </summary>
internal static class CloudEnvCommand
{
    public static Command Create(GlobalOptions options)
    {
        var region = new Option<string>("--region") { Description = "The region to export (default us-east-1).", DefaultValueFactory = _ => "us-east-1" };
        var command = new Command("env", "Print the exports that point the AWS CLI at the running local cloud.") { region };
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            var directory = options.CloudDirectory(parse);
            var endpointFile = Path.Combine(directory, "endpoint");
            if (!File.Exists(endpointFile))
            {
                throw new CliException($"no local cloud is running on {directory}: start one with `fogline cloud start`");
            }

            var keys = CloudKeys.LoadOrCreate(directory);
            await cli.Out.WriteLineAsync($"export AWS_ENDPOINT_URL={File.ReadAllText(endpointFile).Trim()}");
            await cli.Out.WriteLineAsync($"export AWS_ACCESS_KEY_ID={keys.Default.AccessKeyId}");
            await cli.Out.WriteLineAsync($"export AWS_SECRET_ACCESS_KEY={keys.Default.SecretAccessKey}");
            await cli.Out.WriteLineAsync("unset AWS_SESSION_TOKEN AWS_PROFILE");
            await cli.Out.WriteLineAsync($"export AWS_REGION={parse.GetValue(region)} AWS_DEFAULT_REGION={parse.GetValue(region)}");
            return 0;
        });
        return command;
    }
}
