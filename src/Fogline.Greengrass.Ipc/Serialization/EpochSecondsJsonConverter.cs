using System.Text.Json;
using System.Text.Json.Serialization;

namespace Fogline.Greengrass.Ipc.Serialization;

/// <summary>
/// Smithy timestamps as the Greengrass IPC clients write them: seconds since the Unix epoch as a JSON number with a
/// fraction (the JavaScript client writes <c>date.getTime() / 1000</c>, the Java client seconds plus nanoseconds).
/// </summary>
public sealed class EpochSecondsJsonConverter : JsonConverter<DateTimeOffset>
{
    private const long TicksPerSecond = TimeSpan.TicksPerSecond;

    /// <inheritdoc />
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new JsonException($"A timestamp must be a number of seconds since the Unix epoch, not {reader.TokenType}.");
        }

        // The number as written (1700000000.123), not its nearest double (1700000000.1229999), so that the
        // milliseconds a JavaScript peer sends are read exactly and written back unchanged.
        if (reader.TryGetDecimal(out var exact) && exact >= -62135596800m && exact <= 253402300799m)
        {
            return DateTimeOffset.UnixEpoch.AddTicks((long)decimal.Round(exact * TicksPerSecond, MidpointRounding.AwayFromZero));
        }

        var seconds = reader.GetDouble();
        if (double.IsNaN(seconds) || seconds < -62135596800d || seconds > 253402300799d)
        {
            throw new JsonException($"Timestamp {seconds} is out of range.");
        }

        var whole = Math.Floor(seconds);
        var ticks = (long)Math.Round((seconds - whole) * TicksPerSecond);
        return DateTimeOffset.UnixEpoch.AddTicks(((long)whole * TicksPerSecond) + ticks);
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var ticks = value.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TicksPerSecond, out var remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TicksPerSecond;
        }

        writer.WriteNumberValue(seconds + (remainder / (double)TicksPerSecond));
    }
}
