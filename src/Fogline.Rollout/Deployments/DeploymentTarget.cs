namespace Fogline.Rollout.Deployments;

/// <summary>A deployment target: a thing group (or a thing) in an account and region, with its ARN.</summary>
/// <param name="Kind"><c>thinggroup</c> or <c>thing</c>.</param>
/// <param name="Name">The group's or thing's name.</param>
/// <param name="Account">The account.</param>
/// <param name="Region">The region.</param>
public sealed record DeploymentTarget(string Kind, string Name, string Account, string Region)
{
    /// <summary>The target's ARN, as CreateDeployment takes it.</summary>
    public string Arn => $"arn:aws:iot:{Region}:{Account}:{Kind}/{Name}";

    /// <summary>A thing group.</summary>
    public static DeploymentTarget Group(string name, string account, string region) => new("thinggroup", name, account, region);

    /// <summary>What a person reads: <c>thing group NAME</c> or <c>thing NAME</c>.</summary>
    public override string ToString() => (Kind == "thing" ? "thing " : "thing group ") + Name;
}
