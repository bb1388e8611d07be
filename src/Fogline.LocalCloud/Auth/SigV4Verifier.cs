using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using Fogline.Aws.Signing;

namespace Fogline.LocalCloud.Auth;

/// <summary>Why a request's signature was refused; each service words it its own way (<see cref="AuthErrors"/>).</summary>
public enum AuthFailure
{
    /// <summary>No Authorization header and no presigned query.</summary>
    Missing,

    /// <summary>An Authorization header that cannot be read.</summary>
    Malformed,

    /// <summary>An access key the cloud does not know, or a session token that does not go with it.</summary>
    UnknownKey,

    /// <summary>The signature does not match.</summary>
    BadSignature,

    /// <summary>The request's time is too far from now.</summary>
    Skewed,

    /// <summary>A presigned URL past its expiry.</summary>
    Expired,

    /// <summary>The body is not what <c>x-amz-content-sha256</c> says.</summary>
    PayloadMismatch,
}

/// <summary>A request as it arrived, for verification: everything comes from the wire as it was.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="RawTarget">The request target as sent (percent-encoded path and query).</param>
/// <param name="Headers">The headers (names case-insensitive).</param>
/// <param name="Body">The body as it arrived (still aws-chunked when it was).</param>
public sealed record SignedRequest(string Method, string RawTarget, IReadOnlyDictionary<string, string> Headers, byte[] Body);

/// <summary>The outcome: who signed it, for which service and region, or why it was refused.</summary>
public sealed record AuthResult(bool Ok, AuthFailure? Failure, string Message, string? AccessKeyId, string? Service, string? Region, string? SeedSignature, byte[]? SigningKey, string? Scope, DateTime SignedAt)
{
    internal static AuthResult Fail(AuthFailure failure, string message, string? service = null) =>
        new(false, failure, message, null, service, null, null, null, null, default);
}

/// <summary>A key pair the cloud accepts, and the account it belongs to.</summary>
/// <param name="AccessKeyId">The access key id.</param>
/// <param name="SecretAccessKey">The secret key.</param>
/// <param name="AccountId">The account.</param>
/// <param name="UserName">The IAM user name GetCallerIdentity reports.</param>
/// <param name="SessionToken">When set, requests must carry it (temporary credentials).</param>
/// <param name="IsService">The cloud's own key, which signs the URLs it hands out (it may read any account's objects).</param>
public sealed record CloudCredential(string AccessKeyId, string SecretAccessKey, string AccountId, string UserName, string? SessionToken = null, bool IsService = false)
{
    /// <summary>The key pair without the secret, for logs and messages.</summary>
    public override string ToString() => $"{AccessKeyId} (account {AccountId}, {UserName})";
}

/// <summary>
/// Checks SigV4 signatures as AWS does, in one place for every service of the local cloud: the Authorization header or a
/// presigned query, a known access key, the time (±5 minutes; S3 ±15; a presigned URL until it expires), and the
/// signature of the canonical request built from the request as it arrived (S3 signs its path as sent, every other
/// service its path encoded once more; S3's payload is what <c>x-amz-content-sha256</c> says, and a hex one must match
/// the body). The canonical request and the HMAC are <see cref="SigV4"/>'s, the client's own.
/// </summary>
public sealed partial class SigV4Verifier
{
    private readonly Dictionary<string, CloudCredential> _keys;
    private readonly TimeProvider _time;

