using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>
/// The exact wire format, against JSON literals of what the official clients send (the JavaScript client:
/// aws-iot-device-sdk-v2 greengrasscoreipc model_utils normalize*/deserialize*; the Nucleus for errors).
/// </summary>
public class JsonFormatTests
{
    private static GreengrassCoreIpcJsonContext Context => GreengrassCoreIpcJsonContext.Default;

    private static string Write<T>(T value, JsonTypeInfo<T> info) => JsonSerializer.Serialize(value, info);

    private static JsonElement Element(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static T Read<T>(string json, JsonTypeInfo<T> info) =>
        JsonSerializer.Deserialize(json, info) ?? throw new AssertionException($"{typeof(T).Name}: null from {json}");

    // ------------------------------------------------------------------ blobs

    [Test]
    public void Blob_IsABase64String_AsTheJsClientSendsPublishToTopic()
    {
        var request = new PublishToTopicRequest
        {
            Topic = "t",
            PublishMessage = new PublishMessage { BinaryMessage = new BinaryMessage { Message = new byte[] { 1, 2 } } },
        };

        Assert.That(Write(request, Context.PublishToTopicRequest), Is.EqualTo("""{"topic":"t","publishMessage":{"binaryMessage":{"message":"AQI="}}}"""));
    }

    [Test]
    public void Blob_ParsesFromBase64()
    {
        var response = Read("""{"payload":"eyJzdGF0ZSI6e319"}""", Context.GetThingShadowResponse);

        Assert.That(Encoding.UTF8.GetString(response.Payload!.Value.Span), Is.EqualTo("""{"state":{}}"""));
        Assert.That(Write(response, Context.GetThingShadowResponse), Is.EqualTo("""{"payload":"eyJzdGF0ZSI6e319"}"""));
    }

    [Test]
    public void EmptyBlob_IsAnEmptyString()
    {
        var request = new UpdateThingShadowRequest { ThingName = "thing", Payload = ReadOnlyMemory<byte>.Empty };

        Assert.That(Write(request, Context.UpdateThingShadowRequest), Is.EqualTo("""{"thingName":"thing","payload":""}"""));
    }

    // ------------------------------------------------------------------ timestamps

    [Test]
    public void Timestamp_IsEpochSecondsWithFraction()
    {
        var request = new UpdateConfigurationRequest
        {
            KeyPath = ["a"],
            Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250),
            ValueToMerge = Element("1"),
        };

        Assert.That(Write(request, Context.UpdateConfigurationRequest), Is.EqualTo("""{"keyPath":["a"],"timestamp":1700000000.25,"valueToMerge":1}"""));
    }

    [TestCase(1_700_000_000_000L, "1700000000")]
    [TestCase(1_700_000_000_250L, "1700000000.25")]
    [TestCase(1_700_000_000_123L, "1700000000.123")]
    [TestCase(1_700_000_000_001L, "1700000000.001")]
    [TestCase(1_700_000_000_999L, "1700000000.999")]
    [TestCase(0L, "0")]
    [TestCase(-1_500L, "-1.5")]
    public void Timestamp_IsWrittenAsTheJsClientsDateGetTimeOver1000(long unixMilliseconds, string expected)
    {
        var response = new CreateDebugPasswordResponse
        {
            Password = "p",
            Username = "u",
            PasswordExpiration = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds),
        };

