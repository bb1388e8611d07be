using System.Text.Json.Nodes;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus.IoTCore.Mqtt;

namespace Fogline.LocalNucleus.Tests.IoTCore;

/// <summary>The IoT Core connection read from a Nucleus config.yaml, with the Nucleus's names and defaults.</summary>
public class NucleusMqttConfigurationTests
{
    [Test]
    public void AConfigYaml_GivesTheBrokerTheSpoolerAndTheDataPlane()
    {
        var config = (JsonObject)ConfigurationDocument.Parse("""
            system:
              certificateFilePath: certs/device.pem.crt
              privateKeyPath: /greengrass/v2/private.pem.key
              rootCaPath: AmazonRootCA1.pem
              thingName: gw-1
            services:
              aws.greengrass.Nucleus:
                configuration:
                  awsRegion: eu-west-1
                  iotDataEndpoint: abc-ats.iot.eu-west-1.amazonaws.com
                  greengrassDataPlaneEndpoint: greengrass-ats.iot.eu-west-1.amazonaws.com
                  mqtt:
                    port: 443
                    keepAliveTimeoutMs: 30000
                    version: mqtt3
                    maxInFlightPublishes: 7
                    spooler:
                      maxSizeInBytes: 1048576
                      keepQos0WhenOffline: true
            """, "config.yaml")!;

        var options = NucleusMqttConfiguration.Read(config, "/etc/greengrass", "gw-1");

        var broker = options.Broker!;
        Assert.Multiple(() =>
        {
            Assert.That((broker.Endpoint, broker.Port, broker.ClientId, broker.MqttVersion), Is.EqualTo(("abc-ats.iot.eu-west-1.amazonaws.com", 443, "gw-1", "mqtt3")));
            Assert.That(broker.CertificateFile, Is.EqualTo("/etc/greengrass/certs/device.pem.crt"), "relative to the config file's folder");
            Assert.That(broker.PrivateKeyFile, Is.EqualTo("/greengrass/v2/private.pem.key"));
            Assert.That(broker.KeepAlive, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That((options.SpoolMaxBytes, options.KeepQos0WhenOffline, options.MaxInFlightPublishes, options.MqttVersion), Is.EqualTo((1048576L, true, 7, "mqtt3")));
            Assert.That(NucleusMqttConfiguration.DataPlane(config), Is.EqualTo(new Uri("https://greengrass-ats.iot.eu-west-1.amazonaws.com:8443/")));
        });
    }

    [Test]
    public void NoConnectionSettings_IsTheEmulatedIoTCore_AndAPartialSetSaysWhatIsMissing()
    {
        Assert.That(NucleusMqttConfiguration.Read(null, "/", "gw-1").Broker, Is.Null);
        var partial = (JsonObject)ConfigurationDocument.Parse("""
            services:
              aws.greengrass.Nucleus:
                configuration:
                  iotDataEndpoint: abc-ats.iot.eu-west-1.amazonaws.com
            """, "config.yaml")!;
        var error = Assert.Throws<FormatException>(() => NucleusMqttConfiguration.Read(partial, "/", "gw-1"));
        Assert.That(error!.Message, Is.EqualTo("the connection to IoT Core needs system.certificateFilePath, system.privateKeyPath, system.rootCaPath too"));
        var disk = (JsonObject)ConfigurationDocument.Parse("""
            services:
              aws.greengrass.Nucleus:
                configuration:
                  mqtt: { spooler: { storageType: Disk } }
            """, "config.yaml")!;
        Assert.That(Assert.Throws<FormatException>(() => NucleusMqttConfiguration.Read(disk, "/", "gw-1"))!.Message, Does.Contain("DiskSpooler"));
    }
}
