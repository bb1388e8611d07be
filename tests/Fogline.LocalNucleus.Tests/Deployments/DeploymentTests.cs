using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Deployments;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Deployments;

/// <summary>Local deployments end to end, with real child processes (sh scripts as components).</summary>
[CancelAfter(120_000)]
[NonParallelizable]
public class DeploymentTests
{
    private TestNucleus _nucleus = null!;
    private string _scratch = null!;
    private int _dirs;

    [SetUp]
    public async Task SetUp()
    {
        _nucleus = await TestNucleus.StartAsync(root => NucleusOptionsFor(root));
        _scratch = Path.Combine(_nucleus.Root, "scratch");
        Directory.CreateDirectory(_scratch);
    }

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    private Nucleus Nucleus => _nucleus.Nucleus;

    private static NucleusOptions NucleusOptionsFor(string root) => new()
    {
        RootPath = root,
        ThingName = "test-thing",
        Lifecycle = new Fogline.LocalNucleus.Lifecycle.LifecycleOptions { ShutdownGracePeriod = TimeSpan.FromMilliseconds(500) },
        Deployments = new DeploymentOptions { ApplyTimeout = TimeSpan.FromSeconds(30), UpdateNotificationTimeout = TimeSpan.FromSeconds(10) },
    };

    [Test]
    public async Task Deploy_ImportsRecipesAndArtifacts_ResolvesDependencies_AndStartsThemInOrder()
    {
        var order = Path.Combine(_scratch, "order");
        var recipes = Recipes(
            ("b.yaml", Service("com.example.B", "1.0.0", order)),
            ("b2.yaml", Service("com.example.B", "1.5.0", order)),
            ("b3.yaml", Service("com.example.B", "2.0.0", order)),
            ("a.yaml", $$"""
                RecipeFormatVersion: '2020-01-25'
                ComponentName: com.example.A
                ComponentVersion: '1.0.0'
                ComponentDependencies:
                  com.example.B:
                    VersionRequirement: '>=1.0.0 <2.0.0'
                ComponentConfiguration:
                  DefaultConfiguration:
                    word: hello
                Manifests:
                  - Platform: { os: linux }
                    Artifacts:
                      - URI: s3://some-bucket/a/run.sh
                        Permission: { Execute: OWNER }
                    Lifecycle:
                      Run: '{artifacts:path}/run.sh {configuration:/word} {{order}}'
                """));
        var artifacts = Artifacts(("com.example.A", "1.0.0", "run.sh", "#!/bin/sh\necho \"A $1\" >> \"$2\"\nexec sleep 600\n"));

        var record = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = recipes,
            ArtifactsDirectoryPath = artifacts,
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.A"] = "1.0.0" },
        });

        Assert.That(record.Status, Is.EqualTo(DeploymentStatus.Succeeded), record.FailureCause);
        Assert.That(record.Detailed, Is.EqualTo(DetailedDeploymentStatus.Successful));
        Assert.That(Version("com.example.B"), Is.EqualTo("1.5.0"), "the newest version every requirement allows");
        Assert.That(State("com.example.A"), Is.EqualTo(LifecycleState.Running));
        await Eventually.UntilAsync(() => File.Exists(order) && File.ReadAllLines(order).Length == 2, "both ran");
        Assert.That(File.ReadAllLines(order), Is.EqualTo(new[] { "B 1.5.0", "A hello" }), "the HARD dependency first; the artifact ran with its interpolated argument");
        var artifact = Path.Combine(_nucleus.Root, "packages", "artifacts", "com.example.A", "1.0.0", "run.sh");
        Assert.That(OperatingSystem.IsWindows() || File.GetUnixFileMode(artifact).HasFlag(UnixFileMode.UserExecute), Is.True);
        Assert.That(Nucleus.Deployments.Roots, Is.EquivalentTo(new Dictionary<string, string> { ["com.example.A"] = "1.0.0" }));
    }

    /// <summary>
    /// AWS's getting-started HelloWorld: a recipe with no Artifacts section whose Run reads a file from
    /// {artifacts:path}. greengrass-cli's --artifactDir brings the whole directory into the component store (the
    /// Nucleus copies it recursively), nested folders and files no recipe lists included.
    /// </summary>
    [Test]
    public async Task RecipeWithoutArtifacts_ReadsFilesTheArtifactDirectoryBrought()
    {
        var output = Path.Combine(_scratch, "hello.out");
        var recipes = Recipes(("hello.yaml", $$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.HelloWorld
            ComponentVersion: '1.0.0'
            Manifests:
              - Platform: { os: linux }
                Lifecycle:
                  Run: 'cat {artifacts:path}/hello_world.txt {artifacts:path}/data/more.txt > {{output}} && exec sleep 600'
            """));
        var artifacts = Artifacts(
            ("com.example.HelloWorld", "1.0.0", "hello_world.txt", "Hello, world!\n"),
            ("com.example.HelloWorld", "1.0.0", "data/more.txt", "and more\n"),
            ("com.example.Other", "9.9.9", "unrelated.txt", "copied too\n"));

        var record = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = recipes,
            ArtifactsDirectoryPath = artifacts,
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.HelloWorld"] = "1.0.0" },
        });

        Assert.That(record.Status, Is.EqualTo(DeploymentStatus.Succeeded), record.FailureCause);
        await Eventually.UntilAsync(() => File.Exists(output) && File.ReadAllText(output).Length > 0, "the Run step read its files");
        Assert.That(File.ReadAllText(output), Is.EqualTo("Hello, world!\nand more\n"));
        Assert.That(State("com.example.HelloWorld"), Is.EqualTo(LifecycleState.Running));
        Assert.That(File.ReadAllText(Path.Combine(_nucleus.Root, "packages", "artifacts", "com.example.Other", "9.9.9", "unrelated.txt")), Is.EqualTo("copied too\n"), "the whole directory, as the Nucleus copies it");
    }

    /// <summary>
    /// A configuration change alone (the lifecycle does not change, so nothing is restarted) that makes the component
    /// crash: it is BROKEN after three errors, and the deployment fails then, naming it, and rolls back, instead of
    /// failing at the apply timeout.
    /// </summary>
    [Test]
    public async Task ConfigurationOnlyChange_ThatBreaksAComponent_FailsWhenItIsBroken_AndRollsBack()
    {
        var node = Path.Combine(Repository.Root, "tests", "Conformance", "js", "node_modules");
        Assert.That(Directory.Exists(Path.Combine(node, "aws-iot-device-sdk-v2")), Is.True, "the official Node.js IPC client is not installed (the Test target installs it)");
        var recipes = Recipes(("c.yaml", $$"""
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Configured
            ComponentVersion: '1.0.0'
            ComponentConfiguration:
              DefaultConfiguration:
                crash: false
            Manifests:
              - Platform: { os: linux }
                Lifecycle:
                  Run: 'NODE_PATH={{node}} exec node {artifacts:path}/configured.js'
            """));
        var artifacts = Artifacts(("com.example.Configured", "1.0.0", "configured.js", """
            const { greengrasscoreipc } = require('aws-iot-device-sdk-v2');
            (async () => {
              const client = greengrasscoreipc.createClient();
              await client.connect();
              const crashes = async () => (await client.getConfiguration({ keyPath: [] })).value.crash === true;
              if (await crashes()) { console.error('crash: true'); process.exit(3); }
              const updates = client.subscribeToConfigurationUpdate({ keyPath: [] });
              updates.on('message', async () => { if (await crashes()) { console.error('crash: true'); process.exit(3); } });
              await updates.activate();
              await client.updateState({ state: 'RUNNING' });
              setInterval(() => {}, 60000);
            })().catch(e => { console.error(e); process.exit(2); });
            """));
        var first = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = recipes,
            ArtifactsDirectoryPath = artifacts,
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.Configured"] = "1.0.0" },
        });
        Assert.That(first.Status, Is.EqualTo(DeploymentStatus.Succeeded), first.FailureCause);

        var broken = await DeployAsync(new CreateLocalDeploymentRequest
        {
            ComponentToConfiguration = Update("com.example.Configured", """{"MERGE": {"crash": true}}"""),
        });

        Assert.That(broken.Status, Is.EqualTo(DeploymentStatus.Failed));
        Assert.That(broken.Detailed, Is.EqualTo(DetailedDeploymentStatus.FailedRollbackComplete));
        Assert.That(broken.FailureCause, Does.Contain("com.example.Configured is BROKEN"), "failed because it broke, not at the apply timeout");
        Assert.That(Configuration("com.example.Configured")["crash"]!.GetValue<bool>(), Is.False, "the configuration is rolled back");
        await Eventually.UntilAsync(() => State("com.example.Configured") == LifecycleState.Running, "running again on the previous configuration");
    }

    [Test]
    public async Task NewVersionThatCrashLoops_IsRolledBack_ToThePreviousVersionAndConfiguration()
    {
        var recipes = Recipes(("v1.yaml", Versioned("1.0.0", "exec sleep 600")), ("v2.yaml", Versioned("2.0.0", "exit 1")));
        var first = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = recipes,
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "1.0.0" },
            ComponentToConfiguration = Update("com.example.App", """{"MERGE": {"threshold": 7}}"""),
        });
        Assert.That(first.Status, Is.EqualTo(DeploymentStatus.Succeeded), first.FailureCause);

        var second = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "2.0.0" },
            ComponentToConfiguration = Update("com.example.App", """{"MERGE": {"threshold": 99, "added": true}}"""),
        });

        Assert.That(second.Status, Is.EqualTo(DeploymentStatus.Failed));
        Assert.That(second.Detailed, Is.EqualTo(DetailedDeploymentStatus.FailedRollbackComplete));
        Assert.That(second.ErrorStack, Does.Contain("COMPONENT_BROKEN"));
        Assert.That(second.FailureCause, Does.Contain("com.example.App is BROKEN"));

        // As a user sees it: through the CLI operations and GetConfiguration.
        var cli = await CliClientAsync();
        var listed = (await cli.ListComponentsAsync(new ListComponentsRequest())).Components!.Single(c => c.ComponentName == "com.example.App");
        Assert.That(listed.Version, Is.EqualTo("1.0.0"));
        Assert.That(listed.State, Is.EqualTo(LifecycleState.Running));
        var self = await _nucleus.ConnectAsync(Record("com.example.App"));
        var configuration = await self.GetConfigurationAsync(new GetConfigurationRequest { KeyPath = [] });
        Assert.That(configuration.Value!.Value.GetProperty("threshold").GetInt32(), Is.EqualTo(7));
        Assert.That(configuration.Value!.Value.TryGetProperty("added", out _), Is.False);
        Assert.That(Nucleus.Deployments.Roots["com.example.App"], Is.EqualTo("1.0.0"), "the roots are those of the last good deployment");
    }

    [Test]
    public async Task NewVersionThatCrashLoops_WithDoNothing_StaysBroken()
    {
        var recipes = Recipes(("v1.yaml", Versioned("1.0.0", "exec sleep 600")), ("v2.yaml", Versioned("2.0.0", "exit 1")));
        await DeployAsync(new CreateLocalDeploymentRequest { RecipeDirectoryPath = recipes, RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "1.0.0" } });

        var second = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "2.0.0" },
            FailureHandlingPolicy = FailureHandlingPolicy.DoNothing,
        });

        Assert.That(second.Status, Is.EqualTo(DeploymentStatus.Failed));
        Assert.That(second.Detailed, Is.EqualTo(DetailedDeploymentStatus.FailedRollbackNotRequested));
        Assert.That(Version("com.example.App"), Is.EqualTo("2.0.0"));
        Assert.That(State("com.example.App"), Is.EqualTo(LifecycleState.Broken));
    }

    [Test]
    public async Task ConfigurationMergeAndReset_ReachTheRunningComponent_WithoutARestart()
    {
        var recipes = Recipes(("c.yaml", """
            RecipeFormatVersion: '2020-01-25'
            ComponentName: com.example.Configured
            ComponentVersion: '1.0.0'
            ComponentConfiguration:
              DefaultConfiguration:
                limits: { high: 10, low: 1 }
                mode: normal
            Manifests:
              - Lifecycle:
                  Run: exec sleep 600
            """));
        await DeployAsync(new CreateLocalDeploymentRequest { RecipeDirectoryPath = recipes, RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.Configured"] = "1.0.0" } });
        var pid = Nucleus.Supervisor.ProcessIds("com.example.Configured").Single();
        var client = await _nucleus.ConnectAsync(Record("com.example.Configured"));
        var changes = new List<string>();
        await using var subscription = await client.SubscribeToConfigurationUpdateAsync(new SubscribeToConfigurationUpdateRequest { KeyPath = [] }, e =>
        {
            lock (changes)
            {
                changes.Add(string.Join("/", e.ConfigurationUpdateEvent!.KeyPath!));
            }
        });
        await Eventually.UntilAsync(() => Nucleus.Configuration.WatcherCount > 0, "the configuration subscription registered");

        var merged = await DeployAsync(new CreateLocalDeploymentRequest
        {
            ComponentToConfiguration = Update("com.example.Configured", """{"MERGE": {"limits": {"high": 50}, "mode": "strict"}}"""),
        });
        Assert.That(merged.Status, Is.EqualTo(DeploymentStatus.Succeeded), merged.FailureCause);
        Assert.That(Configuration("com.example.Configured").ToJsonString(), Is.EqualTo("""{"limits":{"high":50,"low":1},"mode":"strict"}"""));

        var reset = await DeployAsync(new CreateLocalDeploymentRequest
        {
            ComponentToConfiguration = Update("com.example.Configured", """{"RESET": ["/limits/high"]}"""),
        });
        Assert.That(reset.Status, Is.EqualTo(DeploymentStatus.Succeeded), reset.FailureCause);
        Assert.That(Configuration("com.example.Configured").ToJsonString(), Is.EqualTo("""{"limits":{"high":10,"low":1},"mode":"strict"}"""));
        Assert.That(Nucleus.Supervisor.ProcessIds("com.example.Configured").Single(), Is.EqualTo(pid), "a configuration change alone does not restart the component");
        await Eventually.UntilAsync(() => { lock (changes) { return changes.Contains("limits/high") && changes.Contains("mode"); } }, "configuration update events");
    }

    [Test]
    public async Task Remove_StopsTheRootAndTheDependenciesNothingElseNeeds()
    {
        var order = Path.Combine(_scratch, "order");
        var recipes = Recipes(("b.yaml", Service("com.example.B", "1.0.0", order)), ("a.yaml", Dependent("com.example.A", "com.example.B", "^1.0.0", "HARD")));
        await DeployAsync(new CreateLocalDeploymentRequest { RecipeDirectoryPath = recipes, RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.A"] = "1.0.0" } });
        Assert.That(State("com.example.B"), Is.EqualTo(LifecycleState.Running));

        var removed = await DeployAsync(new CreateLocalDeploymentRequest { RootComponentsToRemove = ["com.example.A"] });

        Assert.That(removed.Status, Is.EqualTo(DeploymentStatus.Succeeded), removed.FailureCause);
        Assert.That(Nucleus.Components.TryGet("com.example.A", out _), Is.False);
        Assert.That(Nucleus.Components.TryGet("com.example.B", out _), Is.False);
    }

    [Test]
    public async Task Deferral_DelaysTheUpdate_ThenItCompletes_AndPostUpdateFollows()
    {
        var recipes = Recipes(("v1.yaml", Versioned("1.0.0", "exec sleep 600")), ("v2.yaml", Versioned("2.0.0", "exec sleep 601")));
        await DeployAsync(new CreateLocalDeploymentRequest { RecipeDirectoryPath = recipes, RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "1.0.0" } });
        var client = await _nucleus.ConnectAsync(Record("com.example.App"));
        var events = new List<string>();
        var firstPreUpdate = DateTimeOffset.MinValue;
        var deferred = false;
        await using var updates = await client.SubscribeToComponentUpdatesAsync(new SubscribeToComponentUpdatesRequest(), e =>
        {
            if (e.PreUpdateEvent is { } pre)
            {
                lock (events)
                {
                    events.Add("pre");
                    if (!deferred)
                    {
                        deferred = true;
                        firstPreUpdate = DateTimeOffset.UtcNow;
                        _ = client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = pre.DeploymentId, RecheckAfterMs = 1500, Message = "saving state" });
                    }
                    else
                    {
                        _ = client.DeferComponentUpdateAsync(new DeferComponentUpdateRequest { DeploymentId = pre.DeploymentId, RecheckAfterMs = 0 });
                    }
                }
            }
            else if (e.PostUpdateEvent is not null)
            {
                lock (events)
                {
                    events.Add("post");
                }
            }
        });
        await Eventually.UntilAsync(() => Nucleus.Updates.IsSubscribed("com.example.App"), "the update subscription registered");

        var id = Nucleus.Deployments.Submit(new CreateLocalDeploymentRequest { RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "2.0.0" } });
        await Eventually.UntilAsync(() => { lock (events) { return events.Count >= 1; } }, "the first preUpdateEvent");
        Assert.That(Version("com.example.App"), Is.EqualTo("1.0.0"), "deferred: not updated yet");
        var record = await Nucleus.Deployments.WaitAsync(id);

        Assert.That(record.Status, Is.EqualTo(DeploymentStatus.Succeeded), record.FailureCause);
        Assert.That(DateTimeOffset.UtcNow - firstPreUpdate, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(1400)), "the update waited for the deferral");
        Assert.That(Version("com.example.App"), Is.EqualTo("2.0.0"));
        await Eventually.UntilAsync(() => { lock (events) { return events.Contains("post"); } }, "postUpdateEvent");
        lock (events)
        {
            Assert.That(events.Take(2), Is.EqualTo(new[] { "pre", "pre" }), "a second round after the recheck");
        }
    }

    [Test]
    public async Task DeploymentsAndComponents_SurviveARestartOfTheLocalNucleus()
    {
        var recipes = Recipes(("v1.yaml", Versioned("1.0.0", "exec sleep 600")));
        var first = await DeployAsync(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = recipes,
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "1.0.0" },
            ComponentToConfiguration = Update("com.example.App", """{"MERGE": {"threshold": 3}}"""),
        });
        var root = _nucleus.Root;
        await Nucleus.DisposeAsync();

        await using var again = await Nucleus.StartAsync(NucleusOptionsFor(root));
        await Eventually.UntilAsync(() => again.Components.TryGet("com.example.App", out var r) && r.State == LifecycleState.Running, "restored and RUNNING");
        Assert.That(again.Deployments.Find(first.Id)?.Status, Is.EqualTo(DeploymentStatus.Succeeded));
        Assert.That(again.Configuration.Snapshot("com.example.App")!["threshold"]!.GetValue<int>(), Is.EqualTo(3));
    }

    [Test]
    public async Task CliOperations_CreateStatusListCancel_OverIpc()
    {
        var recipes = Recipes(("v1.yaml", Versioned("1.0.0", "exec sleep 600")));
        var cli = await CliClientAsync();

        var created = await cli.CreateLocalDeploymentAsync(new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = recipes,
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.App"] = "1.0.0" },
        });
        var done = await Nucleus.Deployments.WaitAsync(created.DeploymentId!);
        var status = await cli.GetLocalDeploymentStatusAsync(new GetLocalDeploymentStatusRequest { DeploymentId = created.DeploymentId });
        var list = await cli.ListLocalDeploymentsAsync(new ListLocalDeploymentsRequest());

        Assert.That(done.Status, Is.EqualTo(DeploymentStatus.Succeeded));
        Assert.That(status.Deployment!.Status, Is.EqualTo(DeploymentStatus.Succeeded));
        Assert.That(status.Deployment.DeploymentStatusDetails!.DetailedDeploymentStatus, Is.EqualTo(DetailedDeploymentStatus.Successful));
        Assert.That(list.LocalDeployments!.Select(d => d.DeploymentId), Does.Contain(created.DeploymentId));
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => cli.GetLocalDeploymentStatusAsync(new GetLocalDeploymentStatusRequest { DeploymentId = "no-such-id" }));
        await Assert.ThrowsAsync<InvalidArgumentsException>(() => cli.CancelLocalDeploymentAsync(new CancelLocalDeploymentRequest { DeploymentId = created.DeploymentId }), "finished deployments cannot be canceled");

        var bad = await Assert.ThrowsAsync<InvalidArgumentsException>(() => cli.CreateLocalDeploymentAsync(new CreateLocalDeploymentRequest
        {
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.Missing"] = "1.0.0" },
        }));
        Assert.That(bad!.Message, Does.Contain("no recipe of com.example.Missing 1.0.0"));

        // Without an aws.greengrass.Cli policy a component may not deploy.
        _nucleus.Add("com.example.Intruder");
        var intruder = await _nucleus.ConnectAsync(Record("com.example.Intruder"));
        await Assert.ThrowsAsync<UnauthorizedException>(() => intruder.CreateLocalDeploymentAsync(new CreateLocalDeploymentRequest { RootComponentsToRemove = ["com.example.App"] }));
        Assert.That(State("com.example.App"), Is.EqualTo(LifecycleState.Running));
    }

    // ---- Malformed input: each rejected with file:line:col and a sentence, nothing deployed or changed. ----

    private static readonly string Good = """
        RecipeFormatVersion: '2020-01-25'
        ComponentName: com.example.Dep
        ComponentVersion: '1.0.0'
        Manifests:
          - Lifecycle:
              Run: exec sleep 600
        """;

    /// <summary>(case, file name, recipe text, the sentence expected).</summary>
    public static IEnumerable<TestCaseData> MalformedRecipes()
    {
        static TestCaseData Case(string name, string file, string text, string expected) => new TestCaseData(file, text, expected).SetName("Malformed_" + name);

        yield return Case("YamlSyntax", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\n  ComponentVersion: '1.0.0'\n", "");
        yield return Case("JsonSyntax", "bad.json", "{\"RecipeFormatVersion\": \"2020-01-25\", \"ComponentName\": \"com.example.Bad\",,}", "");
        yield return Case("MissingName", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentVersion: '1.0.0'\nManifests:\n  - Lifecycle: { Run: 'true' }\n", "ComponentName is required");
        yield return Case("MissingVersion", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nManifests:\n  - Lifecycle: { Run: 'true' }\n", "ComponentVersion is required");
        yield return Case("BadVersion", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: 1.0.x\nManifests:\n  - Lifecycle: { Run: 'true' }\n", "is not a valid version");
        yield return Case("MissingManifests", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\n", "Manifests is required");
        yield return Case("BadFormatVersion", "bad.yaml", "RecipeFormatVersion: '2021-01-01'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\nManifests:\n  - Lifecycle: { Run: 'true' }\n", "is not a recipe format version");
        yield return Case("MisspelledKey", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\nComponentDependancies: {}\nManifests:\n  - Lifecycle: { Run: 'true' }\n", "ComponentDependencies");
        yield return Case("BadRange", "bad.yaml", Bad("ComponentDependencies:\n  com.example.Dep:\n    VersionRequirement: '>>1.0.0'\n", "'true'"), "is not a valid version range");
        yield return Case("UnknownArtifactsKey", "bad.yaml", Bad(string.Empty, "'{artifacts:paths}/run.sh'"), "unknown key 'paths' of artifacts");
        yield return Case("UnknownIotKey", "bad.yaml", Bad(string.Empty, "'echo {iot:thingname}'"), "unknown key 'thingname' of iot");
        yield return Case("ConfigurationNotAPointer", "bad.yaml", Bad(string.Empty, "'echo {configuration:port}'"), "is not a JSON pointer");
        yield return Case("NotADependency", "bad.yaml", Bad(string.Empty, "'echo {com.example.Other:configuration:/x}'"), "is not a direct dependency");
        yield return Case("DuplicatePolicyIds", "bad.yaml", Bad("ComponentConfiguration:\n  DefaultConfiguration:\n    accessControl:\n      aws.greengrass.ipc.pubsub:\n        policy1: { policyDescription: a, operations: ['*'], resources: ['*'] }\n      aws.greengrass.ipc.mqttproxy:\n        policy1: { policyDescription: b, operations: ['*'], resources: ['*'] }\n", "'true'"), "policy id 'policy1' is already used");
        yield return Case("DuplicateKey", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentName: com.example.Bad2\nComponentVersion: '1.0.0'\nManifests:\n  - Lifecycle: { Run: 'true' }\n", "duplicate key 'ComponentName'");
        yield return Case("SelfDependency", "bad.yaml", Bad("ComponentDependencies:\n  com.example.Bad:\n    VersionRequirement: '^1.0.0'\n", "'true'"), "cannot depend on itself");
        yield return Case("NoManifestForThisDevice", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\nManifests:\n  - Platform: { os: windows }\n    Lifecycle: { Run: 'true' }\n", "no manifest of com.example.Bad 1.0.0 matches this device");
        yield return Case("MissingArtifact", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\nManifests:\n  - Artifacts:\n      - URI: s3://bucket/bad/app.bin\n    Lifecycle: { Run: 'true' }\n", "artifact s3://bucket/bad/app.bin is not in the artifact directory");
        yield return Case("BadTimeout", "bad.yaml", "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\nManifests:\n  - Lifecycle:\n      Run:\n        Script: 'true'\n        Timeout: soon\n", "is not a whole number of seconds");
        yield return Case("UnsatisfiableRange", "bad.yaml", Bad("ComponentDependencies:\n  com.example.Dep:\n    VersionRequirement: '^2.0.0'\n", "'true'"), "no version of com.example.Dep satisfies every requirement");
        yield return Case("MissingDependency", "bad.yaml", Bad("ComponentDependencies:\n  com.example.Nowhere:\n    VersionRequirement: '^1.0.0'\n", "'true'"), "no recipe of com.example.Nowhere is available");
        yield return Case("Cycle", "bad.yaml", Bad("ComponentDependencies:\n  com.example.Cycle:\n    VersionRequirement: '^1.0.0'\n", "'true'"), "dependency cycle");

        static string Bad(string extra, string run) =>
            "RecipeFormatVersion: '2020-01-25'\nComponentName: com.example.Bad\nComponentVersion: '1.0.0'\n" + extra + "Manifests:\n  - Lifecycle:\n      Run: " + run + "\n";
    }

    [TestCaseSource(nameof(MalformedRecipes))]
    public async Task MalformedRecipe_IsRejectedWithItsPosition_AndNothingChanges(string file, string text, string expected)
    {
        var baseline = Recipes(("dep.yaml", Good), ("cycle.yaml", Dependent("com.example.Cycle", "com.example.Bad", "^1.0.0", "HARD")));
        var first = await DeployAsync(new CreateLocalDeploymentRequest { RecipeDirectoryPath = baseline, RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.Dep"] = "1.0.0" } });
        Assert.That(first.Status, Is.EqualTo(DeploymentStatus.Succeeded), first.FailureCause);
        var pid = Nucleus.Supervisor.ProcessIds("com.example.Dep").Single();
        var recipesBefore = Directory.GetFiles(Nucleus.Deployments.Store.RecipesPath).Length;

        var dir = Recipes((file, text));
        var path = Path.Combine(dir, file);
        string message;
        var request = new CreateLocalDeploymentRequest
        {
            RecipeDirectoryPath = dir,
            ArtifactsDirectoryPath = Artifacts(),
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.Bad"] = "1.0.0" },
        };
        bool rejectedAtOnce;
        try
        {
            var id = Nucleus.Deployments.Submit(request);
            var record = await Nucleus.Deployments.WaitAsync(id);
            Assert.That(record.Status, Is.EqualTo(DeploymentStatus.Failed));
            Assert.That(record.Detailed, Is.EqualTo(DetailedDeploymentStatus.FailedNoStateChange));
            message = record.FailureCause!;
            rejectedAtOnce = false;
        }
        catch (DeploymentValidationException e)
        {
            message = string.Join("\n", e.Errors);
            rejectedAtOnce = true;
        }

        TestContext.Out.WriteLine(message);
        Assert.That(message, Does.Match(System.Text.RegularExpressions.Regex.Escape(path) + @":\d+:\d+: "), "file:line:col");
        Assert.That(message, Does.Contain(expected));
        Assert.That(Nucleus.Components.TryGet("com.example.Bad", out _), Is.False, "nothing deployed");
        Assert.That(Nucleus.Supervisor.ProcessIds("com.example.Dep").Single(), Is.EqualTo(pid), "what ran keeps running, untouched");
        Assert.That(Nucleus.Deployments.Roots, Is.EquivalentTo(new Dictionary<string, string> { ["com.example.Dep"] = "1.0.0" }));
        if (rejectedAtOnce)
        {
            Assert.That(Directory.GetFiles(Nucleus.Deployments.Store.RecipesPath), Has.Length.EqualTo(recipesBefore), "nothing imported");
        }
    }

    // ---- helpers ----

    private async Task<DeploymentRecord> DeployAsync(CreateLocalDeploymentRequest request)
    {
        var id = Nucleus.Deployments.Submit(request);
        return await Nucleus.Deployments.WaitAsync(id);
    }

    private async Task<GreengrassIpcClient> CliClientAsync()
    {
        Nucleus.EnableCliAccess();
        return await _nucleus.ConnectAsync(Nucleus.CliComponent!);
    }

    private string Recipes(params (string File, string Text)[] recipes)
    {
        var dir = Path.Combine(_scratch, "recipes" + Interlocked.Increment(ref _dirs));
        Directory.CreateDirectory(dir);
        foreach (var (file, text) in recipes)
        {
            File.WriteAllText(Path.Combine(dir, file), text);
        }

        return dir;
    }

    private string Artifacts(params (string Component, string Version, string File, string Text)[] files)
    {
        var dir = Path.Combine(_scratch, "artifacts" + Interlocked.Increment(ref _dirs));
        Directory.CreateDirectory(dir);
        foreach (var (component, version, file, text) in files)
        {
            var path = Path.Combine(dir, component, version, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }

        return dir;
    }

    private static IReadOnlyDictionary<string, JsonElement> Update(string component, string json) =>
        new Dictionary<string, JsonElement> { [component] = JsonDocument.Parse(json).RootElement.Clone() };

    private static string Service(string name, string version, string order) => $$"""
        RecipeFormatVersion: '2020-01-25'
        ComponentName: {{name}}
        ComponentVersion: '{{version}}'
        Manifests:
          - Lifecycle:
              Install: echo "{{name.Split('.')[^1]}} {{version}}" >> {{order}}
              Run: exec sleep 600
        """;

    private static string Dependent(string name, string dependency, string range, string type) => $$"""
        RecipeFormatVersion: '2020-01-25'
        ComponentName: {{name}}
        ComponentVersion: '1.0.0'
        ComponentDependencies:
          {{dependency}}:
            VersionRequirement: '{{range}}'
            DependencyType: {{type}}
        Manifests:
          - Lifecycle:
              Run: exec sleep 600
        """;

    private static string Versioned(string version, string run) => $$"""
        RecipeFormatVersion: '2020-01-25'
        ComponentName: com.example.App
        ComponentVersion: '{{version}}'
        ComponentConfiguration:
          DefaultConfiguration:
            threshold: 1
        Manifests:
          - Lifecycle:
              Run: {{run}}
        """;

    private Fogline.LocalNucleus.Components.ComponentRecord Record(string name) => Nucleus.Components.TryGet(name, out var r) ? r : throw new InvalidOperationException(name + " is not deployed");

    private LifecycleState State(string name) => Record(name).State;

    private string Version(string name) => Record(name).Version;

    private JsonObject Configuration(string name) => Nucleus.Configuration.Snapshot(name)!;
}
