using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.PubSub;

namespace Fogline.LocalNucleus;

/// <summary>How a local Nucleus runs. Every default is stated on its property.</summary>
public sealed class NucleusOptions
{
    /// <summary>The root directory (the Nucleus's <c>kernel:rootPath</c>): ipc.socket, work/, logs/, shadows and the cloud journal live here. Required.</summary>
    public required string RootPath { get; init; }

    /// <summary>The thing name of this core device (<c>AWS_IOT_THING_NAME</c>). Default <c>LocalCoreDevice</c>.</summary>
    public string ThingName { get; init; } = "LocalCoreDevice";

    /// <summary>The AWS region components are told (<c>AWS_REGION</c>). Default <c>us-east-1</c>.</summary>
    public string AwsRegion { get; init; } = "us-east-1";

    /// <summary>The Nucleus version components are told (<c>GGC_VERSION</c>). Default <c>2.14.0</c>.</summary>
    public string NucleusVersion { get; init; } = "2.14.0";

    /// <summary>How long a new IPC connection may stay silent before its Connect. Default 10 seconds.</summary>
    public TimeSpan IpcConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time source (tests use a fake one). Default the system clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The emulated AWS IoT Core connection: spooler, limits, initial state. Default <see cref="IoTCoreOptions"/>'s defaults.</summary>
    public IoTCoreOptions IoTCore { get; init; } = new();

    /// <summary>
    /// The Greengrass data plane (the Nucleus's <c>greengrassDataPlaneEndpoint</c> and port, e.g.
    /// <c>https://greengrass-ats.iot.us-east-1.amazonaws.com:8443</c>). With <see cref="IoTCoreOptions.Broker"/> set,
    /// the Nucleus takes cloud deployments (IoT Jobs) and resolves their components there with its certificate.
    /// </summary>
    public Uri? DataPlaneEndpoint { get; init; }

    /// <summary>Local publish/subscribe: each subscriber's bounded queue. Default <see cref="PubSubOptions"/>'s defaults.</summary>
    public PubSubOptions PubSub { get; init; } = new();

    /// <summary>How component processes are run (error reset time, shutdown grace period).</summary>
    public Lifecycle.LifecycleOptions Lifecycle { get; init; } = new();

    /// <summary>How local deployments run (timeouts, the platform manifests are chosen for).</summary>
    public Deployments.DeploymentOptions Deployments { get; init; } = new();
}
