using System.Text.Json.Serialization;

namespace Fogline.Greengrass.Ipc;

// The two shapes every local pub/sub message passes through are read and written by hand-written converters (see
// Serialization/PubSubMessagesJson.cs); the generated code and its contract are otherwise unchanged.

/// <summary>Read and written by <see cref="Serialization.SubscriptionResponseMessageJsonConverter"/>.</summary>
[JsonConverter(typeof(Serialization.SubscriptionResponseMessageJsonConverter))]
public sealed partial class SubscriptionResponseMessage
{
}

/// <summary>Read and written by <see cref="Serialization.PublishToTopicRequestJsonConverter"/>.</summary>
[JsonConverter(typeof(Serialization.PublishToTopicRequestJsonConverter))]
public sealed partial class PublishToTopicRequest
{
}
