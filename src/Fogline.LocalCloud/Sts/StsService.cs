using System.Security;
using Fogline.Aws;
using Fogline.LocalCloud.Auth;
using Microsoft.AspNetCore.Http;

namespace Fogline.LocalCloud.Sts;

/// <summary>
/// AWS STS, query protocol: <c>GetCallerIdentity</c> (a form POST or a GET with <c>Action=GetCallerIdentity</c>),
/// answered in STS's XML with the account and user of the access key that signed the request.
/// </summary>
internal sealed class StsService
{
    public static async Task HandleAsync(HttpContext context, CloudCredential caller, byte[] body, string requestId)
    {
        var form = Aws.Signing.SigV4.ParseQuery(System.Text.Encoding.UTF8.GetString(body))
            .Concat(Aws.Signing.SigV4.ParseQuery(context.Request.QueryString.Value ?? string.Empty))
            .GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        var action = form.GetValueOrDefault("Action");
        if (action != "GetCallerIdentity")
        {
            throw new AwsServiceException("InvalidAction", 400, $"Could not find operation {action} for version {form.GetValueOrDefault("Version") ?? "NO_VERSION_SPECIFIED"}");
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "text/xml";
        context.Response.Headers["x-amzn-RequestId"] = requestId;
        var arn = $"arn:aws:iam::{caller.AccountId}:user/{caller.UserName}";
        await context.Response.WriteAsync($"""
            <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <GetCallerIdentityResult>
                <Arn>{SecurityElement.Escape(arn)}</Arn>
                <UserId>{SecurityElement.Escape(UserId(caller))}</UserId>
                <Account>{caller.AccountId}</Account>
              </GetCallerIdentityResult>
              <ResponseMetadata>
                <RequestId>{requestId}</RequestId>
              </ResponseMetadata>
            </GetCallerIdentityResponse>

            """).ConfigureAwait(false);
    }

    /// <summary>An IAM user id (AIDA + 17 characters) derived from the access key, stable for it.</summary>
    private static string UserId(CloudCredential caller)
    {
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(caller.AccessKeyId)));
        return "AIDA" + hash[..17];
    }
}
