namespace Fogline.LocalNucleus.IoTCore;

/// <summary>
/// A publish or subscription the device's MQTT client refuses before anything is stored or sent (invalid topic, payload
/// too large, device not configured for the cloud): the Nucleus's MqttRequestException, with its messages.
/// </summary>
public sealed class MqttRequestException : Exception
{
    /// <summary>The Nucleus's Java class name, which appears in the messages of failed subscriptions.</summary>
    public const string JavaClassName = "com.aws.greengrass.mqttclient.MqttRequestException";

    /// <summary>Creates the exception.</summary>
    public MqttRequestException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public MqttRequestException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public MqttRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A publish the spooler cannot take (QoS 0 while offline, spool full, message larger than the spool): the Nucleus's
/// SpoolerStoreException, with its messages.
/// </summary>
public sealed class SpoolerStoreException : Exception
{
    /// <summary>QoS 0 while offline, unless <see cref="IoTCoreOptions.KeepQos0WhenOffline"/>.</summary>
    public const string DeviceOffline = "Device is offline. Dropping QoS 0 message.";

    /// <summary>The spool has no room for the message, even after dropping QoS 0 messages.</summary>
    public const string SpoolFull = "Message spool is full. Message could not be added.";

    /// <summary>The message alone is larger than the spool.</summary>
    public const string LargerThanSpool = "Message is larger than the size of message spool.";

    /// <summary>Creates the exception.</summary>
    public SpoolerStoreException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public SpoolerStoreException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public SpoolerStoreException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
