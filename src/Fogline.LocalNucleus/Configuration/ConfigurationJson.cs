using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Fogline.LocalNucleus.Configuration;

/// <summary>Source-generated JSON metadata for configuration values.</summary>
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonNode))]
internal sealed partial class ConfigurationJson : JsonSerializerContext
{
}
