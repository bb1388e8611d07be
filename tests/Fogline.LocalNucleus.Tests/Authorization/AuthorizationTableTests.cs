using System.Text.Json.Nodes;
using Fogline.Greengrass.Ipc;
using Fogline.LocalNucleus.Authorization;
using Fogline.LocalNucleus.Tests.Infrastructure;

namespace Fogline.LocalNucleus.Tests.Authorization;

/// <summary>
/// Authorization decisions, row by row: components with their accessControl configuration, then one request
/// (destination, principal, operation, resource, lookup policy) and the verdict. Every row comes from the Nucleus's
/// documented behaviour or its unit tests (AuthorizationHandlerTest, AuthorizationModuleTest, WildcardTrieTest,
/// AuthorizationPolicyParserTest); the comment above each group says which. The matching rows were also checked
/// against the Nucleus's own WildcardTrie class.
/// </summary>
[CancelAfter(30_000)]
public class AuthorizationTableTests
{
    private const string A = "com.example.A";
    private const string B = "com.example.B";
    private const string PubSub = IpcServices.PubSub;
    private const string Mqtt = IpcServices.MqttProxy;
    private const string Publish = "aws.greengrass#PublishToTopic";
    private const string Subscribe = "aws.greengrass#SubscribeToTopic";
    private const string PublishIoT = "aws.greengrass#PublishToIoTCore";
    private const string SubscribeIoT = "aws.greengrass#SubscribeToIoTCore";
    private const string Allow = "ALLOW";
    private const string Deny = "DENY";

    private static readonly ResourceLookupPolicy Std = ResourceLookupPolicy.Standard;
    private static readonly ResourceLookupPolicy MqttStyle = ResourceLookupPolicy.MqttStyle;

    public sealed record Component(string Name, string? Configuration);

    public sealed record Row(
        string Name,
        Component[] Components,
        string Destination,
        string Principal,
        string Operation,
        string? Resource,
        ResourceLookupPolicy Lookup,
        string Expected,
        Action<Nucleus>? Change = null)
    {
        public override string ToString() => Name;
    }

    /// <summary>Component A (or <paramref name="name"/>) with one pubsub policy.</summary>
    private static Component PubSubPolicy(string[] resources, string[]? operations = null, string name = A) =>
        new(name, TestNucleus.Policy(PubSub, "policy1", operations ?? [Publish], resources));

    private static Component MqttPolicy(string[] resources, string name = A) =>
        new(name, TestNucleus.Policy(Mqtt, "policy1", [PublishIoT, SubscribeIoT], resources));

    private static Row Std1(string name, string pattern, string resource, string expected) =>
        new(name, [PubSubPolicy([pattern])], PubSub, A, Publish, resource, Std, expected);

    private static Row Mqtt1(string name, string pattern, string resource, ResourceLookupPolicy lookup, string expected) =>
        new(name, [MqttPolicy([pattern])], Mqtt, A, PublishIoT, resource, lookup, expected);

    private static DateTimeOffset Later(Nucleus n) => n.Context.Time.GetUtcNow().AddSeconds(1);

    public static IEnumerable<TestCaseData> Rows() => AllRows().Select(r => new TestCaseData(r).SetName("Authorization_" + r.Name));

