using Fogline.ComponentKit.Configuration;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// A component's counters sent to AWS IoT Core as well, so that the cloud side (a rollout's metric gates, dashboards)
/// can read each device's latest figures: configured by the optional <c>cloudMetrics</c> object of every Fogline
/// component's configuration, <c>{"intervalSeconds": 60, "topic": "fogline/{thing}/metrics/{component}"}</c>
/// (<c>{thing}</c> is the core device's thing name, <c>{component}</c> the component's name). The message is the one
/// published locally on <c>fogline/metrics/{component}</c> plus <c>startedMs</c> (when the process started, so a
/// reader knows the counters began again) and <c>thing</c>, published with QoS 0 and the retain flag: IoT Core keeps
/// the latest per topic (GetRetainedMessage). The recipe must allow PublishToIoTCore on that topic
/// (<c>aws.greengrass.ipc.mqttproxy</c>); without the object nothing is sent.
/// </summary>
public sealed record CloudMetrics(TimeSpan Interval, string Topic)
{
    /// <summary>The default topic template.</summary>
    public const string DefaultTopic = "fogline/{thing}/metrics/{component}";

    /// <summary>
    /// Reads <c>cloudMetrics</c> from a component's configuration (null when absent); the thing name comes from
    /// <c>AWS_IOT_THING_NAME</c>, which the Nucleus sets.
    /// </summary>
    /// <exception cref="ConfigurationException">A value is invalid, or the topic needs a thing name that is not set.</exception>
    public static CloudMetrics? Read(ConfigNode configuration, string component, string? thing)
    {
        var node = configuration["cloudMetrics"];
        if (!node.Exists)
        {
            return null;
        }

        var interval = node["intervalSeconds"].Seconds(60, minSeconds: 1);
        var template = node["topic"].String(DefaultTopic);
        if (template.Contains("{thing}", StringComparison.Ordinal) && string.IsNullOrEmpty(thing))
        {
            throw node["topic"].Error("names {thing} but AWS_IOT_THING_NAME is not set (the Nucleus sets it)");
        }

        var topic = template.Replace("{thing}", thing, StringComparison.Ordinal).Replace("{component}", component, StringComparison.Ordinal);
        if (topic.Length == 0 || topic.Contains('+', StringComparison.Ordinal) || topic.Contains('#', StringComparison.Ordinal) || topic.StartsWith('$'))
        {
            throw node["topic"].Error($"'{topic}' is not a topic a device may publish to");
        }

        return new CloudMetrics(interval, topic);
    }
}
