namespace Fogline.Greengrass.Recipes.Tests;

/// <summary>
/// npm-style ranges. The rows come from the npm semver documentation (node-semver's README: comparators, prerelease
/// tags, hyphen ranges, X-ranges, tilde and caret ranges), plus the forms Greengrass recipes and documentation use.
/// </summary>
public class VersionRangeTests
{
    // How each form desugars (node-semver's README lists exactly these).
    [TestCase("1.2.7", "=1.2.7")]
    [TestCase("=1.2.7", "=1.2.7")]
    [TestCase("v1.2.7", "=1.2.7")]
    [TestCase(">=1.2.7", ">=1.2.7")]
    [TestCase(">=1.2.7 <1.3.0", ">=1.2.7 <1.3.0")]
    [TestCase(">= 1.2.7  < 1.3.0", ">=1.2.7 <1.3.0")]
    [TestCase("1.2.7 || >=1.2.9 <2.0.0", "=1.2.7 || >=1.2.9 <2.0.0")]
    [TestCase("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4")]
    [TestCase("1.2 - 2.3.4", ">=1.2.0 <=2.3.4")]
    [TestCase("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0")]
    [TestCase("1.2.3 - 2", ">=1.2.3 <3.0.0-0")]
    [TestCase("*", "*")]
    [TestCase("", "*")]
    [TestCase("x", "*")]
    [TestCase("1.x", ">=1.0.0 <2.0.0-0")]
    [TestCase("1.2.x", ">=1.2.0 <1.3.0-0")]
    [TestCase("1.2.*", ">=1.2.0 <1.3.0-0")]
    [TestCase("1.X.x", ">=1.0.0 <2.0.0-0")]
    [TestCase("1", ">=1.0.0 <2.0.0-0")]
    [TestCase("1.2", ">=1.2.0 <1.3.0-0")]
    [TestCase("~1.2.3", ">=1.2.3 <1.3.0-0")]
    [TestCase("~1.2", ">=1.2.0 <1.3.0-0")]
    [TestCase("~1", ">=1.0.0 <2.0.0-0")]
    [TestCase("~0.2.3", ">=0.2.3 <0.3.0-0")]
    [TestCase("~0.2", ">=0.2.0 <0.3.0-0")]
    [TestCase("~0", ">=0.0.0 <1.0.0-0")]
    [TestCase("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0")]
    [TestCase("^1.2.3", ">=1.2.3 <2.0.0-0")]
    [TestCase("^0.2.3", ">=0.2.3 <0.3.0-0")]
    [TestCase("^0.0.3", ">=0.0.3 <0.0.4-0")]
    [TestCase("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0")]
    [TestCase("^0.0.3-beta", ">=0.0.3-beta <0.0.4-0")]
    [TestCase("^1.2.x", ">=1.2.0 <2.0.0-0")]
    [TestCase("^0.0.x", ">=0.0.0 <0.1.0-0")]
    [TestCase("^0.0", ">=0.0.0 <0.1.0-0")]
    [TestCase("^1.x", ">=1.0.0 <2.0.0-0")]
    [TestCase("^0.x", ">=0.0.0 <1.0.0-0")]
    [TestCase(">1", ">=2.0.0")]
    [TestCase(">1.2", ">=1.3.0")]
    [TestCase(">=1.2", ">=1.2.0")]
    [TestCase("<1.2", "<1.2.0-0")]
    [TestCase("<=1.2", "<1.3.0-0")]
    [TestCase("<=1", "<2.0.0-0")]
    [TestCase(">=1.x", ">=1.0.0")]
    [TestCase("=1.2", ">=1.2.0 <1.3.0-0")]
    [TestCase(">*", "<0.0.0-0")]
    [TestCase("1.2.3+build.5", "=1.2.3")]
    [TestCase("2.0.*", ">=2.0.0 <2.1.0-0")]
    [TestCase("latest", "*")]
    public void DesugarsAsNpmDocuments(string range, string normalized)
    {
        var parsed = VersionRange.Parse(range);
        Assert.Multiple(() =>
        {
            Assert.That(parsed.Normalized, Is.EqualTo(normalized));
            Assert.That(parsed.Text, Is.EqualTo(range));
            Assert.That(parsed.ToString(), Is.EqualTo(range));
        });
    }

