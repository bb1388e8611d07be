using System.CommandLine;
using System.Globalization;
using Fogline.Aws.GreengrassV2;

namespace Fogline.Cli.Commands;

/// <summary>
/// <c>fogline component list</c>: the account's components in the region with their latest version (ListComponents,
/// every page), or with <c>--name</c> every version of one component, highest first, with its cloud state
/// (ListComponentVersions and DescribeComponent).
/// </summary>
internal static class ComponentListCommand
{
    public static Command Create(GlobalOptions options)
    {
        var name = new Option<string?>("--name", "-n") { Description = "List the versions of this component." };
        var region = new Option<string?>("--region", "-r") { Description = "The region (default: the AWS settings')." };
        var command = new Command("list", "List the account's components, or the versions of one.") { name, region };
        CliContext.SetAction(command, async (cli, parse, ct) =>
        {
            await using var target = await CloudTarget.OpenAsync(parse, options, parse.GetValue(region), ct);
            var greengrass = target.Clients.Greengrass;
            await cli.Out.WriteLineAsync($"components in {target.Description}");
            if (parse.GetValue(name) is { } component)
            {
                var account = await target.Clients.AccountAsync(ct);
                var rows = new List<string[]>();
                string? token = null;
                do
                {
                    var page = await greengrass.ListComponentVersionsAsync(new ListComponentVersionsRequest { Arn = $"arn:aws:greengrass:{target.Clients.Settings.Region}:{account}:components:{component}", NextToken = token }, ct);
                    foreach (var version in page.ComponentVersions ?? [])
                    {
                        var described = await greengrass.DescribeComponentAsync(new DescribeComponentRequest { Arn = version.Arn }, ct);
                        rows.Add([version.ComponentVersion ?? string.Empty, described.Status?.ComponentState ?? string.Empty, Time(described.CreationTimestamp), version.Arn ?? string.Empty]);
                    }

                    token = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
                }
                while (token is not null);
                await Table.WriteAsync(cli.Out, ["Version", "State", "Created", "ARN"], rows);
                return 0;
            }

            var components = new List<string[]>();
            string? next = null;
            do
            {
                var page = await greengrass.ListComponentsAsync(new ListComponentsRequest { NextToken = next }, ct);
                components.AddRange((page.Components ?? []).Select(c => new[]
                {
                    c.ComponentName ?? string.Empty,
                    c.LatestVersion?.ComponentVersion ?? string.Empty,
                    c.LatestVersion?.Publisher ?? string.Empty,
                    Time(c.LatestVersion?.CreationTimestamp),
                }));
                next = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
            }
            while (next is not null);
            await Table.WriteAsync(cli.Out, ["Component", "Latest", "Publisher", "Created"], components);
            return 0;
        });
        return command;
    }

    private static string Time(DateTimeOffset? time) => time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? string.Empty;
}
