using System.Globalization;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;

namespace Fogline.LocalNucleus.Deployments;

/// <summary>A local deployment: what was asked and what became of it, persisted as <c>&lt;root&gt;/deployments/&lt;id&gt;.json</c>.</summary>
public sealed class DeploymentRecord
{
    /// <summary>The group local deployments belong to when none is given, as greengrass-cli names it.</summary>
    public const string LocalGroup = "LOCAL_DEPLOYMENT";

    /// <summary>Deployment id (a UUID).</summary>
    public required string Id { get; init; }

    /// <summary>When it was created, milliseconds since the epoch (what greengrass-cli shows as "Created on").</summary>
    public required long CreatedOn { get; init; }

    /// <summary>The group whose root components it changes.</summary>
    public string GroupName { get; init; } = LocalGroup;

    /// <summary>Root components to add or update, name to version.</summary>
    public IReadOnlyDictionary<string, string> RootsToAdd { get; init; } = new Dictionary<string, string>();

    /// <summary>Root components to remove.</summary>
    public IReadOnlyList<string> RootsToRemove { get; init; } = [];

    /// <summary>Configuration updates by component.</summary>
    public IReadOnlyDictionary<string, ConfigurationUpdate> ConfigurationUpdates { get; init; } = new Dictionary<string, ConfigurationUpdate>();

    /// <summary>ROLLBACK (default) or DO_NOTHING.</summary>
    public FailureHandlingPolicy FailurePolicy { get; init; } = FailureHandlingPolicy.Rollback;

    /// <summary>QUEUED, IN_PROGRESS, SUCCEEDED, FAILED or CANCELED.</summary>
    public DeploymentStatus Status { get; set; } = DeploymentStatus.Queued;

    /// <summary>The detailed outcome once finished.</summary>
    public DetailedDeploymentStatus? Detailed { get; set; }

    /// <summary>Error codes, most general first, as the Nucleus reports them.</summary>
    public IReadOnlyList<string> ErrorStack { get; set; } = [];

    /// <summary>Error types.</summary>
    public IReadOnlyList<string> ErrorTypes { get; set; } = [];

    /// <summary>What went wrong, in sentences (file:line:col where a recipe is at fault).</summary>
    public string? FailureCause { get; set; }

    /// <summary>Whether the deployment has finished (succeeded, failed or was canceled).</summary>
    public bool IsFinished => Status == DeploymentStatus.Succeeded || Status == DeploymentStatus.Failed || Status == DeploymentStatus.Canceled;

    /// <summary>The IPC shape.</summary>
    public LocalDeployment ToIpc() => new()
    {
        DeploymentId = Id,
        Status = Status,
        CreatedOn = CreatedOn.ToString(CultureInfo.InvariantCulture),
        DeploymentStatusDetails = Detailed is null ? null : new DeploymentStatusDetails
        {
            DetailedDeploymentStatus = Detailed,
            DeploymentErrorStack = ErrorStack.Count == 0 ? null : ErrorStack,
            DeploymentErrorTypes = ErrorTypes.Count == 0 ? null : ErrorTypes,
            DeploymentFailureCause = FailureCause,
        },
    };

    /// <summary>The record as JSON.</summary>
    public JsonObject ToJson()
    {
        var updates = new JsonObject();
        foreach (var (name, update) in ConfigurationUpdates)
        {
            updates[name] = new JsonObject
            {
                ["MERGE"] = update.Merge?.DeepClone(),
                ["RESET"] = update.Reset is null ? null : new JsonArray([.. update.Reset.Select(r => (JsonNode?)JsonValue.Create(r))]),
            };
        }

        return new JsonObject
        {
            ["id"] = Id,
            ["createdOn"] = CreatedOn,
            ["groupName"] = GroupName,
            ["rootsToAdd"] = new JsonObject([.. RootsToAdd.Select(r => KeyValuePair.Create(r.Key, (JsonNode?)JsonValue.Create(r.Value)))]),
            ["rootsToRemove"] = new JsonArray([.. RootsToRemove.Select(r => (JsonNode?)JsonValue.Create(r))]),
            ["configurationUpdates"] = updates,
            ["failureHandlingPolicy"] = FailurePolicy.Value,
            ["status"] = Status.Value,
            ["detailedStatus"] = Detailed?.Value,
            ["errorStack"] = new JsonArray([.. ErrorStack.Select(e => (JsonNode?)JsonValue.Create(e))]),
            ["errorTypes"] = new JsonArray([.. ErrorTypes.Select(e => (JsonNode?)JsonValue.Create(e))]),
            ["failureCause"] = FailureCause,
        };
    }

    /// <summary>Reads a record written by <see cref="ToJson"/>.</summary>
    public static DeploymentRecord FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var updates = new Dictionary<string, ConfigurationUpdate>(StringComparer.Ordinal);
        foreach (var (name, node) in json["configurationUpdates"]?.AsObject() ?? [])
        {
            updates[name] = new ConfigurationUpdate(node?["MERGE"]?.DeepClone() as JsonObject, node?["RESET"]?.AsArray().Select(r => r!.GetValue<string>()).ToList());
        }

        return new DeploymentRecord
        {
            Id = json["id"]!.GetValue<string>(),
            CreatedOn = json["createdOn"]!.GetValue<long>(),
            GroupName = json["groupName"]?.GetValue<string>() ?? LocalGroup,
            RootsToAdd = json["rootsToAdd"]?.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>(), StringComparer.Ordinal) ?? [],
            RootsToRemove = json["rootsToRemove"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [],
            ConfigurationUpdates = updates,
            FailurePolicy = new FailureHandlingPolicy(json["failureHandlingPolicy"]?.GetValue<string>() ?? "ROLLBACK"),
            Status = new DeploymentStatus(json["status"]!.GetValue<string>()),
            Detailed = json["detailedStatus"]?.GetValue<string>() is { } detailed ? new DetailedDeploymentStatus(detailed) : null,
            ErrorStack = json["errorStack"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [],
            ErrorTypes = json["errorTypes"]?.AsArray().Select(r => r!.GetValue<string>()).ToList() ?? [],
            FailureCause = json["failureCause"]?.GetValue<string>(),
        };
    }
}
