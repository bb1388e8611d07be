using System.Text.Json;

namespace Fogline.Anomaly.Shadow;

/// <summary>What was decided about a candidate model file.</summary>
/// <param name="Sha256">The file's SHA-256 (hex): a decision is about these bytes, whatever the file is called.</param>
/// <param name="Model">The model's name when it was decided.</param>
/// <param name="Decision">promoted, discarded, or reported (report-only trial).</param>
/// <param name="At">When (UTC).</param>
/// <param name="Summary">The trial's figures and reasons in one line.</param>
public sealed record ModelDecision(string Sha256, string Model, string Decision, DateTimeOffset At, string Summary);

/// <summary>The model a promotion made active, and the configured <c>model</c> it replaced.</summary>
/// <param name="ConfiguredModel">The configuration's <c>model</c> when the candidate was promoted: the promotion holds while it is unchanged.</param>
/// <param name="Path">The promoted model's file.</param>
public sealed record PromotedModel(string ConfiguredModel, string Path);

/// <summary>
/// Shadow-trial decisions kept across restarts in <c>model-decisions.json</c> of the component's work folder: a promoted
/// candidate stays the active model after a restart and after later candidates, until a deployment changes the
/// configuration's <c>model</c>; a discarded candidate is not tried again. Written atomically (temporary file, then
/// rename).
/// </summary>
public sealed class ModelDecisions
{
    /// <summary>The file's name.</summary>
    public const string FileName = "model-decisions.json";

    private readonly Dictionary<string, ModelDecision> _decisions = new(StringComparer.Ordinal);
    private readonly string _path;

    private ModelDecisions(string path) => _path = path;

    /// <summary>Decisions so far.</summary>
    public IReadOnlyCollection<ModelDecision> All => _decisions.Values;

    /// <summary>The model the last promotion made active, or null.</summary>
    public PromotedModel? Promoted { get; private set; }

    /// <summary>Reads the decisions of a folder (none when the file does not exist); a damaged file is reported, not ignored.</summary>
    public static ModelDecisions Load(string directory)
    {
        var decisions = new ModelDecisions(Path.Combine(directory, FileName));
        if (!File.Exists(decisions._path))
        {
            return decisions;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(decisions._path));
            foreach (var item in document.RootElement.GetProperty("decisions").EnumerateArray())
            {
                var decision = new ModelDecision(
                    Text(item, "sha256"),
                    Text(item, "model"),
                    Text(item, "decision"),
                    item.GetProperty("at").GetDateTimeOffset(),
                    Text(item, "summary"));
                decisions._decisions[decision.Sha256] = decision;
            }

            if (document.RootElement.TryGetProperty("promoted", out var promoted) && promoted.ValueKind == JsonValueKind.Object)
            {
                decisions.Promoted = new PromotedModel(Text(promoted, "configuredModel"), Text(promoted, "path"));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{decisions._path} is damaged ({e.Message}); move it away to start without recorded decisions", e);
        }

        return decisions;

        static string Text(JsonElement item, string name) =>
            item.GetProperty(name).GetString() is { } text ? text : throw new FormatException($"'{name}' is null");
    }

    /// <summary>The decision about a file, or null.</summary>
    public ModelDecision? Find(string sha256) => _decisions.GetValueOrDefault(sha256);

    /// <summary>Records a decision (and, for a promotion, the model it made active) and writes the file.</summary>
    public void Record(ModelDecision decision, PromotedModel? promoted = null)
    {
        ArgumentNullException.ThrowIfNull(decision);
        _decisions[decision.Sha256] = decision;
        if (promoted is not null)
        {
            Promoted = promoted;
        }

        Save();
    }

    /// <summary>Forgets the promoted model (the configuration now names another one) and writes the file.</summary>
    public void ClearPromoted()
    {
        if (Promoted is not null)
        {
            Promoted = null;
            Save();
        }
    }

    private void Save()
    {
        var temporary = _path + ".tmp";
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        using (var stream = File.Create(temporary))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("decisions");
            foreach (var d in _decisions.Values.OrderBy(d => d.At))
            {
                writer.WriteStartObject();
                writer.WriteString("sha256", d.Sha256);
                writer.WriteString("model", d.Model);
                writer.WriteString("decision", d.Decision);
                writer.WriteString("at", d.At);
                writer.WriteString("summary", d.Summary);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            if (Promoted is { } promoted)
            {
                writer.WriteStartObject("promoted");
                writer.WriteString("configuredModel", promoted.ConfiguredModel);
                writer.WriteString("path", promoted.Path);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        File.Move(temporary, _path, overwrite: true);
    }
}
