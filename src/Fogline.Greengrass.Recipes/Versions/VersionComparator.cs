namespace Fogline.Greengrass.Recipes;

/// <summary>The operator of a <see cref="VersionComparator"/>.</summary>
public enum ComparatorOperator
{
    /// <summary><c>=</c>: same precedence.</summary>
    Equal,

    /// <summary><c>&lt;</c></summary>
    Less,

    /// <summary><c>&lt;=</c></summary>
    LessOrEqual,

    /// <summary><c>&gt;</c></summary>
    Greater,

    /// <summary><c>&gt;=</c></summary>
    GreaterOrEqual,
}

/// <summary>One primitive comparison of a version range, e.g. <c>&gt;=1.2.3</c>.</summary>
/// <param name="Operator">The comparison.</param>
/// <param name="Version">The version compared against (without build metadata).</param>
public readonly record struct VersionComparator(ComparatorOperator Operator, SemVersion Version)
{
    /// <summary>Whether <paramref name="version"/> passes this comparison (by precedence; prerelease rules are the range's).</summary>
    public bool IsSatisfiedBy(SemVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        var c = version.CompareTo(Version);
        return Operator switch
        {
            ComparatorOperator.Equal => c == 0,
            ComparatorOperator.Less => c < 0,
            ComparatorOperator.LessOrEqual => c <= 0,
            ComparatorOperator.Greater => c > 0,
            ComparatorOperator.GreaterOrEqual => c >= 0,
            _ => false,
        };
    }

    /// <summary>The comparator as npm writes it, e.g. <c>&lt;2.0.0-0</c>.</summary>
    public override string ToString() => Operator switch
    {
        ComparatorOperator.Equal => "=",
        ComparatorOperator.Less => "<",
        ComparatorOperator.LessOrEqual => "<=",
        ComparatorOperator.Greater => ">",
        _ => ">=",
    } + Version;
}
