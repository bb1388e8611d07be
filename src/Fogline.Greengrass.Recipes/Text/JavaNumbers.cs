using System.Globalization;
using System.Text;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// Numbers written as the Nucleus (Java) writes them: recipe and configuration values, pub/sub JSON messages (Gson)
/// and shadow documents (Jackson) all write doubles with <c>Double.toString</c>.
/// </summary>
public static class JavaNumbers
{
    /// <summary>Java's <c>Double.toString(double)</c> (JDK 19 and later: the shortest decimal that reads back as the same double).</summary>
    public static string DoubleToString(double value)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }

        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }

        if (value == 0)
        {
            return double.IsNegative(value) ? "-0.0" : "0.0";
        }

        var magnitude = Math.Abs(value);
        var (digits, point) = Decompose(magnitude.ToString("R", CultureInfo.InvariantCulture));
        if (digits.Length == 1)
        {
            // Java picks, when one digit would do, the closest two-digit decimal (4.9E-324, not 5E-324).
            var two = magnitude.ToString("E1", CultureInfo.InvariantCulture);
            if (double.Parse(two, NumberStyles.Float, CultureInfo.InvariantCulture) == magnitude)
            {
                (digits, point) = Decompose(two);
            }
        }

        var text = new StringBuilder(digits.Length + 8);
        if (value < 0)
        {
            text.Append('-');
        }

        if (magnitude is >= 1e-3 and < 1e7)
        {
            if (point <= 0)
            {
                text.Append("0.").Append('0', -point).Append(digits);
            }
            else if (point >= digits.Length)
            {
                text.Append(digits).Append('0', point - digits.Length).Append(".0");
            }
            else
            {
                text.Append(digits, 0, point).Append('.').Append(digits, point, digits.Length - point);
            }
        }
        else
        {
            text.Append(digits[0]).Append('.');
            text.Append(digits.Length > 1 ? digits.AsSpan(1) : "0");
            text.Append('E').Append((point - 1).ToString(CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }

    // The significant digits (no leading or trailing zeros) of a formatted positive number, and where the decimal
    // point goes: value = 0.<digits> x 10^point.
    private static (string Digits, int Point) Decompose(string formatted)
    {
        var exponent = 0;
        var mantissa = formatted;
        var e = formatted.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(formatted.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = formatted[..e];
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integerDigits = dot < 0 ? mantissa.Length : dot;
        var all = dot < 0 ? mantissa : string.Concat(mantissa.AsSpan(0, dot), mantissa.AsSpan(dot + 1));
        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        var digits = all[leading..].TrimEnd('0');
        return (digits.Length == 0 ? "0" : digits, integerDigits - leading + exponent);
    }
}
