using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;

namespace Fogline.Aws.Signing;

/// <summary>
/// AWS Signature Version 4: the canonical request as AWS defines it (the same code for the client, which signs, and the
/// local Greengrass cloud, which verifies), and the signature from AWSSDK.Core's key derivation and HMAC
/// (<see cref="AWS4Signer.ComputeSignature(ImmutableCredentials, string, DateTime, string, string, string)"/>).
/// The client signs what botocore signs (every header but <c>user-agent</c>, <c>expect</c> and
/// <c>x-amzn-trace-id</c>), so its requests carry the same signed headers as the AWS CLI's.
/// </summary>
public static class SigV4
{
    /// <summary>The algorithm name in the Authorization header and the string to sign.</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The SHA-256 of an empty payload.</summary>
    public const string EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>The timestamp format of <c>X-Amz-Date</c>.</summary>
    public const string DateFormat = "yyyyMMdd'T'HHmmss'Z'";

    private static readonly HashSet<string> UnsignedHeaders = new(StringComparer.OrdinalIgnoreCase) { "user-agent", "expect", "x-amzn-trace-id", "authorization", "content-length", "transfer-encoding", "connection" };

    /// <summary>
    /// The canonical URI of a request path as it is on the wire (already percent-encoded once): S3 signs it as it is;
    /// every other service encodes it once more (a <c>%</c> becomes <c>%25</c>).
    /// </summary>
    public static string CanonicalUri(string rawPath, bool s3)
    {
        ArgumentNullException.ThrowIfNull(rawPath);
        var path = rawPath.Length == 0 ? "/" : rawPath;
        return s3 ? path : Encode(path, keepSlash: true);
    }