    /// <summary>Creates a verifier that accepts <paramref name="credentials"/>.</summary>
    public SigV4Verifier(IEnumerable<CloudCredential> credentials, TimeProvider? time = null)
    {
        _keys = credentials.ToDictionary(c => c.AccessKeyId, StringComparer.Ordinal);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The credential of an access key, if the cloud knows it.</summary>
    public CloudCredential? Lookup(string accessKeyId) => _keys.GetValueOrDefault(accessKeyId);

    /// <summary>The service a request is signed for, without checking anything (to answer in that service's words).</summary>
    public static string? ServiceOf(SignedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var credential = request.Headers.TryGetValue("Authorization", out var auth) ? AuthorizationHeader().Match(auth) is { Success: true } m ? m.Groups[1].Value : null
            : QueryValue(request.RawTarget, "X-Amz-Credential");
        var parts = credential?.Split('/');
        return parts is { Length: 5 } ? parts[3] : null;
    }

    /// <summary>Verifies <paramref name="request"/>.</summary>
    public AuthResult Verify(SignedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var presigned = QueryValue(request.RawTarget, "X-Amz-Algorithm") is not null;
        string credential;
        string signedHeaders;
        string signature;
        string? date;
        if (request.Headers.TryGetValue("Authorization", out var authorization))
        {
            var match = AuthorizationHeader().Match(authorization);
            if (!match.Success)
            {
                return AuthResult.Fail(AuthFailure.Malformed, $"Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization={authorization}");
            }

            (credential, signedHeaders, signature) = (match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value);
            date = request.Headers.GetValueOrDefault("X-Amz-Date");
        }
        else if (presigned)
        {
            if (QueryValue(request.RawTarget, "X-Amz-Algorithm") != SigV4.Algorithm
                || QueryValue(request.RawTarget, "X-Amz-Credential") is not { } c
                || QueryValue(request.RawTarget, "X-Amz-SignedHeaders") is not { } h
                || QueryValue(request.RawTarget, "X-Amz-Signature") is not { } s)
            {
                return AuthResult.Fail(AuthFailure.Malformed, "Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
            }

            (credential, signedHeaders, signature) = (c, h, s);
            date = QueryValue(request.RawTarget, "X-Amz-Date");
        }
        else
        {
            return AuthResult.Fail(AuthFailure.Missing, "Missing Authentication Token");
        }

        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[4] != "aws4_request")
        {
            return AuthResult.Fail(AuthFailure.Malformed, $"Credential should be scoped to a valid region and service: '{credential}'.");
        }

        var (accessKey, day, region, service) = (scope[0], scope[1], scope[2], scope[3]);
        if (!_keys.TryGetValue(accessKey, out var key))
        {
            return AuthResult.Fail(AuthFailure.UnknownKey, "The security token included in the request is invalid.", service);
        }

        var token = request.Headers.GetValueOrDefault("X-Amz-Security-Token") ?? QueryValue(request.RawTarget, "X-Amz-Security-Token");
        if (key.SessionToken is not null && token != key.SessionToken)
        {
            return AuthResult.Fail(AuthFailure.UnknownKey, "The security token included in the request is invalid.", service);
        }

        if (date is null || !DateTime.TryParseExact(date, SigV4.DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var signedAt) || !date.StartsWith(day, StringComparison.Ordinal))
        {
            return AuthResult.Fail(AuthFailure.Malformed, "The request must carry an X-Amz-Date in the format yyyyMMddTHHmmssZ, on the day of its credential scope.", service);
        }

        var now = _time.GetUtcNow().UtcDateTime;
        var s3 = service == "s3";
        if (presigned)
        {
            var expires = int.TryParse(QueryValue(request.RawTarget, "X-Amz-Expires"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) ? seconds : -1;
            if (expires is < 1 or > 604800)
            {
                return AuthResult.Fail(AuthFailure.Malformed, "X-Amz-Expires must be between 1 and 604800 seconds.", service);
            }

            if (now > signedAt.AddSeconds(expires) || now < signedAt.AddMinutes(-15))
            {
                return AuthResult.Fail(AuthFailure.Expired, "Request has expired", service);
            }
        }
        else
        {
            var window = TimeSpan.FromMinutes(s3 ? 15 : 5);
            if (signedAt < now - window)
            {
                return AuthResult.Fail(AuthFailure.Skewed, $"Signature expired: {date} is now earlier than {(now - window).ToString(SigV4.DateFormat, CultureInfo.InvariantCulture)} ({now.ToString(SigV4.DateFormat, CultureInfo.InvariantCulture)} - {window.TotalMinutes:0} min.)", service);
            }

            if (signedAt > now + window)
            {
                return AuthResult.Fail(AuthFailure.Skewed, $"Signature not yet current: {date} is still later than {(now + window).ToString(SigV4.DateFormat, CultureInfo.InvariantCulture)} ({now.ToString(SigV4.DateFormat, CultureInfo.InvariantCulture)} + {window.TotalMinutes:0} min.)", service);
            }
        }

        string payloadHash;
        if (presigned)
        {
            payloadHash = "UNSIGNED-PAYLOAD";
        }
        else if (s3)
        {
            payloadHash = request.Headers.GetValueOrDefault("X-Amz-Content-SHA256") ?? SigV4.Hash(request.Body);
            if (IsHex(payloadHash) && !string.Equals(payloadHash, SigV4.Hash(request.Body), StringComparison.OrdinalIgnoreCase))
            {
                return AuthResult.Fail(AuthFailure.PayloadMismatch, "The provided 'x-amz-content-sha256' header does not match what was computed.", service);
            }
        }
        else
        {
            payloadHash = SigV4.Hash(request.Body);
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in signedHeaders.Split(';'))
        {
            if (!request.Headers.TryGetValue(name, out var value))
            {
                return AuthResult.Fail(AuthFailure.BadSignature, SignatureMismatch(s3), service);
            }

            headers.Add(new(name, value));
        }

        var question = request.RawTarget.IndexOf('?', StringComparison.Ordinal);
        var rawPath = question < 0 ? request.RawTarget : request.RawTarget[..question];
        var rawQuery = question < 0 ? string.Empty : request.RawTarget[(question + 1)..];
        var query = SigV4.ParseQuery(rawQuery).Where(p => !(presigned && p.Key == "X-Amz-Signature"));
        var canonical = SigV4.CanonicalRequest(request.Method, SigV4.CanonicalUri(rawPath, s3), SigV4.CanonicalQuery(query), headers, payloadHash);
        var credentials = new ImmutableCredentials(key.AccessKeyId, key.SecretAccessKey, token);
        var expected = SigV4.Signature(credentials, region, signedAt, service, SigV4.SignedHeaderList(headers), canonical);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature)))
        {
            return AuthResult.Fail(AuthFailure.BadSignature, SignatureMismatch(s3), service);
        }

