namespace Fogline.LocalNucleus.Authorization;

/// <summary>
/// One access control policy as the Nucleus holds it after parsing: an id (the key under the destination), the
/// principals it is for (the component whose configuration declares it), the operations and the resources (null when
/// the policy has none). Operations and resources are sets in the Nucleus (Java HashSets), kept here in the order such
/// a set iterates, which is the order they are turned into permissions.
/// </summary>
internal sealed record AuthorizationPolicy(
    string PolicyId,
    string? PolicyDescription,
    IReadOnlyList<string> Principals,
    IReadOnlyList<string> Operations,
    IReadOnlyList<string?>? Resources);