    private static IEnumerable<Row> AllRows()
    {
        // Exact resources and "*" (WildcardTrieTest.testGlobWildcardMatching "no wildcards"; AuthorizationHandlerTest
        // ..._auth_lookup_for_star_resource_works: "*" allows any string; "Only '*' should match all resources").
        yield return Std1("ExactResource_Allowed", "nowildcard", "nowildcard", Allow);
        yield return Std1("ExactResource_OtherResource_Denied", "nowildcard", "topic", Deny);
        yield return Std1("Star_MatchesAnyString", "*", "randomString", Allow);
        yield return Std1("Star_MatchesAcrossLevels", "*", "9999/88", Allow);
        yield return Std1("Star_MatchesLiteralStar", "*", "*", Allow);

        // Globs: prefix, suffix, infix and several '*' (WildcardTrieTest.testGlobWildcardMatching: "abc*xy*z",
        // "*qwe*90*", "*wer", "ab/*/c" — a '*' does not stop at '/' — and "**/abc").
        yield return Std1("Prefix_MatchesEverythingBelow", "sensors/*", "sensors/a/b", Allow);
        yield return Std1("Prefix_DoesNotMatchWithoutSeparator", "sensors/*", "sensors", Deny);
        yield return Std1("Suffix_Matches", "*wer", "123wer", Allow);
        yield return Std1("Suffix_TrailingCharacter_Denied", "*wer", "123werX", Deny);
        yield return Std1("Infix_EmptyRuns", "abc*xy*z", "abcxyz", Allow);
        yield return Std1("Infix_Backtracks", "abc*xy*z", "abc123xy90zABCxyABCz", Allow);
        yield return Std1("Infix_MustEndWithLastPart", "abc*xy*z", "abc789xy56z123", Deny);
        yield return Std1("EdgeStars_Matches", "*qwe*90*", "789qwe-+9qwe-+90ABC", Allow);
        yield return Std1("EdgeStars_MissingPart_Denied", "*qwe*90*", "789qwe-+9A", Deny);
        yield return Std1("StarSpansLevels", "ab/*/c", "ab/1/3/2/c", Allow);
        yield return Std1("StarSpansLevels_TrailingSlash_Denied", "ab/*/c", "ab/1/34/2/c/", Deny);
        yield return Std1("DoubleStar", "**/abc", "7/8/abc", Allow);

        // Escapes ${*} ${$} ${?} stand for the character itself (WildcardTrieTest.testEscapedCharactersMatching).
        yield return Std1("EscapedStar_IsLiteral", "acv/rt${*}mk", "acv/rt*mk", Allow);
        yield return Std1("EscapedStar_IsNoWildcard", "acv/rt${*}mk", "acv/rt123mk", Deny);
        yield return Std1("EscapedDollar_IsLiteral", "${$}/begin", "$/begin", Allow);
        yield return Std1("EscapedDollar_EscapeTextIsNotMatched", "${$}/begin", "${$}/begin", Deny);
        yield return Std1("EscapedQuestionMark_IsLiteral", "end/${?}", "end/?", Allow);
        yield return Std1("EscapedStarAlone_OnlyStar", "${*}", "*ab", Deny);
        yield return Std1("EscapedDollar_DoesNotEscapeWhatFollows", "acv/rt${$}{*}mk", "acv/rt${abc/123/=-_+}mk", Allow);

        // Resource validation (AuthorizationModuleTest invalidResources*, AuthorizationHandlerTest
        // getAuthZPolicyWithPartialInvalidResources): an invalid resource is left out, the valid ones of the same
        // policy are granted.
        yield return new("InvalidResource_UnescapedQuestionMark_NotGranted", [PubSubPolicy(["invalid?res", "valid${?}res", "invalid${*res", "valid*res"])], PubSub, A, Publish, "invalid?res", Std, Deny);
        yield return new("InvalidResource_OthersOfThePolicyGranted", [PubSubPolicy(["invalid?res", "valid${?}res", "invalid${*res", "valid*res"])], PubSub, A, Publish, "valid?res", Std, Allow);
        yield return Std1("InvalidResource_BadEscape_NotGranted", "abc${", "abc${", Deny);

        // Operations (AuthorizationHandlerTest: "*" operations allow every registered operation; an operation not
        // in the policy is denied; a request for operation "*" needs a "*" permission).
        yield return new("StarOperation_AllowsPublish", [PubSubPolicy(["t"], ["*"])], PubSub, A, Publish, "t", Std, Allow);
        yield return new("StarOperation_AllowsSubscribe", [PubSubPolicy(["t"], ["*"])], PubSub, A, Subscribe, "t", Std, Allow);
        yield return new("StarOperation_RequestForStar_Allowed", [PubSubPolicy(["t"], ["*"])], PubSub, A, "*", "t", Std, Allow);
        yield return new("WrongOperation_Denied", [PubSubPolicy(["t"], [Publish])], PubSub, A, Subscribe, "t", Std, Deny);
        yield return new("RequestForStar_WithoutStarPermission_Denied", [PubSubPolicy(["t"], [Publish])], PubSub, A, "*", "t", Std, Deny);

        // Principals: the principal of a policy is the component declaring it; another component's policy does not
        // apply to you (AuthorizationHandlerTest "Components are not allowed to be accessed from other principals").
        yield return new("WrongPrincipal_Denied", [PubSubPolicy(["t"]), new(B, null)], PubSub, B, Publish, "t", Std, Deny);
        yield return new("OtherComponentsPolicy_DoesNotApply", [PubSubPolicy(["a/topic"]), PubSubPolicy(["b/topic"], name: B)], PubSub, B, Publish, "a/topic", Std, Deny);
        yield return new("OwnPolicy_NextToOthers_Applies", [PubSubPolicy(["a/topic"]), PubSubPolicy(["b/topic"], name: B)], PubSub, B, Publish, "b/topic", Std, Allow);
        yield return new("UnknownPrincipal_Denied", [PubSubPolicy(["*"])], PubSub, "random", Publish, "t", Std, Deny);

        // Destinations: a policy only counts for its destination ("Random destination should not be allowed").
        yield return new("DestinationMismatch_Denied", [PubSubPolicy(["t"])], Mqtt, A, PublishIoT, "t", MqttStyle, Deny);

        // isOperationValid: unregistered destinations and operations fail with the Nucleus's messages, whatever the
        // policies; so does a policy for an unregistered destination (not loaded at all).
        yield return new("UnregisteredOperation_Error", [PubSubPolicy(["*"], ["*"])], PubSub, A, PublishIoT, "t", Std, $"Component {PubSub} not registered for operation {PublishIoT}");
        yield return new("UnregisteredDestination_Error", [PubSubPolicy(["*"])], "com.example.Service", A, Publish, "t", Std, "Component not registered: com.example.Service");
        yield return new("PolicyForUnregisteredDestination_NotLoaded", [new(A, TestNucleus.Policy("com.example.Service", "p", ["op"], ["*"]))], "com.example.Service", A, "op", "t", Std, "Component not registered: com.example.Service");
        yield return new("BlankDestination_Error", [], " ", A, Publish, "t", Std, "Component name is not specified:  ");

        // validateOperations only reports: a policy listing an operation the destination does not know is still
        // loaded, and its registered operations work (AuthorizationHandler.loadAuthorizationPolicies).
        yield return new("PolicyWithUnregisteredOperation_StillLoaded", [PubSubPolicy(["t"], [Publish, PublishIoT])], PubSub, A, Publish, "t", Std, Allow);

        // Policies without resources grant only the null resource (AuthorizationHandlerTest uses resource(null);
        // AuthorizationHandler.addPermission adds a null resource when there are none); an empty list is the same.
        yield return new("NoResources_GrantsNoResource", [new(A, """{"accessControl":{"aws.greengrass.ipc.pubsub":{"p":{"operations":["aws.greengrass#PublishToTopic"]}}}}""")], PubSub, A, Publish, "t", Std, Deny);
        yield return new("NoResources_NullResourceAllowed", [new(A, """{"accessControl":{"aws.greengrass.ipc.pubsub":{"p":{"operations":["aws.greengrass#PublishToTopic"]}}}}""")], PubSub, A, Publish, null, Std, Allow);
        yield return new("EmptyResourceList_GrantsNoResource", [PubSubPolicy([])], PubSub, A, Publish, "t", Std, Deny);

        // AuthorizationModule.isPresent: an empty (or blank) resource is refused with its own message.
        yield return new("EmptyResource_Error", [PubSubPolicy(["*"])], PubSub, A, Publish, string.Empty, Std, "Resource cannot be empty");
        yield return new("BlankResource_Error", [PubSubPolicy(["*"])], PubSub, A, Publish, " ", Std, "Resource cannot be empty");

        // Parsing (AuthorizationPolicyParserTest, pubsub_*.yaml): a policy without operations is skipped; an unknown
        // field drops the component's whole accessControl; property names ignore case; an accessControl string is
        // read as JSON; keys starting with '_' are not part of the configuration the Nucleus reads.
        yield return new("PolicyWithoutOperations_Skipped", [new(A, """{"accessControl":{"aws.greengrass.ipc.pubsub":{"p":{"operations":[],"resources":["*"]}}}}""")], PubSub, A, Publish, "t", Std, Deny);
        yield return new("UnknownField_DropsWholeAccessControl", [new(A, """{"accessControl":{"aws.greengrass.ipc.pubsub":{"p":{"operations":["aws.greengrass#PublishToTopic"],"resources":["*"]}},"aws.greengrass.ipc.mqttproxy":{"q":{"policyTypeInvalid":"x","operations":["*"],"resources":["*"]}}}}""")], PubSub, A, Publish, "t", Std, Deny);
        yield return new("PropertyNames_IgnoreCase", [new(A, """{"accessControl":{"aws.greengrass.ipc.pubsub":{"p":{"PolicyDescription":"d","OPERATIONS":["aws.greengrass#PublishToTopic"],"Resources":["t"]}}}}""")], PubSub, A, Publish, "t", Std, Allow);
        yield return new("AccessControlAsJsonString", [new(A, """{"accessControl":"{\"aws.greengrass.ipc.pubsub\":{\"p\":{\"operations\":[\"aws.greengrass#PublishToTopic\"],\"resources\":[\"t\"]}}}"}""")], PubSub, A, Publish, "t", Std, Allow);
        yield return new("UnderscorePolicyId_Ignored", [new(A, """{"accessControl":{"aws.greengrass.ipc.pubsub":{"_p":{"operations":["aws.greengrass#PublishToTopic"],"resources":["t"]}}}}""")], PubSub, A, Publish, "t", Std, Deny);

        // The token exchange service's default policy: every component may get credentials (no resource).
        yield return new("TokenExchange_DefaultPolicy", [new(A, null)], IpcServices.TokenExchange, A, AuthorizationService.TokenExchangeOperation, null, Std, Allow);

        // MQTT_STYLE with '#' (WildcardTrieTest.testMQTTMultilevelWildcardMatching): "abc/#" matches below and "abc"
        // itself; '#' alone matches everything; '#' not after '/' or not last is a plain character.
        yield return Mqtt1("Hash_MultiLevel", "abc/#", "abc/1/2/3", MqttStyle, Allow);
        yield return Mqtt1("Hash_MatchesParentLevel", "abc/#", "abc", MqttStyle, Allow);
        yield return Mqtt1("Hash_OtherPrefix_Denied", "abc/#", "abcd/e", MqttStyle, Deny);
        yield return Mqtt1("HashAlone_MatchesAll", "#", "asdu76/asdas/23", MqttStyle, Allow);
        yield return Mqtt1("Hash_NotAfterSeparator_IsLiteral", "w/qqq#", "w/qqq/e/r", MqttStyle, Deny);
        yield return Mqtt1("Hash_NotLast_IsLiteral", "12/#/", "12/4/5/6", MqttStyle, Deny);

        // MQTT_STYLE with '+' (testMQTTSinglelevelWildcardMatching): one level, possibly empty; '+' inside a level
        // is a plain character.
        yield return Mqtt1("Plus_OneLevel", "abc/+/123", "abc/def/123", MqttStyle, Allow);
        yield return Mqtt1("Plus_NotTwoLevels", "abc/+/123", "abc/def/g/123", MqttStyle, Deny);
        yield return Mqtt1("Plus_MatchesEmptyLevel", "89/+/+/+/90", "89/1/2//90", MqttStyle, Allow);
        yield return Mqtt1("Plus_LevelCountMatters", "89/+/+/+/90", "89/1/2/90", MqttStyle, Deny);
        yield return Mqtt1("PlusAlone_SingleLevel", "+", "abc", MqttStyle, Allow);
        yield return Mqtt1("PlusAlone_NotTwoLevels", "+", "/123", MqttStyle, Deny);
        yield return Mqtt1("PlusLast_MatchesEmptyLastLevel", "a/+", "a/", MqttStyle, Allow);
        yield return Mqtt1("Plus_InsideLevel_IsLiteral", "ax/qwe+/123", "ax/qwert/123", MqttStyle, Deny);
        yield return Mqtt1("PlusHash_NeedsOneLevel", "a/+/#", "a", MqttStyle, Deny);

        // '*', '+' and '#' together (testMultipleWildcardsMatching; AuthorizationHandlerTest
        // ..._auth_lookup_with_wildcards_inside_resource_works).
        yield return Mqtt1("Mixed_AllWildcards", "xyz*/+/*room/#", "xyzzzz/89/fan2/bedroom/light/5", MqttStyle, Allow);
        yield return Mqtt1("Mixed_HandlerTest", "abc*qw/+/qw*xyz*4/#", "abc123qw/def/qwasxyzds4/2/4/ghj", MqttStyle, Allow);
        yield return Mqtt1("Mixed_PlusIsOneLevel", "abc*qw/+/qw*xyz*4/#", "abc123qw/def/tyu/qwasxyzds4/2/4/ghj", MqttStyle, Deny);
        yield return Mqtt1("Mixed_StarSpansLevels", "abc*qw/+/qw*xyz*4/#", "abc12/3qw/def/qwasxyzds/4/2/4/ghj", MqttStyle, Allow);

        // '+' and '#' are plain characters under STANDARD lookups (every WildcardTrieTest matchesStandard case).
        yield return Mqtt1("Standard_HashIsLiteral", "abc/#", "abc/1/2/3", Std, Deny);
        yield return Mqtt1("Standard_HashMatchesItself", "abc/#", "abc/#", Std, Allow);
        yield return Mqtt1("Standard_HashAlone_OnlyItself", "#", "asdu76/asdas/23", Std, Deny);
        yield return Mqtt1("Standard_PlusIsLiteral", "abc/+/123", "abc/def/123", Std, Deny);
        yield return Mqtt1("Standard_PlusMatchesItself", "abc/+/123", "abc/+/123", Std, Allow);
        yield return Mqtt1("Standard_MixedPattern_LiteralWildcards", "abc*qw/+/qw*xyz*4/#", "abc123qw/+/qw4/5xyziuo/4/#", Std, Allow);

        // WildcardTrie collects what may follow a '*' in a map keyed by the rest of the resource, so of two children
        // leaving the same rest only the one iterated last is tried: with "*ab" and "*b*c" the Nucleus denies "xab"
        // (checked against the Nucleus's WildcardTrie); "*ab" alone allows it.
        yield return new("Quirk_StarChildrenSharingARest_Denied", [PubSubPolicy(["*ab", "*b*c"])], PubSub, A, Publish, "xab", Std, Deny);
        yield return new("Quirk_SinglePattern_Allowed", [PubSubPolicy(["*ab"])], PubSub, A, Publish, "xab", Std, Allow);

        // Policies follow the configuration live (AuthorizationHandler subscribes to accessControl changes and
        // reloads): a merged resource list, a replaced configuration, a removed component, a new policy.
        yield return new(
            "LiveUpdate_MergedResources_NewResourceAllowed",
            [PubSubPolicy(["old/topic"])], PubSub, A, Publish, "new/topic", Std, Allow,
            n => n.Configuration.Merge(A, ["accessControl", PubSub, "policy1", "resources"], new JsonArray("new/topic"), Later(n)));
        yield return new(
            "LiveUpdate_MergedResources_OldResourceDenied",
            [PubSubPolicy(["old/topic"])], PubSub, A, Publish, "old/topic", Std, Deny,
            n => n.Configuration.Merge(A, ["accessControl", PubSub, "policy1", "resources"], new JsonArray("new/topic"), Later(n)));
        yield return new(
            "LiveUpdate_PolicyAdded",
            [new(A, null)], PubSub, A, Subscribe, "x/y", MqttStyle, Allow,
            n => n.Configuration.Merge(A, [], JsonNode.Parse(TestNucleus.Policy(PubSub, "added", [Subscribe], ["x/+"])), Later(n)));
        yield return new(
            "LiveUpdate_ConfigurationReplaced_PolicyGone",
            [PubSubPolicy(["t"])], PubSub, A, Publish, "t", Std, Deny,
            n => n.Configuration.SetConfiguration(A, new JsonObject { ["other"] = 1 }));
        yield return new(
            "RemovedComponent_LosesPermissions",
            [PubSubPolicy(["t"])], PubSub, A, Publish, "t", Std, Deny,
            n => n.RemoveComponent(A));
        yield return new(
            "RemovedOtherComponent_KeepsYours",
            [PubSubPolicy(["t"]), PubSubPolicy(["t"], name: B)], PubSub, A, Publish, "t", Std, Allow,
            n => n.RemoveComponent(B));

        // loadAuthorizationPolicies stops before touching a destination when one of its policies has a blank id:
        // what was loaded for the destination before stays, the new policies are not loaded.
        yield return new(
            "BlankPolicyId_KeepsPreviousPermissions",
            [PubSubPolicy(["old/topic"])], PubSub, A, Publish, "old/topic", Std, Allow,
            n => n.Configuration.Merge(A, ["accessControl", PubSub], JsonNode.Parse("""{" ":{"operations":["aws.greengrass#PublishToTopic"],"resources":["new/topic"]}}"""), Later(n)));
        yield return new(
            "BlankPolicyId_NewPoliciesNotLoaded",
            [PubSubPolicy(["old/topic"])], PubSub, A, Publish, "new/topic", Std, Deny,
            n => n.Configuration.Merge(A, ["accessControl", PubSub], JsonNode.Parse("""{"p2":{"operations":["aws.greengrass#PublishToTopic"],"resources":["new/topic"]}," ":{"operations":["*"]}}"""), Later(n)));
    }

