using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalCloud;
using Fogline.LocalNucleus;
using Fogline.LocalNucleus.IoTCore;
using Fogline.LocalNucleus.IoTCore.Mqtt;

namespace Fogline.CloudDeployment.Tests;

/// <summary>
/// Two local Nucleus devices in the thing group <c>farms</c> take deployments made with Debian's AWS CLI against
/// the local cloud: IoT Jobs through Mosquitto (mutual TLS, per-device ACLs), components and artifacts through the
/// data plane with the devices' certificates. How the cloud, the broker and the devices are started is the
/// fixture's.
/// </summary>
[Category("Conformance")]
[CancelAfter(300_000)]
public abstract class FleetTests
{
    protected static readonly string[] Devices = ["gw-1", "gw-2"];
    protected readonly List<Nucleus> _nuclei = [];
    protected AwsCli _cli = null!;
    protected string _directory = null!;

    protected abstract string Account { get; }

    [SetUp]
    public async Task Start()
    {
        _directory = Directory.CreateTempSubdirectory("fogline-fleet-").FullName;
        await StartCloudAndDevicesAsync();
        await _cli.SucceedAsync("s3api", "create-bucket", "--bucket", "fleet-artifacts");
        await PublishAsync("1.0.0", "echo hello from {iot:thingName}; exec sleep 600");
        await PublishAsync("1.0.1", "echo this version is broken; exit 1");
    }

