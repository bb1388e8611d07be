namespace Fogline.LocalCloud.Http;

/// <summary>A request as the cloud received it, and what it answered: for parity tests and <c>fogline cloud start --log-requests</c>.</summary>
/// <param name="Service">The service it was for.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="RawTarget">The path and query as sent.</param>
/// <param name="Headers">Every header as sent (names as sent).</param>
/// <param name="Body">The body as sent.</param>
/// <param name="Status">The status answered.</param>
/// <param name="ErrorCode">The error code answered, if any.</param>
public sealed record CapturedRequest(CloudService Service, string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Status, string? ErrorCode)
{
    /// <summary>The path without the query.</summary>
    public string Path => RawTarget.Split('?', 2)[0];

    /// <summary>The signed header names, from the Authorization header (empty when unsigned).</summary>
    public IReadOnlyList<string> SignedHeaders =>
        Headers.GetValueOrDefault("Authorization") is { } auth && auth.IndexOf("SignedHeaders=", StringComparison.Ordinal) is var at and >= 0
            ? auth[(at + 14)..].Split(',')[0].Split(';')
            : [];
}
