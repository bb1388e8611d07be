using System.Text.Json.Nodes;

namespace Fogline.Greengrass.Recipes;

/// <summary><c>ComponentConfiguration</c>.</summary>
public sealed record ComponentConfiguration
{
    /// <summary>
    /// <c>DefaultConfiguration</c>: free-form JSON (including <c>accessControl</c>), keys as written. Numbers are kept
    /// with the text the Nucleus would give them (<c>1.50</c> reads as <c>1.5</c>, <c>1e3</c> as <c>1000.0</c>).
    /// </summary>
    public JsonObject DefaultConfiguration { get; init; } = [];

    /// <summary>Where <c>ComponentConfiguration</c> is in the recipe.</summary>
    public SourceLocation? Location { get; init; }
}

/// <summary>An entry of <c>ComponentDependencies</c>.</summary>
public sealed record ComponentDependency
{
    /// <summary>The dependency's component name (the key).</summary>
    public required string Name { get; init; }

    /// <summary><c>VersionRequirement</c>: an npm-style range.</summary>
    public required VersionRange VersionRequirement { get; init; }

    /// <summary><c>DependencyType</c> (HARD when not written).</summary>
    public DependencyType DependencyType { get; init; } = DependencyType.Hard;

    /// <summary>Where the entry's key is in the recipe.</summary>
    public SourceLocation? Location { get; init; }
}

/// <summary><c>Permission</c> of an artifact. By default the owner may read and nobody may execute.</summary>
/// <param name="Read"><c>Read</c> (OWNER when not written).</param>
/// <param name="Execute"><c>Execute</c> (NONE when not written).</param>
public sealed record ArtifactPermission(PermissionType Read = PermissionType.Owner, PermissionType Execute = PermissionType.None)
{
    /// <summary>The default: read by the owner, executed by nobody.</summary>
    public static ArtifactPermission Default { get; } = new();
}

/// <summary>An entry of a manifest's <c>Artifacts</c>.</summary>
public sealed record ComponentArtifact
{
    /// <summary><c>URI</c>: <c>s3://bucket/key</c>, <c>greengrass:…</c>, <c>docker:…</c>, …</summary>
    public required string Uri { get; init; }

    /// <summary><c>Digest</c> (set by the cloud service when the component is published).</summary>
    public string? Digest { get; init; }

    /// <summary><c>Algorithm</c> of the digest, e.g. <c>SHA-256</c>.</summary>
    public string? Algorithm { get; init; }

    /// <summary><c>Unarchive</c> (NONE when not written).</summary>
    public Unarchive Unarchive { get; init; } = Unarchive.None;

    /// <summary><c>Permission</c>.</summary>
    public ArtifactPermission Permission { get; init; } = ArtifactPermission.Default;

    /// <summary>Where the artifact is in the recipe.</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>
    /// The artifact's file name: the last segment of the URI's path (what the Nucleus names the downloaded file; a ZIP
    /// unpacks to a folder of the same name without the extension).
    /// </summary>
    public string FileName
    {
        get
        {
            var text = Uri;
            var query = text.IndexOfAny(['?', '#']);
            if (query >= 0)
            {
                text = text[..query];
            }

            var slash = text.LastIndexOf('/');
            if (slash >= 0)
            {
                return text[(slash + 1)..];
            }

            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 ? text[(colon + 1)..] : text;
        }
    }
}
