using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using Fogline.Aws;
using Fogline.LocalCloud.Auth;
using Microsoft.AspNetCore.Http;

namespace Fogline.LocalCloud.Http;

/// <summary>
/// Errors as each service writes them, so the AWS CLI and the SDKs read the code and message they would read from AWS:
/// rest-json (Greengrass V2, IoT) as the code in <c>x-amzn-ErrorType</c> and <c>{"message": …}</c>; STS as an XML
/// <c>ErrorResponse</c>; S3 as an XML <c>Error</c> (no body for HEAD).
/// </summary>
public static class ErrorResponses
{
    /// <summary>Writes <paramref name="error"/> in <paramref name="service"/>'s format.</summary>
    public static Task WriteAsync(HttpContext context, CloudService service, AwsServiceException error, string requestId)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(error);
        var response = context.Response;
        response.StatusCode = error.StatusCode;
        switch (service)
        {
            case CloudService.S3:
                response.Headers["x-amz-request-id"] = requestId;
                response.Headers["x-amz-id-2"] = requestId;
                if (HttpMethods.IsHead(context.Request.Method))
                {
                    return Task.CompletedTask;
                }

                response.ContentType = "application/xml";
                var extra = new StringBuilder();
                foreach (var (name, value) in error.Details)
                {
                    extra.Append('<').Append(name).Append('>').Append(SecurityElement.Escape(value?.ToString() ?? string.Empty)).Append("</").Append(name).Append('>');
                }

                return response.WriteAsync($"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{error.Code}</Code><Message>{SecurityElement.Escape(error.Message)}</Message>{extra}<RequestId>{requestId}</RequestId><HostId>{requestId}</HostId></Error>");
            case CloudService.Sts:
                response.Headers["x-amzn-RequestId"] = requestId;
                response.ContentType = "text/xml";
                var type = error.StatusCode >= 500 ? "Receiver" : "Sender";
                return response.WriteAsync($"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>{type}</Type>\n    <Code>{error.Code}</Code>\n    <Message>{SecurityElement.Escape(error.Message)}</Message>\n  </Error>\n  <RequestId>{requestId}</RequestId>\n</ErrorResponse>\n");
            default:
                response.Headers["x-amzn-RequestId"] = requestId;
                response.Headers["x-amzn-ErrorType"] = error.Code;
                response.ContentType = "application/json";
                var body = new JsonObject { ["message"] = error.Message };
                foreach (var (name, value) in error.Details)
                {
                    body[name] = value?.DeepClone();
                }

                return response.WriteAsync(body.ToJsonString());
        }
    }

    /// <summary>A refused signature in the words of <paramref name="service"/>.</summary>
    public static AwsServiceException ForAuth(CloudService service, AuthResult result, string? accessKeyId = null)
    {
        ArgumentNullException.ThrowIfNull(result);
        var failure = result.Failure ?? AuthFailure.BadSignature;
        var (code, status, message) = (service, failure) switch
        {
            (CloudService.S3, AuthFailure.Missing) => ("AccessDenied", 403, "Access Denied"),
            (CloudService.S3, AuthFailure.Malformed) => ("AuthorizationHeaderMalformed", 400, "The authorization header is malformed; " + result.Message),
            (CloudService.S3, AuthFailure.UnknownKey) => ("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our records."),
            (CloudService.S3, AuthFailure.Skewed) => ("RequestTimeTooSkewed", 403, "The difference between the request time and the current time is too large."),
            (CloudService.S3, AuthFailure.Expired) => ("AccessDenied", 403, "Request has expired"),
            (CloudService.S3, AuthFailure.PayloadMismatch) => ("XAmzContentSHA256Mismatch", 400, result.Message),
            (CloudService.S3, _) => ("SignatureDoesNotMatch", 403, result.Message),
            (CloudService.Sts, AuthFailure.Missing) => ("MissingAuthenticationToken", 403, "Request is missing Authentication Token"),
            (CloudService.Sts, AuthFailure.UnknownKey) => ("InvalidClientTokenId", 403, result.Message),
            (CloudService.Sts, AuthFailure.Malformed) => ("IncompleteSignature", 400, result.Message),
            (CloudService.Sts, _) => ("SignatureDoesNotMatch", 403, result.Message),
            (_, AuthFailure.Missing) => ("MissingAuthenticationTokenException", 403, result.Message),
            (_, AuthFailure.UnknownKey) => ("UnrecognizedClientException", 403, result.Message),
            (_, AuthFailure.Malformed) => ("IncompleteSignatureException", 403, result.Message),
            _ => ("InvalidSignatureException", 403, result.Message),
        };
        var details = new JsonObject();
        if (service == CloudService.S3 && accessKeyId is not null && failure is AuthFailure.UnknownKey or AuthFailure.BadSignature)
        {
            details["AWSAccessKeyId"] = accessKeyId;
        }

        return new AwsServiceException(code, status, message, details);
    }
}