    /// <summary>The canonical query string: every parameter encoded, sorted by name then value.</summary>
    public static string CanonicalQuery(IEnumerable<KeyValuePair<string, string>> decodedParameters) =>
        string.Join('&', decodedParameters
            .Select(p => (Key: Encode(p.Key, keepSlash: false), Value: Encode(p.Value, keepSlash: false)))
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Key + "=" + p.Value));

    /// <summary>The canonical request.</summary>
    /// <param name="method">The HTTP method.</param>
    /// <param name="canonicalUri">From <see cref="CanonicalUri"/>.</param>
    /// <param name="canonicalQuery">From <see cref="CanonicalQuery"/>.</param>
    /// <param name="headers">The signed headers: lower-case names and their values.</param>
    /// <param name="payloadHash">The hex SHA-256 of the body, or what <c>x-amz-content-sha256</c> says for S3.</param>
    public static string CanonicalRequest(string method, string canonicalUri, string canonicalQuery, IReadOnlyList<KeyValuePair<string, string>> headers, string payloadHash)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var text = new StringBuilder();
        text.Append(method).Append('\n').Append(canonicalUri).Append('\n').Append(canonicalQuery).Append('\n');
        foreach (var (name, value) in headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.Append(name).Append(':').Append(TrimValue(value)).Append('\n');
        }

        text.Append('\n').Append(SignedHeaderList(headers)).Append('\n').Append(payloadHash);
        return text.ToString();
    }

    /// <summary>The <c>SignedHeaders</c> list: lower-case names, sorted, joined by semicolons.</summary>
    public static string SignedHeaderList(IEnumerable<KeyValuePair<string, string>> headers) =>
        string.Join(';', headers.Select(h => h.Key).Order(StringComparer.Ordinal));

    /// <summary>The signature of <paramref name="canonicalRequest"/> for the scope (date, region, service).</summary>
    public static string Signature(ImmutableCredentials credentials, string region, DateTime signedAt, string service, string signedHeaders, string canonicalRequest) =>
        AWS4Signer.ComputeSignature(credentials, region, signedAt, service, signedHeaders, canonicalRequest).Signature;

    /// <summary>The credential scope: <c>yyyyMMdd/region/service/aws4_request</c>.</summary>
    public static string Scope(DateTime signedAt, string region, string service) =>
        $"{signedAt.ToString("yyyyMMdd", CultureInfo.InvariantCulture)}/{region}/{service}/aws4_request";

    /// <summary>The hex SHA-256 of <paramref name="payload"/>.</summary>
    public static string Hash(ReadOnlySpan<byte> payload) => Convert.ToHexStringLower(SHA256.HashData(payload));

    /// <summary>Whether a header takes part in the signature when the client signs (botocore's choice).</summary>
    public static bool IsSigned(string headerName) => !UnsignedHeaders.Contains(headerName);

    /// <summary>
    /// Signs a request for sending: sets <c>X-Amz-Date</c>, <c>X-Amz-Security-Token</c> (temporary credentials) and,
    /// for S3, <c>X-Amz-Content-SHA256</c>, then <c>Authorization</c>. <paramref name="body"/> is what will be sent.
    /// </summary>
    public static void Sign(HttpRequestMessage request, ReadOnlySpan<byte> body, ImmutableCredentials credentials, string region, string service, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(credentials);
        var s3 = service == "s3";
        var signedAt = now.ToUniversalTime();
        var payloadHash = Hash(body);
        request.Headers.Remove("X-Amz-Date");
        request.Headers.TryAddWithoutValidation("X-Amz-Date", signedAt.ToString(DateFormat, CultureInfo.InvariantCulture));
        if (!string.IsNullOrEmpty(credentials.Token))
        {
            request.Headers.Remove("X-Amz-Security-Token");
            request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", credentials.Token);
        }

        if (s3)
        {
            request.Headers.Remove("X-Amz-Content-SHA256");
            request.Headers.TryAddWithoutValidation("X-Amz-Content-SHA256", payloadHash);
        }

        var uri = request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request));
        var headers = new List<KeyValuePair<string, string>> { new("host", uri.IsDefaultPort ? uri.Host : uri.Authority) };
        foreach (var header in request.Headers.Concat(request.Content?.Headers ?? Enumerable.Empty<KeyValuePair<string, IEnumerable<string>>>()))
        {
            var name = header.Key.ToLowerInvariant();
            if (name != "host" && IsSigned(name))
            {
                headers.Add(new(name, string.Join(',', header.Value)));
            }
        }

        var canonical = CanonicalRequest(request.Method.Method, CanonicalUri(uri.AbsolutePath, s3), CanonicalQuery(ParseQuery(uri.Query)), headers, payloadHash);
        var signedHeaders = SignedHeaderList(headers);
        var signature = Signature(credentials, region, signedAt, service, signedHeaders, canonical);
        request.Headers.TryAddWithoutValidation("Authorization",
            $"{Algorithm} Credential={credentials.AccessKey}/{Scope(signedAt, region, service)}, SignedHeaders={signedHeaders}, Signature={signature}");
    }

    /// <summary>
    /// A presigned S3 GET URL (query-string authentication, as <c>aws s3 presign</c> makes it): the credential, date,
    /// expiry, <c>host</c> as the only signed header, the session token as a query parameter, the payload
    /// <c>UNSIGNED-PAYLOAD</c>, and the signature last. <paramref name="objectUrl"/> is the object's path-style or
    /// virtual-host-style URL, its path already percent-encoded as it will be sent.
    /// </summary>
    public static Uri PresignGet(Uri objectUrl, ImmutableCredentials credentials, string region, DateTime now, TimeSpan expiresIn)
    {
        ArgumentNullException.ThrowIfNull(objectUrl);
        ArgumentNullException.ThrowIfNull(credentials);
        var seconds = (int)expiresIn.TotalSeconds;
        if (seconds is < 1 or > 604800)
        {
            throw new ArgumentOutOfRangeException(nameof(expiresIn), expiresIn, "A presigned URL expires after 1 second to 7 days.");
        }

        var signedAt = now.ToUniversalTime();
        var parameters = ParseQuery(objectUrl.Query).ToList();
        parameters.Add(new("X-Amz-Algorithm", Algorithm));
        parameters.Add(new("X-Amz-Credential", credentials.AccessKey + "/" + Scope(signedAt, region, "s3")));
        parameters.Add(new("X-Amz-Date", signedAt.ToString(DateFormat, CultureInfo.InvariantCulture)));
        parameters.Add(new("X-Amz-Expires", seconds.ToString(CultureInfo.InvariantCulture)));
        parameters.Add(new("X-Amz-SignedHeaders", "host"));
        if (!string.IsNullOrEmpty(credentials.Token))
        {
            parameters.Add(new("X-Amz-Security-Token", credentials.Token));
        }

        var host = objectUrl.IsDefaultPort ? objectUrl.Host : objectUrl.Authority;
        var canonical = CanonicalRequest("GET", CanonicalUri(objectUrl.AbsolutePath, s3: true), CanonicalQuery(parameters), [new("host", host)], "UNSIGNED-PAYLOAD");
        var signature = Signature(credentials, region, signedAt, "s3", "host", canonical);
        var query = string.Join('&', parameters.Select(p => Encode(p.Key, keepSlash: false) + "=" + Encode(p.Value, keepSlash: false)));
        return new Uri(objectUrl.GetLeftPart(UriPartial.Path) + "?" + query + "&X-Amz-Signature=" + signature);
    }

    /// <summary>The decoded parameters of a query string (<c>?a=1&amp;b</c>; a parameter without <c>=</c> has an empty value).</summary>
    public static IEnumerable<KeyValuePair<string, string>> ParseQuery(string query)
    {
        ArgumentNullException.ThrowIfNull(query);
        foreach (var part in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            yield return equals < 0
                ? new(Uri.UnescapeDataString(part), string.Empty)
                : new(Uri.UnescapeDataString(part[..equals]), Uri.UnescapeDataString(part[(equals + 1)..]));
        }
    }

    /// <summary>
    /// Percent-encodes as SigV4 requires: everything but <c>A-Z a-z 0-9 - _ . ~</c> (and <c>/</c> when
    /// <paramref name="keepSlash"/>), as <c>%XX</c> of the UTF-8 bytes, upper-case hex.
    /// </summary>
    public static string Encode(string text, bool keepSlash)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new StringBuilder(text.Length);
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            var c = (char)b;
            if (c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '-' or '_' or '.' or '~' || (keepSlash && c == '/'))
            {
                output.Append(c);
            }
            else
            {
                output.Append('%').Append(((int)b).ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return output.ToString();
    }

    /// <summary>A header value as signed: trimmed, every run of whitespace one space (botocore's <c>' '.join(v.split())</c>).</summary>
    private static string TrimValue(string value)
    {
        var output = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value)
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = output.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                output.Append(' ');
                pendingSpace = false;
            }

            output.Append(c);
        }

        return output.ToString();
    }
}
