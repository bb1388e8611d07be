using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Fogline.Greengrass.Ipc.Serialization;

namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>Builds fully populated shape instances by reflection: every member set (for a union, exactly one).</summary>
internal static class ShapeSamples
{
    public static Assembly Library { get; } = typeof(IIpcShape).Assembly;

    /// <summary>Every generated shape class of the library.</summary>
    public static IEnumerable<Type> ShapeTypes =>
        Library.GetTypes()
            .Where(t => t.IsClass && !t.IsAbstract && typeof(IIpcShape).IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal);

    /// <summary>Whether the model declares the shape a union (exactly one member set).</summary>
    public static bool IsUnion(Type type) => ModelPaths.Model.Shapes.TryGetValue(type.Name, out var s) && s.IsUnion;

    /// <summary>Properties that are JSON members, with their JSON names, in declaration order.</summary>
    public static IReadOnlyList<(PropertyInfo Property, string Json)> JsonMembers(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (Property: p, Json: p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name))
            .Where(x => x.Json is not null)
            .Select(x => (x.Property, x.Json!))
            .ToList();

    /// <summary>
    /// A fully populated instance: every member set with a sample value, recursively. For a union only the member
    /// whose JSON name is <paramref name="unionMember"/> is set (the first one when null).
    /// </summary>
    public static object Build(Type type, string? unionMember = null, int depth = 0)
    {
        if (depth > 8)
        {
            throw new InvalidOperationException($"shape nesting deeper than 8 at {type.Name}: a recursive shape?");
        }

        var instance = Activator.CreateInstance(type) ?? throw new InvalidOperationException($"cannot create {type.Name}");
        var members = JsonMembers(type);
        if (IsUnion(type))
        {
            var chosen = unionMember is null ? members[0] : members.Single(m => m.Json == unionMember);
            chosen.Property.SetValue(instance, Sample(chosen.Property.PropertyType, chosen.Json, depth));
        }
        else
        {
            foreach (var (property, json) in members)
            {
                property.SetValue(instance, Sample(property.PropertyType, json, depth));
            }
        }

        return instance;
    }

    /// <summary>A sample value of a member type.</summary>
    public static object Sample(Type type, string hint, int depth)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string))
        {
            return "sample-" + hint;
        }

        if (t == typeof(int))
        {
            return 42;
        }

        if (t == typeof(long))
        {
            return 1_234_567_890_123L;
        }

        if (t == typeof(double))
        {
            return 21.5;
        }

        if (t == typeof(bool))
        {
            return true;
        }

        if (t == typeof(ReadOnlyMemory<byte>))
        {
            return new ReadOnlyMemory<byte>([0x01, 0x02, 0xFB, 0xFF]);
        }

        if (t == typeof(DateTimeOffset))
        {
            // Milliseconds that have no exact double, as a JavaScript Date usually has.
            return DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123);
        }

        if (t == typeof(JsonElement))
        {
            using var doc = JsonDocument.Parse("""{"a":1,"b":[true,null,"x"],"c":{"d":1.5}}""");
            return doc.RootElement.Clone();
        }

        if (IsExtensibleEnum(t))
        {
            // The last known value, so that a converter that always writes the first one would be caught.
            var known = ((IEnumerable)t.GetProperty("KnownValues", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!).Cast<object>().ToList();
            return known[^1];
        }

        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var element = t.GetGenericArguments()[0];
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            list.Add(Sample(element, hint + "0", depth));
            list.Add(Sample(element, hint + "1", depth));
            return list;
        }

        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>))
        {
            var value = t.GetGenericArguments()[1];
            var map = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), value))!;
            map["key-a"] = Sample(value, hint + "A", depth);
            map["key-b"] = Sample(value, hint + "B", depth);
            return map;
        }

        if (typeof(IIpcShape).IsAssignableFrom(t))
        {
            return Build(t, null, depth + 1);
        }

        throw new NotSupportedException($"no sample value for {type} ({hint})");
    }

    public static bool IsExtensibleEnum(Type t) =>
        t.IsValueType && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IExtensibleEnum<>));
}