    [TestCaseSource(nameof(Rows))]
    public async Task Decide(Row row)
    {
        await using var nucleus = await TestNucleus.StartAsync();
        foreach (var component in row.Components)
        {
            nucleus.Add(component.Name, component.Configuration);
        }

        row.Change?.Invoke(nucleus.Nucleus);
        var authorization = nucleus.Nucleus.Authorization;

        var allowed = authorization.IsAuthorized(row.Destination, row.Principal, row.Operation, row.Resource, row.Lookup);

        if (row.Expected == Allow)
        {
            Assert.That(allowed, Is.True, "IsAuthorized");
            Assert.DoesNotThrow(() => authorization.Authorize(row.Destination, row.Principal, row.Operation, row.Resource, row.Lookup));
            return;
        }

        var expectedMessage = row.Expected == Deny
            ? $"Principal {row.Principal} is not authorized to perform {row.Destination}:{row.Operation} on resource {row.Resource ?? "null"}"
            : row.Expected;
        Assert.That(allowed, Is.False, "IsAuthorized");
        var ex = Assert.Throws<UnauthorizedException>(() => authorization.Authorize(row.Destination, row.Principal, row.Operation, row.Resource, row.Lookup));
        Assert.That(ex!.Error.Message, Is.EqualTo(expectedMessage));
    }

    [Test]
    public void Table_HasEnoughRows() => Assert.That(AllRows().Count(), Is.GreaterThanOrEqualTo(40));
}