    // range, version, satisfied
    [TestCase(">=1.2.7", "1.2.7", true)]
    [TestCase(">=1.2.7", "1.2.8", true)]
    [TestCase(">=1.2.7", "2.5.3", true)]
    [TestCase(">=1.2.7", "1.3.9", true)]
    [TestCase(">=1.2.7", "1.2.6", false)]
    [TestCase(">=1.2.7", "1.1.0", false)]
    [TestCase(">=1.2.7 <1.3.0", "1.2.7", true)]
    [TestCase(">=1.2.7 <1.3.0", "1.2.8", true)]
    [TestCase(">=1.2.7 <1.3.0", "1.2.99", true)]
    [TestCase(">=1.2.7 <1.3.0", "1.2.6", false)]
    [TestCase(">=1.2.7 <1.3.0", "1.3.0", false)]
    [TestCase(">=1.2.7 <1.3.0", "1.1.0", false)]
    [TestCase("1.2.7 || >=1.2.9 <2.0.0", "1.2.7", true)]
    [TestCase("1.2.7 || >=1.2.9 <2.0.0", "1.2.9", true)]
    [TestCase("1.2.7 || >=1.2.9 <2.0.0", "1.4.6", true)]
    [TestCase("1.2.7 || >=1.2.9 <2.0.0", "1.2.8", false)]
    [TestCase("1.2.7 || >=1.2.9 <2.0.0", "2.0.0", false)]
    [TestCase(">1.2.3-alpha.3", "1.2.3-alpha.7", true)]
    [TestCase(">1.2.3-alpha.3", "3.4.5-alpha.9", false)]
    [TestCase(">1.2.3-alpha.3", "3.4.5", true)]
    [TestCase(">1.2.3-alpha.3", "1.2.3-alpha.3", false)]
    [TestCase("1.2.3 - 2.3.4", "1.2.3", true)]
    [TestCase("1.2.3 - 2.3.4", "2.3.4", true)]
    [TestCase("1.2.3 - 2.3.4", "2.3.5", false)]
    [TestCase("1.2.3 - 2.3", "2.3.9", true)]
    [TestCase("1.2.3 - 2.3", "2.4.0", false)]
    [TestCase("1.2.3 - 2", "2.99.99", true)]
    [TestCase("1.2.3 - 2", "3.0.0", false)]
    [TestCase("*", "0.0.0", true)]
    [TestCase("*", "99.0.0", true)]
    [TestCase("*", "1.0.0-beta", false)]
    [TestCase("1.x", "1.99.0", true)]
    [TestCase("1.x", "2.0.0", false)]
    [TestCase("1.x", "2.0.0-alpha", false)]
    [TestCase("1.2.x", "1.2.99", true)]
    [TestCase("1.2.x", "1.3.0", false)]
    [TestCase("~1.2.3", "1.2.9", true)]
    [TestCase("~1.2.3", "1.3.0", false)]
    [TestCase("~1.2.3-beta.2", "1.2.3-beta.4", true)]
    [TestCase("~1.2.3-beta.2", "1.2.4-beta.2", false)]
    [TestCase("~1.2.3-beta.2", "1.2.5", true)]
    [TestCase("^1.2.3", "1.9.9", true)]
    [TestCase("^1.2.3", "2.0.0", false)]
    [TestCase("^1.2.3", "1.2.2", false)]
    [TestCase("^0.2.3", "0.2.9", true)]
    [TestCase("^0.2.3", "0.3.0", false)]
    [TestCase("^0.0.3", "0.0.3", true)]
    [TestCase("^0.0.3", "0.0.4", false)]
    [TestCase("^1.2.3-beta.2", "1.2.3-beta.4", true)]
    [TestCase("^1.2.3-beta.2", "1.2.4-beta.2", false)]
    [TestCase("^1.2.3-beta.2", "1.2.3-beta.1", false)]
    [TestCase("^0.0.3-beta", "0.0.3-pr.2", true)]
    [TestCase("^0.0.x", "0.0.9", true)]
    [TestCase("^0.0.x", "0.1.0", false)]
    [TestCase("^0.x", "0.9.0", true)]
    [TestCase("^0.x", "1.0.0", false)]
    [TestCase(">1.2", "1.2.9", false)]
    [TestCase(">1.2", "1.3.0", true)]
    [TestCase("<=1.2", "1.2.9", true)]
    [TestCase("<=1.2", "1.3.0", false)]
    [TestCase("<1.2", "1.1.9", true)]
    [TestCase("<1.2", "1.2.0", false)]
    [TestCase("=1.2", "1.2.5", true)]
    [TestCase(">*", "0.0.0", false)]
    [TestCase("1.2.3", "1.2.3", true)]
    [TestCase("1.2.3", "1.2.3+build", true)]
    [TestCase("1.2.3+build.1", "1.2.3+build.2", true)]
    [TestCase("1.2.3", "1.2.4", false)]
    [TestCase("=1.2.3-rc.1", "1.2.3-rc.1", true)]
    [TestCase("2.0.*", "2.0.7", true)]
    [TestCase("2.0.*", "2.1.0", false)]
    [TestCase(">=2.5.0 <3.0.0", "2.14.3", true)]
    [TestCase(">=2.5.0 <3.0.0", "3.0.0-rc.1", false)]
    [TestCase("^2.0.0 || ^3.0.0", "3.4.0", true)]
    [TestCase("^2.0.0 || ^3.0.0", "4.0.0", false)]
    public void IsSatisfiedAsNpmSays(string range, string version, bool satisfied)
    {
        Assert.That(VersionRange.Parse(range).IsSatisfiedBy(SemVersion.Parse(version)), Is.EqualTo(satisfied));
    }

