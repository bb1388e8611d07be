using System.Globalization;
using System.Text.RegularExpressions;

namespace Fogline.LocalNucleus.IoTCore;

/// <summary>
/// Topic rules of AWS IoT Core as the Nucleus applies them: the checks of its IotCoreTopicValidator (before a publish or
/// a subscription goes to the cloud), the filter matching of its MqttTopic (how it hands a received message to its
/// subscriptions), and the broker's MQTT matching (which messages the cloud sends to a subscription).
/// </summary>
public static partial class MqttTopics
{
    /// <summary>The longest topic (without the <c>$aws/rules/rule-name/</c> or <c>$share/group/</c> prefix), in characters.</summary>
    public const int MaxTopicLength = 256;

    /// <summary>The most forward slashes a topic may have (so at most 8 levels).</summary>
    public const int MaxForwardSlashes = 7;

    /// <summary>The longest reserved (<c>$</c>) topic that is neither a rule nor a shared subscription, with MQTT 5.</summary>
    public const int MaxUnknownReservedTopicLength = 512;

    internal const string ErrorPublishTopicTooLong =
        "The topic size of request must be no larger than 256 bytes of UTF-8 encoded characters. This excludes the first 3 mandatory segments for Basic Ingest topics ($AWS/rules/rule-name/)";

    internal const string ErrorSubscribeTopicTooLong =
        ErrorPublishTopicTooLong + " or first 2 mandatory segments for MQTT Shared Subscriptions ($share/share-name/)";

    internal const string ErrorUnknownReservedTopicTooLong =
        "Reserved topic total length is greater than 512 bytes of UTF-8 encoded characters and is most likely over the IoT Core limit of 256 bytes (excluding prefixes).";

    internal const string ErrorTooManySlashes = "The request topic must have no more than 7 forward slashes (/)";
    internal const string ErrorDirectIngestEmpty = "Effective direct ingest topic (without '$aws/rules/rule-name/' prefix) is empty";
    internal const string ErrorSharedSubscriptionEmpty = "Effective shared subscription topic (without '$share/share-group/' prefix) is empty";
    internal const string ErrorWildcardInPublish = "Publish topics must not contain wildcard characters of '#' or '+'";
    internal const string ErrorEmptyTopic = "Topic must not be empty";

    /// <summary>
    /// Checks a topic as the Nucleus does before publishing (<paramref name="subscribe"/> false) or subscribing;
    /// throws <see cref="MqttRequestException"/> with the Nucleus's message when IoT Core would refuse it.
    /// </summary>
    public static void Validate(string topic, bool subscribe, string mqttVersion = "mqtt5")
    {
        ArgumentNullException.ThrowIfNull(topic);
        if (IsBlank(topic))
        {
            throw new MqttRequestException(ErrorEmptyTopic);
        }

        if (!subscribe && (topic.Contains('#', StringComparison.Ordinal) || topic.Contains('+', StringComparison.Ordinal)))
        {
            throw new MqttRequestException(ErrorWildcardInPublish);
        }

        if (topic[0] != '$')
        {
            ValidateEffective(topic, subscribe);
            return;
        }

        var mqtt5 = string.Equals(mqttVersion, "mqtt5", StringComparison.OrdinalIgnoreCase);
        if (mqtt5 && SharedSubscription().IsMatch(topic))
        {
            if (subscribe)
            {
                ValidateEffective(RemovePrefix(topic, SharedSubscriptionPrefix()) ?? throw new MqttRequestException(ErrorSharedSubscriptionEmpty), subscribe);
            }
            else
            {
                ValidateEffective(topic, subscribe);
            }

            return;
        }

        if (DirectIngest().IsMatch(topic))
        {
            ValidateEffective(RemovePrefix(topic, DirectIngestPrefix()) ?? throw new MqttRequestException(ErrorDirectIngestEmpty), subscribe);
            return;
        }

        if (mqtt5)
        {
            // Other reserved topics are left to IoT Core; only a generous length is checked.
            if (topic.Length > MaxUnknownReservedTopicLength)
            {
                throw new MqttRequestException(ErrorUnknownReservedTopicTooLong);
            }
        }
        else
        {
            ValidateEffective(topic, subscribe);
        }
    }

