using System.Collections;
using System.Text.Json;

namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>
/// Every generated shape, fully populated (each union once per member), through the source-generated JSON context:
/// serialise, deserialise, serialise again gives the same text, and every member is on the wire.
/// </summary>
public class ShapeRoundTripTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        foreach (var type in ShapeSamples.ShapeTypes)
        {
            if (ShapeSamples.IsUnion(type))
            {
                foreach (var (_, json) in ShapeSamples.JsonMembers(type))
                {
                    yield return new TestCaseData(type, json).SetName($"RoundTrip({type.Name}.{json})");
                }
            }
            else
            {
                yield return new TestCaseData(type, null).SetName($"RoundTrip({type.Name})");
            }
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void FullyPopulatedShape_RoundTripsThroughTheJsonContext(Type type, string? unionMember)
    {
        var typeInfo = GreengrassCoreIpcJsonContext.Default.GetTypeInfo(type);
        Assert.That(typeInfo, Is.Not.Null, $"GreengrassCoreIpcJsonContext has no metadata for {type.Name}");
        var instance = ShapeSamples.Build(type, unionMember);

        var first = JsonSerializer.Serialize(instance, typeInfo!);
        var back = JsonSerializer.Deserialize(first, typeInfo!);
        Assert.That(back, Is.InstanceOf(type), $"{type.Name} deserialises to itself");
        var second = JsonSerializer.Serialize(back, typeInfo!);

        using (Assert.EnterMultipleScope())
        {
            Assert.That(second, Is.EqualTo(first), $"{type.Name}: JSON after a round trip");
            using var doc = JsonDocument.Parse(first);
            CheckMembersOnTheWire(instance, doc.RootElement, type.Name);
            Assert.That(((IIpcShape)instance).HasAllRequiredMembers(), Is.True, $"{type.Name}: fully populated instance HasAllRequiredMembers()");
            Assert.That(((IIpcShape)instance).MissingRequiredMembers(), Is.Empty, $"{type.Name}: fully populated instance MissingRequiredMembers()");
            Assert.That(((IIpcShape)back!).HasAllRequiredMembers(), Is.True, $"{type.Name}: deserialised instance HasAllRequiredMembers()");
            if (unionMember is not null)
            {
                var set = ShapeSamples.JsonMembers(type).Where(m => m.Property.GetValue(back) is not null).Select(m => m.Json);
                Assert.That(set, Is.EqualTo(new[] { unionMember }), $"{type.Name}: only {unionMember} set after deserialising");
            }
        }

        TestContext.Out.WriteLine(first);
    }

    [Test]
    public void EveryStructureAndUnionOfTheModel_HasRoundTripCases()
    {
        var cases = Cases().Select(c => ((Type)c.Arguments[0]!).Name).Distinct().ToList();
        var model = ModelPaths.Model;
        Assert.That(cases, Is.EquivalentTo(model.StructuresAndUnions.Select(s => s.Name)));
        var unionCases = Cases().Count(c => c.Arguments[1] is not null);
        Assert.That(unionCases, Is.EqualTo(model.StructuresAndUnions.Where(s => s.IsUnion).Sum(s => s.Members.Count)), "one case per union member");
        TestContext.Out.WriteLine($"Round-trip cases: {Cases().Count()} for {cases.Count} shape types ({unionCases} union-member cases).");
    }

    /// <summary>Set members are on the wire under their JSON names (recursively); unset members are not; nothing else is.</summary>
    private static void CheckMembersOnTheWire(object shape, JsonElement json, string path)
    {
        Assert.That(json.ValueKind, Is.EqualTo(JsonValueKind.Object), path);
        if (json.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var members = ShapeSamples.JsonMembers(shape.GetType());
        Assert.That(json.EnumerateObject().Select(p => p.Name), Is.SubsetOf(members.Select(m => m.Json)), $"{path}: only model members on the wire");
        foreach (var (property, name) in members)
        {
            var value = property.GetValue(shape);
            var present = json.TryGetProperty(name, out var element);
            Assert.That(present, Is.EqualTo(value is not null), $"{path}.{name} {(value is null ? "is not set and must be omitted" : "is set and must be on the wire")}");
            if (present && value is not null)
            {
                CheckValue(value, element, $"{path}.{name}");
            }
        }
    }

    private static void CheckValue(object value, JsonElement element, string path)
    {
        switch (value)
        {
            case IIpcShape nested:
                CheckMembersOnTheWire(nested, element, path);
                break;
            case IDictionary map:
                Assert.That(element.ValueKind, Is.EqualTo(JsonValueKind.Object), path);
                foreach (DictionaryEntry entry in map)
                {
                    Assert.That(element.TryGetProperty((string)entry.Key, out var e), Is.True, $"{path}[{entry.Key}]");
                    if (entry.Value is not null && e.ValueKind != JsonValueKind.Undefined)
                    {
                        CheckValue(entry.Value, e, $"{path}[{entry.Key}]");
                    }
                }

                break;
            case IList list:
                Assert.That(element.ValueKind, Is.EqualTo(JsonValueKind.Array), path);
                Assert.That(element.GetArrayLength(), Is.EqualTo(list.Count), $"{path} length");
                for (var i = 0; i < Math.Min(list.Count, element.GetArrayLength()); i++)
                {
                    CheckValue(list[i]!, element[i], $"{path}[{i}]");
                }

                break;
            case string s:
                Assert.That(element.ValueKind == JsonValueKind.String ? element.GetString() : null, Is.EqualTo(s), path);
                break;
            case ReadOnlyMemory<byte> blob:
                Assert.That(element.ValueKind == JsonValueKind.String ? element.GetString() : null, Is.EqualTo(Convert.ToBase64String(blob.Span)), $"{path} is base64");
                break;
            case DateTimeOffset:
                Assert.That(element.ValueKind, Is.EqualTo(JsonValueKind.Number), $"{path} is epoch seconds");
                break;
            case bool b:
                Assert.That(element.ValueKind, Is.EqualTo(b ? JsonValueKind.True : JsonValueKind.False), path);
                break;
            case int or long or double:
                Assert.That(element.ValueKind, Is.EqualTo(JsonValueKind.Number), path);
                break;
            default:
                if (ShapeSamples.IsExtensibleEnum(value.GetType()))
                {
                    Assert.That(element.ValueKind == JsonValueKind.String ? element.GetString() : null, Is.EqualTo(value.ToString()), $"{path} is its wire string");
                }

                break;
        }
    }
}
