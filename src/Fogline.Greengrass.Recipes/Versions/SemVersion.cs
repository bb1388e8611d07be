using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// A semantic version (<see href="https://semver.org/spec/v2.0.0.html">SemVer 2.0.0</see>):
/// <c>MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]</c>.
/// </summary>
/// <remarks>
/// <para><see cref="CompareTo(SemVersion?)"/> and the comparison operators order by semver precedence: numbers
/// numerically, then a version with a prerelease below the same version without one, prerelease identifiers compared
/// one by one (numeric identifiers numerically and below alphanumeric ones, alphanumeric ones in ASCII order, a
/// shorter list below a longer one with the same start). Build metadata does not take part in precedence.</para>
/// <para><see cref="Equals(SemVersion?)"/> and <c>==</c> compare every part including the build metadata, so two
/// versions that differ only in their build compare as 0 but are not equal (use <see cref="PrecedenceEquals"/>).</para>
/// <para>Parsing is strict SemVer 2.0.0: three numbers without leading zeros, no "v" prefix, no whitespace. The
/// Nucleus parses component versions with semver4j's strict mode, which also requires the three numbers (it lets
/// leading zeros and a fourth number through, which this type rejects, as SemVer 2.0.0 does).</para>
/// </remarks>
public sealed class SemVersion : IComparable<SemVersion>, IEquatable<SemVersion>, IComparable
{
    private static readonly string[] NoIdentifiers = [];

    /// <summary>Creates a version from its parts; identifiers are validated as <see cref="Parse"/> does.</summary>
    public SemVersion(int major, int minor, int patch, IEnumerable<string>? prerelease = null, IEnumerable<string>? build = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(major);
        ArgumentOutOfRangeException.ThrowIfNegative(minor);
        ArgumentOutOfRangeException.ThrowIfNegative(patch);
        Major = major;
        Minor = minor;
        Patch = patch;
        var pre = prerelease?.ToArray() ?? NoIdentifiers;
        var bld = build?.ToArray() ?? NoIdentifiers;
        foreach (var identifier in pre)
        {
            var error = CheckIdentifier(identifier, prerelease: true);
            if (error is not null)
            {
                throw new ArgumentException($"prerelease identifier '{identifier}': {error}", nameof(prerelease));
            }
        }

        foreach (var identifier in bld)
        {
            var error = CheckIdentifier(identifier, prerelease: false);
            if (error is not null)
            {
                throw new ArgumentException($"build identifier '{identifier}': {error}", nameof(build));
            }
        }

        Prerelease = pre;
        Build = bld;
    }

    private SemVersion(int major, int minor, int patch, string[] prerelease, string[] build, bool _)
    {
        Major = major;
        Minor = minor;
        Patch = patch;
        Prerelease = prerelease;
        Build = build;
    }

    /// <summary>The major version.</summary>
    public int Major { get; }

    /// <summary>The minor version.</summary>
    public int Minor { get; }

    /// <summary>The patch version.</summary>
    public int Patch { get; }

    /// <summary>The prerelease identifiers (empty for a release).</summary>
    public IReadOnlyList<string> Prerelease { get; }

    /// <summary>The build metadata identifiers (empty when there is none).</summary>
    public IReadOnlyList<string> Build { get; }

    /// <summary>Whether the version has a prerelease tag.</summary>
    public bool IsPrerelease => Prerelease.Count > 0;

