using Fogline.LocalCloud.Auth;
using Microsoft.AspNetCore.Http;

namespace Fogline.LocalCloud.Http;

/// <summary>A request the cloud has read and authenticated, on its way to a service.</summary>
/// <param name="Context">The HTTP context (for the response).</param>
/// <param name="Id">The request id answered in <c>x-amzn-RequestId</c> / <c>x-amz-request-id</c>.</param>
/// <param name="Service">The service.</param>
/// <param name="Signed">The request as it arrived.</param>
/// <param name="Auth">Who signed it, for which region.</param>
/// <param name="Caller">The caller's credential (account, user).</param>
public sealed record CloudRequest(HttpContext Context, string Id, CloudService Service, SignedRequest Signed, AuthResult Auth, CloudCredential Caller)
{
    /// <summary>The HTTP method.</summary>
    public string Method => Signed.Method;

    /// <summary>The path as sent (percent-encoded).</summary>
    public string RawPath => Signed.RawTarget.Split('?', 2)[0];

    /// <summary>The query as sent (without <c>?</c>).</summary>
    public string RawQuery => Signed.RawTarget.Split('?', 2) is [_, var q] ? q : string.Empty;

    /// <summary>The decoded query parameters.</summary>
    public ILookup<string, string> Query { get; } = Aws.Signing.SigV4.ParseQuery(Signed.RawTarget.Split('?', 2) is [_, var q2] ? q2 : string.Empty).ToLookup(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>A header's value, or null.</summary>
    public string? Header(string name) => Signed.Headers.GetValueOrDefault(name);

    /// <summary>The region the request was signed for.</summary>
    public string Region => Auth.Region ?? "us-east-1";
}
