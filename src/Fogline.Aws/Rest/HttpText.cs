using System.Globalization;

namespace Fogline.Aws.Rest;

/// <summary>Members bound to the URI, query string and headers as text, as botocore writes them.</summary>
public static class HttpText
{
    /// <summary>An integer as text.</summary>
    public static string? Number(long? value) => value?.ToString(CultureInfo.InvariantCulture);

    /// <summary>A number as text (shortest round trip).</summary>
    public static string? Number(double? value) => value?.ToString("R", CultureInfo.InvariantCulture);

    /// <summary><c>true</c> or <c>false</c>.</summary>
    public static string? Boolean(bool? value) => value is { } b ? (b ? "true" : "false") : null;

    /// <summary>A timestamp in ISO 8601 (the query-string default of rest-json).</summary>
    public static string? Timestamp(DateTimeOffset? value) => value?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Parses an integer; null when absent. Throws <see cref="FormatException"/> for other text.</summary>
    public static int? Int32(string? text) => text is null ? null : int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>Parses a long; null when absent.</summary>
    public static long? Int64(string? text) => text is null ? null : long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture);

    /// <summary>Parses a number; null when absent.</summary>
    public static double? Double(string? text) => text is null ? null : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>Parses <c>true</c>/<c>false</c>; null when absent.</summary>
    public static bool? ParseBoolean(string? text) => text is null ? null : bool.Parse(text);

    /// <summary>Parses an ISO 8601 timestamp or epoch seconds; null when absent.</summary>
    public static DateTimeOffset? ParseTimestamp(string? text) =>
        text is null ? null
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000))
        : DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
