using System.Text.Json;

namespace Fogline.Anomaly.Nab;

/// <summary>
/// A NAB application profile: the weights that turn detections into a score. A detection inside an anomaly window is
/// rewarded up to <see cref="TpWeight"/>, a window without any detection costs <see cref="FnWeight"/>, and every
/// detection outside the windows costs up to <see cref="FpWeight"/>.
/// </summary>
/// <param name="Name">The profile's name in NAB's <c>profiles.json</c>, for instance <c>standard</c>.</param>
/// <param name="TpWeight">The reward for the earliest possible detection of a window.</param>
/// <param name="FnWeight">The cost of a window left undetected.</param>
/// <param name="FpWeight">The cost of a false positive far from any window.</param>
public sealed record NabProfile(string Name, double TpWeight, double FnWeight, double FpWeight)
{
    /// <summary>NAB's <c>standard</c> profile (tp 1, fn 1, fp 0.11).</summary>
    public static NabProfile Standard { get; } = new("standard", 1.0, 1.0, 0.11);

    /// <summary>NAB's <c>reward_low_FP_rate</c> profile (tp 1, fn 1, fp 0.22).</summary>
    public static NabProfile LowFp { get; } = new("reward_low_FP_rate", 1.0, 1.0, 0.22);

    /// <summary>NAB's <c>reward_low_FN_rate</c> profile (tp 1, fn 2, fp 0.11).</summary>
    public static NabProfile LowFn { get; } = new("reward_low_FN_rate", 1.0, 2.0, 0.11);

    /// <summary>The three profiles of NAB in the order of its <c>profiles.json</c>: standard, low FP rate, low FN rate.</summary>
    public static IReadOnlyList<NabProfile> All { get; } = [Standard, LowFp, LowFn];

    /// <summary>Reads the profiles of a NAB <c>profiles.json</c> file, in the file's order.</summary>
    /// <param name="profilesJson">The path of the file: an object mapping each profile name to an object whose
    /// <c>CostMatrix</c> holds <c>tpWeight</c>, <c>fnWeight</c> and <c>fpWeight</c>.</param>
    /// <exception cref="InvalidDataException">The file is not valid JSON or lacks a weight.</exception>
    public static IReadOnlyList<NabProfile> Load(string profilesJson)
    {
        ArgumentException.ThrowIfNullOrEmpty(profilesJson);
        return Parse(File.ReadAllText(profilesJson), profilesJson);
    }

    /// <summary>Parses the text of a NAB <c>profiles.json</c> file.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">Names the text in error messages (a file path, say).</param>
    /// <exception cref="InvalidDataException">The text is not valid JSON or lacks a weight.</exception>
    public static IReadOnlyList<NabProfile> Parse(string json, string source = "profiles.json")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{source}: expected an object of profiles.");
            }

            var profiles = new List<NabProfile>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind != JsonValueKind.Object
                    || !property.Value.TryGetProperty("CostMatrix", out var matrix)
                    || matrix.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"{source}: profile '{property.Name}' has no CostMatrix object.");
                }

                profiles.Add(new NabProfile(
                    property.Name,
                    Weight(matrix, "tpWeight", property.Name, source),
                    Weight(matrix, "fnWeight", property.Name, source),
                    Weight(matrix, "fpWeight", property.Name, source)));
            }

            return profiles;
        }
    }

    private static double Weight(JsonElement matrix, string name, string profile, string source)
    {
        if (!matrix.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Number)
        {
            throw new InvalidDataException($"{source}: profile '{profile}' has no numeric CostMatrix.{name}.");
        }

        return value.GetDouble();
    }
}
