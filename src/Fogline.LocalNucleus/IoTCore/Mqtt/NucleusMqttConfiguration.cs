using System.Globalization;
using System.Text.Json.Nodes;
using Fogline.Mqtt;

namespace Fogline.LocalNucleus.IoTCore.Mqtt;

/// <summary>
/// Reads the IoT Core connection from a Nucleus configuration document (the <c>--init-config</c> config.yaml), with
/// the Nucleus's names: <c>system.certificateFilePath</c>, <c>privateKeyPath</c>, <c>rootCaPath</c>,
/// <c>thingName</c>, and under <c>services.aws.greengrass.Nucleus.configuration</c>: <c>iotDataEndpoint</c>,
/// <c>awsRegion</c> and <c>mqtt</c> (<c>port</c>, <c>keepAliveTimeoutMs</c>, <c>operationTimeoutMs</c>,
/// <c>maxInFlightPublishes</c>, <c>maxMessageSizeInBytes</c>, <c>maxPublishRetry</c>, <c>version</c>,
/// <c>spooler.storageType</c>, <c>spooler.maxSizeInBytes</c>, <c>spooler.keepQos0WhenOffline</c>). Relative file
/// paths are taken from the configuration file's folder.
/// </summary>
public static class NucleusMqttConfiguration
{
    /// <summary>The Nucleus component's name in <c>services</c>.</summary>
    public const string NucleusComponent = "aws.greengrass.Nucleus";

    /// <summary>
    /// The IoT Core options the configuration asks for: the spool and MQTT settings, and a broker when the endpoint and
    /// the three certificate paths are all there (a partial set is an error that names what is missing).
    /// </summary>
    /// <param name="config">The configuration document (null: none).</param>
    /// <param name="configDirectory">The folder relative paths are taken from.</param>
    /// <param name="thingName">The thing name (the client id).</param>
    /// <exception cref="FormatException">A value has the wrong type, or the broker settings are incomplete.</exception>
    public static IoTCoreOptions Read(JsonObject? config, string configDirectory, string thingName)
    {
        var system = config?["system"] as JsonObject;
        var nucleus = config?["services"]?[NucleusComponent]?["configuration"] as JsonObject;
        var mqtt = nucleus?["mqtt"] as JsonObject;
        var spooler = mqtt?["spooler"] as JsonObject;
        var defaults = new IoTCoreOptions();
        if (Text(spooler, "storageType", "services.aws.greengrass.Nucleus.configuration.mqtt.spooler") is { } storage && !storage.Equals("Memory", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"mqtt.spooler.storageType {storage}: the local Nucleus spools in memory only (the Nucleus needs its DiskSpooler plugin component for Disk)");
        }

        var broker = ReadBroker(system, nucleus, mqtt, configDirectory, thingName);
        var version = Text(mqtt, "version", "mqtt") ?? defaults.MqttVersion;
        return new IoTCoreOptions
        {
            Broker = broker is null ? null : broker with { MqttVersion = version },
            SpoolMaxBytes = Number(spooler, "maxSizeInBytes", "mqtt.spooler") ?? defaults.SpoolMaxBytes,
            KeepQos0WhenOffline = Flag(spooler, "keepQos0WhenOffline", "mqtt.spooler") ?? defaults.KeepQos0WhenOffline,
            MaxMessageSizeInBytes = (int?)Number(mqtt, "maxMessageSizeInBytes", "mqtt") ?? defaults.MaxMessageSizeInBytes,
            MaxInFlightPublishes = (int?)Number(mqtt, "maxInFlightPublishes", "mqtt") ?? defaults.MaxInFlightPublishes,
            MaxPublishRetry = (int?)Number(mqtt, "maxPublishRetry", "mqtt") ?? defaults.MaxPublishRetry,
            MqttVersion = version,
        };
    }

    /// <summary>
    /// The Greengrass data plane the configuration names (<c>greengrassDataPlaneEndpoint</c>, a host or a URL, and
    /// <c>greengrassDataPlanePort</c>, default 8443), or null.
    /// </summary>
    public static Uri? DataPlane(JsonObject? config)
    {
        var nucleus = config?["services"]?[NucleusComponent]?["configuration"] as JsonObject;
        var where = "services.aws.greengrass.Nucleus.configuration";
        if (Text(nucleus, "greengrassDataPlaneEndpoint", where) is not { Length: > 0 } endpoint)
        {
            return null;
        }

        var port = Number(nucleus, "greengrassDataPlanePort", where) ?? 8443;
        return endpoint.Contains("://", StringComparison.Ordinal) ? new Uri(endpoint) : new UriBuilder("https", endpoint, (int)port).Uri;
    }

    private static MqttBrokerOptions? ReadBroker(JsonObject? system, JsonObject? nucleus, JsonObject? mqtt, string configDirectory, string thingName)
    {
        var endpoint = Text(nucleus, "iotDataEndpoint", "services.aws.greengrass.Nucleus.configuration");
        var certificate = Text(system, "certificateFilePath", "system");
        var key = Text(system, "privateKeyPath", "system");
        var rootCa = Text(system, "rootCaPath", "system");
        string?[] all = [endpoint, certificate, key, rootCa];
        if (all.All(string.IsNullOrEmpty))
        {
            return null;
        }

        var missing = new (string Name, string? Value)[]
        {
            ("services.aws.greengrass.Nucleus.configuration.iotDataEndpoint", endpoint),
            ("system.certificateFilePath", certificate),
            ("system.privateKeyPath", key),
            ("system.rootCaPath", rootCa),
        }.Where(p => string.IsNullOrEmpty(p.Value)).Select(p => p.Name).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"the connection to IoT Core needs {string.Join(", ", missing)} too");
        }

        string Resolve(string path) => Path.GetFullPath(path, configDirectory);
        var keepAlive = Number(mqtt, "keepAliveTimeoutMs", "mqtt");
        var operationTimeout = Number(mqtt, "operationTimeoutMs", "mqtt");
        return new MqttBrokerOptions
        {
            Endpoint = endpoint!,
            Port = (int?)Number(mqtt, "port", "mqtt") ?? 8883,
            ClientId = thingName,
            CertificateFile = Resolve(certificate!),
            PrivateKeyFile = Resolve(key!),
            RootCaFile = Resolve(rootCa!),
            KeepAlive = keepAlive is { } k ? TimeSpan.FromMilliseconds(k) : TimeSpan.FromSeconds(60),
            OperationTimeout = operationTimeout is { } o ? TimeSpan.FromMilliseconds(o) : TimeSpan.FromSeconds(30),
        };
    }

    private static string? Text(JsonObject? parent, string name, string where) => parent?[name] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        JsonValue value => value.ToJsonString(),
        _ => throw new FormatException($"{where}.{name} must be a value, not {parent[name]!.GetValueKind()}"),
    };

    private static long? Number(JsonObject? parent, string name, string where)
    {
        var text = Text(parent, name, where);
        if (text is null)
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number == Math.Floor(number)
            ? (long)number
            : throw new FormatException($"{where}.{name} must be a whole number, not '{text}'");
    }

    private static bool? Flag(JsonObject? parent, string name, string where) => Text(parent, name, where) switch
    {
        null => null,
        var text when bool.TryParse(text, out var flag) => flag,
        var text => throw new FormatException($"{where}.{name} must be true or false, not '{text}'"),
    };
}
