using System.Net;
using Fogline.ComponentKit.Configuration;

namespace Fogline.Dashboard;

/// <summary>Where the operator's credential comes from.</summary>
/// <param name="Username">The user name.</param>
/// <param name="Password">The password given in the configuration, or null.</param>
/// <param name="SecretArn">A secret of the Nucleus's secret manager holding the password (or a JSON object with
/// <c>password</c> and optionally <c>username</c>), or null.</param>
public sealed record CredentialOptions(string Username, string? Password, string? SecretArn)
{
    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"CredentialOptions {{ Username = {Username}, Password = {(Password is null ? "none" : "***")}, SecretArn = {SecretArn ?? "none"} }}";
}

/// <summary>Dashboard's configuration (see README.md).</summary>
/// <param name="BindAddress">The address Kestrel listens on.</param>
/// <param name="Port">The TCP port (0: any free port, written to <c>dashboard.url</c> in the state directory).</param>
/// <param name="Credential">The operator's credential.</param>
/// <param name="SessionLifetime">How long a login lasts.</param>
/// <param name="PushInterval">How often changes are pushed to browsers.</param>
/// <param name="TrendSeconds">Seconds of history the trend charts show (one point per second).</param>
/// <param name="StaleSeconds">A series without a reading for this long is shown stale.</param>
/// <param name="MaxClients">Browsers connected at once; more are refused (503).</param>
/// <param name="ClientQueueFrames">Pushes waiting for one browser; a browser this far behind is disconnected (it reconnects and catches up).</param>
/// <param name="MaxSeries">Series shown at most; readings of further series are counted and skipped.</param>
/// <param name="StateDirectory">Where the session key and a generated password are kept.</param>
public sealed record DashboardOptions(
    IPAddress BindAddress,
    int Port,
    CredentialOptions Credential,
    TimeSpan SessionLifetime,
    TimeSpan PushInterval,
    int TrendSeconds,
    double StaleSeconds,
    int MaxClients,
    int ClientQueueFrames,
    int MaxSeries,
    string StateDirectory)
{
    /// <summary>Reads and checks the configuration; errors name their path.</summary>
    public static DashboardOptions Parse(ConfigNode configuration)
    {
        var bind = configuration["bindAddress"];
        var text = bind.String("0.0.0.0");
        if (!IPAddress.TryParse(text, out var address))
        {
            throw bind.Error($"'{text}' is not an IP address");
        }

        var credentials = configuration["credentials"];
        var password = credentials["password"].StringOrNull();
        var secret = credentials["secretArn"].StringOrNull();
        if (password is not null && secret is not null)
        {
            throw credentials.Error("give either 'password' or 'secretArn', not both");
        }

        if (password is { Length: < 8 })
        {
            throw credentials["password"].Error("must be at least 8 characters");
        }

        var username = credentials["username"].String("operator");
        if (username.Length is 0 or > 64 || username.Any(char.IsControl) || username.Contains(':', StringComparison.Ordinal))
        {
            throw credentials["username"].Error("must be 1 to 64 characters without ':' or control characters");
        }

        return new DashboardOptions(
            address,
            configuration["port"].Int32(8480, 0, 65535),
            new CredentialOptions(username, password, secret),
            TimeSpan.FromHours(configuration["sessionHours"].Double(12, 0.001, 24 * 30)),
            TimeSpan.FromMilliseconds(configuration["pushIntervalMs"].Int32(100, 20, 10_000)),
            configuration["trendSeconds"].Int32(120, 10, 3600),
            configuration["staleSeconds"].Double(10, 0.1, 86_400),
            configuration["maxClients"].Int32(50, 1, 10_000),
            configuration["clientQueueFrames"].Int32(64, 2, 10_000),
            configuration["maxSeries"].Int32(5000, 1, 1_000_000),
            configuration["stateDirectory"].String(Environment.CurrentDirectory));
    }
}