    /// <summary>
    /// Whether subscription <paramref name="filter"/> covers <paramref name="topic"/> (a topic or another filter) as
    /// the Nucleus's MqttTopic.isSupersetOf decides: level by level, <c>+</c> matches one level and <c>#</c> the rest;
    /// empty trailing levels are ignored (as Java's split does), and <c>a/#</c> does not cover <c>a</c>.
    /// </summary>
    public static bool NucleusCovers(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        if (string.Equals(filter, topic, StringComparison.Ordinal))
        {
            return true;
        }

        var filterParts = JavaSplit(filter);
        var topicParts = JavaSplit(topic);
        int i;
        for (i = 0; i < Math.Min(filterParts.Length, topicParts.Length); i++)
        {
            if (filterParts[i] == "#")
            {
                return true;
            }

            if (filterParts[i] == "+")
            {
                continue;
            }

            if (!string.Equals(filterParts[i], topicParts[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return i >= topicParts.Length && i >= filterParts.Length;
    }

    /// <summary>
    /// Whether an MQTT broker delivers a message on <paramref name="topic"/> to a subscription with
    /// <paramref name="filter"/> (MQTT 5, 4.7): <c>+</c> matches exactly one level, <c>#</c> (last) matches the parent
    /// level and everything below, filters starting with a wildcard do not match topics starting with <c>$</c>, and a
    /// shared subscription <c>$share/group/filter</c> matches as its filter.
    /// </summary>
    public static bool BrokerMatches(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        if (filter.StartsWith("$share/", StringComparison.Ordinal))
        {
            var rest = filter.IndexOf('/', "$share/".Length);
            if (rest < 0)
            {
                return false;
            }

            filter = filter[(rest + 1)..];
        }

        if (topic.StartsWith('$') && (filter.StartsWith('+') || filter.StartsWith('#')))
        {
            return false;
        }

        var f = filter.Split('/');
        var t = topic.Split('/');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == "#")
            {
                return i == f.Length - 1;
            }

            if (i >= t.Length)
            {
                return false;
            }

            if (f[i] != "+" && !string.Equals(f[i], t[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        return f.Length == t.Length;
    }

    /// <summary>Java's <c>Character.isSpaceChar</c> for every character (the Nucleus's Utils.isEmpty).</summary>
    internal static bool IsBlank(string? value)
    {
        if (value is null)
        {
            return true;
        }

        foreach (var c in value)
        {
            var category = char.GetUnicodeCategory(c);
            if (category is not (UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator))
            {
                return false;
            }
        }

        return true;
    }

    private static void ValidateEffective(string topic, bool subscribe)
    {
        if (topic.Count(c => c == '/') > MaxForwardSlashes)
        {
            throw new MqttRequestException(ErrorTooManySlashes);
        }

        if (topic.Length > MaxTopicLength)
        {
            throw new MqttRequestException(subscribe ? ErrorSubscribeTopicTooLong : ErrorPublishTopicTooLong);
        }
    }

    private static string? RemovePrefix(string topic, Regex prefix)
    {
        var match = prefix.Match(topic);
        return match.Success ? topic[match.Length..] : null;
    }

    // Java's String.split("/"): trailing empty strings are removed; a string without the separator is itself.
    private static string[] JavaSplit(string value)
    {
        if (value.Length == 0)
        {
            return [string.Empty];
        }

        var parts = value.Split('/');
        var count = parts.Length;
        while (count > 0 && parts[count - 1].Length == 0)
        {
            count--;
        }

        return count == parts.Length ? parts : parts[..count];
    }

    // Java's \S is [^ \t\n\x0B\f\r]; the templates must match the whole topic (Pattern.matches).
    [GeneratedRegex(@"\A\$share/[^ \t\n\x0B\f\r]+/[^ \t\n\x0B\f\r]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex SharedSubscription();

    [GeneratedRegex(@"\A\$share/[^ \t\n\x0B\f\r]+?/", RegexOptions.CultureInvariant)]
    private static partial Regex SharedSubscriptionPrefix();

    [GeneratedRegex(@"\A\$aws/rules/[^ \t\n\x0B\f\r]+/[^ \t\n\x0B\f\r]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex DirectIngest();

    [GeneratedRegex(@"\A\$aws/rules/[^ \t\n\x0B\f\r]+?/", RegexOptions.CultureInvariant)]
    private static partial Regex DirectIngestPrefix();
}