        Assert.That(Write(response, Context.CreateDebugPasswordResponse), Is.EqualTo($$"""{"password":"p","username":"u","passwordExpiration":{{expected}}}"""));
    }

    [TestCase("1700000000", 1_700_000_000_000L)]
    [TestCase("1700000000.0", 1_700_000_000_000L)]
    [TestCase("1700000000.25", 1_700_000_000_250L)]
    [TestCase("1700000000.123", 1_700_000_000_123L)]
    [TestCase("1700000000.001", 1_700_000_000_001L)]
    [TestCase("1700000000.999", 1_700_000_000_999L)]
    [TestCase("1.70000000025E9", 1_700_000_000_250L)]
    [TestCase("-1.5", -1_500L)]
    public void Timestamp_ParsesFromIntegerAndFractionalSeconds_ToTheExactMillisecond(string seconds, long unixMilliseconds)
    {
        var json = $$"""{"results":[],"timestamp":{{seconds}}}""";

        var response = Read(json, Context.ListNamedShadowsForThingResponse);

        Assert.That(response.Timestamp, Is.EqualTo(DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds)));
        Assert.That(response.Timestamp!.Value.Offset, Is.EqualTo(TimeSpan.Zero));
    }

    [Test]
    public void Timestamp_WithMillisecondsRoundTripsUnchanged()
    {
        // What a JS peer sends comes back identical: no drift below the millisecond the peer would then truncate.
        foreach (var start in new[] { 0L, 1_700_000_000_000L, 4_102_444_800_000L })
        {
            for (var ms = start; ms < start + 1000; ms++)
            {
                AssertMillisecondsRoundTrip(ms);
            }
        }
    }

    private static void AssertMillisecondsRoundTrip(long ms)
    {
        var json = $$"""{"results":[],"timestamp":{{ms / 1000}}.{{ms % 1000:D3}}}""";
        var response = Read(json, Context.ListNamedShadowsForThingResponse);
        if (response.Timestamp != DateTimeOffset.FromUnixTimeMilliseconds(ms))
        {
            Assert.Fail($"{json} read as {response.Timestamp:O}, not {DateTimeOffset.FromUnixTimeMilliseconds(ms):O}");
        }

        // The JS client writes date.getTime() / 1000: the double nearest to ms / 1000.
        var written = JsonNode.Parse(Write(response, Context.ListNamedShadowsForThingResponse))!["timestamp"]!.GetValue<double>();
        if (written != ms / 1000.0)
        {
            Assert.Fail($"{ms} ms written as {written}, not {ms / 1000.0}");
        }
    }

    [Test]
    public void Timestamp_ThatIsNotANumber_IsRejected()
    {
        Assert.Throws<JsonException>(() => Read("""{"results":[],"timestamp":"2023-11-14T22:13:20Z"}""", Context.ListNamedShadowsForThingResponse));
    }

    // ------------------------------------------------------------------ enums

    [Test]
    public void Enums_AreTheirWireStrings()
    {
        var publish = new PublishToIoTCoreRequest { TopicName = "t", Qos = QOS.AtLeastOnce, PayloadFormat = PayloadFormat.Utf8 };
        var subscribe = new SubscribeToTopicRequest { Topic = "t", ReceiveMode = ReceiveMode.ReceiveMessagesFromOthers };

        using (Assert.EnterMultipleScope())
        {
            Assert.That(Write(publish, Context.PublishToIoTCoreRequest), Is.EqualTo("""{"topicName":"t","qos":"1","payloadFormat":"1"}"""));
            Assert.That(Write(subscribe, Context.SubscribeToTopicRequest), Is.EqualTo("""{"topic":"t","receiveMode":"RECEIVE_MESSAGES_FROM_OTHERS"}"""));
            Assert.That(Write(new SubscribeToIoTCoreRequest { TopicName = "t", Qos = QOS.AtMostOnce }, Context.SubscribeToIoTCoreRequest), Is.EqualTo("""{"topicName":"t","qos":"0"}"""));
            Assert.That(Write(new PutComponentMetricRequest { Metrics = [new Metric { Name = "n", Unit = MetricUnitType.BytesPerSecond, Value = 2 }] }, Context.PutComponentMetricRequest),
                Is.EqualTo("""{"metrics":[{"name":"n","unit":"BYTES_PER_SECOND","value":2}]}"""));
        }
    }

    [Test]
    public void Enums_ParseToTheKnownValues()
    {
        var request = Read("""{"topicName":"t","qos":"0","payloadFormat":"0"}""", Context.PublishToIoTCoreRequest);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(request.Qos, Is.EqualTo(QOS.AtMostOnce));
            Assert.That(request.PayloadFormat, Is.EqualTo(PayloadFormat.Bytes));
            Assert.That(request.Qos!.Value.IsKnown, Is.True);
        }
    }

    [Test]
    public void UnknownEnumValue_RoundTripsAndIsNotKnown()
    {
        const string json = """{"topic":"t","receiveMode":"RECEIVE_ONLY_ON_TUESDAYS"}""";

        var request = Read(json, Context.SubscribeToTopicRequest);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(request.ReceiveMode!.Value.Value, Is.EqualTo("RECEIVE_ONLY_ON_TUESDAYS"));
            Assert.That(request.ReceiveMode.Value.IsKnown, Is.False);
            Assert.That(request.ReceiveMode.Value, Is.Not.EqualTo(ReceiveMode.ReceiveAllMessages));
            Assert.That(request.ReceiveMode.Value, Is.EqualTo(ReceiveMode.FromValue("RECEIVE_ONLY_ON_TUESDAYS")));
            Assert.That(Write(request, Context.SubscribeToTopicRequest), Is.EqualTo(json));
            Assert.That(Read("""{"topicName":"t","qos":"2"}""", Context.SubscribeToIoTCoreRequest).Qos!.Value.IsKnown, Is.False, "QoS 2 is not in the model");
        }
    }

    [Test]
    public void EnumValue_ThatIsNotAString_IsRejected()
    {
        Assert.Throws<JsonException>(() => Read("""{"topicName":"t","qos":1}""", Context.SubscribeToIoTCoreRequest));
    }

    // ------------------------------------------------------------------ members

    [Test]
    public void UnsetMembers_AreOmitted()
    {
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Write(new SubscribeToTopicRequest { Topic = "t" }, Context.SubscribeToTopicRequest), Is.EqualTo("""{"topic":"t"}"""));
            Assert.That(Write(new PublishToTopicResponse(), Context.PublishToTopicResponse), Is.EqualTo("{}"));
            Assert.That(Write(new ListComponentsRequest(), Context.ListComponentsRequest), Is.EqualTo("{}"));
            Assert.That(Write(new GetSecretValueRequest { SecretId = "s" }, Context.GetSecretValueRequest), Is.EqualTo("""{"secretId":"s"}"""));
        }
    }

    [Test]
    public void MemberNames_AreTheModelsLowerCamelNames()
    {
        var request = new CreateLocalDeploymentRequest
        {
            GroupName = "g",
            RootComponentVersionsToAdd = new Dictionary<string, string> { ["com.example.A"] = "1.0.0" },
            RootComponentsToRemove = ["com.example.B"],
            ComponentToConfiguration = new Dictionary<string, JsonElement> { ["com.example.A"] = Element("""{"x":1}""") },
            ComponentToRunWithInfo = new Dictionary<string, RunWithInfo>
            {
                ["com.example.A"] = new() { PosixUser = "ggc_user", SystemResourceLimits = new SystemResourceLimits { Memory = 1024, Cpus = 0.5 } },
            },
            RecipeDirectoryPath = "/r",
            ArtifactsDirectoryPath = "/a",
            FailureHandlingPolicy = FailureHandlingPolicy.DoNothing,
        };

        Assert.That(Write(request, Context.CreateLocalDeploymentRequest), Is.EqualTo(
            """{"groupName":"g","rootComponentVersionsToAdd":{"com.example.A":"1.0.0"},"rootComponentsToRemove":["com.example.B"],"componentToConfiguration":{"com.example.A":{"x":1}},"componentToRunWithInfo":{"com.example.A":{"posixUser":"ggc_user","systemResourceLimits":{"memory":1024,"cpus":0.5}}},"recipeDirectoryPath":"/r","artifactsDirectoryPath":"/a","failureHandlingPolicy":"DO_NOTHING"}"""));
    }

    [Test]
    public void MixedCaseMemberNames_AreKeptAsInTheModel()
    {
        var response = new CreateDebugPasswordResponse
        {
            Password = "p",
            Username = "u",
            PasswordExpiration = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
            CertificateSHA256Hash = "h256",
            CertificateSHA1Hash = "h1",
        };

        Assert.That(Write(response, Context.CreateDebugPasswordResponse), Is.EqualTo(
            """{"password":"p","username":"u","passwordExpiration":1700000000,"certificateSHA256Hash":"h256","certificateSHA1Hash":"h1"}"""));
    }

    [Test]
    public void Document_IsWrittenAsIs()
    {
        const string json = """{"componentName":"c","value":{"a":[1,2.5,"x",null,true],"b":{}}}""";

        var response = Read(json, Context.GetConfigurationResponse);

        Assert.That(Write(response, Context.GetConfigurationResponse), Is.EqualTo(json));
    }

    [Test]
    public void JsonMessage_IsWrittenAsTheJsClientSendsIt()
    {
        var request = new PublishToTopicRequest
        {
            Topic = "t",
            PublishMessage = new PublishMessage { JsonMessage = new JsonMessage { Message = Element("""{"n":1}""") } },
        };

        Assert.That(Write(request, Context.PublishToTopicRequest), Is.EqualTo("""{"topic":"t","publishMessage":{"jsonMessage":{"message":{"n":1}}}}"""));
    }

    [Test]
    public void MqttMessageEvent_AsTheNucleusSendsIt_IsRead()
    {
        const string json = """{"message":{"topicName":"a/b","payload":"aGk=","retain":false,"userProperties":[{"key":"k","value":"v"}],"messageExpiryIntervalSeconds":60,"correlationData":"AA==","responseTopic":"r","payloadFormat":"1","contentType":"text/plain"}}""";

        var evt = Read(json, Context.IoTCoreMessage);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(evt.Message!.TopicName, Is.EqualTo("a/b"));
            Assert.That(Encoding.UTF8.GetString(evt.Message.Payload!.Value.Span), Is.EqualTo("hi"));
            Assert.That(evt.Message.Retain, Is.False);
            Assert.That(evt.Message.UserProperties![0].Key, Is.EqualTo("k"));
            Assert.That(evt.Message.MessageExpiryIntervalSeconds, Is.EqualTo(60));
            Assert.That(evt.Message.CorrelationData!.Value.ToArray(), Is.EqualTo(new byte[] { 0 }));
            Assert.That(evt.Message.PayloadFormat, Is.EqualTo(PayloadFormat.Utf8));
            Assert.That(Write(evt, Context.IoTCoreMessage), Is.EqualTo(json));
        }
    }

    // ------------------------------------------------------------------ errors

    [Test]
    public void ErrorShape_SerialisesServiceMessageAndErrorCode()
    {
        var ex = new ResourceNotFoundException(new ResourceNotFoundError { Message = "no such key", ResourceType = "Configuration", ResourceName = "a/b" });

        var json = JsonNode.Parse(Write(ex.Error, Context.ResourceNotFoundError));

        var expected = JsonNode.Parse("""{"_service":"aws.greengrass#GreengrassCoreIPC","_message":"no such key","_errorCode":"ResourceNotFoundError","message":"no such key","resourceType":"Configuration","resourceName":"a/b"}""");
        Assert.That(JsonNode.DeepEquals(json, expected), Is.True, $"got {json!.ToJsonString()}");
    }

    [Test]
    public void ErrorShape_AsTheNucleusSendsIt_BecomesItsTypedException()
    {
        var payload = """{"_service":"aws.greengrass#GreengrassCoreIPC","_message":"not allowed","_errorCode":"UnauthorizedError","message":"not allowed"}"""u8;

        var ex = GreengrassCoreIpc.CreateError(UnauthorizedError.ModelType, payload);

        Assert.That(ex, Is.InstanceOf<UnauthorizedException>());
        var unauthorized = (UnauthorizedException)ex!;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(unauthorized.Error.Message, Is.EqualTo("not allowed"));
            Assert.That(unauthorized.Error.ServiceMessage, Is.EqualTo("not allowed"));
            Assert.That(unauthorized.Error.ErrorCode, Is.EqualTo("UnauthorizedError"));
            Assert.That(unauthorized.Error.ServiceName, Is.EqualTo("aws.greengrass#GreengrassCoreIPC"));
            Assert.That(unauthorized.ServiceMessage, Is.EqualTo("not allowed"));
            Assert.That(unauthorized.IsClientError, Is.True);
        }
    }

    [Test]
    public void ServerErrorWithContext_RoundTrips()
    {
        const string json = """{"message":"boom","context":{"detail":1},"_service":"aws.greengrass#GreengrassCoreIPC","_message":"boom","_errorCode":"ServiceError"}""";

        var error = Read(json, Context.ServiceError);

        Assert.That(Write(error, Context.ServiceError), Is.EqualTo(json));
        Assert.That(new ServiceException(error).IsServerError, Is.True);
    }

    // ------------------------------------------------------------------ unions

    [Test]
    public void Union_DeserialisesWithOnlyThePresentMemberSet()
    {
        var binary = Read("""{"binaryMessage":{"message":"AQI=","context":{"topic":"t"}}}""", Context.SubscriptionResponseMessage);
        var json = Read("""{"jsonMessage":{"message":{"n":1},"context":{"topic":"t"}}}""", Context.SubscriptionResponseMessage);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(binary.BinaryMessage, Is.Not.Null);
            Assert.That(binary.JsonMessage, Is.Null);
            Assert.That(binary.BinaryMessage!.Message!.Value.ToArray(), Is.EqualTo(new byte[] { 1, 2 }));
            Assert.That(binary.BinaryMessage.Context!.Topic, Is.EqualTo("t"));
            Assert.That(binary.HasAllRequiredMembers(), Is.True);
            Assert.That(json.JsonMessage, Is.Not.Null);
            Assert.That(json.BinaryMessage, Is.Null);
            Assert.That(json.JsonMessage!.Message!.Value.GetProperty("n").GetInt32(), Is.EqualTo(1));
            Assert.That(json.HasAllRequiredMembers(), Is.True);
        }
    }

    [Test]
    public void SecretValueUnion_StringOrBinary()
    {
        var asString = Read("""{"secretId":"s","versionId":"v","versionStage":["AWSCURRENT"],"secretValue":{"secretString":"hunter2"}}""", Context.GetSecretValueResponse);
        var asBinary = Read("""{"secretId":"s","versionId":"v","versionStage":["AWSCURRENT"],"secretValue":{"secretBinary":"AQID"}}""", Context.GetSecretValueResponse);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(asString.SecretValue!.SecretString, Is.EqualTo("hunter2"));
            Assert.That(asString.SecretValue.SecretBinary, Is.Null);
            Assert.That(asBinary.SecretValue!.SecretString, Is.Null);
            Assert.That(asBinary.SecretValue.SecretBinary!.Value.ToArray(), Is.EqualTo(new byte[] { 1, 2, 3 }));
            Assert.That(asString.HasAllRequiredMembers() && asBinary.HasAllRequiredMembers(), Is.True);
        }
    }
}
