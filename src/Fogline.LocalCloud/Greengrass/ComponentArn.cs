using System.Text.RegularExpressions;
using Fogline.Aws.GreengrassV2;

namespace Fogline.LocalCloud.Greengrass;

/// <summary>
/// A component ARN, <c>arn:aws:greengrass:REGION:ACCOUNT:components:NAME</c>, or a component version ARN with
/// <c>:versions:VERSION</c> after it, as the model's patterns define them.
/// </summary>
/// <param name="Partition">The partition (<c>aws</c>).</param>
/// <param name="Region">The region.</param>
/// <param name="Account">The account, or <c>aws</c> for public components.</param>
/// <param name="Name">The component name.</param>
/// <param name="Version">The version, or null for a component ARN.</param>
public sealed partial record ComponentArn(string Partition, string Region, string Account, string Name, string? Version)
{
    /// <summary>The ARN of a component version.</summary>
    public static ComponentArn ForVersion(string region, string account, string name, string version) => new("aws", region, account, name, version);

    /// <summary>The component ARN (without the version).</summary>
    public ComponentArn Component => this with { Version = null };

    /// <summary>Reads an ARN; a ValidationException saying what is wrong when it is not one.</summary>
    /// <param name="text">The ARN.</param>
    /// <param name="member">The request member it came from (for the error).</param>
    /// <param name="versioned">Whether a version ARN is required (true), a component ARN (false), or either (null).</param>
    public static ComponentArn Parse(string? text, string member, bool? versioned)
    {
        var match = text is null ? null : Pattern().Match(text);
        if (match is null || !match.Success)
        {
            throw ComponentsService.Invalid(member, $"'{text}' is not a component ARN (arn:aws:greengrass:REGION:ACCOUNT:components:NAME[:versions:VERSION])");
        }

        var version = match.Groups["version"].Success ? match.Groups["version"].Value : null;
        if (versioned == true && version is null)
        {
            throw ComponentsService.Invalid(member, $"'{text}' is a component ARN; this operation takes a component version ARN (…:versions:VERSION)");
        }

        if (versioned == false && version is not null)
        {
            throw ComponentsService.Invalid(member, $"'{text}' is a component version ARN; this operation takes a component ARN (without :versions:)");
        }

        return new ComponentArn(match.Groups["partition"].Value, match.Groups["region"].Value, match.Groups["account"].Value, match.Groups["name"].Value, version);
    }

    /// <inheritdoc/>
    public override string ToString() =>
        $"arn:{Partition}:greengrass:{Region}:{Account}:components:{Name}" + (Version is null ? string.Empty : ":versions:" + Version);

    [GeneratedRegex("^arn:(?<partition>[^:]+):greengrass:(?<region>[^:]+):(?<account>aws|[0-9]+):components:(?<name>[^:]+)(:versions:(?<version>[^:]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
