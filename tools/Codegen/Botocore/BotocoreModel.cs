using System.Text.Json;

namespace Fogline.Codegen.Botocore;

/// <summary>The parts of a botocore <c>service-2.json</c> the generator uses.</summary>
internal sealed class BotocoreModel
{
    private BotocoreModel(JsonElement root)
    {
        var metadata = root.GetProperty("metadata");
        ApiVersion = metadata.GetProperty("apiVersion").GetString()!;
        Protocol = metadata.GetProperty("protocol").GetString()!;
        ServiceId = metadata.GetProperty("serviceId").GetString()!;
        SigningName = metadata.TryGetProperty("signingName", out var signing) ? signing.GetString()! : metadata.GetProperty("endpointPrefix").GetString()!;
        foreach (var (name, op) in root.GetProperty("operations").EnumerateObject().Select(p => (p.Name, p.Value)))
        {
            var http = op.GetProperty("http");
            Operations[name] = new BotocoreOperation(
                name,
                http.GetProperty("method").GetString()!,
                http.GetProperty("requestUri").GetString()!,
                http.TryGetProperty("responseCode", out var code) ? code.GetInt32() : 200,
                op.TryGetProperty("input", out var input) ? input.GetProperty("shape").GetString() : null,
                op.TryGetProperty("output", out var output) ? output.GetProperty("shape").GetString() : null,
                op.TryGetProperty("errors", out var errors) ? [.. errors.EnumerateArray().Select(e => e.GetProperty("shape").GetString()!)] : []);
        }

        foreach (var shape in root.GetProperty("shapes").EnumerateObject())
        {
            Shapes[shape.Name] = BotocoreShape.Read(shape.Name, shape.Value);
        }
    }

    public string ApiVersion { get; }

    public string Protocol { get; }

    public string ServiceId { get; }

    public string SigningName { get; }

    public SortedDictionary<string, BotocoreOperation> Operations { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, BotocoreShape> Shapes { get; } = new(StringComparer.Ordinal);

    public static BotocoreModel Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return new BotocoreModel(document.RootElement.Clone());
    }
}

/// <summary>An operation: its HTTP binding and shapes.</summary>
internal sealed record BotocoreOperation(string Name, string Method, string RequestUri, int ResponseCode, string? Input, string? Output, IReadOnlyList<string> Errors);

/// <summary>A member of a structure.</summary>
internal sealed record BotocoreMember(
    string Name,
    string Shape,
    string? Location,
    string? LocationName,
    bool Required,
    bool IdempotencyToken,
    string? Documentation);

/// <summary>A shape.</summary>
internal sealed class BotocoreShape
{
    public required string Name { get; init; }

    public required string Type { get; init; }

    public IReadOnlyList<BotocoreMember> Members { get; init; } = [];

    public string? ListMember { get; init; }

    public string? MapKey { get; init; }

    public string? MapValue { get; init; }

    public IReadOnlyList<string> Enum { get; init; } = [];

    public string? Payload { get; init; }

    public bool IsError { get; init; }

    public int ErrorStatus { get; init; } = 400;

    public string? ErrorCode { get; init; }

    public string? TimestampFormat { get; init; }

    public string? Documentation { get; init; }

    public static BotocoreShape Read(string name, JsonElement e)
    {
        var required = e.TryGetProperty("required", out var r) ? r.EnumerateArray().Select(x => x.GetString()!).ToHashSet(StringComparer.Ordinal) : [];
        var members = new List<BotocoreMember>();
        if (e.TryGetProperty("members", out var m))
        {
            foreach (var p in m.EnumerateObject())
            {
                members.Add(new BotocoreMember(
                    p.Name,
                    p.Value.GetProperty("shape").GetString()!,
                    p.Value.TryGetProperty("location", out var loc) ? loc.GetString() : null,
                    p.Value.TryGetProperty("locationName", out var ln) ? ln.GetString() : null,
                    required.Contains(p.Name),
                    p.Value.TryGetProperty("idempotencyToken", out var it) && it.GetBoolean(),
                    p.Value.TryGetProperty("documentation", out var doc) ? doc.GetString() : null));
            }
        }

        var error = e.TryGetProperty("error", out var err) ? err : default;
        return new BotocoreShape
        {
            Name = name,
            Type = e.GetProperty("type").GetString()!,
            Members = members,
            ListMember = e.TryGetProperty("member", out var lm) ? lm.GetProperty("shape").GetString() : null,
            MapKey = e.TryGetProperty("key", out var k) ? k.GetProperty("shape").GetString() : null,
            MapValue = e.TryGetProperty("value", out var v) ? v.GetProperty("shape").GetString() : null,
            Enum = e.TryGetProperty("enum", out var en) ? [.. en.EnumerateArray().Select(x => x.GetString()!)] : [],
            Payload = e.TryGetProperty("payload", out var pl) ? pl.GetString() : null,
            IsError = e.TryGetProperty("exception", out var ex) && ex.GetBoolean(),
            ErrorStatus = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("httpStatusCode", out var sc) ? sc.GetInt32() : 400,
            ErrorCode = error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) ? code.GetString() : null,
            TimestampFormat = e.TryGetProperty("timestampFormat", out var tf) ? tf.GetString() : null,
            Documentation = e.TryGetProperty("documentation", out var d) ? d.GetString() : null,
        };
    }
}
