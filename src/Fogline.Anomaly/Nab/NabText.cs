using System.Globalization;

namespace Fogline.Anomaly.Nab;

/// <summary>Parsing of the text in NAB's files: timestamps, numbers, CSV lines.</summary>
public static class NabText
{
    private static readonly string[] OtherTimestampFormats =
    [
        "yyyy-MM-dd HH:mm",
        "yyyy-MM-ddTHH:mm",
        "yyyy-MM-dd",
    ];

    /// <summary>
    /// Parses <c>yyyy-MM-dd HH:mm:ss</c> with an optional fraction of up to seven digits (a <c>T</c> may stand for the
    /// space), or the shorter <c>yyyy-MM-dd HH:mm</c> and <c>yyyy-MM-dd</c>. The result has no time zone, as in NAB.
    /// </summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTime value)
    {
        value = default;
        if (text.Length >= 19 && text[4] == '-' && text[7] == '-' && (text[10] == ' ' || text[10] == 'T')
            && text[13] == ':' && text[16] == ':')
        {
            if (!TryDigits(text, 0, 4, out var year) || !TryDigits(text, 5, 2, out var month)
                || !TryDigits(text, 8, 2, out var day) || !TryDigits(text, 11, 2, out var hour)
                || !TryDigits(text, 14, 2, out var minute) || !TryDigits(text, 17, 2, out var second))
            {
                return false;
            }

            long fractionTicks = 0;
            if (text.Length > 19)
            {
                var digits = text.Length - 20;
                if (text[19] != '.' || digits < 1 || digits > 7 || !TryDigits(text, 20, digits, out var fraction))
                {
                    return false;
                }

                fractionTicks = fraction;
                for (var i = digits; i < 7; i++)
                {
                    fractionTicks *= 10;
                }
            }

            if (year < 1 || month < 1 || month > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
                || hour > 23 || minute > 59 || second > 59)
            {
                return false;
            }

            value = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
            return true;
        }

        return DateTime.TryParseExact(text, OtherTimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    /// <summary>Parses a number as NAB's files write it (invariant culture, optional exponent).</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>The non-empty lines after a file's header (read by the caller), with their line numbers (the header is line 1), '\r' trimmed.</summary>
    public static IEnumerable<(int Number, string Text)> DataLines(TextReader reader)
    {
        var number = 1;
        while (reader.ReadLine() is { } line)
        {
            number++;
            line = line.TrimEnd('\r');
            if (line.Length > 0)
            {
                yield return (number, line);
            }
        }
    }

    /// <summary>Splits a CSV line without quoting (NAB's files have none) into at most <paramref name="fields"/>.Length fields; returns the number of fields in the line.</summary>
    public static int Split(string line, Span<Range> fields)
    {
        var count = 0;
        var start = 0;
        while (true)
        {
            var comma = line.IndexOf(',', start);
            var end = comma < 0 ? line.Length : comma;
            if (count < fields.Length)
            {
                fields[count] = new Range(start, end);
            }

            count++;
            if (comma < 0)
            {
                return count;
            }

            start = comma + 1;
        }
    }

    /// <summary>Formats a number so that it reads back to the same value.</summary>
    public static string FormatNumber(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static bool TryDigits(ReadOnlySpan<char> text, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var c = text[i];
            if (c < '0' || c > '9')
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        return true;
    }
}
