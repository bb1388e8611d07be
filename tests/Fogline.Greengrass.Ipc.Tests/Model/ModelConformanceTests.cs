using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Fogline.Greengrass.Ipc.Serialization;
using Fogline.Greengrass.Ipc.Tests.Infrastructure;

namespace Fogline.Greengrass.Ipc.Tests.Model;

/// <summary>
/// The generated library against the official model, read by the test's own reader (<see cref="SmithyTestModel"/>,
/// not the generator's parser): every operation, shape, member, enum value and error is checked by reflection.
/// </summary>
public class ModelConformanceTests
{
    private const string LibraryNamespace = "Fogline.Greengrass.Ipc";
    private static readonly Assembly Library = typeof(IIpcShape).Assembly;
    private static readonly NullabilityInfoContext Nullability = new();

    private static SmithyTestModel Model => ModelPaths.Model;

    private static Type? LibraryType(string name) => Library.GetType($"{LibraryNamespace}.{name}");

    private static string MemberProperty(string memberName) => char.ToUpperInvariant(memberName[0]) + memberName[1..];

    private static string EnumProperty(string enumName) =>
        string.Concat(enumName.Split('_', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..].ToLowerInvariant()));

    private static string ExceptionName(string errorShape) =>
        (errorShape.EndsWith("Error", StringComparison.Ordinal) ? errorShape[..^"Error".Length] : errorShape) + "Exception";

    private static string Id(string name) => $"aws.greengrass#{name}";

    [Test]
    public void VendoredModel_EqualsTheSharedReference()
    {
        var reference = Path.Combine(Path.Combine(Repository.Shared, "reference"), "greengrass-ipc", "main.smithy");
        if (!File.Exists(reference))
        {
            Assert.Ignore($"{reference} does not exist (../shared/reference is not next to this checkout); only the vendored model is checked.");
        }

        Assert.That(File.ReadAllText(ModelPaths.VendoredModel), Is.EqualTo(File.ReadAllText(reference)),
            "src/Fogline.Greengrass.Ipc/Model/main.smithy differs from ../shared/reference/greengrass-ipc/main.smithy");
    }

    [Test]
    public void TestReader_ReadsTheWholeModel()
    {
        // Cross-checks of the test's own reader against plain counts in the text, so the reader cannot silently skip parts.
        var clean = SmithyTestModel.StripComments(Model.Text);
        using (Assert.EnterMultipleScope())
        {
            Assert.That(Model.Namespace, Is.EqualTo("aws.greengrass"));
            Assert.That(Model.Service.Name, Is.EqualTo("GreengrassCoreIPC"));
            Assert.That(Model.Service.References, Has.Count.EqualTo(34), "the service lists 34 operations");
            Assert.That(Model.Service.References, Is.Unique);
            Assert.That(Model.Shapes.Values.Count(s => s.Kind == "operation"), Is.EqualTo(Regex.Matches(clean, @"^\s*operation\s", RegexOptions.Multiline).Count));
            Assert.That(Model.Shapes.Values.Count(s => s.Kind == "structure"), Is.EqualTo(Regex.Matches(clean, @"^\s*structure\s", RegexOptions.Multiline).Count));
            Assert.That(Model.Shapes.Values.Count(s => s.Kind == "union"), Is.EqualTo(Regex.Matches(clean, @"^\s*union\s", RegexOptions.Multiline).Count));
            Assert.That(Model.Shapes.Values.Sum(s => s.Members.Count(m => m.Required)), Is.EqualTo(Regex.Matches(clean, @"@required\b").Count), "@required traits");
            Assert.That(Model.Enums.Sum(s => s.EnumValues.Count), Is.EqualTo(Regex.Matches(clean, @"\bvalue\s*:\s*""").Count), "enum values");
            Assert.That(Model.Enums.Count(), Is.EqualTo(Regex.Matches(clean, @"@enum\(").Count), "@enum traits");
            Assert.That(Model.Shapes.Values.Count(s => s.IsError), Is.EqualTo(Regex.Matches(clean, @"@error\(").Count), "@error traits");
            Assert.That(Model.Shapes.Values.Count(s => s.IsStreaming), Is.EqualTo(Regex.Matches(clean, @"@streaming\b").Count), "@streaming traits");

            foreach (var shape in Model.Shapes.Values)
            {
                foreach (var member in shape.Members)
                {
                    Assert.That(Model.Shapes.ContainsKey(Model.Normalize(member.Target)) || Model.IsPrelude(member.Target), Is.True,
                        $"{shape.Name}.{member.Name} (line {member.Line}) targets unknown shape {member.Target}");
                }
            }

            foreach (var op in Model.Operations)
            {
                Assert.That(op.Kind, Is.EqualTo("operation"), op.Name);
                Assert.That(op.Input is not null && Model.Shapes.ContainsKey(op.Input), Is.True, $"{op.Name} input {op.Input}");
                Assert.That(op.Output is not null && Model.Shapes.ContainsKey(op.Output), Is.True, $"{op.Name} output {op.Output}");
                Assert.That(op.References.All(e => Model.Shapes.TryGetValue(e, out var s) && s.IsError), Is.True, $"{op.Name} errors {string.Join(", ", op.References)}");
            }
        }
    }

    [Test]
    public void EveryOperation_HasItsClientMethod_ModelEntry_AndServerMethod()
    {
        var client = typeof(GreengrassIpcClient);
        var service = typeof(GreengrassCoreIpcService);
        var table = typeof(GreengrassCoreIpc);
        var operations = Model.Operations.ToList();
        var streaming = 0;
        using (Assert.EnterMultipleScope())
        {
            Assert.That(GreengrassCoreIpc.ServiceId, Is.EqualTo(Id(Model.Service.Name)));
            Assert.That(GreengrassCoreIpc.Version, Is.EqualTo("2020-06-08"));
            Assert.That(GreengrassCoreIpc.Operations.Select(o => o.Name), Is.EqualTo(operations.Select(o => Id(o.Name))),
                "GreengrassCoreIpc.Operations lists the operations of the service, in model order");

            foreach (var op in operations)
            {
                var input = LibraryType(op.Input!);
                var output = LibraryType(op.Output!);
                var evtShape = Model.EventOf(op);
                var evt = evtShape is null ? null : LibraryType(evtShape.Name);
                Assert.That(input, Is.Not.Null, $"{op.Name}: request type {op.Input}");
                Assert.That(output, Is.Not.Null, $"{op.Name}: response type {op.Output}");
                if (input is null || output is null || (evtShape is not null && evt is null))
                {
                    Assert.Fail($"{op.Name}: types missing (event {evtShape?.Name})");
                    continue;
                }

                // GreengrassCoreIpc.<Op>
                var property = table.GetProperty(op.Name, BindingFlags.Public | BindingFlags.Static);
                Assert.That(property, Is.Not.Null, $"GreengrassCoreIpc.{op.Name}");
                var expectedModelType = evt is null
                    ? typeof(IpcOperation<,>).MakeGenericType(input, output)
                    : typeof(IpcStreamingOperation<,,>).MakeGenericType(input, output, evt);
                if (property is not null)
                {
                    Assert.That(property.PropertyType, Is.EqualTo(expectedModelType), $"GreengrassCoreIpc.{op.Name} type");
                    var model = (IpcOperationModel?)property.GetValue(null);
                    Assert.That(model, Is.Not.Null, $"GreengrassCoreIpc.{op.Name} value");
                    if (model is not null)
                    {
                        Assert.That(model.Name, Is.EqualTo(Id(op.Name)), $"GreengrassCoreIpc.{op.Name}.Name");
                        Assert.That(model.ShortName, Is.EqualTo(op.Name), $"GreengrassCoreIpc.{op.Name}.ShortName");
                        Assert.That(model.RequestModelType, Is.EqualTo(Id(op.Input!)), $"{op.Name} request shape id");
                        Assert.That(model.ResponseModelType, Is.EqualTo(Id(op.Output!)), $"{op.Name} response shape id");
                        Assert.That(model.EventModelType, Is.EqualTo(evtShape is null ? null : Id(evtShape.Name)), $"{op.Name} event shape id");
                        Assert.That(model.IsStreaming, Is.EqualTo(evtShape is not null), $"{op.Name} is streaming");
                        Assert.That(model.ErrorModelTypes, Is.EqualTo(op.References.Select(Id)), $"{op.Name} errors");
                    }
                }

                // GreengrassIpcClient.<Op>Async
                var clientMethods = client.GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == op.Name + "Async").ToList();
                if (evt is null)
                {
                    Assert.That(clientMethods, Has.Count.EqualTo(1), $"GreengrassIpcClient.{op.Name}Async overloads");
                    foreach (var m in clientMethods)
                    {
                        Assert.That(Parameters(m), Is.EqualTo(new[] { input, typeof(CancellationToken) }), $"GreengrassIpcClient.{op.Name}Async parameters");
                        Assert.That(m.ReturnType, Is.EqualTo(typeof(Task<>).MakeGenericType(output)), $"GreengrassIpcClient.{op.Name}Async return type");
                    }
                }
                else
                {
                    streaming++;
                    var streamType = typeof(Task<>).MakeGenericType(typeof(IpcStream<,>).MakeGenericType(output, evt));
                    Assert.That(clientMethods, Has.Count.EqualTo(2), $"GreengrassIpcClient.{op.Name}Async overloads");
                    Assert.That(clientMethods.Select(Parameters), Has.One.EqualTo(new[] { input, typeof(IpcStreamOptions), typeof(CancellationToken) }),
                        $"GreengrassIpcClient.{op.Name}Async(request, IpcStreamOptions?, CancellationToken)");
                    Assert.That(clientMethods.Select(Parameters), Has.One.EqualTo(new[] { input, typeof(Action<>).MakeGenericType(evt), typeof(CancellationToken) }),
                        $"GreengrassIpcClient.{op.Name}Async(request, Action<{evt.Name}>, CancellationToken)");
                    foreach (var m in clientMethods)
                    {
                        Assert.That(m.ReturnType, Is.EqualTo(streamType), $"GreengrassIpcClient.{op.Name}Async return type");
                    }
                }

                // GreengrassCoreIpcService.<Op>Async
                var serverMethod = service.GetMethod(op.Name + "Async", BindingFlags.NonPublic | BindingFlags.Instance);
                Assert.That(serverMethod, Is.Not.Null, $"GreengrassCoreIpcService.{op.Name}Async");
                if (serverMethod is not null)
                {
                    Assert.That(serverMethod.IsFamily && serverMethod.IsVirtual && !serverMethod.IsFinal, Is.True, $"GreengrassCoreIpcService.{op.Name}Async is protected virtual");
                    Assert.That(serverMethod.ReturnType, Is.EqualTo(typeof(ValueTask<>).MakeGenericType(output)), $"GreengrassCoreIpcService.{op.Name}Async return type");
                    var expected = evt is null
                        ? new[] { input, typeof(IpcCallContext) }
                        : new[] { input, typeof(IpcEventStream<>).MakeGenericType(evt), typeof(IpcCallContext) };
                    Assert.That(Parameters(serverMethod), Is.EqualTo(expected), $"GreengrassCoreIpcService.{op.Name}Async parameters");
                }
            }
        }

        TestContext.Out.WriteLine($"Operations checked: {operations.Count} ({streaming} streaming, {operations.Count - streaming} request/response).");
    }

    [Test]
    public void StreamingOperations_AreThoseWhoseOutputTargetsAStreamingUnion()
    {
        var expected = Model.Operations.Where(op => Model.EventOf(op) is not null).ToDictionary(op => Id(op.Name), op => Id(Model.EventOf(op)!.Name));
        var actual = GreengrassCoreIpc.Operations.Where(o => o.IsStreaming).ToDictionary(o => o.Name, o => o.EventModelType!);
        Assert.That(actual, Is.EqualTo(expected));
        foreach (var evt in Model.Shapes.Values.Where(s => s.IsStreaming))
        {
            Assert.That(evt.IsUnion, Is.True, $"@streaming {evt.Name} is a union");
        }

        TestContext.Out.WriteLine($"Streaming operations: {string.Join(", ", expected.Keys.Select(k => k[(k.IndexOf('#', StringComparison.Ordinal) + 1)..]))}.");
    }

    [Test]
    public void EveryShapeAndMember_IsGeneratedWithItsJsonNameAndType()
    {
        var shapes = 0;
        var members = 0;
        using (Assert.EnterMultipleScope())
        {
            foreach (var shape in Model.StructuresAndUnions)
            {
                shapes++;
                var type = LibraryType(shape.Name);
                Assert.That(type, Is.Not.Null, $"class {shape.Name}");
                if (type is null)
                {
                    continue;
                }

                Assert.That(type.IsClass && type.IsSealed && type.IsPublic, Is.True, $"{shape.Name} is a public sealed class");
                Assert.That(typeof(IIpcShape).IsAssignableFrom(type), Is.True, $"{shape.Name} implements IIpcShape");
                Assert.That(typeof(IIpcErrorShape).IsAssignableFrom(type), Is.EqualTo(shape.IsError), $"{shape.Name} implements IIpcErrorShape exactly when @error");
                var modelType = type.GetField("ModelType", BindingFlags.Public | BindingFlags.Static);
                Assert.That(modelType is { IsLiteral: true } ? modelType.GetRawConstantValue() : null, Is.EqualTo(Id(shape.Name)), $"{shape.Name}.ModelType const");
                Assert.That(type.GetConstructor(Type.EmptyTypes), Is.Not.Null, $"{shape.Name} has a public parameterless constructor");

                var jsonProperties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                    .Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null)
                    .ToDictionary(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name, StringComparer.Ordinal);
                var expectedNames = shape.Members.Select(m => m.Name).ToList();
                if (shape.IsError)
                {
                    expectedNames.AddRange(["_service", "_message", "_errorCode"]);
                }

                Assert.That(jsonProperties.Keys, Is.EquivalentTo(expectedNames), $"{shape.Name}: JSON members");

                foreach (var member in shape.Members)
                {
                    members++;
                    var where = $"{shape.Name}.{member.Name} (model line {member.Line})";
                    var property = type.GetProperty(MemberProperty(member.Name), BindingFlags.Public | BindingFlags.Instance);
                    Assert.That(property, Is.Not.Null, $"{where}: property {MemberProperty(member.Name)}");
                    if (property is null)
                    {
                        continue;
                    }

                    Assert.That(property.CanRead && property.CanWrite && property.SetMethod!.IsPublic, Is.True, $"{where}: public get/set");
                    Assert.That(property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, Is.EqualTo(member.Name), $"{where}: [JsonPropertyName]");
                    var expected = ExpectedType(member.Target, nullable: true, out var problem);
                    Assert.That(problem, Is.Null, where);
                    Assert.That(property.PropertyType, Is.EqualTo(expected), $"{where}: CLR type for target {member.Target}");
                    CheckNullability(property, where);

                    var converter = property.GetCustomAttribute<JsonConverterAttribute>()?.ConverterType;
                    var isTimestamp = Model.Normalize(member.Target) == "Timestamp" || (Model.Shapes.TryGetValue(Model.Normalize(member.Target), out var t) && t.Kind == "timestamp");
                    Assert.That(converter, Is.EqualTo(isTimestamp ? typeof(EpochSecondsJsonConverter) : null), $"{where}: [JsonConverter]");
                }

                if (shape.IsError)
                {
                    foreach (var (json, name) in new[] { ("_service", "ServiceName"), ("_message", "ServiceMessage"), ("_errorCode", "ErrorCode") })
                    {
                        var p = type.GetProperty(name);
                        Assert.That(p?.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name, Is.EqualTo(json), $"{shape.Name}.{name} is [JsonPropertyName(\"{json}\")]");
                        Assert.That(p?.PropertyType, Is.EqualTo(typeof(string)), $"{shape.Name}.{name} type");
                    }
                }
            }

            // Nothing generated that the model does not have.
            var generated = Library.GetTypes().Where(t => t.IsClass && typeof(IIpcShape).IsAssignableFrom(t) && !t.IsAbstract).Select(t => t.Name);
            Assert.That(generated, Is.EquivalentTo(Model.StructuresAndUnions.Select(s => s.Name)), "IIpcShape classes of the library = structures and unions of the model");
        }

        TestContext.Out.WriteLine($"Shapes checked: {shapes} ({Model.StructuresAndUnions.Count(s => s.IsUnion)} unions, {Model.StructuresAndUnions.Count(s => s.IsError)} errors); members checked: {members}.");
    }

    [Test]
    public void EveryEnumValue_ExistsWithItsWireValue()
    {
        var enums = 0;
        var values = 0;
        using (Assert.EnterMultipleScope())
        {
            foreach (var shape in Model.Enums)
            {
                enums++;
                var type = LibraryType(shape.Name);
                Assert.That(type, Is.Not.Null, $"enum {shape.Name}");
                if (type is null)
                {
                    continue;
                }

                Assert.That(type.IsValueType && type.IsPublic, Is.True, $"{shape.Name} is a public struct");
                Assert.That(type.GetInterfaces(), Does.Contain(typeof(IExtensibleEnum<>).MakeGenericType(type)), $"{shape.Name} implements IExtensibleEnum<{shape.Name}>");
                Assert.That(type.GetCustomAttribute<JsonConverterAttribute>()?.ConverterType, Is.EqualTo(typeof(ExtensibleEnumJsonConverter<>).MakeGenericType(type)), $"{shape.Name} [JsonConverter]");
                var valueProperty = type.GetProperty("Value")!;
                var isKnown = type.GetProperty("IsKnown")!;
                var known = ((System.Collections.IEnumerable)type.GetProperty("KnownValues", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!).Cast<object>().ToList();
                Assert.That(known.Select(k => valueProperty.GetValue(k)), Is.EqualTo(shape.EnumValues.Select(v => v.Value)), $"{shape.Name}.KnownValues");

                foreach (var v in shape.EnumValues)
                {
                    values++;
                    var property = type.GetProperty(EnumProperty(v.Name), BindingFlags.Public | BindingFlags.Static);
                    Assert.That(property?.PropertyType, Is.EqualTo(type), $"{shape.Name}.{EnumProperty(v.Name)} (enum name {v.Name})");
                    if (property is null)
                    {
                        continue;
                    }

                    var value = property.GetValue(null)!;
                    Assert.That(valueProperty.GetValue(value), Is.EqualTo(v.Value), $"{shape.Name}.{EnumProperty(v.Name)}.Value");
                    Assert.That(isKnown.GetValue(value), Is.True, $"{shape.Name}.{EnumProperty(v.Name)}.IsKnown");
                    Assert.That(value.ToString(), Is.EqualTo(v.Value), $"{shape.Name}.{EnumProperty(v.Name)}.ToString()");

                    // The wire value through the JSON converter: "value" as a JSON string.
                    var options = new JsonSerializerOptions();
                    Assert.That(JsonSerializer.Serialize(value, type, options), Is.EqualTo(JsonSerializer.Serialize(v.Value)), $"{shape.Name}.{EnumProperty(v.Name)} JSON");
                }
            }

            var generated = Library.GetTypes().Where(t => t.IsValueType && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IExtensibleEnum<>))).Select(t => t.Name);
            Assert.That(generated, Is.EquivalentTo(Model.Enums.Select(e => e.Name)), "extensible enums of the library = enums of the model");
        }

        TestContext.Out.WriteLine($"Enums checked: {enums}; enum values checked: {values}.");
    }

    [Test]
    public void EveryErrorShape_HasItsException_WithTheClientOrServerFlag()
    {
        var errors = 0;
        using (Assert.EnterMultipleScope())
        {
            foreach (var shape in Model.StructuresAndUnions.Where(s => s.IsError))
            {
                errors++;
                Assert.That(shape.ErrorKind, Is.AnyOf("client", "server"), $"{shape.Name} @error value");
                var shapeType = LibraryType(shape.Name);
                var exceptionType = LibraryType(ExceptionName(shape.Name));
                Assert.That(exceptionType, Is.Not.Null, $"{shape.Name}: exception {ExceptionName(shape.Name)}");
                if (shapeType is null || exceptionType is null)
                {
                    continue;
                }

                Assert.That(exceptionType.IsSubclassOf(typeof(GreengrassIpcServiceException)), Is.True, $"{exceptionType.Name} derives GreengrassIpcServiceException");
                Assert.That(exceptionType.GetConstructor([typeof(string)]), Is.Not.Null, $"{exceptionType.Name}(string?)");
                Assert.That(exceptionType.GetConstructor([shapeType]), Is.Not.Null, $"{exceptionType.Name}({shape.Name})");

                var ex = (GreengrassIpcServiceException)Activator.CreateInstance(exceptionType, "it failed")!;
                var isServer = shape.ErrorKind == "server";
                Assert.That(ex.IsServerError, Is.EqualTo(isServer), $"{exceptionType.Name}.IsServerError for @error(\"{shape.ErrorKind}\")");
                Assert.That(ex.IsClientError, Is.EqualTo(!isServer), $"{exceptionType.Name}.IsClientError for @error(\"{shape.ErrorKind}\")");
                Assert.That(ex.ModelType, Is.EqualTo(Id(shape.Name)), $"{exceptionType.Name}.ModelType");
                Assert.That(ex.ErrorCode, Is.EqualTo(shape.Name), $"{exceptionType.Name}.ErrorCode");
                Assert.That(ex.ServiceMessage, Is.EqualTo("it failed"), $"{exceptionType.Name}.ServiceMessage");
                Assert.That(ex.ErrorShape.GetType(), Is.EqualTo(shapeType), $"{exceptionType.Name}.ErrorShape type");
                Assert.That(ex.ErrorShape.ErrorCode, Is.EqualTo(shape.Name), $"{exceptionType.Name}.ErrorShape._errorCode");
                Assert.That(ex.ErrorShape.ServiceName, Is.EqualTo(Id(Model.Service.Name)), $"{exceptionType.Name}.ErrorShape._service");

                var created = GreengrassCoreIpc.CreateError(Id(shape.Name), Encoding.UTF8.GetBytes("{\"message\":\"m\"}"));
                Assert.That(created?.GetType(), Is.EqualTo(exceptionType), $"GreengrassCoreIpc.CreateError({shape.Name})");
            }

            Assert.That(GreengrassCoreIpc.CreateError(Id("NotAnError"), "{}"u8), Is.Null, "CreateError of an unknown shape id");
            var generated = Library.GetTypes().Where(t => t.IsSubclassOf(typeof(GreengrassIpcServiceException)) && !t.IsAbstract).Select(t => t.Name);
            Assert.That(generated, Is.EquivalentTo(Model.StructuresAndUnions.Where(s => s.IsError).Select(s => ExceptionName(s.Name))), "exception classes = error shapes");
        }

        TestContext.Out.WriteLine($"Error shapes checked: {errors} ({Model.StructuresAndUnions.Count(s => s.ErrorKind == "server")} server, {Model.StructuresAndUnions.Count(s => s.ErrorKind == "client")} client).");
    }

    private static Type[] Parameters(MethodInfo m) => m.GetParameters().Select(p => p.ParameterType).ToArray();

    /// <summary>The CLR type the mapping rules give for a member target; <paramref name="problem"/> names what is missing.</summary>
    private static Type? ExpectedType(string target, bool nullable, out string? problem)
    {
        problem = null;
        var name = Model.Normalize(target);
        Type? valueType = null;
        if (Model.Shapes.TryGetValue(name, out var shape))
        {
            switch (shape.Kind)
            {
                case "structure" or "union":
                    var cls = LibraryType(shape.Name);
                    problem = cls is null ? $"no class {shape.Name}" : null;
                    return cls;
                case "list":
                    {
                        var element = ExpectedType(shape.Members.Single(m => m.Name == "member").Target, nullable: false, out problem);
                        return element is null ? null : typeof(IReadOnlyList<>).MakeGenericType(element);
                    }

                case "map":
                    {
                        var key = shape.Members.Single(m => m.Name == "key");
                        if (Model.Normalize(key.Target) != "String")
                        {
                            problem = $"map {shape.Name} has a key that is not a String";
                            return null;
                        }

                        var value = ExpectedType(shape.Members.Single(m => m.Name == "value").Target, nullable: false, out problem);
                        return value is null ? null : typeof(IReadOnlyDictionary<,>).MakeGenericType(typeof(string), value);
                    }

                case "string" when shape.IsEnum:
                    valueType = LibraryType(shape.Name);
                    if (valueType is null)
                    {
                        problem = $"no enum struct {shape.Name}";
                        return null;
                    }

                    break;
                default:
                    name = shape.Kind switch
                    {
                        "string" => "String",
                        "integer" => "Integer",
                        "long" => "Long",
                        "double" or "float" => "Double",
                        "boolean" => "Boolean",
                        "blob" => "Blob",
                        "timestamp" => "Timestamp",
                        "document" => "Document",
                        _ => throw new NotSupportedException($"{shape.Kind} {shape.Name}"),
                    };
                    break;
            }
        }

        valueType ??= name switch
        {
            "String" => typeof(string),
            "Integer" => typeof(int),
            "Long" => typeof(long),
            "Double" => typeof(double),
            "Boolean" => typeof(bool),
            "Blob" => typeof(ReadOnlyMemory<byte>),
            "Timestamp" => typeof(DateTimeOffset),
            "Document" => typeof(JsonElement),
            _ => null,
        };
        if (valueType is null)
        {
            problem = $"unknown target {target}";
            return null;
        }

        return nullable && valueType.IsValueType ? typeof(Nullable<>).MakeGenericType(valueType) : valueType;
    }

    /// <summary>Reference-typed members are declared nullable (<c>string?</c>); list elements and map values are not.</summary>
    private static void CheckNullability(PropertyInfo property, string where)
    {
        if (property.PropertyType.IsValueType)
        {
            return;
        }

        var info = Nullability.Create(property);
        Assert.That(info.ReadState, Is.EqualTo(NullabilityState.Nullable), $"{where}: declared nullable");
        if (property.PropertyType.IsGenericType)
        {
            var elements = info.GenericTypeArguments;
            var last = elements[^1];
            if (!last.Type.IsValueType)
            {
                Assert.That(last.ReadState, Is.EqualTo(NullabilityState.NotNull), $"{where}: element type not nullable");
            }
        }
    }
}
