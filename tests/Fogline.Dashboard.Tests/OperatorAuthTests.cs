using Fogline.Dashboard.Web;

namespace Fogline.Dashboard.Tests;

/// <summary>The login: credential check, session tokens, lockout, the key file.</summary>
public class OperatorAuthTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "fogline-auth-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Test]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Tokens_WorkUntilTheyExpire_SurviveARestart_AndStopWhenTheCredentialChanges()
    {
        var auth = new OperatorAuth(_dir);
        auth.SetCredential("op", "secret-password");
        var token = auth.Issue(Now.AddHours(1));
        Assert.That(auth.Validate(token, Now), Is.EqualTo("op"));
        Assert.That(auth.Validate(token, Now.AddHours(1)), Is.Null, "expired");

        // A restarted component reads the same key: the session still works.
        var restarted = new OperatorAuth(_dir);
        restarted.SetCredential("op", "secret-password");
        Assert.That(restarted.Validate(token, Now), Is.EqualTo("op"));
        Assert.That(File.GetUnixFileMode(Path.Combine(_dir, "session.key")), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));

        restarted.SetCredential("op", "a-new-password");
        Assert.That(restarted.Validate(token, Now), Is.Null, "a new password ends the old sessions");
    }

    [TestCase("")]
    [TestCase("garbage")]
    [TestCase("b3A.99999999999.AAAA")]
    [TestCase("b3A.99999999999.!!!")]
    public void ForgedTokens_AreRefused(string token)
    {
        var auth = new OperatorAuth(_dir);
        auth.SetCredential("op", "secret-password");
        Assert.That(auth.Validate(token, Now), Is.Null);

        // A real token with its expiry moved on is refused too.
        var parts = auth.Issue(Now.AddMinutes(1)).Split('.');
        Assert.That(auth.Validate($"{parts[0]}.{long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 86_400}.{parts[2]}", Now), Is.Null);
    }

    [Test]
    public void Logins_CheckUserAndPassword_AndLockAnAddressOutAfterFiveFailures()
    {
        var auth = new OperatorAuth(_dir);
        auth.SetCredential("op", "secret-password");
        Assert.That(auth.TryLogin("10.0.0.1", "op", "secret-password", Now), Is.True);
        Assert.That(auth.TryLogin("10.0.0.1", "OP", "secret-password", Now), Is.False);
        Assert.That(auth.TryLogin("10.0.0.1", "op", "secret-passwor", Now), Is.False);
        Assert.That(auth.TryLogin("10.0.0.1", null, null, Now), Is.False);
        Assert.That(auth.IsLockedOut("10.0.0.1", Now), Is.False);
        auth.TryLogin("10.0.0.1", "op", "x", Now);
        auth.TryLogin("10.0.0.1", "op", "x", Now);
        Assert.That(auth.IsLockedOut("10.0.0.1", Now), Is.True);
        Assert.That(auth.IsLockedOut("10.0.0.2", Now), Is.False, "per address");
        Assert.That(auth.IsLockedOut("10.0.0.1", Now + OperatorAuth.FailureWindow), Is.False, "for a minute");
    }
}
