using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Fogline.Dashboard.Web;

/// <summary>
/// The operator's login: the credential check (in constant time), signed session tokens that survive a restart of the
/// component (the signing key is kept in the state directory, readable by the component's user only) and stop working
/// when the credential changes, and a limit on failed logins per remote address. Thread-safe.
/// </summary>
public sealed class OperatorAuth
{
    /// <summary>Failed logins allowed per address within <see cref="FailureWindow"/> before further attempts are refused.</summary>
    public const int MaxFailures = 5;

    /// <summary>The window failed logins are counted in, and how long an address is refused after too many.</summary>
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(1);

    private const string KeyFile = "session.key";
    private readonly byte[] _key;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Count, DateTimeOffset Since)> _failures = new(StringComparer.Ordinal);
    private volatile Credential _credential = new("operator", new byte[32], new byte[16]);

    /// <summary>Loads the session key from <paramref name="stateDirectory"/>, creating it (mode 0600) the first time.</summary>
    public OperatorAuth(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, KeyFile);
        if (File.Exists(path) && File.ReadAllBytes(path) is { Length: 32 } existing)
        {
            _key = existing;
        }
        else
        {
            _key = RandomNumberGenerator.GetBytes(32);
            WritePrivate(path, _key);
        }
    }

    /// <summary>The user name logins are checked against.</summary>
    public string Username => _credential.Username;

    /// <summary>Sets the credential; sessions issued under another credential stop working.</summary>
    public void SetCredential(string username, string password)
    {
        ArgumentNullException.ThrowIfNull(username);
        ArgumentNullException.ThrowIfNull(password);
        var passwordMac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("password\n" + password));
        var fingerprint = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("credential\n" + username + "\n" + password)).AsSpan(0, 16).ToArray();
        _credential = new Credential(username, passwordMac, fingerprint);
    }

    /// <summary>Whether <paramref name="address"/> is refused for now after too many failed logins.</summary>
    public bool IsLockedOut(string address, DateTimeOffset now)
    {
        lock (_gate)
        {
            return _failures.TryGetValue(address, out var f) && f.Count >= MaxFailures && now - f.Since < FailureWindow;
        }
    }

    /// <summary>Checks a login attempt from <paramref name="address"/>; failures are counted against the address.</summary>
    public bool TryLogin(string address, string? username, string? password, DateTimeOffset now)
    {
        var credential = _credential;
        var userOk = CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(username ?? string.Empty)),
            SHA256.HashData(Encoding.UTF8.GetBytes(credential.Username)));
        var passwordOk = CryptographicOperations.FixedTimeEquals(
            HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes("password\n" + (password ?? string.Empty))),
            credential.PasswordMac);
        lock (_gate)
        {
            if (userOk && passwordOk)
            {
                _failures.Remove(address);
                return true;
            }

            if (_failures.Count > 10_000)
            {
                _failures.Clear();
            }

            _failures[address] = _failures.TryGetValue(address, out var f) && now - f.Since < FailureWindow ? (f.Count + 1, f.Since) : (1, now);
            return false;
        }
    }

    /// <summary>A session token for the current user until <paramref name="expires"/>: <c>user.expiry.mac</c>, base64url.</summary>
    public string Issue(DateTimeOffset expires)
    {
        var credential = _credential;
        var user = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(credential.Username));
        var expiry = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"{user}.{expiry}.{Base64Url.EncodeToString(Mac(credential, user, expiry))}";
    }

    /// <summary>The user a session token belongs to, or null when it is forged, expired or from another credential.</summary>
    public string? Validate(string? token, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 512)
        {
            return null;
        }

        var parts = token.Split('.');
        if (parts.Length != 3 || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expiry))
        {
            return null;
        }

        var credential = _credential;
        byte[] mac;
        try
        {
            mac = Base64Url.DecodeFromChars(parts[2]);
        }
        catch (FormatException)
        {
            return null;
        }

        if (!CryptographicOperations.FixedTimeEquals(mac, Mac(credential, parts[0], parts[1])) || now.ToUnixTimeSeconds() >= expiry)
        {
            return null;
        }

        return credential.Username;
    }

    /// <summary>Writes <paramref name="bytes"/> to a new file readable and writable by its owner only.</summary>
    public static void WritePrivate(string path, ReadOnlySpan<byte> bytes)
    {
        var temporary = path + ".tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    private byte[] Mac(Credential credential, string user, string expiry) =>
        HMACSHA256.HashData(_key, (byte[])[.. Encoding.UTF8.GetBytes("session\n" + user + "\n" + expiry + "\n"), .. credential.Fingerprint]);

    private sealed record Credential(string Username, byte[] PasswordMac, byte[] Fingerprint);
}
