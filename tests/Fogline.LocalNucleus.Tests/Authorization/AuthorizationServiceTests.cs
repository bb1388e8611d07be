using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Tests.Authorization;

[CancelAfter(30_000)]
public class AuthorizationServiceTests
{
    private const string A = "com.example.A";
    private const string B = "com.example.B";
    private const string Publish = "aws.greengrass#PublishToTopic";
    private const string Subscribe = "aws.greengrass#SubscribeToTopic";

    private TestNucleus _nucleus = null!;

    [SetUp]
    public async Task SetUp() => _nucleus = await TestNucleus.StartAsync();

    [TearDown]
    public async Task TearDown() => await _nucleus.DisposeAsync();

    private AuthorizationService Authorization => _nucleus.Nucleus.Authorization;

    private DateTimeOffset Later() => _nucleus.Nucleus.Context.Time.GetUtcNow().AddSeconds(1);

    [Test]
    public void Denial_HasTheNucleusMessage_WithDestinationAndOperation()
    {
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["sensors/*"]));

        var ex = Assert.Throws<UnauthorizedException>(() => Authorization.Authorize(IpcServices.PubSub, A, Publish, "actuators/1"));

        Assert.That(ex!.Error.Message, Is.EqualTo("Principal com.example.A is not authorized to perform aws.greengrass.ipc.pubsub:aws.greengrass#PublishToTopic on resource actuators/1"));
    }

    [Test]
    public void Denial_OfMqttStyleLookup_HasTheSameMessage()
    {
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.MqttProxy, "p", ["aws.greengrass#SubscribeToIoTCore"], ["a/+"]));

        var ex = Assert.Throws<UnauthorizedException>(() => Authorization.Authorize(IpcServices.MqttProxy, A, "aws.greengrass#SubscribeToIoTCore", "a/b/c", ResourceLookupPolicy.MqttStyle));

        Assert.That(ex!.Error.Message, Is.EqualTo("Principal com.example.A is not authorized to perform aws.greengrass.ipc.mqttproxy:aws.greengrass#SubscribeToIoTCore on resource a/b/c"));
    }

    [Test]
    public void Reload_FollowsEveryChangeOfAccessControl_AndIgnoresOtherKeys()
    {
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["one"], """{"other":1}"""));
        var configuration = _nucleus.Nucleus.Configuration;
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "one"), Is.True);

        configuration.Merge(A, ["accessControl", IpcServices.PubSub, "p", "operations"], new JsonArray(Subscribe), Later());
        Assert.Multiple(() =>
        {
            Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "one"), Is.False, "operation replaced");
            Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Subscribe, "one"), Is.True, "operation replaced");
        });

        configuration.Merge(A, ["other"], JsonValue.Create(2), Later().AddSeconds(1));
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Subscribe, "one"), Is.True, "unrelated change");

        configuration.SetConfiguration(A, JsonNode.Parse(TestNucleus.Policy(IpcServices.PubSub, "q", [Publish], ["two"]))!.AsObject());
        Assert.Multiple(() =>
        {
            Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Subscribe, "one"), Is.False, "configuration replaced");
            Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "two"), Is.True, "configuration replaced");
        });

        configuration.SetConfiguration(A, new JsonObject { ["other"] = 3 });
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "two"), Is.False, "accessControl removed");
    }

    [Test]
    public void Reload_AccessControlKey_IgnoresCase_AsTheNucleusConfiguration()
    {
        _nucleus.Add(A, """{"AccessControl":{"aws.greengrass.ipc.pubsub":{"p":{"operations":["aws.greengrass#PublishToTopic"],"resources":["t"]}}}}""");
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "t"), Is.True);

        _nucleus.Nucleus.Configuration.Merge(A, ["AccessControl", IpcServices.PubSub, "p", "resources"], new JsonArray("u"), Later());
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "u"), Is.True);
    }

    [Test]
    public void Reload_DoesNotLeakWatchers_AndRemovalDisposesThem()
    {
        var configuration = _nucleus.Nucleus.Configuration;
        var before = configuration.WatcherCount;
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["t"]));
        var withA = configuration.WatcherCount;
        Assert.That(withA, Is.EqualTo(before + 1));

        for (var i = 0; i < 5; i++)
        {
            _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["t" + i]));
            Authorization.LoadPolicies(A);
        }

        Assert.That(configuration.WatcherCount, Is.EqualTo(withA));
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "t4"), Is.True);

        _nucleus.Nucleus.RemoveComponent(A);
        Assert.That(configuration.WatcherCount, Is.EqualTo(before));
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "t4"), Is.False);
    }

    [Test]
    public void RemovedComponent_ReaddedWithoutPolicy_HasNoPermissions()
    {
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["t"]));
        _nucleus.Nucleus.RemoveComponent(A);
        _nucleus.Add(A, """{"x":1}""");

        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "t"), Is.False);

        // The re-added component's configuration is watched afresh.
        _nucleus.Nucleus.Configuration.Merge(A, [], JsonNode.Parse(TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["t"])), Later());
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "t"), Is.True);
    }

    [Test]
    public void GetAuthorizedResources_UnionsPrincipalAndStarOperation_NotStarStar()
    {
        // AuthorizationHandlerTest ..._getAuthorizedResources_works: {p,op} ∪ {*,op} ∪ {p,*}.
        _nucleus.Add(A, """
            {"accessControl":{"aws.greengrass.ipc.pubsub":{
              "Id1":{"operations":["aws.greengrass#PublishToTopic"],"resources":["res1","res2","res3"]},
              "Id2":{"operations":["*"],"resources":["res3","res4","res5"]}}}}
            """);
        _nucleus.Add(B, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["other"]));

        Assert.Multiple(() =>
        {
            Assert.That(Authorization.GetAuthorizedResources(IpcServices.PubSub, A, Publish), Is.EquivalentTo(new[] { "res1", "res2", "res3", "res4", "res5" }));
            Assert.That(Authorization.GetAuthorizedResources(IpcServices.PubSub, A, Subscribe), Is.EquivalentTo(new[] { "res3", "res4", "res5" }));
            Assert.That(Authorization.GetAuthorizedResources(IpcServices.PubSub, B, Subscribe), Is.Empty);
            Assert.That(Authorization.GetAuthorizedResources(IpcServices.PubSub, B, Publish), Is.EquivalentTo(new[] { "other" }));
        });

        var star = Assert.Throws<UnauthorizedException>(() => Authorization.GetAuthorizedResources(IpcServices.PubSub, A, "*"));
        var unregistered = Assert.Throws<UnauthorizedException>(() => Authorization.GetAuthorizedResources(IpcServices.PubSub, A, "opA"));
        Assert.That(star!.Error.Message, Is.EqualTo("Invalid arguments"));
        Assert.That(unregistered!.Error.Message, Is.EqualTo("Component aws.greengrass.ipc.pubsub not registered for operation opA"));
    }

    [Test]
    public void GetAuthorizedResources_KeepsResourcesAsWritten_AndNullForPolicyWithoutResources()
    {
        _nucleus.Add(A, """
            {"accessControl":{"aws.greengrass.ipc.pubsub":{
              "p1":{"operations":["aws.greengrass#PublishToTopic"],"resources":["invalid?res","valid${?}res","invalid${*res","valid*res"]},
              "p2":{"operations":["aws.greengrass#PublishToTopic"]}}}}
            """);

        Assert.That(Authorization.GetAuthorizedResources(IpcServices.PubSub, A, Publish), Is.EquivalentTo(new[] { "valid${?}res", "valid*res", null }));
    }

    [Test]
    public void RegisteredOperations_AreTheNucleusOnes()
    {
        _nucleus.Add(A, null);
        string[] shadow = ["aws.greengrass#GetThingShadow", "aws.greengrass#UpdateThingShadow", "aws.greengrass#DeleteThingShadow", "aws.greengrass#ListNamedShadowsForThing", "*"];
        foreach (var operation in shadow)
        {
            Assert.That(Authorization.IsAuthorized(IpcServices.ShadowManager, A, operation, "x"), Is.False);
            var ex = Assert.Throws<UnauthorizedException>(() => Authorization.Authorize(IpcServices.ShadowManager, A, operation, "x"));
            Assert.That(ex!.Error.Message, Does.StartWith("Principal "), operation);
        }

        var notRegistered = Assert.Throws<UnauthorizedException>(() => Authorization.Authorize(IpcServices.SecretManager, A, "aws.greengrass#GetThingShadow", "x"));
        var tesStar = Assert.Throws<UnauthorizedException>(() => Authorization.Authorize(IpcServices.TokenExchange, A, "*", null));
        Assert.That(notRegistered!.Error.Message, Is.EqualTo("Component aws.greengrass.SecretManager not registered for operation aws.greengrass#GetThingShadow"));
        Assert.That(tesStar!.Error.Message, Is.EqualTo("Component aws.greengrass.TokenExchangeService not registered for operation *"));
    }

    [Test]
    public void RegisterOperations_AddsStar_AndPoliciesLoadAtTheNextReload()
    {
        _nucleus.Add(A, TestNucleus.Policy("com.example.Service", "p", ["com.example#Op"], ["r"]));
        Authorization.RegisterOperations("com.example.Service", ["com.example#Op"]);

        // As in the Nucleus, registering does not reload: the policy read while the destination was unknown waits.
        Assert.That(Authorization.IsAuthorized("com.example.Service", A, "com.example#Op", "r"), Is.False);
        Assert.That(Authorization.IsAuthorized("com.example.Service", A, "*", "r"), Is.False);

        _nucleus.Nucleus.Configuration.Merge(A, ["accessControl", "com.example.Service", "p", "policyDescription"], JsonValue.Create("now"), Later());
        Assert.That(Authorization.IsAuthorized("com.example.Service", A, "com.example#Op", "r"), Is.True);
    }

    [Test]
    public void InvalidPolicies_AreLogged_WithTheirEventIds()
    {
        using var logs = new CapturingLoggerFactory();
        var configuration = new NucleusConfigurationHarness(logs);
        configuration.Add(A, """
            {"accessControl":{
              "aws.greengrass.ipc.pubsub":{
                "p1":{"operations":["aws.greengrass#PublishToTopic","aws.greengrass#PublishToIoTCore"],"resources":["ok","bad?"]},
                "p2":{"operations":[],"resources":["x"]}},
              "com.example.Unknown":{"p3":{"operations":["op"],"resources":["x"]}}}}
            """);
        configuration.Add(B, """{"accessControl":{"aws.greengrass.ipc.mqttproxy":{"p":{"operations":["*"],"unknownField":1}}}}""");

        Assert.Multiple(() =>
        {
            Assert.That(logs.EventIds, Does.Contain(2105), "operation not registered (still loaded)");
            Assert.That(logs.EventIds, Does.Contain(2106), "invalid resource");
            Assert.That(logs.EventIds, Does.Contain(2101), "policy without operations");
            Assert.That(logs.EventIds, Does.Contain(2102), "unregistered destination");
            Assert.That(logs.EventIds, Does.Contain(2100), "unreadable accessControl");
            Assert.That(configuration.Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "ok"), Is.True);
        });
    }

    [Test]
    public void Authorize_AllocatesNothing_WhenAllowed()
    {
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish, Subscribe], ["sensors/*/temperature", "devices/+/state", "exact"]));
        _nucleus.Add(B, TestNucleus.Policy(IpcServices.PubSub, "p", ["*"], ["*"]));
        void Run()
        {
            Authorization.Authorize(IpcServices.PubSub, A, Publish, "sensors/kitchen/1/temperature");
            Authorization.Authorize(IpcServices.PubSub, A, Subscribe, "devices/d1/state", ResourceLookupPolicy.MqttStyle);
            Authorization.Authorize(IpcServices.PubSub, A, Publish, "exact");
            Authorization.Authorize(IpcServices.PubSub, B, Subscribe, "any/topic");
        }

        for (var i = 0; i < 100; i++)
        {
            Run();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Run();
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public async Task Lookups_DuringReloads_SeeOneConsistentState()
    {
        _nucleus.Add(A, TestNucleus.Policy(IpcServices.PubSub, "p", [Publish], ["stable", "flip/0"]));
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var reader = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (!Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "stable"))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        });

        for (var i = 1; i <= 200; i++)
        {
            _nucleus.Nucleus.Configuration.Merge(A, ["accessControl", IpcServices.PubSub, "p", "resources"], new JsonArray("stable", "flip/" + i), Later().AddSeconds(i));
        }

        await stop.CancelAsync();
        await reader;
        Assert.That(failures, Is.Zero);
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "flip/200"), Is.True);
        Assert.That(Authorization.IsAuthorized(IpcServices.PubSub, A, Publish, "flip/199"), Is.False);
    }

    /// <summary>Just the configuration and authorization of a Nucleus, with a logger of our own.</summary>
    private sealed class NucleusConfigurationHarness
    {
        private readonly NucleusContext _context;

        public NucleusConfigurationHarness(ILoggerFactory factory)
        {
            _context = new NucleusContext(new NucleusOptions { RootPath = Path.GetTempPath() }, factory);
        }

        public AuthorizationService Authorization => _context.Authorization;

        public void Add(string component, string configuration)
        {
            _context.Configuration.SetConfiguration(component, JsonNode.Parse(configuration)!.AsObject());
            _context.Authorization.LoadPolicies(component);
        }
    }
}
