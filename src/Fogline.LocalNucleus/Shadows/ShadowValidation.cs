using System.Globalization;
using System.Text.RegularExpressions;

namespace Fogline.LocalNucleus.Shadows;

/// <summary>
/// The shadow manager's checks of requests (its <c>Validator</c>, <c>JsonUtil</c> and update payload schema), with
/// the messages clients see.
/// </summary>
internal static partial class ShadowValidation
{
    /// <summary>The pattern thing and shadow names must match.</summary>
    public const string NamePattern = "[a-zA-Z0-9:_-]+";

    public const int MaxThingNameLength = 128;
    public const int MaxShadowNameLength = 64;

    /// <summary>How deep <c>desired</c> and <c>reported</c> may nest.</summary>
    public const int MaxStateDepth = 6;

    /// <summary>The longest clientToken (in code points) the schema allows.</summary>
    public const int MaxClientTokenLength = 64;

    /// <summary>Validates a thing name and a shadow name ("" for the classic shadow).</summary>
    public static void ValidateShadowRequest(string? thingName, string shadowName)
    {
        ValidateThingName(thingName);
        ValidateShadowName(shadowName);
    }

    public static void ValidateThingName(string? thingName)
    {
        if (IsBlank(thingName))
        {
            throw new ShadowRequestException(ShadowError.InvalidName("ThingName is missing"));
        }

        if (thingName!.Length > MaxThingNameLength)
        {
            throw new ShadowRequestException(ShadowError.InvalidName($"ThingName has a maximum length of {MaxThingNameLength}"));
        }

        if (!NameRegex().IsMatch(thingName))
        {
            throw new ShadowRequestException(ShadowError.InvalidName("ThingName must match pattern " + NamePattern));
        }
    }

    public static void ValidateShadowName(string? shadowName)
    {
        if (IsBlank(shadowName))
        {
            return;
        }

        if (shadowName!.Length > MaxShadowNameLength)
        {
            throw new ShadowRequestException(ShadowError.InvalidName($"ShadowName has a maximum length of {MaxShadowNameLength}"));
        }

        if (!NameRegex().IsMatch(shadowName))
        {
            throw new ShadowRequestException(ShadowError.InvalidName("ShadowName must match pattern " + NamePattern));
        }
    }

