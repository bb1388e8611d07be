using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fogline.Greengrass.Ipc.Serialization;

/// <summary>
/// A Smithy enum as an extensible string value: the known values are static properties, and a value this version
/// does not know still round-trips instead of failing (the official clients do not validate enum values either).
/// </summary>
/// <typeparam name="TSelf">The enum type.</typeparam>
public interface IExtensibleEnum<TSelf>
    where TSelf : struct, IExtensibleEnum<TSelf>
{
    /// <summary>The wire value.</summary>
    string Value { get; }

    /// <summary>Makes a value from its wire string.</summary>
    static abstract TSelf FromValue(string value);

    /// <summary>The values the model defines.</summary>
    static abstract IReadOnlyList<TSelf> KnownValues { get; }
}

/// <summary>Reads and writes an <see cref="IExtensibleEnum{TSelf}"/> as its wire string.</summary>
/// <typeparam name="T">The enum type.</typeparam>
public sealed class ExtensibleEnumJsonConverter<T> : JsonConverter<T>
    where T : struct, IExtensibleEnum<T>
{
    /// <inheritdoc />
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException($"An enum value must be a string, not {reader.TokenType}.");
        }

        // Known values are matched without allocating their string.
        var known = T.KnownValues;
        for (var i = 0; i < known.Count; i++)
        {
            if (reader.ValueTextEquals(known[i].Value))
            {
                return known[i];
            }
        }

        return T.FromValue(reader.GetString()!);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }
}
