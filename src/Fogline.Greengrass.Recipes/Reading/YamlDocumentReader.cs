using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Fogline.Greengrass.Recipes.Reading;

/// <summary>
/// Reads a YAML document into <see cref="RecipeNode"/>s with their places, from YamlDotNet's event parser. Plain
/// scalars are typed by YAML 1.2's core schema (as Jackson's YAML parser, which the Nucleus uses, also does for
/// booleans and nulls: <c>yes</c>/<c>no</c> stay strings).
/// </summary>
internal static partial class YamlDocumentReader
{
    private const string TagPrefix = "tag:yaml.org,2002:";

    public static RecipeNode? Read(string text, string file, List<RecipeError> errors)
    {
        var parser = new Parser(new StringReader(text));
        var anchors = new Dictionary<string, RecipeNode>(StringComparer.Ordinal);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                errors.Add(new RecipeError(file, 1, 1, "the recipe is empty"));
                return null;
            }

            parser.Consume<DocumentStart>();
            var root = ReadNode(parser, file, anchors, errors);
            parser.Consume<DocumentEnd>();
            if (parser.Accept<DocumentStart>(out var second))
            {
                errors.Add(new RecipeError(At(file, second.Start), "a recipe is one YAML document; this file has more than one"));
            }

            return root;
        }
        catch (YamlException e)
        {
            errors.Add(new RecipeError(At(file, e.Start), "YAML syntax error: " + StripMarks(e.Message)));
            return null;
        }
    }

    private static RecipeNode ReadNode(IParser parser, string file, Dictionary<string, RecipeNode> anchors, List<RecipeError> errors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var target))
            {
                return target;
            }

            errors.Add(new RecipeError(At(file, alias.Start), $"the alias *{alias.Value.Value} refers to no anchor"));
            return new RecipeScalar(At(file, alias.Start), string.Empty, RecipeScalarType.Null);
        }

        RecipeNode node;
        string? anchor;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            anchor = scalar.Anchor.IsEmpty ? null : scalar.Anchor.Value;
            node = ToScalar(scalar, file);
        }
        else if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            anchor = sequenceStart.Anchor.IsEmpty ? null : sequenceStart.Anchor.Value;
            var items = new List<RecipeNode>();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                items.Add(ReadNode(parser, file, anchors, errors));
            }

            node = new RecipeSequence(At(file, sequenceStart.Start), items);
        }
        else if (parser.TryConsume<MappingStart>(out var mappingStart))
        {
            anchor = mappingStart.Anchor.IsEmpty ? null : mappingStart.Anchor.Value;
            var entries = new List<RecipeMappingEntry>();
            var seen = new Dictionary<string, RecipeScalar>(StringComparer.Ordinal);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyNode = ReadNode(parser, file, anchors, errors);
                var value = ReadNode(parser, file, anchors, errors);
                if (keyNode is not RecipeScalar key)
                {
                    errors.Add(new RecipeError(keyNode.Location, $"a key must be a plain value, not {keyNode.Describe()}"));
                    continue;
                }

                if (seen.TryGetValue(key.Value, out var first))
                {
                    errors.Add(new RecipeError(key.Location, $"duplicate key '{key.Value}' (first at line {first.Location.Line.ToString(CultureInfo.InvariantCulture)})"));
                    continue;
                }

                seen.Add(key.Value, key);
                entries.Add(new RecipeMappingEntry(key, value));
            }

            node = new RecipeMapping(At(file, mappingStart.Start), entries);
        }
        else
        {
            var current = parser.Current!;
            throw new YamlException(current.Start, current.End, $"unexpected {current.GetType().Name}");
        }

        if (anchor is not null)
        {
            anchors[anchor] = node;
        }

        return node;
    }

    private static RecipeScalar ToScalar(Scalar scalar, string file)
    {
        var location = At(file, scalar.Start);
        var sameLine = scalar.Start.Line == scalar.End.Line;
        var sourceLength = sameLine && scalar.Style is ScalarStyle.Plain or ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted
            ? (int)(scalar.End.Index - scalar.Start.Index)
            : -1;
        var quoted = scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted;
        RecipeScalarType type;
        if (!scalar.Tag.IsEmpty)
        {
            var tag = scalar.Tag.Value;
            type = tag switch
            {
                TagPrefix + "int" => RecipeScalarType.Integer,
                TagPrefix + "float" => RecipeScalarType.Float,
                TagPrefix + "bool" => RecipeScalarType.Boolean,
                TagPrefix + "null" => RecipeScalarType.Null,
                _ => RecipeScalarType.String,
            };
        }
        else if (scalar.Style == ScalarStyle.Plain)
        {
            type = Resolve(scalar.Value);
        }
        else
        {
            type = RecipeScalarType.String;
        }

        return new RecipeScalar(location, scalar.Value, type, quoted, sourceLength);
    }

    /// <summary>The YAML 1.2 core schema's resolution of a plain scalar.</summary>
    internal static RecipeScalarType Resolve(string value)
    {
        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return RecipeScalarType.Null;
        }

        if (value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return RecipeScalarType.Boolean;
        }

        if (IntegerPattern().IsMatch(value))
        {
            return RecipeScalarType.Integer;
        }

        if (FloatPattern().IsMatch(value))
        {
            return RecipeScalarType.Float;
        }

        return RecipeScalarType.String;
    }

    internal static SourceLocation At(string file, Mark mark) =>
        new(file, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column));

    private static string StripMarks(string message) => MarksPattern().Replace(message, string.Empty);

    [GeneratedRegex(@"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ", RegexOptions.CultureInvariant)]
    private static partial Regex MarksPattern();
}
