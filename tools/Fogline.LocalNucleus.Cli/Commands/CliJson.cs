using System.Text.Json.Serialization;
using Fogline.LocalNucleus.IoTCore;

namespace Fogline.LocalNucleus.Cli.Commands;

/// <summary>Source-generated JSON of what the command line prints as JSON.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CloudJournalEntry))]
internal sealed partial class CliJson : JsonSerializerContext;
