using System.Globalization;
using System.Text.Json;

namespace Fogline.ComponentKit.Configuration;

/// <summary>
/// A position in a component's configuration (a <see cref="JsonElement"/> and its JSON pointer) with typed readers
/// that throw <see cref="ConfigurationException"/> naming the exact pointer and the problem. Greengrass configuration
/// arrives as JSON where numbers may have become doubles and booleans or numbers may be strings (recipe YAML,
/// UpdateConfiguration from the CLI), so readers accept a number written as a string and "true"/"false" strings.
/// </summary>
public readonly struct ConfigNode
{
    private readonly JsonElement _element;

    /// <summary>Wraps <paramref name="element"/> found at <paramref name="path"/>.</summary>
    public ConfigNode(JsonElement element, string path = "")
    {
        _element = element;
        Path = path;
    }

    /// <summary>JSON pointer of this node.</summary>
    public string Path { get; }

    /// <summary>The raw element (undefined when the node is missing).</summary>
    public JsonElement Element => _element;

    /// <summary>Whether a value is present (not missing, not null).</summary>
    public bool Exists => _element.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    /// <summary>The child <paramref name="name"/> (possibly missing).</summary>
    public ConfigNode this[string name]
    {
        get
        {
            var childPath = Path + "/" + name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
            if (_element.ValueKind == JsonValueKind.Object && _element.TryGetProperty(name, out var child))
            {
                return new ConfigNode(child, childPath);
            }

            return new ConfigNode(default, childPath);
        }
    }

    /// <summary>Fails with a <see cref="ConfigurationException"/> at this node.</summary>
    public ConfigurationException Error(string problem) => new(Path, problem);

    /// <summary>A required string.</summary>
    public string String()
    {
        if (!Exists)
        {
            throw Error("is required (a string)");
        }

        return _element.ValueKind switch
        {
            JsonValueKind.String => _element.GetString()!,
            JsonValueKind.Number => _element.GetRawText(),
            _ => throw Error($"must be a string, not {Describe(_element)}"),
        };
    }

    /// <summary>An optional string.</summary>
    public string String(string defaultValue) => Exists ? String() : defaultValue;

    /// <summary>An optional string, null when missing.</summary>
    public string? StringOrNull() => Exists ? String() : null;

    /// <summary>A required finite number.</summary>
    public double Double()
    {
        if (!Exists)
        {
            throw Error("is required (a number)");
        }

        double value;
        if (_element.ValueKind == JsonValueKind.Number)
        {
            value = _element.GetDouble();
        }
        else if (_element.ValueKind == JsonValueKind.String &&
                 double.TryParse(_element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
        {
            value = parsed;
        }
        else
        {
            throw Error($"must be a number, not {Describe(_element)}");
        }

        if (!double.IsFinite(value))
        {
            throw Error("must be a finite number");
        }

        return value;
    }

    /// <summary>An optional number.</summary>
    public double Double(double defaultValue) => Exists ? Double() : defaultValue;

    /// <summary>An optional number within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double Double(double defaultValue, double min, double max)
    {
        var value = Double(defaultValue);
        if (value < min || value > max)
        {
            throw Error($"must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, not {value.ToString(CultureInfo.InvariantCulture)}");
        }

        return value;
    }

    /// <summary>A required integer (a double with no fraction is accepted, as Greengrass stores numbers as doubles).</summary>
    public long Int64()
    {
        var value = Double();
        if (value != Math.Floor(value) || value < long.MinValue || value > long.MaxValue)
        {
            throw Error($"must be a whole number, not {value.ToString(CultureInfo.InvariantCulture)}");
        }

        return (long)value;
    }

    /// <summary>An optional integer within [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public int Int32(int defaultValue, int min = int.MinValue, int max = int.MaxValue)
    {
        var value = Exists ? Int64() : defaultValue;
        if (value < min || value > max)
        {
            throw Error($"must be between {min} and {max}, not {value}");
        }

        return (int)value;
    }

    /// <summary>An optional boolean.</summary>
    public bool Boolean(bool defaultValue)
    {
        if (!Exists)
        {
            return defaultValue;
        }

        return _element.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String when bool.TryParse(_element.GetString(), out var b) => b,
            _ => throw Error($"must be true or false, not {Describe(_element)}"),
        };
    }

    /// <summary>An optional duration in seconds (a positive number), as a <see cref="TimeSpan"/>.</summary>
    public TimeSpan Seconds(double defaultSeconds, double minSeconds = 0.001, double maxSeconds = 366 * 24 * 3600.0) =>
        TimeSpan.FromSeconds(Double(defaultSeconds, minSeconds, maxSeconds));

    /// <summary>An optional value that must be one of <paramref name="allowed"/> (compared ignoring case); returns the allowed spelling.</summary>
    public string OneOf(string defaultValue, params string[] allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        var value = String(defaultValue);
        foreach (var a in allowed)
        {
            if (string.Equals(a, value, StringComparison.OrdinalIgnoreCase))
            {
                return a;
            }
        }

        throw Error($"must be one of {string.Join(", ", allowed)}, not \"{value}\"");
    }

    /// <summary>The items of an array (empty when missing).</summary>
    public IEnumerable<ConfigNode> Items()
    {
        if (!Exists)
        {
            yield break;
        }

        if (_element.ValueKind != JsonValueKind.Array)
        {
            throw Error($"must be a list, not {Describe(_element)}");
        }

        var i = 0;
        foreach (var item in _element.EnumerateArray())
        {
            yield return new ConfigNode(item, Path + "/" + i.ToString(CultureInfo.InvariantCulture));
            i++;
        }
    }

    /// <summary>The members of an object (empty when missing), as (name, node).</summary>
    public IEnumerable<(string Name, ConfigNode Node)> Members()
    {
        if (!Exists)
        {
            yield break;
        }

        if (_element.ValueKind != JsonValueKind.Object)
        {
            throw Error($"must be an object, not {Describe(_element)}");
        }

        foreach (var p in _element.EnumerateObject())
        {
            yield return (p.Name, this[p.Name]);
        }
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => $"the string \"{Truncate(e.GetString()!)}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {e.GetRawText()}",
        _ => "null",
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";
}