        var signingKey = Amazon.Runtime.Internal.Auth.AWS4Signer.ComposeSigningKey(key.SecretAccessKey, region, day, service);
        return new AuthResult(true, null, string.Empty, accessKey, service, region, signature, signingKey, SigV4.Scope(signedAt, region, service), signedAt);
    }

    /// <summary>The message AWS gives for a signature that does not match.</summary>
    public static string SignatureMismatch(bool s3) => s3
        ? "The request signature we calculated does not match the signature you provided. Check your key and signing method."
        : "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

    /// <summary>A query parameter of a raw request target, decoded (the first one of that name).</summary>
    public static string? QueryValue(string rawTarget, string name)
    {
        ArgumentNullException.ThrowIfNull(rawTarget);
        var question = rawTarget.IndexOf('?', StringComparison.Ordinal);
        return question < 0 ? null : SigV4.ParseQuery(rawTarget[(question + 1)..]).FirstOrDefault(p => p.Key == name).Value;
    }

    private static bool IsHex(string text) => text.Length == 64 && text.All(char.IsAsciiHexDigit);

    [GeneratedRegex("^AWS4-HMAC-SHA256 Credential=([^,\\s]+),\\s*SignedHeaders=([^,\\s]+),\\s*Signature=([0-9a-f]{64})$")]
    private static partial Regex AuthorizationHeader();
}
