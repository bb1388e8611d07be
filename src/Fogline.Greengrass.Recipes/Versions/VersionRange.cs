using System.Diagnostics.CodeAnalysis;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// An npm-style version range, as recipes write <c>VersionRequirement</c> (the Nucleus reads them with semver4j's NPM
/// mode): exact versions (<c>1.2.3</c>, <c>=1.2.3</c>), comparators (<c>&gt;</c>, <c>&gt;=</c>, <c>&lt;</c>,
/// <c>&lt;=</c>), whitespace as AND, <c>||</c> as OR, hyphen ranges (<c>1.2.3 - 2.3.4</c>), tilde (<c>~1.2.3</c>),
/// caret (<c>^1.2.3</c>) and x-ranges (<c>1.x</c>, <c>1.2.*</c>, <c>*</c>, partial versions such as <c>1.2</c>).
/// </summary>
/// <remarks>
/// <para>Every form is desugared into comparator sets exactly as npm's <c>node-semver</c> documents it (e.g.
/// <c>^1.2.3</c> is <c>&gt;=1.2.3 &lt;2.0.0-0</c>); <see cref="Normalized"/> shows the result.</para>
/// <para>Prereleases: a version with a prerelease tag satisfies a comparator set only if it passes every comparator
/// and some comparator of the set has a prerelease tag on the same MAJOR.MINOR.PATCH (<c>&gt;1.2.3-alpha.3</c> allows
/// <c>1.2.3-alpha.7</c> but not <c>3.4.5-alpha.9</c>).</para>
/// <para>semver4j 3.1.0 (the Nucleus's library) agrees with npm on every form above. Where it departs from npm on
/// odd input, this type follows npm or rejects the input: a single <c>|</c>, numbers with leading zeros, a number
/// after a wildcard (<c>1.x.3</c>), a prerelease on a partial version and an empty alternative (<c>1.2.3 ||</c>)
/// are errors; <c>1.2.3-2.3.4</c> is a version with a prerelease, not a range (a hyphen range needs spaces);
/// <c>1.2.3 2.3.4</c> is two comparators (semver4j glues them into one version); partial comparators
/// (<c>&gt;1.2</c>, <c>&lt;=1.2</c>, <c>=1.2</c>) and x-ranges after comparators (<c>&gt;=1.x</c>) mean what npm
/// says; a single comparator with a prerelease applies the prerelease rule above (semver4j applies it only to sets
/// of two or more comparators). A bare <c>latest</c> is <c>*</c>, as in semver4j.</para>
/// </remarks>
public sealed class VersionRange
{
    private static readonly VersionComparator[] NoComparators = [];

    private readonly ComparatorSet[] _sets;

    private VersionRange(string text, ComparatorSet[] sets)
    {
        Text = text;
        _sets = sets;
    }

    /// <summary>The range that every release version satisfies (<c>*</c>).</summary>
    public static VersionRange Any { get; } = new("*", [new ComparatorSet(NoComparators, null)]);

    /// <summary>The text the range was parsed from.</summary>
    public string Text { get; }

    /// <summary>The comparator sets (OR of ANDs); an empty set is <c>*</c>.</summary>
    public IReadOnlyList<IReadOnlyList<VersionComparator>> ComparatorSets => _sets.Select(s => (IReadOnlyList<VersionComparator>)s.Comparators).ToArray();

    /// <summary>The desugared range, e.g. <c>&gt;=1.2.3 &lt;2.0.0-0</c> for <c>^1.2.3</c>; sets joined by <c> || </c>.</summary>
    public string Normalized => string.Join(" || ", _sets.Select(s => s.ToString()));

    /// <summary>Whether no version at all satisfies the range (e.g. <c>&gt;2.0.0 &lt;1.0.0</c>).</summary>
    public bool IsEmpty => !_sets.Any(s => s.IsSatisfiable());

