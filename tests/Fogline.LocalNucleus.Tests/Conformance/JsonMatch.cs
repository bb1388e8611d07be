using System.Text.Json.Nodes;

namespace Fogline.LocalNucleus.Tests.Conformance;

/// <summary>
/// Matches a result against an expectation: objects match when every expected key matches (extra keys in the result
/// are allowed), arrays element by element with the same length. Special string values: "$any" (present, any value),
/// "$absent" (missing or null), "$number", "$string", "$nonEmptyString"; {"$jsonBlob": pattern} decodes a base64 value and matches the JSON inside.
/// </summary>
public static class JsonMatch
{
    public static IReadOnlyList<string> Differences(JsonNode? expected, JsonNode? actual)
    {
        var differences = new List<string>();
        Compare(expected, actual, "$", differences);
        return differences;
    }

    private static void Compare(JsonNode? expected, JsonNode? actual, string path, List<string> differences)
    {
        if (expected is JsonValue marker && marker.TryGetValue<string>(out var text) && text.StartsWith('$'))
        {
            var ok = text switch
            {
                "$any" => actual is not null,
                "$absent" => actual is null,
                "$number" => actual is JsonValue n && n.TryGetValue<double>(out _),
                "$string" => actual is JsonValue s && s.TryGetValue<string>(out _),
                "$nonEmptyString" => actual is JsonValue s2 && s2.TryGetValue<string>(out var v) && v.Length > 0,
                _ => JsonNode.DeepEquals(expected, actual),
            };
            if (!ok)
            {
                differences.Add($"{path}: expected {text}, got {actual?.ToJsonString() ?? "nothing"}");
            }

            return;
        }

        switch (expected)
        {
            case null:
                if (actual is not null)
                {
                    differences.Add($"{path}: expected null, got {actual.ToJsonString()}");
                }

                break;
            case JsonObject blob when blob.Count == 1 && blob["$jsonBlob"] is { } inner:
                // A blob (base64 on the wire) holding a JSON document, matched against the pattern inside.
                JsonNode? decoded = null;
                try
                {
                    decoded = actual is JsonValue b64 && b64.TryGetValue<string>(out var base64)
                        ? JsonNode.Parse(Convert.FromBase64String(base64))
                        : null;
                }
                catch (Exception e) when (e is FormatException or System.Text.Json.JsonException)
                {
                    differences.Add($"{path}: expected a base64 JSON document, got {actual?.ToJsonString()} ({e.Message})");
                    return;
                }

                if (decoded is null)
                {
                    differences.Add($"{path}: expected a base64 JSON document, got {actual?.ToJsonString() ?? "nothing"}");
                    return;
                }

                Compare(inner, decoded, path + "<json>", differences);
                break;
            case JsonObject eo:
                if (actual is not JsonObject ao)
                {
                    differences.Add($"{path}: expected an object, got {actual?.ToJsonString() ?? "nothing"}");
                    return;
                }

                foreach (var (key, value) in eo)
                {
                    Compare(value, ao[key], $"{path}.{key}", differences);
                }

                break;
            case JsonArray ea:
                if (actual is not JsonArray aa || aa.Count != ea.Count)
                {
                    differences.Add($"{path}: expected {ea.Count} items {ea.ToJsonString()}, got {actual?.ToJsonString() ?? "nothing"}");
                    return;
                }

                for (var i = 0; i < ea.Count; i++)
                {
                    Compare(ea[i], aa[i], $"{path}[{i}]", differences);
                }

                break;
            default:
                if (expected is JsonValue ev && actual is JsonValue av && ev.TryGetValue<double>(out var ed) && av.TryGetValue<double>(out var ad))
                {
                    if (ed != ad)
                    {
                        differences.Add($"{path}: expected {ed}, got {ad}");
                    }
                }
                else if (!JsonNode.DeepEquals(expected, actual))
                {
                    differences.Add($"{path}: expected {expected.ToJsonString()}, got {actual?.ToJsonString() ?? "nothing"}");
                }

                break;
        }
    }
}