    [TestCase("1.2.3 | 2.0.0", 6, "a single '|'")]
    [TestCase(">=", 0, "'>=' must be followed by a version")]
    [TestCase("^", 0, "'^' must be followed by a version")]
    [TestCase("~>1.2", 1, "'~' must be followed by a version, not '>'")]
    [TestCase("1.2.3.4", 5, "at most three numbers")]
    [TestCase("01.2.3", 0, "'01' has a leading zero")]
    [TestCase("1.x.3", 4, "a number cannot follow a wildcard")]
    [TestCase("1.2-beta", 3, "a prerelease tag needs a full MAJOR.MINOR.PATCH version")]
    [TestCase("1.2.3 ||", 6, "an alternative is empty")]
    [TestCase("|| 1.2.3", 0, "an alternative is empty")]
    [TestCase("1.0.0 ||  || 2.0.0", 10, "an alternative is empty")]
    [TestCase("1.2.3 -", 6, "a hyphen range is written 'FROM - TO'")]
    [TestCase(">=1.0.0 - 2.0.0", 8, "a hyphen range is written 'FROM - TO'")]
    [TestCase("abc", 0, "'abc' is not a number")]
    [TestCase("1.2.3-", 6, "prerelease identifier '' is empty")]
    [TestCase("1.2.3-01", 6, "'01' is a number with a leading zero")]
    [TestCase(">=1.0.0 <2..0", 11, "a number is missing")]
    [TestCase("newest", 0, "'newest' is not a number")]
    public void RejectsBadRangesSayingWhereAndWhy(string range, int position, string reason)
    {
        var e = Assert.Throws<VersionFormatException>(() => VersionRange.Parse(range));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Position, Is.EqualTo(position), e.Message);
            Assert.That(e.Reason, Does.Contain(reason));
            Assert.That(VersionRange.TryParse(range, out _), Is.False);
        });
    }

    // What a dependency resolver asks: can both requirements be met by one version?
    [TestCase("^1.2.0", ">=1.5.0", true)]
    [TestCase("^1.0.0", "^2.0.0", false)]
    [TestCase("~1.2.0", "1.2.5", true)]
    [TestCase("~1.2.0", "1.3.0", false)]
    [TestCase(">1.0.0", "<1.0.1", false)]
    [TestCase(">=1.0.0", "<=1.0.0", true)]
    [TestCase(">1.0.0", "<=1.0.0", false)]
    [TestCase("1.x || >=3.0.0", "2.x", false)]
    [TestCase("1.x || >=3.0.0", "^3.1.0", true)]
    [TestCase(">=1.0.0-beta <1.0.0", "*", false)]
    [TestCase(">=1.0.0-beta <1.0.0", ">=1.0.0-alpha", true)]
    [TestCase(">1.2.3-alpha.3", "<1.2.3", false)]
    [TestCase(">1.2.3-alpha.3", "<1.2.3-alpha.4", true)]
    [TestCase(">1.2.3-alpha.3", "<=1.2.3-alpha.3", false)]
    [TestCase("*", "*", true)]
    [TestCase(">*", "*", false)]
    public void IntersectsWhenSomeVersionSatisfiesBoth(string a, string b, bool expected)
    {
        var left = VersionRange.Parse(a);
        var right = VersionRange.Parse(b);
        Assert.Multiple(() =>
        {
            Assert.That(left.Intersects(right), Is.EqualTo(expected));
            Assert.That(right.Intersects(left), Is.EqualTo(expected));
            Assert.That(left.Intersect(right).IsEmpty, Is.EqualTo(!expected));
        });
    }

    [Test]
    public void IntersectionSatisfiesExactlyWhatBothSidesDo()
    {
        var a = VersionRange.Parse("^1.2.3-beta.1");
        var b = VersionRange.Parse(">=1.0.0");
        var both = a.Intersect(b);
        var candidates = new[] { "1.0.0", "1.2.2", "1.2.3-beta.0", "1.2.3-beta.2", "1.2.3", "1.9.0", "2.0.0-0", "2.0.0" }.Select(SemVersion.Parse);
        foreach (var v in candidates)
        {
            Assert.That(both.IsSatisfiedBy(v), Is.EqualTo(a.IsSatisfiedBy(v) && b.IsSatisfiedBy(v)), v.ToString());
        }

        Assert.That(VersionRange.IntersectAll([a, b, VersionRange.Parse("<1.5.0")]).MaxSatisfying(candidates), Is.EqualTo(SemVersion.Parse("1.2.3")));
        Assert.That(VersionRange.IntersectAll([]).Normalized, Is.EqualTo("*"));
    }

    [Test]
    public void EmptinessIsDecidedExactly()
    {
        Assert.Multiple(() =>
        {
            Assert.That(VersionRange.Parse(">2.0.0 <1.0.0").IsEmpty, Is.True);
            Assert.That(VersionRange.Parse(">1.0.0 <1.0.1").IsEmpty, Is.True);
            Assert.That(VersionRange.Parse(">1.0.0 <1.0.1-0").IsEmpty, Is.True);
            Assert.That(VersionRange.Parse(">=1.0.1-0 <1.0.1").IsEmpty, Is.False);
            Assert.That(VersionRange.Parse("1.2.3").IsEmpty, Is.False);
            Assert.That(VersionRange.Parse("<0.0.0").IsEmpty, Is.True);
            Assert.That(VersionRange.Parse("<=0.0.0").IsEmpty, Is.False);
        });
    }

    [Test]
    public void PicksTheHighestAndLowestSatisfyingVersion()
    {
        var versions = new[] { "1.0.0", "1.2.0", "1.2.5", "1.3.0-beta", "2.0.0", "2.1.0-rc.1" }.Select(SemVersion.Parse).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(VersionRange.Parse("~1.2.0").MaxSatisfying(versions), Is.EqualTo(SemVersion.Parse("1.2.5")));
            Assert.That(VersionRange.Parse("^1.2.0").MaxSatisfying(versions), Is.EqualTo(SemVersion.Parse("1.2.5")));
            Assert.That(VersionRange.Parse("~1.2.0 || ^2.0.0").MaxSatisfying(versions), Is.EqualTo(SemVersion.Parse("2.0.0")));
            Assert.That(VersionRange.Parse("^1.0.0").MinSatisfying(versions), Is.EqualTo(SemVersion.Parse("1.0.0")));
            Assert.That(VersionRange.Parse(">=3.0.0").MaxSatisfying(versions), Is.Null);
            Assert.That(VersionRange.Exactly(SemVersion.Parse("1.2.5+b")).MaxSatisfying(versions), Is.EqualTo(SemVersion.Parse("1.2.5")));
        });
    }
}
