namespace Fogline.LocalNucleus.Authorization;

/// <summary>The destinations ("services") of IPC authorization policies, as the Nucleus names them.</summary>
public static class IpcServices
{
    /// <summary>Local publish/subscribe.</summary>
    public const string PubSub = "aws.greengrass.ipc.pubsub";

    /// <summary>AWS IoT Core MQTT.</summary>
    public const string MqttProxy = "aws.greengrass.ipc.mqttproxy";

    /// <summary>Pause and resume of components.</summary>
    public const string Lifecycle = "aws.greengrass.ipc.lifecycle";

    /// <summary>PutComponentMetric.</summary>
    public const string ComponentMetric = "aws.greengrass.ipc.componentmetric";

    /// <summary>Secrets.</summary>
    public const string SecretManager = "aws.greengrass.SecretManager";

    /// <summary>Local shadows.</summary>
    public const string ShadowManager = "aws.greengrass.ShadowManager";

    /// <summary>Client device auth.</summary>
    public const string ClientDeviceAuth = "aws.greengrass.clientdevices.Auth";

    /// <summary>The Greengrass CLI's operations (component and deployment control).</summary>
    public const string Cli = "aws.greengrass.Cli";

    /// <summary>Token exchange.</summary>
    public const string TokenExchange = "aws.greengrass.TokenExchangeService";

    /// <summary>Stream manager (the only component allowed ValidateAuthorizationToken).</summary>
    public const string StreamManager = "aws.greengrass.StreamManager";
}