    /// <summary>Parses an npm-style range. An empty or blank text is <c>*</c>, as in npm and semver4j.</summary>
    /// <exception cref="VersionFormatException">The text is not a range; the exception says why and at which character.</exception>
    public static VersionRange Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new VersionRange(text, new RangeParser(text).Parse());
    }

    /// <summary>Parses an npm-style range; false when <paramref name="text"/> is not one.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out VersionRange? range)
    {
        range = null;
        if (text is null)
        {
            return false;
        }

        try
        {
            range = Parse(text);
            return true;
        }
        catch (VersionFormatException)
        {
            return false;
        }
    }

    /// <summary>A range that only <paramref name="version"/> (by precedence) satisfies.</summary>
    public static VersionRange Exactly(SemVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var v = version.WithoutBuild();
        return new VersionRange(v.ToString(), [new ComparatorSet([new VersionComparator(ComparatorOperator.Equal, v)], null)]);
    }

    /// <summary>Whether <paramref name="version"/> satisfies the range.</summary>
    public bool IsSatisfiedBy(SemVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        foreach (var set in _sets)
        {
            if (set.IsSatisfiedBy(version))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether some version satisfies both ranges (a dependency resolver's compatibility check).</summary>
    public bool Intersects(VersionRange other)
    {
        ArgumentNullException.ThrowIfNull(other);
        foreach (var a in _sets)
        {
            foreach (var b in other._sets)
            {
                if (a.Intersect(b).IsSatisfiable())
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// The range of the versions that satisfy both ranges (it may be <see cref="IsEmpty"/>). Its <see cref="Text"/>
    /// is <c>(a) (b)</c>-style: both texts, for messages.
    /// </summary>
    public VersionRange Intersect(VersionRange other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var sets = new List<ComparatorSet>();
        foreach (var a in _sets)
        {
            foreach (var b in other._sets)
            {
                sets.Add(a.Intersect(b));
            }
        }

        return new VersionRange($"({Text}) and ({other.Text})", [.. sets]);
    }

    /// <summary>The intersection of all <paramref name="ranges"/> (<see cref="Any"/> when there are none).</summary>
    public static VersionRange IntersectAll(IEnumerable<VersionRange> ranges)
    {
        ArgumentNullException.ThrowIfNull(ranges);
        VersionRange? result = null;
        foreach (var range in ranges)
        {
            result = result is null ? range : result.Intersect(range);
        }

        return result ?? Any;
    }

    /// <summary>The highest of <paramref name="versions"/> that satisfies the range, or null.</summary>
    public SemVersion? MaxSatisfying(IEnumerable<SemVersion> versions)
    {
        ArgumentNullException.ThrowIfNull(versions);
        SemVersion? best = null;
        foreach (var v in versions)
        {
            if (IsSatisfiedBy(v) && (best is null || v.CompareTo(best) > 0))
            {
                best = v;
            }
        }

        return best;
    }

    /// <summary>The lowest of <paramref name="versions"/> that satisfies the range, or null.</summary>
    public SemVersion? MinSatisfying(IEnumerable<SemVersion> versions)
    {
        ArgumentNullException.ThrowIfNull(versions);
        SemVersion? best = null;
        foreach (var v in versions)
        {
            if (IsSatisfiedBy(v) && (best is null || v.CompareTo(best) < 0))
            {
                best = v;
            }
        }

        return best;
    }

    /// <summary>The text the range was parsed from (see <see cref="Normalized"/> for the desugared form).</summary>
    public override string ToString() => Text;

    /// <summary>An AND of comparators with npm's prerelease rule.</summary>
    private sealed class ComparatorSet
    {
        // Null: the tuples of the comparators that have a prerelease (npm's rule). Otherwise explicit, for
        // intersections, where a prerelease must be allowed by both sides.
        private readonly HashSet<(int, int, int)>? _allowedPrereleaseTuples;

        public ComparatorSet(VersionComparator[] comparators, HashSet<(int, int, int)>? allowedPrereleaseTuples)
        {
            Comparators = comparators;
            _allowedPrereleaseTuples = allowedPrereleaseTuples;
        }

        public VersionComparator[] Comparators { get; }

        public HashSet<(int, int, int)> AllowedPrereleaseTuples =>
            _allowedPrereleaseTuples ?? Comparators.Where(c => c.Version.IsPrerelease)
                .Select(c => (c.Version.Major, c.Version.Minor, c.Version.Patch)).ToHashSet();

        public bool IsSatisfiedBy(SemVersion version)
        {
            foreach (var comparator in Comparators)
            {
                if (!comparator.IsSatisfiedBy(version))
                {
                    return false;
                }
            }

            if (!version.IsPrerelease)
            {
                return true;
            }

            if (_allowedPrereleaseTuples is not null)
            {
                return _allowedPrereleaseTuples.Contains((version.Major, version.Minor, version.Patch));
            }

            foreach (var comparator in Comparators)
            {
                var v = comparator.Version;
                if (v.IsPrerelease && v.Major == version.Major && v.Minor == version.Minor && v.Patch == version.Patch)
                {
                    return true;
                }
            }

            return false;
        }

        public ComparatorSet Intersect(ComparatorSet other)
        {
            var allowed = new HashSet<(int, int, int)>(AllowedPrereleaseTuples);
            allowed.IntersectWith(other.AllowedPrereleaseTuples);
            return new ComparatorSet([.. Comparators, .. other.Comparators], allowed);
        }

        /// <summary>
        /// Whether some version satisfies the set. The lowest satisfying release, and the lowest satisfying prerelease
        /// of each allowed MAJOR.MINOR.PATCH, is always one of a few candidates derived from the comparators' versions
        /// (each lower bound's smallest passing version in each class), so testing those decides it exactly.
        /// </summary>
        public bool IsSatisfiable()
        {
            if (IsSatisfiedBy(SemVersion.Create(0, 0, 0)))
            {
                return true;
            }

            foreach (var comparator in Comparators)
            {
                var v = comparator.Version;
                foreach (var candidate in Candidates(v))
                {
                    if (IsSatisfiedBy(candidate))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private static IEnumerable<SemVersion> Candidates(SemVersion v)
        {
            yield return v;
            yield return SemVersion.Create(v.Major, v.Minor, v.Patch);
            yield return SemVersion.Create(v.Major, v.Minor, v.Patch, ["0"]);
            if (v.Patch < int.MaxValue)
            {
                yield return SemVersion.Create(v.Major, v.Minor, v.Patch + 1);
            }

            if (v.IsPrerelease)
            {
                yield return SemVersion.Create(v.Major, v.Minor, v.Patch, [.. v.Prerelease, "0"]);
            }
        }

        public override string ToString() => Comparators.Length == 0 ? "*" : string.Join(' ', Comparators);
    }

    /// <summary>A version with optional parts: null is a wildcard (x, X, * or missing).</summary>
    private readonly record struct Partial(int? Major, int? Minor, int? Patch, string[] Prerelease, int Position);

    private sealed class RangeParser
    {
        private readonly string _text;

        public RangeParser(string text)
        {
            _text = text;
        }

        public ComparatorSet[] Parse()
        {
            if (string.IsNullOrWhiteSpace(_text))
            {
                return [new ComparatorSet(NoComparators, null)];
            }

            var sets = new List<ComparatorSet>();
            var start = 0;
            var i = 0;
            while (true)
            {
                if (i == _text.Length || _text[i] == '|')
                {
                    var end = i;
                    if (i < _text.Length && (i + 1 >= _text.Length || _text[i + 1] != '|'))
                    {
                        throw Error(i, "a single '|' is not an operator; alternatives are separated by '||'");
                    }

                    if (IsBlank(start, end))
                    {
                        throw Error(end == _text.Length ? start - 2 : end, "an alternative is empty: there is nothing on one side of '||'");
                    }

                    sets.Add(new ComparatorSet([.. ParseAlternative(start, end)], null));
                    if (i == _text.Length)
                    {
                        break;
                    }

                    i += 2;
                    start = i;
                    continue;
                }

                i++;
            }

            return [.. sets];
        }

        private bool IsBlank(int start, int end)
        {
            for (var i = start; i < end; i++)
            {
                if (!char.IsWhiteSpace(_text[i]))
                {
                    return false;
                }
            }

            return true;
        }

        private List<VersionComparator> ParseAlternative(int start, int end)
        {
            var tokens = new List<(string Op, int OpPosition, int VersionStart, int VersionLength)>();
            var i = start;
            while (true)
            {
                while (i < end && char.IsWhiteSpace(_text[i]))
                {
                    i++;
                }

                if (i >= end)
                {
                    break;
                }

                var opPosition = i;
                var op = string.Empty;
                if (i + 1 < end && _text[i + 1] == '=' && _text[i] is '>' or '<')
                {
                    op = _text.Substring(i, 2);
                    i += 2;
                }
                else if (_text[i] is '>' or '<' or '=' or '~' or '^')
                {
                    op = _text.Substring(i, 1);
                    i++;
                }

                if (op.Length > 0)
                {
                    while (i < end && char.IsWhiteSpace(_text[i]))
                    {
                        i++;
                    }

                    if (i >= end)
                    {
                        throw Error(opPosition, $"'{op}' must be followed by a version");
                    }
                }

                var versionStart = i;
                while (i < end && !char.IsWhiteSpace(_text[i]) && _text[i] is not ('<' or '>' or '=' or '~' or '^'))
                {
                    i++;
                }

                if (i == versionStart)
                {
                    throw Error(i, op.Length > 0
                        ? $"'{op}' must be followed by a version, not '{_text[i]}'"
                        : $"unexpected '{_text[i]}'");
                }

                tokens.Add((op, opPosition, versionStart, i - versionStart));
            }

            var hyphen = tokens.FindIndex(t => t.Op.Length == 0 && t.VersionLength == 1 && _text[t.VersionStart] == '-');
            if (hyphen >= 0)
            {
                if (tokens.Count != 3 || hyphen != 1 || tokens[0].Op.Length != 0 || tokens[2].Op.Length != 0)
                {
                    throw Error(tokens[hyphen].VersionStart, "a hyphen range is written 'FROM - TO', alone between '||', without operators");
                }

                var from = ParsePartial(tokens[0].VersionStart, tokens[0].VersionLength);
                var to = ParsePartial(tokens[2].VersionStart, tokens[2].VersionLength);
                return Hyphen(from, to);
            }

            var comparators = new List<VersionComparator>();
            foreach (var token in tokens)
            {
                if (token.Op.Length == 0 && string.CompareOrdinal(_text, token.VersionStart, "latest", 0, 6) == 0 && token.VersionLength == 6)
                {
                    // semver4j's NPM mode reads a bare "latest" as "*".
                    continue;
                }

                var partial = ParsePartial(token.VersionStart, token.VersionLength);
                comparators.AddRange(token.Op switch
                {
                    "~" => Tilde(partial),
                    "^" => Caret(partial),
                    _ => XRange(token.Op, partial),
                });
            }

            return comparators;
        }

        private Partial ParsePartial(int start, int length)
        {
            var end = start + length;
            var i = start;
            if (_text[i] is 'v' or 'V')
            {
                i++;
            }

            var mainStart = i;
            var mainEnd = i;
            while (mainEnd < end && _text[mainEnd] is not ('-' or '+'))
            {
                mainEnd++;
            }

            if (mainEnd == mainStart)
            {
                throw Error(mainStart, mainStart < end ? $"expected a version, found '{_text[mainStart]}'" : "expected a version");
            }

            var parts = new int?[3];
            var count = 0;
            var wildcardSeen = false;
            var partStart = mainStart;
            for (var j = mainStart; j <= mainEnd; j++)
            {
                if (j < mainEnd && _text[j] != '.')
                {
                    continue;
                }

                if (count == 3)
                {
                    throw Error(partStart - 1, "a version has at most three numbers (MAJOR.MINOR.PATCH)");
                }

                var partLength = j - partStart;
                if (partLength == 1 && _text[partStart] is 'x' or 'X' or '*')
                {
                    parts[count] = null;
                    wildcardSeen = true;
                }
                else
                {
                    if (partLength == 0)
                    {
                        throw Error(partStart, "a number is missing (empty part between dots)");
                    }

                    var error = SemVersion.ParseNumber(_text, partStart, partLength, out var value);
                    if (error is not null)
                    {
                        throw Error(partStart, error + " (each part is a number or a wildcard x, X, *)");
                    }

                    if (wildcardSeen)
                    {
                        throw Error(partStart, "a number cannot follow a wildcard (write 1.x, not 1.x.3)");
                    }

                    parts[count] = value;
                }

                count++;
                partStart = j + 1;
            }

            var prerelease = Array.Empty<string>();
            var plus = _text.IndexOf('+', mainEnd, end - mainEnd);
            var preEnd = plus < 0 ? end : plus;
            if (mainEnd < end && _text[mainEnd] == '-')
            {
                if (count < 3 || wildcardSeen)
                {
                    throw Error(mainEnd, "a prerelease tag needs a full MAJOR.MINOR.PATCH version");
                }

                var error = SemVersion.ParseIdentifiers(_text, mainEnd + 1, preEnd, prerelease: true, out prerelease, out var position);
                if (error is not null)
                {
                    throw Error(position, error);
                }
            }

            if (plus >= 0)
            {
                // Build metadata is allowed and ignored, as in npm.
                var error = SemVersion.ParseIdentifiers(_text, plus + 1, end, prerelease: false, out _, out var position);
                if (error is not null)
                {
                    throw Error(position, error);
                }
            }

            for (var k = count; k < 3; k++)
            {
                parts[k] = null;
            }

            return new Partial(parts[0], parts[1], parts[2], prerelease, start);
        }

        private static VersionComparator Cmp(ComparatorOperator op, int major, int minor, int patch, string[]? prerelease = null) =>
            new(op, SemVersion.Create(major, minor, patch, prerelease));

        private static readonly string[] Zero = ["0"];

        private int Inc(int value, Partial at)
        {
            if (value == int.MaxValue)
            {
                throw Error(at.Position, "the version is too large for this range");
            }

            return value + 1;
        }

        // node-semver replaceXRange: also handles full versions with any comparator.
        private IEnumerable<VersionComparator> XRange(string op, Partial p)
        {
            var xM = p.Major is null;
            var xm = xM || p.Minor is null;
            var xp = xm || p.Patch is null;
            if (op == "=" && xp)
            {
                op = string.Empty;
            }

            if (xM)
            {
                // ">*" and "<*" match nothing; every other form of "*" matches everything.
                return op is ">" or "<" ? [Cmp(ComparatorOperator.Less, 0, 0, 0, Zero)] : [];
            }

            var major = p.Major!.Value;
            if (op.Length > 0 && xp)
            {
                var minor = xm ? 0 : p.Minor!.Value;
                var result = op;
                if (op == ">")
                {
                    result = ">=";
                    if (xm)
                    {
                        major = Inc(major, p);
                        minor = 0;
                    }
                    else
                    {
                        minor = Inc(minor, p);
                    }
                }
                else if (op == "<=")
                {
                    result = "<";
                    if (xm)
                    {
                        major = Inc(major, p);
                    }
                    else
                    {
                        minor = Inc(minor, p);
                    }
                }

                return result == "<"
                    ? [Cmp(ComparatorOperator.Less, major, minor, 0, Zero)]
                    : [Cmp(ToOperator(result), major, minor, 0)];
            }

            if (xm)
            {
                return [Cmp(ComparatorOperator.GreaterOrEqual, major, 0, 0), Cmp(ComparatorOperator.Less, Inc(major, p), 0, 0, Zero)];
            }

            if (xp)
            {
                return [Cmp(ComparatorOperator.GreaterOrEqual, major, p.Minor!.Value, 0), Cmp(ComparatorOperator.Less, major, Inc(p.Minor!.Value, p), 0, Zero)];
            }

            return [Cmp(op.Length == 0 ? ComparatorOperator.Equal : ToOperator(op), major, p.Minor!.Value, p.Patch!.Value, p.Prerelease)];
        }

        private IEnumerable<VersionComparator> Tilde(Partial p)
        {
            if (p.Major is null)
            {
                return [];
            }

            var major = p.Major.Value;
            if (p.Minor is null)
            {
                return [Cmp(ComparatorOperator.GreaterOrEqual, major, 0, 0), Cmp(ComparatorOperator.Less, Inc(major, p), 0, 0, Zero)];
            }

            var minor = p.Minor.Value;
            var lower = p.Patch is null
                ? Cmp(ComparatorOperator.GreaterOrEqual, major, minor, 0)
                : Cmp(ComparatorOperator.GreaterOrEqual, major, minor, p.Patch.Value, p.Prerelease);
            return [lower, Cmp(ComparatorOperator.Less, major, Inc(minor, p), 0, Zero)];
        }

        private IEnumerable<VersionComparator> Caret(Partial p)
        {
            if (p.Major is null)
            {
                return [];
            }

            var major = p.Major.Value;
            if (p.Minor is null)
            {
                return [Cmp(ComparatorOperator.GreaterOrEqual, major, 0, 0), Cmp(ComparatorOperator.Less, Inc(major, p), 0, 0, Zero)];
            }

            var minor = p.Minor.Value;
            if (p.Patch is null)
            {
                return major == 0
                    ? [Cmp(ComparatorOperator.GreaterOrEqual, 0, minor, 0), Cmp(ComparatorOperator.Less, 0, Inc(minor, p), 0, Zero)]
                    : [Cmp(ComparatorOperator.GreaterOrEqual, major, minor, 0), Cmp(ComparatorOperator.Less, Inc(major, p), 0, 0, Zero)];
            }

            var patch = p.Patch.Value;
            var lower = Cmp(ComparatorOperator.GreaterOrEqual, major, minor, patch, p.Prerelease);
            if (major == 0)
            {
                return minor == 0
                    ? [lower, Cmp(ComparatorOperator.Less, 0, 0, Inc(patch, p), Zero)]
                    : [lower, Cmp(ComparatorOperator.Less, 0, Inc(minor, p), 0, Zero)];
            }

            return [lower, Cmp(ComparatorOperator.Less, Inc(major, p), 0, 0, Zero)];
        }

        private List<VersionComparator> Hyphen(Partial from, Partial to)
        {
            var result = new List<VersionComparator>();
            if (from.Major is not null)
            {
                if (from.Minor is null)
                {
                    result.Add(Cmp(ComparatorOperator.GreaterOrEqual, from.Major.Value, 0, 0));
                }
                else if (from.Patch is null)
                {
                    result.Add(Cmp(ComparatorOperator.GreaterOrEqual, from.Major.Value, from.Minor.Value, 0));
                }
                else
                {
                    result.Add(Cmp(ComparatorOperator.GreaterOrEqual, from.Major.Value, from.Minor.Value, from.Patch.Value, from.Prerelease));
                }
            }

            if (to.Major is not null)
            {
                if (to.Minor is null)
                {
                    result.Add(Cmp(ComparatorOperator.Less, Inc(to.Major.Value, to), 0, 0, Zero));
                }
                else if (to.Patch is null)
                {
                    result.Add(Cmp(ComparatorOperator.Less, to.Major.Value, Inc(to.Minor.Value, to), 0, Zero));
                }
                else
                {
                    result.Add(Cmp(ComparatorOperator.LessOrEqual, to.Major.Value, to.Minor.Value, to.Patch.Value, to.Prerelease));
                }
            }

            return result;
        }

        private static ComparatorOperator ToOperator(string op) => op switch
        {
            "<" => ComparatorOperator.Less,
            "<=" => ComparatorOperator.LessOrEqual,
            ">" => ComparatorOperator.Greater,
            ">=" => ComparatorOperator.GreaterOrEqual,
            _ => ComparatorOperator.Equal,
        };

        private VersionFormatException Error(int position, string reason) =>
            new(_text, Math.Clamp(position, 0, _text.Length), reason);
    }
}