    /// <summary>Parses a strict SemVer 2.0.0 version.</summary>
    /// <exception cref="VersionFormatException">The text is not a version; the exception says why and where.</exception>
    public static SemVersion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return TryParseCore(text, out var version, out var error, out var position)
            ? version
            : throw new VersionFormatException(text, position, error);
    }

    /// <summary>Parses a strict SemVer 2.0.0 version; false when <paramref name="text"/> is not one.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out SemVersion? version)
    {
        version = null;
        if (text is null)
        {
            return false;
        }

        if (TryParseCore(text, out var parsed, out _, out _))
        {
            version = parsed;
            return true;
        }

        return false;
    }

    /// <summary>This version without its build metadata.</summary>
    public SemVersion WithoutBuild() => Build.Count == 0 ? this : new SemVersion(Major, Minor, Patch, (string[])Prerelease, NoIdentifiers, true);

    /// <summary>Whether both versions have the same precedence (everything but the build metadata is equal).</summary>
    public bool PrecedenceEquals(SemVersion? other) => other is not null && CompareTo(other) == 0;

    /// <inheritdoc />
    public int CompareTo(SemVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = Major.CompareTo(other.Major);
        if (c != 0)
        {
            return c;
        }

        c = Minor.CompareTo(other.Minor);
        if (c != 0)
        {
            return c;
        }

        c = Patch.CompareTo(other.Patch);
        if (c != 0)
        {
            return c;
        }

        return ComparePrerelease(Prerelease, other.Prerelease);
    }

    /// <inheritdoc />
    public int CompareTo(object? obj) => obj switch
    {
        null => 1,
        SemVersion other => CompareTo(other),
        _ => throw new ArgumentException("not a SemVersion", nameof(obj)),
    };

    /// <inheritdoc />
    public bool Equals(SemVersion? other) =>
        other is not null
        && Major == other.Major
        && Minor == other.Minor
        && Patch == other.Patch
        && Prerelease.SequenceEqual(other.Prerelease, StringComparer.Ordinal)
        && Build.SequenceEqual(other.Build, StringComparer.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is SemVersion other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Major);
        hash.Add(Minor);
        hash.Add(Patch);
        foreach (var identifier in Prerelease)
        {
            hash.Add(identifier, StringComparer.Ordinal);
        }

        foreach (var identifier in Build)
        {
            hash.Add(identifier, StringComparer.Ordinal);
        }

        return hash.ToHashCode();
    }

    /// <summary>The version as text, e.g. <c>1.2.3-beta.1+sha.5</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{Major}.{Minor}.{Patch}");
        if (Prerelease.Count > 0)
        {
            sb.Append('-').AppendJoin('.', Prerelease);
        }

        if (Build.Count > 0)
        {
            sb.Append('+').AppendJoin('.', Build);
        }

        return sb.ToString();
    }

    /// <summary>Equality including build metadata.</summary>
    public static bool operator ==(SemVersion? left, SemVersion? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Inequality including build metadata.</summary>
    public static bool operator !=(SemVersion? left, SemVersion? right) => !(left == right);

    /// <summary>Precedence order.</summary>
    public static bool operator <(SemVersion? left, SemVersion? right) => Compare(left, right) < 0;

    /// <summary>Precedence order.</summary>
    public static bool operator <=(SemVersion? left, SemVersion? right) => Compare(left, right) <= 0;

    /// <summary>Precedence order.</summary>
    public static bool operator >(SemVersion? left, SemVersion? right) => Compare(left, right) > 0;

    /// <summary>Precedence order.</summary>
    public static bool operator >=(SemVersion? left, SemVersion? right) => Compare(left, right) >= 0;

    /// <summary>Precedence comparison that accepts nulls (null is lowest).</summary>
    public static int Compare(SemVersion? left, SemVersion? right) =>
        left is null ? (right is null ? 0 : -1) : left.CompareTo(right);

    internal static SemVersion Create(int major, int minor, int patch, string[]? prerelease = null) =>
        new(major, minor, patch, prerelease ?? NoIdentifiers, NoIdentifiers, true);

    internal static int ComparePrerelease(IReadOnlyList<string> left, IReadOnlyList<string> right)
    {
        if (left.Count == 0)
        {
            return right.Count == 0 ? 0 : 1;
        }

        if (right.Count == 0)
        {
            return -1;
        }

        var n = Math.Min(left.Count, right.Count);
        for (var i = 0; i < n; i++)
        {
            var c = CompareIdentifier(left[i], right[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return left.Count.CompareTo(right.Count);
    }

    private static int CompareIdentifier(string left, string right)
    {
        var leftNumeric = IsNumeric(left);
        var rightNumeric = IsNumeric(right);
        if (leftNumeric && rightNumeric)
        {
            // No leading zeros: a longer number is larger; same length compares digit by digit.
            var c = left.Length.CompareTo(right.Length);
            return c != 0 ? c : string.CompareOrdinal(left, right);
        }

        if (leftNumeric)
        {
            return -1;
        }

        if (rightNumeric)
        {
            return 1;
        }

        return Math.Sign(string.CompareOrdinal(left, right));
    }

    private static bool IsNumeric(string identifier)
    {
        foreach (var c in identifier)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return identifier.Length > 0;
    }

    /// <summary>Null when the identifier is valid, otherwise what is wrong with it.</summary>
    internal static string? CheckIdentifier(string identifier, bool prerelease)
    {
        if (identifier.Length == 0)
        {
            return "is empty";
        }

        foreach (var c in identifier)
        {
            if (!(c is >= '0' and <= '9' or >= 'a' and <= 'z' or >= 'A' and <= 'Z' or '-'))
            {
                return $"contains '{c}' (only letters, digits and '-' are allowed)";
            }
        }

        if (prerelease && identifier.Length > 1 && identifier[0] == '0' && IsNumeric(identifier))
        {
            return "is a number with a leading zero";
        }

        return null;
    }

    /// <summary>Parses a number without leading zeros that fits an int; null with the reason otherwise.</summary>
    internal static string? ParseNumber(string text, int start, int length, out int value)
    {
        value = 0;
        if (length == 0)
        {
            return "a number is missing";
        }

        for (var i = start; i < start + length; i++)
        {
            if (text[i] is < '0' or > '9')
            {
                return $"'{text.Substring(start, length)}' is not a number";
            }
        }

        if (length > 1 && text[start] == '0')
        {
            return $"'{text.Substring(start, length)}' has a leading zero";
        }

        if (!int.TryParse(text.AsSpan(start, length), NumberStyles.None, CultureInfo.InvariantCulture, out value))
        {
            return $"'{text.Substring(start, length)}' is too large";
        }

        return null;
    }

    /// <summary>
    /// Parses dot-separated identifiers in text[start..end). Returns null and the identifiers, or the reason and the
    /// position of the bad identifier.
    /// </summary>
    internal static string? ParseIdentifiers(string text, int start, int end, bool prerelease, out string[] identifiers, out int errorPosition)
    {
        var list = new List<string>();
        var begin = start;
        errorPosition = start;
        for (var i = start; i <= end; i++)
        {
            if (i == end || text[i] == '.')
            {
                var identifier = text[begin..i];
                var error = CheckIdentifier(identifier, prerelease);
                if (error is not null)
                {
                    identifiers = NoIdentifiers;
                    errorPosition = begin;
                    return $"{(prerelease ? "prerelease" : "build")} identifier '{identifier}' {error}";
                }

                list.Add(identifier);
                begin = i + 1;
            }
        }

        identifiers = [.. list];
        return null;
    }

    private static bool TryParseCore(string text, [NotNullWhen(true)] out SemVersion? version, [NotNullWhen(false)] out string? error, out int position)
    {
        version = null;
        position = 0;
        if (text.Length == 0)
        {
            error = "the version is empty";
            return false;
        }

        var plus = text.IndexOf('+', StringComparison.Ordinal);
        var mainEnd = plus < 0 ? text.Length : plus;
        var dash = text.IndexOf('-', 0, mainEnd);
        var coreEnd = dash < 0 ? mainEnd : dash;

        var numbers = new int[3];
        var begin = 0;
        var index = 0;
        for (var i = 0; i <= coreEnd; i++)
        {
            if (i == coreEnd || text[i] == '.')
            {
                if (index == 3)
                {
                    error = "a version has exactly three numbers (MAJOR.MINOR.PATCH); this has more";
                    position = begin - 1;
                    return false;
                }

                error = ParseNumber(text, begin, i - begin, out numbers[index]);
                if (error is not null)
                {
                    if (i - begin == 0)
                    {
                        error = $"the {PartName(index)} number is missing";
                    }

                    position = begin;
                    return false;
                }

                index++;
                begin = i + 1;
            }
        }

        if (index < 3)
        {
            error = $"a version has three numbers (MAJOR.MINOR.PATCH); the {PartName(index)} number is missing";
            position = coreEnd;
            return false;
        }

        var prerelease = NoIdentifiers;
        if (dash >= 0)
        {
            error = ParseIdentifiers(text, dash + 1, mainEnd, prerelease: true, out prerelease, out position);
            if (error is not null)
            {
                return false;
            }
        }

        var build = NoIdentifiers;
        if (plus >= 0)
        {
            error = ParseIdentifiers(text, plus + 1, text.Length, prerelease: false, out build, out position);
            if (error is not null)
            {
                return false;
            }
        }

        version = new SemVersion(numbers[0], numbers[1], numbers[2], prerelease, build, true);
        error = null;
        return true;
    }

    private static string PartName(int index) => index switch
    {
        0 => "major",
        1 => "minor",
        _ => "patch",
    };
}