    [TearDown]
    public async Task Stop()
    {
        foreach (var nucleus in _nuclei)
        {
            await nucleus.DisposeAsync();
        }

        // NUnit runs every test of a fixture on the same instance.
        _nuclei.Clear();
        await StopCloudAsync();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Starts the cloud and the broker, registers <see cref="Devices"/> in <c>farms</c> and starts them; sets <see cref="_cli"/>.</summary>
    protected abstract Task StartCloudAndDevicesAsync();

    protected abstract Task StopCloudAsync();

    protected async Task PublishAsync(string version, string script)
    {
        var file = Path.Combine(_directory, $"hello-{version}.sh");
        await File.WriteAllTextAsync(file, script.Replace("{iot:thingName}", "$AWS_IOT_THING_NAME", StringComparison.Ordinal) + "\n");
        await _cli.SucceedAsync("s3api", "put-object", "--bucket", "fleet-artifacts", "--key", $"hello/{version}/hello.sh", "--body", file);
        var recipe = Path.Combine(_directory, $"hello-{version}.yaml");
        await File.WriteAllTextAsync(recipe, $$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Hello
            ComponentVersion: '{{version}}'
            ComponentPublisher: Example
            Manifests:
              - Platform:
                  os: linux
                Artifacts:
                  - URI: s3://fleet-artifacts/hello/{{version}}/hello.sh
                Lifecycle:
                  Run: sh {artifacts:path}/hello.sh
            """);
        await _cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + recipe);
        await Eventually.UntilAsync(async () => (await _cli.SucceedAsync("greengrassv2", "describe-component", "--arn", $"arn:aws:greengrass:us-east-1:{Account}:components:com.example.Hello:versions:{version}"))!["status"]!["componentState"]!.GetValue<string>() == "DEPLOYABLE",
            $"com.example.Hello {version} is DEPLOYABLE");
    }

    protected async Task<string> DeployAsync(string component, string version)
    {
        var created = await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms",
            "--components", $$$"""{"{{{component}}}":{"componentVersion":"{{{version}}}"}}""");
        return created!["iotJobId"]!.GetValue<string>();
    }

    /// <summary>Waits until every device's execution of the job is <paramref name="status"/> with the detailed status; returns the failure causes.</summary>
    protected async Task<List<string>> ExecutionsAsync(string jobId, string status, string detailed)
    {
        var causes = new List<string>();
        foreach (var thing in Devices)
        {
            System.Text.Json.Nodes.JsonNode? execution = null;
            await Eventually.UntilAsync(async () =>
            {
                execution = (await _cli.SucceedAsync("iot", "describe-job-execution", "--job-id", jobId, "--thing-name", thing))!["execution"];
                return execution!["status"]!.GetValue<string>() is "SUCCEEDED" or "FAILED" or "REJECTED";
            }, $"{thing}: job {jobId} finished", TimeSpan.FromSeconds(120));
            var details = execution!["statusDetails"]?["detailsMap"];
            Assert.That((execution["status"]!.GetValue<string>(), details?["detailed-deployment-status"]?.GetValue<string>()), Is.EqualTo((status, detailed)), $"{thing}: {execution.ToJsonString()}");
            causes.Add(details?["deployment-failure-cause"]?.GetValue<string>() ?? string.Empty);
        }

        return causes;
    }

    protected static (LifecycleState, string) State(Nucleus nucleus, string component) =>
        nucleus.Components.TryGet(component, out var record) ? (record.State, record.Version) : (default, string.Empty);
}

/// <summary>
/// What a newcomer does: <c>fogline cloud start</c> (the cloud with its Mosquitto, CA and data plane), then
/// <c>fogline cloud device add THING --group farms</c> for each device, each started from the configuration that wrote
/// (read as <c>local-nucleus start --init-config</c> reads it).
/// </summary>
public abstract class CliFleetTests : FleetTests
{
    private CancellationTokenSource _stopCloud = null!;
    private Task<int> _cloud = null!;
    private StringWriter _cloudOutput = null!;
    private CloudKeys _keys = null!;

    protected override string Account => _keys.Default.AccountId;

    protected string CloudDirectory => Path.Combine(_directory, "cloud");

    protected override async Task StartCloudAndDevicesAsync()
    {
        // NUnit runs every test of a fixture on the same instance: a new token per test.
        _stopCloud = new CancellationTokenSource();
        _cloudOutput = new StringWriter();
        var error = new StringWriter();
        _cloud = Task.Run(() => Fogline.Cli.Cli.RunAsync(["cloud", "start", "--cloud-dir", CloudDirectory, "--port", "0", "--mqtt-port", "0", "--data-plane-port", "0"], TextWriter.Synchronized(_cloudOutput), TextWriter.Synchronized(error), _stopCloud.Token));
        var endpointFile = Path.Combine(CloudDirectory, "endpoint");
        await Eventually.UntilAsync(() => File.Exists(endpointFile) || _cloud.IsCompleted, "fogline cloud start serves", TimeSpan.FromSeconds(60));
        Assert.That(_cloud.IsCompleted, Is.False, () => $"fogline cloud start ended: {_cloudOutput}{error}");
        Assert.That(_cloudOutput.ToString(), Does.Contain("devices: MQTT on 127.0.0.1:").And.Contain("Greengrass data plane on https://127.0.0.1:"));
        _keys = CloudKeys.LoadOrCreate(CloudDirectory);
        _cli = new AwsCli(new Uri(File.ReadAllText(endpointFile).Trim()), _keys.Default.AccessKeyId, _keys.Default.SecretAccessKey);
        foreach (var thing in Devices)
        {
            var output = new StringWriter();
            var failure = new StringWriter();
            var exit = await Fogline.Cli.Cli.RunAsync(["cloud", "device", "add", thing, "--group", "farms", "--attribute", "site=north", "--cloud-dir", CloudDirectory], output, failure);
            Assert.That(exit, Is.EqualTo(0), () => $"{output}{failure}");
            Assert.That(output.ToString(), Does.Contain($"--init-config {Path.Combine(CloudDirectory, "devices", "things", thing, "config.yaml")}"));
            _nuclei.Add(await StartFromInitConfigAsync(thing, Path.Combine(CloudDirectory, "devices", "things", thing, "config.yaml")));
        }

        var group = await _cli.SucceedAsync("iot", "list-things-in-thing-group", "--thing-group-name", "farms");
        Assert.That(group!["things"]!.AsArray().Select(t => t!.GetValue<string>()), Is.EquivalentTo(Devices));
    }

    protected override async Task StopCloudAsync()
    {
        await _stopCloud.CancelAsync();
        Assert.That(await _cloud, Is.EqualTo(0), () => _cloudOutput.ToString());
        _stopCloud.Dispose();
        Assert.That(_cloudOutput.ToString(), Does.Contain("local Greengrass cloud stopped"));
    }

    /// <summary>A device as <c>local-nucleus start --init-config</c> starts it: the thing name, the IoT Core connection and the data plane from the file.</summary>
    protected async Task<Nucleus> StartFromInitConfigAsync(string thing, string configFile)
    {
        var config = (JsonObject)Fogline.Greengrass.Recipes.ConfigurationDocument.Parse(await File.ReadAllTextAsync(configFile), configFile)!;
        Assert.That(config["system"]!["thingName"]!.GetValue<string>(), Is.EqualTo(thing));
        return await Nucleus.StartAsync(new NucleusOptions
        {
            RootPath = Path.Combine(_directory, thing),
            ThingName = thing,
            IoTCore = NucleusMqttConfiguration.Read(config, Path.GetDirectoryName(configFile)!, thing),
            DataPlaneEndpoint = NucleusMqttConfiguration.DataPlane(config),
        });
    }
}

/// <summary>
/// Cloud deployments on a fleet set up as a newcomer sets it up (<see cref="CliFleetTests"/>). A working version
/// reaches SUCCEEDED; one that crash-loops rolls back to the previous (FAILED_ROLLBACK_COMPLETE); one that does not
/// exist, or whose artifact no longer matches its digest, changes nothing (FAILED_NO_STATE_CHANGE); a subdeployment
/// stands for its parent's deployment until the parent's next revision.
/// </summary>
public class CloudDeploymentTests : CliFleetTests
{
    /// <summary>
    /// What a device publishes with the retain flag is what the AWS CLI's <c>iot-data get-retained-message</c> and
    /// <c>list-retained-messages</c> answer (the latest per topic, the time IoT Core stored it); an empty retained
    /// message deletes it.
    /// </summary>
    [Test]
    public async Task RetainedMessages_AreAnsweredToTheAwsCli_AsIoTCoreKeepsThem()
    {
        var topic = "fogline/gw-1/metrics/com.example.Hello";
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        _nuclei[0].IoTCore.Publish(CloudMessage.FromText(topic, """{"n":1}""", MqttQos.AtLeastOnce, retain: true));
        _nuclei[0].IoTCore.Publish(CloudMessage.FromText(topic, """{"n":2}""", MqttQos.AtLeastOnce, retain: true));
        _nuclei[0].IoTCore.Publish(CloudMessage.FromText("fogline/gw-1/telemetry", "{}", MqttQos.AtLeastOnce));
        JsonNode? got = null;
        await Eventually.UntilAsync(async () => (got = (await _cli.RunAsync("iot-data", "get-retained-message", "--topic", topic)) is { ExitCode: 0 } ok ? ok.Json : null) is { } g
            && System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(g["payload"]!.GetValue<string>())) == """{"n":2}""", "the latest retained message is kept", TimeSpan.FromSeconds(30));
        Assert.That((got!["topic"]!.GetValue<string>(), got["qos"]!.GetValue<int>()), Is.EqualTo((topic, 1)));
        Assert.That(got["lastModifiedTime"]!.GetValue<long>(), Is.InRange(before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
        var listed = (await _cli.SucceedAsync("iot-data", "list-retained-messages"))!["retainedTopics"]!.AsArray();
        Assert.That(listed.Select(t => t!["topic"]!.GetValue<string>()), Does.Contain(topic).And.No.Contain("fogline/gw-1/telemetry"), "only retained messages are kept");
        Assert.That(listed.Single(t => t!["topic"]!.GetValue<string>() == topic)!["payloadSize"]!.GetValue<long>(), Is.EqualTo(7));

        _nuclei[0].IoTCore.Publish(CloudMessage.FromText(topic, string.Empty, MqttQos.AtLeastOnce, retain: true));
        await Eventually.UntilAsync(async () => (await _cli.RunAsync("iot-data", "get-retained-message", "--topic", topic)).Error.Contains("ResourceNotFoundException", StringComparison.Ordinal),
            "an empty retained message deletes it", TimeSpan.FromSeconds(30));
    }

    [Test]
    public async Task ASubdeploymentToACanaryGroup_StandsForTheParentsDeployment_UntilTheParentsNextRevision()
    {
        var parent = $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms";
        var first = await DeployAsync("com.example.Hello", "1.0.0");
        await ExecutionsAsync(first, "SUCCEEDED", "SUCCESSFUL");
        await PublishAsync("1.1.0", "echo the new version on {iot:thingName}; exec sleep 600");
        await _cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms-canary");
        await _cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", "gw-1", "--thing-group-name", "farms-canary");

        var canary = await _cli.SucceedAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms-canary",
            "--parent-target-arn", parent, "--components", """{"com.example.Hello":{"componentVersion":"1.1.0"}}""");
        var canaryJob = canary!["iotJobId"]!.GetValue<string>();
        await Eventually.UntilAsync(async () => (await _cli.SucceedAsync("iot", "describe-job-execution", "--job-id", canaryJob, "--thing-name", "gw-1"))!["execution"]!["status"]!.GetValue<string>() == "SUCCEEDED",
            "gw-1 took the subdeployment", TimeSpan.FromSeconds(120));
        Assert.That(State(_nuclei[0], "com.example.Hello"), Is.EqualTo((LifecycleState.Running, "1.1.0")));
        Assert.That(_nuclei[0].Deployments.RootsOf("thinggroup/farms"), Does.ContainKey("com.example.Hello"), "kept as the parent group's roots");
        Assert.That(_nuclei[0].Deployments.RootsOf("thinggroup/farms-canary"), Is.Empty);
        Assert.That(State(_nuclei[1], "com.example.Hello"), Is.EqualTo((LifecycleState.Running, "1.0.0")), "gw-2 is not in the canary");
        var sub = await _cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", canary["deploymentId"]!.GetValue<string>());
        Assert.That(sub!["parentTargetArn"]!.GetValue<string>(), Is.EqualTo(parent));

        // The parent's next revision replaces its subdeployments: gw-1 goes back to what the group deploys.
        var second = await DeployAsync("com.example.Hello", "1.0.0");
        await ExecutionsAsync(second, "SUCCEEDED", "SUCCESSFUL");
        Assert.That(State(_nuclei[0], "com.example.Hello"), Is.EqualTo((LifecycleState.Running, "1.0.0")));
        var replaced = await _cli.SucceedAsync("greengrassv2", "get-deployment", "--deployment-id", canary["deploymentId"]!.GetValue<string>());
        Assert.That(replaced!["deploymentStatus"]!.GetValue<string>(), Is.EqualTo("INACTIVE"));
        var orphan = await _cli.RunAsync("greengrassv2", "create-deployment", "--target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms-canary",
            "--parent-target-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms-canary", "--components", "{}");
        Assert.That(orphan.ExitCode, Is.Not.EqualTo(0), "a group cannot be its own parent");
    }


    [Test]
    public async Task TwoDevicesInAGroup_DeployRollBackAndRefuse_AsTheCliSees()
    {
        var first = await DeployAsync("com.example.Hello", "1.0.0");
        await ExecutionsAsync(first, "SUCCEEDED", "SUCCESSFUL");
        foreach (var nucleus in _nuclei)
        {
            Assert.That(State(nucleus, "com.example.Hello"), Is.EqualTo((LifecycleState.Running, "1.0.0")), nucleus.Options.ThingName);
        }

        await Eventually.UntilAsync(async () =>
        {
            var installed = (await _cli.SucceedAsync("greengrassv2", "list-installed-components", "--core-device-thing-name", "gw-2"))!["installedComponents"]!.AsArray();
            return installed.Any(c => c!["componentName"]!.GetValue<string>() == "com.example.Hello" && c["componentVersion"]!.GetValue<string>() == "1.0.0" && c["lifecycleState"]!.GetValue<string>() == "RUNNING" && c["isRoot"]!.GetValue<bool>());
        }, "gw-2 reports com.example.Hello 1.0.0 RUNNING as a root component");
        var device = await _cli.SucceedAsync("greengrassv2", "get-core-device", "--core-device-thing-name", "gw-1");
        Assert.That((device!["status"]!.GetValue<string>(), device["platform"]!.GetValue<string>()), Is.EqualTo(("HEALTHY", "linux")));
        var devices = await _cli.SucceedAsync("greengrassv2", "list-core-devices", "--thing-group-arn", $"arn:aws:iot:us-east-1:{Account}:thinggroup/farms");
        Assert.That(devices!["coreDevices"]!.AsArray().Select(d => d!["coreDeviceThingName"]!.GetValue<string>()), Is.EqualTo(Devices));
        await Eventually.UntilAsync(async () =>
        {
            // fogline deployment status sees what the AWS CLI sees.
            var output = new StringWriter();
            Assert.That(await Fogline.Cli.Cli.RunAsync(["deployment", "status", "--group", "farms", "--json", "--target", "local", "--cloud-dir", CloudDirectory], output, TextWriter.Null), Is.EqualTo(0));
            var reports = JsonNode.Parse(output.ToString())!.AsArray();
            return reports.Count == 2 && reports.All(r => r!["effectiveDeployment"]?["coreDeviceExecutionStatus"]?.GetValue<string>() == "SUCCEEDED"
                && r["installedComponents"]!.AsArray().Any(c => c!["componentName"]!.GetValue<string>() == "com.example.Hello" && c["lifecycleState"]!.GetValue<string>() == "RUNNING"));
        }, "fogline deployment status shows both devices SUCCEEDED with com.example.Hello RUNNING");

        var broken = await DeployAsync("com.example.Hello", "1.0.1");
        var failures = await ExecutionsAsync(broken, "FAILED", "FAILED_ROLLBACK_COMPLETE");
        Assert.That(failures, Has.All.Contains("com.example.Hello"), "the failure cause names the component");
        foreach (var nucleus in _nuclei)
        {
            await Eventually.UntilAsync(() => State(nucleus, "com.example.Hello") == (LifecycleState.Running, "1.0.0"), nucleus.Options.ThingName + ": 1.0.0 running again");
        }

        var effective = (await _cli.SucceedAsync("greengrassv2", "list-effective-deployments", "--core-device-thing-name", "gw-1"))!["effectiveDeployments"]!.AsArray();
        Assert.That(effective.Select(d => (d!["iotJobId"]!.GetValue<string>(), d["coreDeviceExecutionStatus"]!.GetValue<string>())), Is.EqualTo(new[] { (broken, "FAILED"), (first, "SUCCEEDED") }));
        Assert.That(effective[0]!["reason"]!.GetValue<string>(), Does.Contain("com.example.Hello"));

        var missing = await DeployAsync("com.example.Missing", "9.9.9");
        var causes = await ExecutionsAsync(missing, "FAILED", "FAILED_NO_STATE_CHANGE");
        Assert.That(causes, Has.All.Contains("com.example.Missing"));
        foreach (var nucleus in _nuclei)
        {
            Assert.That(State(nucleus, "com.example.Hello"), Is.EqualTo((LifecycleState.Running, "1.0.0")), "nothing changed");
        }

        // An artifact changed in S3 after the version was published no longer matches the recipe's digest.
        await PublishAsync("1.0.2", "echo the published script; exec sleep 600");
        await Eventually.UntilAsync(async () => (await _cli.SucceedAsync("greengrassv2", "describe-component", "--arn", $"arn:aws:greengrass:us-east-1:{Account}:components:com.example.Hello:versions:1.0.2"))!["status"]!["componentState"]!.GetValue<string>() == "DEPLOYABLE",
            "1.0.2 processed (its digest taken) before the object changes");
        var tampered = Path.Combine(_directory, "tampered.sh");
        await File.WriteAllTextAsync(tampered, "echo not what was published; exec sleep 600\n");
        await _cli.SucceedAsync("s3api", "put-object", "--bucket", "fleet-artifacts", "--key", "hello/1.0.2/hello.sh", "--body", tampered);
        var refused = await ExecutionsAsync(await DeployAsync("com.example.Hello", "1.0.2"), "FAILED", "FAILED_NO_STATE_CHANGE");
        Assert.That(refused, Has.All.Contains("does not match its digest"));
        foreach (var nucleus in _nuclei)
        {
            Assert.That(State(nucleus, "com.example.Hello"), Is.EqualTo((LifecycleState.Running, "1.0.0")), "nothing was activated");
        }
    }
}

/// <summary>
/// The broker going away in the middle of a deployment: the devices finish it offline and report when the broker is
/// back (a broker the test stops and starts, persistent as AWS IoT Core is).
/// </summary>
public class BrokerOutageTests : FleetTests
{
    private MosquittoBroker _broker = null!;
    private LocalCloudServer _cloud = null!;

    protected override string Account => _cloud.Keys.Default.AccountId;

    protected override async Task StartCloudAndDevicesAsync()
    {
        // Persistent, as AWS IoT Core is: the cloud's subscriptions and the messages queued for it survive a restart.
        _broker = await MosquittoBroker.StartAsync(persistent: true);
        var (certificate, key) = _broker.Pki.IssueServer("dataplane");
        _cloud = await LocalCloudServer.StartAsync(new LocalCloudOptions
        {
            DataDirectory = Path.Combine(_directory, "cloud"),
            ComponentProcessingDelay = TimeSpan.Zero,
            Broker = _broker.ClientOptions(MosquittoBroker.Cloud),
            DataPlane = new DataPlaneOptions { CertificateFile = certificate, PrivateKeyFile = key, DevicesCaFile = _broker.Pki.CaCertificateFile },
        });
        _cli = new AwsCli(_cloud.Endpoint, _cloud.Keys.Default.AccessKeyId, _cloud.Keys.Default.SecretAccessKey);
        await _cloud.BrokerConnected.WaitAsync(TimeSpan.FromSeconds(20));
        await _cli.SucceedAsync("iot", "create-thing-group", "--thing-group-name", "farms");
        foreach (var thing in Devices)
        {
            await _cli.SucceedAsync("iot", "create-thing", "--thing-name", thing);
            await _cli.SucceedAsync("iot", "add-thing-to-thing-group", "--thing-name", thing, "--thing-group-name", "farms");
            _nuclei.Add(await Nucleus.StartAsync(new NucleusOptions
            {
                RootPath = Path.Combine(_directory, thing),
                ThingName = thing,
                IoTCore = new IoTCoreOptions { Broker = _broker.ClientOptions(thing) },
                DataPlaneEndpoint = _cloud.DataPlaneEndpoint,
            }));
        }
    }

    protected override async Task StopCloudAsync()
    {
        await _cloud.DisposeAsync();
        await _broker.DisposeAsync();
    }

    [Test]
    public async Task TheBrokerGoingAwayMidDeployment_TheDevicesFinish_AndReportWhenItIsBack()
    {
        var file = Path.Combine(_directory, "slow.yaml");
        await File.WriteAllTextAsync(file, """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Slow
            ComponentVersion: '1.0.0'
            Manifests:
              - Platform:
                  os: linux
                Lifecycle:
                  Install: sleep 3
                  Run: exec sleep 600
            """);
        await _cli.SucceedAsync("greengrassv2", "create-component-version", "--inline-recipe", "fileb://" + file);
        var job = await DeployAsync("com.example.Slow", "1.0.0");
        await Eventually.UntilAsync(async () =>
        {
            var executions = (await _cli.SucceedAsync("iot", "list-job-executions-for-job", "--job-id", job))!["executionSummaries"]!.AsArray();
            return executions.All(e => e!["jobExecutionSummary"]!["status"]!.GetValue<string>() == "IN_PROGRESS");
        }, "both devices started the deployment");

        await _broker.StopAsync(graceful: true);
        await Eventually.UntilAsync(() => _nuclei.All(n => !n.IoTCore.IsOnline), "the devices see the broker gone");
        foreach (var nucleus in _nuclei)
        {
            await Eventually.UntilAsync(() => State(nucleus, "com.example.Slow") == (LifecycleState.Running, "1.0.0"), nucleus.Options.ThingName + " finished the deployment offline", TimeSpan.FromSeconds(60));
        }

        await _broker.RestartAsync();
        await ExecutionsAsync(job, "SUCCEEDED", "SUCCESSFUL");
    }
}
