using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fogline.Rollout.Rollouts;

/// <summary>
/// Where a rollout is, kept in a file after every step so that a second run of the same plan resumes it (the tool
/// killed mid-stage, credentials expired, a pause): the deployment it started from, the order of the group's devices,
/// the stage, the deployments it made (each with a client token derived from the rollout, so a retry makes none twice).
/// </summary>
public sealed class RolloutState
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    /// <summary>The rollout's id (the plan's fingerprint).</summary>
    public required string RolloutId { get; init; }

    /// <summary>The thing group.</summary>
    public required string Group { get; init; }

    /// <summary>The group's deployment when the rollout started (what a revert goes back to).</summary>
    public required string BasisDeploymentId { get; init; }

    /// <summary>The group's devices in the order the stages take them.</summary>
    public List<string> Order { get; init; } = [];

    /// <summary>The thing group the stages before the last are deployed to (a subdeployment of the group's).</summary>
    public required string StageGroup { get; init; }

    /// <summary>The subdeployment to <see cref="StageGroup"/>, once made.</summary>
    public string? SubdeploymentId { get; set; }

    /// <summary>The index of the stage under way.</summary>
    public int Stage { get; set; }

    /// <summary>When the stage under way started (reports older than this prove nothing).</summary>
    public DateTimeOffset? StageStartedAt { get; set; }

    /// <summary>The IoT job of the stage under way.</summary>
    public string? StageJobId { get; set; }

    /// <summary>The group's revision the last stage wrote, once written.</summary>
    public string? FinalDeploymentId { get; set; }

    /// <summary>The group's revision the revert wrote, once written.</summary>
    public string? RevertDeploymentId { get; set; }

    /// <summary><c>running</c>, <c>paused</c>, <c>completed</c>, <c>reverted</c> or <c>failed</c>.</summary>
    public string Status { get; set; } = "running";

    /// <summary>Why it paused, failed or was reverted.</summary>
    public string? Reason { get; set; }

    /// <summary>Every gate verdict so far, one line each.</summary>
    public List<string> Verdicts { get; init; } = [];

    /// <summary>Whether it ended (completed or reverted) and a new run starts afresh.</summary>
    [JsonIgnore]
    public bool IsFinished => Status is "completed" or "reverted";

    /// <summary>The file of a rollout in a state folder.</summary>
    public static string PathOf(string directory, string account, string region, string group, string rolloutId) =>
        Path.Combine(directory, $"{account}-{region}-{group}-{rolloutId}.json");

    /// <summary>Reads a state file, or null when there is none.</summary>
    public static RolloutState? Load(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<RolloutState>(File.ReadAllText(path), Json);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: not a rollout state ({ex.Message}); remove it to start the rollout over", ex);
        }
    }

    /// <summary>Writes the state file (whole, atomically).</summary>
    public void Save(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(this, Json));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
