using System.Text.Json.Serialization;

namespace Fogline.LocalCloud.Greengrass;

/// <summary>A component version as the local cloud keeps it on disk (one JSON file per version).</summary>
public sealed class ComponentVersionRecord
{
    /// <summary>The account that owns it.</summary>
    public required string Account { get; init; }

    /// <summary>The region it lives in.</summary>
    public required string Region { get; init; }

    /// <summary>ComponentName.</summary>
    public required string Name { get; init; }

    /// <summary>ComponentVersion.</summary>
    public required string Version { get; init; }

    /// <summary>When it was created.</summary>
    public required DateTimeOffset Created { get; init; }

    /// <summary>ComponentPublisher.</summary>
    public string? Publisher { get; init; }

    /// <summary>ComponentDescription.</summary>
    public string? Description { get; init; }

    /// <summary>The manifests' platforms (name and attributes).</summary>
    public List<PlatformRecord> Platforms { get; init; } = [];

    /// <summary>The tags given at creation.</summary>
    public Dictionary<string, string> Tags { get; init; } = [];

    /// <summary>The artifacts the recipe names, in manifest order.</summary>
    public List<ArtifactRecord> Artifacts { get; init; } = [];

    /// <summary>The cloud state: REQUESTED until processed, then DEPLOYABLE or FAILED.</summary>
    public string State { get; set; } = Aws.GreengrassV2.CloudComponentState.REQUESTED;

    /// <summary>The status message (<c>NONE</c> when there is nothing to say).</summary>
    public string Message { get; set; } = "NONE";

    /// <summary>Why processing failed, per artifact URI.</summary>
    public Dictionary<string, string> Errors { get; set; } = [];

    /// <summary>The creation request's idempotency token.</summary>
    public string? ClientToken { get; init; }

    /// <summary>The SHA-256 of the creation request (recipe and tags), to tell a retry from a different request.</summary>
    public required string RequestHash { get; init; }

    /// <summary>The ARN of this version.</summary>
    [JsonIgnore]
    public ComponentArn Arn => ComponentArn.ForVersion(Region, Account, Name, Version);
}

/// <summary>A manifest's platform.</summary>
/// <param name="Name">The manifest's name, if it has one.</param>
/// <param name="Attributes">The platform attributes (os, architecture, …).</param>
public sealed record PlatformRecord(string? Name, Dictionary<string, string> Attributes);

/// <summary>An artifact of a component version, and its digest once the cloud has read it.</summary>
/// <param name="Uri">The URI as the recipe has it.</param>
/// <param name="Digest">The base64 SHA-256 of the artifact, set when the version is processed.</param>
public sealed record ArtifactRecord(string Uri, string? Digest = null);
