namespace Fogline.Greengrass.Recipes.Tests;

public class SemVersionTests
{
    [TestCase("0.0.0", 0, 0, 0, "", "")]
    [TestCase("1.2.3", 1, 2, 3, "", "")]
    [TestCase("10.20.30", 10, 20, 30, "", "")]
    [TestCase("1.0.0-alpha", 1, 0, 0, "alpha", "")]
    [TestCase("1.0.0-alpha.1", 1, 0, 0, "alpha.1", "")]
    [TestCase("1.0.0-0.3.7", 1, 0, 0, "0.3.7", "")]
    [TestCase("1.0.0-x.7.z.92", 1, 0, 0, "x.7.z.92", "")]
    [TestCase("1.0.0-x-y-z.--", 1, 0, 0, "x-y-z.--", "")]
    [TestCase("1.0.0+20130313144700", 1, 0, 0, "", "20130313144700")]
    [TestCase("1.0.0-beta+exp.sha.5114f85", 1, 0, 0, "beta", "exp.sha.5114f85")]
    [TestCase("1.0.0+21AF26D3----117B344092BD", 1, 0, 0, "", "21AF26D3----117B344092BD")]
    [TestCase("1.0.0+001", 1, 0, 0, "", "001")]
    [TestCase("2147483647.0.0", int.MaxValue, 0, 0, "", "")]
    public void ParsesValidVersions(string text, int major, int minor, int patch, string prerelease, string build)
    {
        var v = SemVersion.Parse(text);
        Assert.Multiple(() =>
        {
            Assert.That(v.Major, Is.EqualTo(major));
            Assert.That(v.Minor, Is.EqualTo(minor));
            Assert.That(v.Patch, Is.EqualTo(patch));
            Assert.That(string.Join('.', v.Prerelease), Is.EqualTo(prerelease));
            Assert.That(string.Join('.', v.Build), Is.EqualTo(build));
            Assert.That(v.IsPrerelease, Is.EqualTo(prerelease.Length > 0));
            Assert.That(v.ToString(), Is.EqualTo(text));
        });
    }

    [TestCase("", 0, "the version is empty")]
    [TestCase("1", 1, "the minor number is missing")]
    [TestCase("1.2", 3, "the patch number is missing")]
    [TestCase("1.2.3.4", 5, "this has more")]
    [TestCase("01.2.3", 0, "'01' has a leading zero")]
    [TestCase("1.02.3", 2, "'02' has a leading zero")]
    [TestCase("v1.2.3", 0, "'v1' is not a number")]
    [TestCase(" 1.2.3", 0, "' 1' is not a number")]
    [TestCase("1.2.x", 4, "'x' is not a number")]
    [TestCase("1.2.3-", 6, "prerelease identifier '' is empty")]
    [TestCase("1.2.3-01", 6, "prerelease identifier '01' is a number with a leading zero")]
    [TestCase("1.2.3-a..b", 8, "prerelease identifier '' is empty")]
    [TestCase("1.2.3-a_b", 6, "contains '_'")]
    [TestCase("1.2.3+", 6, "build identifier '' is empty")]
    [TestCase("1.2.3+a+b", 6, "contains '+'")]
    [TestCase("2147483648.0.0", 0, "is too large")]
    [TestCase("1..3", 2, "the minor number is missing")]
    public void RejectsInvalidVersionsSayingWhereAndWhy(string text, int position, string reason)
    {
        var e = Assert.Throws<VersionFormatException>(() => SemVersion.Parse(text));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Position, Is.EqualTo(position));
            Assert.That(e.Reason, Does.Contain(reason));
            Assert.That(SemVersion.TryParse(text, out _), Is.False);
        });
    }

    /// <summary>The precedence example of semver.org, item 11, plus numbers and builds.</summary>
    [Test]
    public void OrdersBySemverPrecedence()
    {
        string[] ascending =
        [
            "0.9.99", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
            "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.9.0", "1.10.0", "2.0.0",
        ];
        var versions = ascending.Select(SemVersion.Parse).ToArray();
        for (var i = 0; i < versions.Length; i++)
        {
            for (var j = 0; j < versions.Length; j++)
            {
                Assert.That(Math.Sign(versions[i].CompareTo(versions[j])), Is.EqualTo(Math.Sign(i.CompareTo(j))), $"{versions[i]} vs {versions[j]}");
            }
        }

        var shuffled = versions.Reverse().ToList();
        shuffled.Sort();
        Assert.That(shuffled.Select(v => v.ToString()), Is.EqualTo(ascending));
    }

    [Test]
    public void BuildMetadataDoesNotTakePartInPrecedenceButInEquality()
    {
        var a = SemVersion.Parse("1.0.0+a");
        var b = SemVersion.Parse("1.0.0+b");
        Assert.Multiple(() =>
        {
            Assert.That(a.CompareTo(b), Is.Zero);
            Assert.That(a.PrecedenceEquals(b), Is.True);
            Assert.That(a == b, Is.False);
            Assert.That(a.WithoutBuild(), Is.EqualTo(b.WithoutBuild()));
            Assert.That(a <= b && a >= b, Is.True);
            Assert.That(a < b || a > b, Is.False);
            Assert.That(SemVersion.Parse("1.0.0-Alpha") < SemVersion.Parse("1.0.0-alpha"), Is.True, "ASCII order: uppercase first");
        });
    }

    [Test]
    public void ConstructorValidatesIdentifiers()
    {
        Assert.Multiple(() =>
        {
            Assert.That(new SemVersion(1, 2, 3, ["rc", "1"], ["sha"]).ToString(), Is.EqualTo("1.2.3-rc.1+sha"));
            Assert.Throws<ArgumentException>(() => _ = new SemVersion(1, 2, 3, ["01"]));
            Assert.Throws<ArgumentException>(() => _ = new SemVersion(1, 2, 3, null, ["a b"]));
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SemVersion(-1, 0, 0));
        });
    }
}
