using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Fogline.Greengrass.Recipes.Reading;

/// <summary>
/// Reads a JSON document into <see cref="RecipeNode"/>s with their places (strict JSON: no comments, no trailing
/// commas, as Jackson reads JSON recipes), from <see cref="Utf8JsonReader"/> token offsets.
/// </summary>
internal static partial class JsonDocumentReader
{
    public static RecipeNode? Read(byte[] utf8, string file, List<RecipeError> errors)
    {
        var offset = utf8.Length >= 3 && utf8[0] == 0xEF && utf8[1] == 0xBB && utf8[2] == 0xBF ? 3 : 0;
        var bytes = new ReadOnlySpan<byte>(utf8, offset, utf8.Length - offset);
        var lines = new LineMap(utf8, offset);
        if (IsBlank(bytes))
        {
            errors.Add(new RecipeError(file, 1, 1, "the recipe is empty"));
            return null;
        }

        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions
        {
            CommentHandling = JsonCommentHandling.Disallow,
            AllowTrailingCommas = false,
            MaxDepth = 256,
        });
        try
        {
            reader.Read();
            var root = ReadValue(ref reader, file, lines, errors);

            // Anything after the root value is a syntax error that Read reports.
            while (reader.Read())
            {
            }

            return root;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0);
            var bytePosition = (int)(e.BytePositionInLine ?? 0);
            errors.Add(new RecipeError(file, line + 1, lines.ColumnOfLineByte(line, bytePosition), "JSON syntax error: " + StripPosition(e.Message)));
            return null;
        }
    }

    private static RecipeNode ReadValue(ref Utf8JsonReader reader, string file, LineMap lines, List<RecipeError> errors)
    {
        var location = lines.Locate(file, reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    var entries = new List<RecipeMappingEntry>();
                    var seen = new Dictionary<string, RecipeScalar>(StringComparer.Ordinal);
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var key = StringScalar(ref reader, lines.Locate(file, reader.TokenStartIndex));
                        reader.Read();
                        var value = ReadValue(ref reader, file, lines, errors);
                        if (seen.TryGetValue(key.Value, out var first))
                        {
                            errors.Add(new RecipeError(key.Location, $"duplicate key '{key.Value}' (first at line {first.Location.Line.ToString(CultureInfo.InvariantCulture)})"));
                            continue;
                        }

                        seen.Add(key.Value, key);
                        entries.Add(new RecipeMappingEntry(key, value));
                    }

                    return new RecipeMapping(location, entries);
                }

            case JsonTokenType.StartArray:
                {
                    var items = new List<RecipeNode>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        items.Add(ReadValue(ref reader, file, lines, errors));
                    }

                    return new RecipeSequence(location, items);
                }

            case JsonTokenType.String:
                return StringScalar(ref reader, location);
            case JsonTokenType.Number:
                {
                    var raw = Encoding.UTF8.GetString(reader.ValueSpan);
                    var isInteger = raw.IndexOfAny(['.', 'e', 'E']) < 0;
                    return new RecipeScalar(location, raw, isInteger ? RecipeScalarType.Integer : RecipeScalarType.Float, false, raw.Length);
                }

            case JsonTokenType.True:
                return new RecipeScalar(location, "true", RecipeScalarType.Boolean, false, 4);
            case JsonTokenType.False:
                return new RecipeScalar(location, "false", RecipeScalarType.Boolean, false, 5);
            default:
                return new RecipeScalar(location, "null", RecipeScalarType.Null, false, 4);
        }
    }

    private static RecipeScalar StringScalar(ref Utf8JsonReader reader, SourceLocation location)
    {
        var value = reader.GetString() ?? string.Empty;
        var sourceLength = reader.ValueIsEscaped ? -1 : value.Length + 2;
        return new RecipeScalar(location, value, RecipeScalarType.String, true, sourceLength);
    }

    private static bool IsBlank(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
        {
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return false;
            }
        }

        return true;
    }

    private static string StripPosition(string message) => PositionPattern().Replace(message, string.Empty);

    [GeneratedRegex(@"\s*(?:Path: \S*\s*\|\s*)?LineNumber: \d+ \| BytePositionInLine: \d+\.?$", RegexOptions.CultureInvariant)]
    private static partial Regex PositionPattern();

    /// <summary>Maps byte offsets (relative to the JSON after any BOM) to lines and character columns.</summary>
    private sealed class LineMap
    {
        private readonly byte[] _utf8;
        private readonly int _offset;
        private readonly List<int> _lineStarts = [];

        public LineMap(byte[] utf8, int offset)
        {
            _utf8 = utf8;
            _offset = offset;
            _lineStarts.Add(offset);
            for (var i = offset; i < utf8.Length; i++)
            {
                if (utf8[i] == (byte)'\n')
                {
                    _lineStarts.Add(i + 1);
                }
            }
        }

        public SourceLocation Locate(string file, long tokenStart)
        {
            var absolute = (int)tokenStart + _offset;
            var index = _lineStarts.BinarySearch(absolute);
            var line = index >= 0 ? index : ~index - 1;
            return new SourceLocation(file, line + 1, Column(line, absolute));
        }

        public int ColumnOfLineByte(int line, int bytePosition)
        {
            line = Math.Clamp(line, 0, _lineStarts.Count - 1);
            return Column(line, Math.Min(_utf8.Length, _lineStarts[line] + bytePosition));
        }

        private int Column(int line, int absolute)
        {
            var start = _lineStarts[line];
            return Encoding.UTF8.GetCharCount(_utf8, start, Math.Max(0, absolute - start)) + 1;
        }
    }
}