    /// <summary>
    /// Whether a name is null, empty or only Unicode space characters (the Nucleus's <c>Utils.isEmpty</c>, which the
    /// shadow manager's checks use): a blank thing name is missing; a blank shadow name is valid and stands for the
    /// classic shadow in authorization, topics and messages, while it is kept as given otherwise (as in the component).
    /// </summary>
    public static bool IsBlank(string? name)
    {
        if (name is null)
        {
            return true;
        }

        foreach (var c in name)
        {
            if (char.GetUnicodeCategory(c) is not (UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Validates an update request against the shadow manager's update payload schema (JSON Schema draft 4: an object
    /// with a required <c>state</c> that is an object or null, whose <c>desired</c> and <c>reported</c> are objects or
    /// null and which has one of them or nothing at all; an optional string <c>clientToken</c> of at most 64
    /// characters; an optional number <c>version</c> of at least 0). Throws with "Invalid JSON: " and the validator's
    /// messages, in the order its validators report them, joined by ". ".
    /// </summary>
    public static void ValidateSchema(JNode payload)
    {
        var errors = new List<string>();

        // The root schema's validators report in the order: type, required, properties (clientToken, state, version).
        if (!payload.IsObject)
        {
            Add(errors, $"$: {TypeName(payload)} found, object expected");
        }

        if (payload.IsObject && payload.Get(ShadowDocument.StateKey) is null)
        {
            Add(errors, "$.state: is missing but it is required");
        }

        if (payload.Get(ShadowDocument.ClientTokenKey) is { } clientToken)
        {
            if (clientToken is not JString token)
            {
                Add(errors, $"$.clientToken: {TypeName(clientToken)} found, string expected");
            }
            else if (CodePoints(token.Value) > MaxClientTokenLength)
            {
                Add(errors, $"$.clientToken: may only be {MaxClientTokenLength} characters long");
            }
        }

        if (payload.Get(ShadowDocument.StateKey) is { } state)
        {
            ValidateState(state, errors);
        }

        if (payload.Get(ShadowDocument.VersionKey) is { } version)
        {
            if (version is not JNumber number)
            {
                Add(errors, $"$.version: {TypeName(version)} found, number expected");
            }
            else if (number.Sign < 0)
            {
                Add(errors, "$.version: must have a minimum value of 0");
            }
        }

        if (errors.Count > 0)
        {
            // The shadow manager drops the validator's "$." root prefix from the messages.
            var message = string.Join(". ", errors.Select(e => e.Replace("$.", string.Empty, StringComparison.Ordinal)));
            throw new ShadowRequestException(ShadowError.InvalidJson(message));
        }
    }

    private static void ValidateState(JNode state, List<string> errors)
    {
        // The state schema's validators report in the order: type, properties (desired, reported, delta), anyOf.
        if (!state.IsObject && !state.IsNull)
        {
            Add(errors, $"$.state: {TypeName(state)} found, but [object, null] is required");
        }

        foreach (var member in (string[])[ShadowDocument.DesiredKey, ShadowDocument.ReportedKey, ShadowDocument.DeltaKey])
        {
            if (state.Get(member) is { } value && !value.IsObject && !value.IsNull)
            {
                Add(errors, $"$.state.{member}: {TypeName(value)} found, but [object, null] is required");
            }
        }

        // anyOf: has "reported", has "desired", or has no members at all (additionalProperties: false); the errors
        // of all three when none holds.
        if (state is JObject members && members.Get(ShadowDocument.ReportedKey) is null && members.Get(ShadowDocument.DesiredKey) is null)
        {
            var additional = members.Members.Select(m => m.Key).Where(k => !k.StartsWith('#')).ToList();
            if (additional.Count > 0)
            {
                Add(errors, "$.state.reported: is missing but it is required");
                Add(errors, "$.state.desired: is missing but it is required");
                foreach (var key in additional)
                {
                    Add(errors, $"$.state.{key}: is not defined in the schema and the schema does not allow additional properties");
                }
            }
        }
    }

    private static void Add(List<string> errors, string message)
    {
        if (!errors.Contains(message))
        {
            errors.Add(message);
        }
    }

    private static int CodePoints(string value)
    {
        var count = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }

            count++;
        }

        return count;
    }

    // The JSON Schema type name of a node, as the validator reports it (integers apart from other numbers).
    private static string TypeName(JNode node) => node switch
    {
        JObject => "object",
        JArray => "array",
        JString => "string",
        JNumber { IsIntegral: true } => "integer",
        JNumber => "number",
        JBoolean => "boolean",
        _ => "null",
    };

    /// <summary>
    /// Checks an update request once it matches the schema: <c>desired</c> and <c>reported</c> nest at most 6 deep;
    /// a <c>version</c>, when given, is 1 for a shadow that does not exist ("Invalid version") and the current version
    /// otherwise (ConflictError "Version conflict", as <see cref="ShadowVersionConflictException"/>).
    /// </summary>
    public static void ValidatePayload(ShadowDocument current, JNode request)
    {
        var state = request.Get(ShadowDocument.StateKey);
        if (state is not null)
        {
            CheckDepth(state.Get(ShadowDocument.ReportedKey), 1);
            CheckDepth(state.Get(ShadowDocument.DesiredKey), 1);
        }

        var version = request.Get(ShadowDocument.VersionKey);
        if (JNode.IsNullOrMissing(version) || version is not JNumber number)
        {
            return;
        }

        if (current.IsNew)
        {
            if (number.AsInt() != 1)
            {
                throw new ShadowRequestException(ShadowError.InvalidVersion);
            }

            return;
        }

        if (current.Version != number.AsInt())
        {
            throw new ShadowVersionConflictException(ShadowError.VersionConflict.Message);
        }
    }

    // Values do not count; a container deeper than the maximum fails.
    private static void CheckDepth(JNode? node, int depth)
    {
        if (node is null || node.Size == 0)
        {
            return;
        }

        if (depth > MaxStateDepth)
        {
            throw new ShadowRequestException(ShadowError.StateTooDeep);
        }

        IEnumerable<JNode> children = node switch
        {
            JObject o => o.Members.Select(m => m.Value),
            JArray a => a.Elements,
            _ => [],
        };
        foreach (var child in children)
        {
            CheckDepth(child, depth + 1);
        }
    }

    /// <summary>Java's <c>Integer.parseInt</c> (decimal), with its NumberFormatException message.</summary>
    public static bool TryParseJavaInt(string text, out int value, out string? error)
    {
        value = 0;
        error = "For input string: \"" + text + "\"";
        if (text.Length == 0)
        {
            return false;
        }

        var start = text[0] is '+' or '-' ? 1 : 0;
        if (start == text.Length)
        {
            return false;
        }

        for (var i = start; i < text.Length; i++)
        {
            if (text[i] is < '0' or > '9')
            {
                return false;
            }
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return false;
        }

        error = null;
        return true;
    }

    [GeneratedRegex(@"^[a-zA-Z0-9:_-]+\z")]
    private static partial Regex NameRegex();
}

/// <summary>The version of an update does not match the shadow's (the shadow manager's ConflictError).</summary>
internal sealed class ShadowVersionConflictException : Exception
{
    public ShadowVersionConflictException()
        : this(ShadowError.VersionConflict.Message)
    {
    }

    public ShadowVersionConflictException(string message)
        : base(message)
    {
    }

    public ShadowVersionConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
