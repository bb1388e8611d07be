using System.Text.Json.Nodes;

namespace Fogline.Aws;

/// <summary>
/// An error an AWS service (or the local Greengrass cloud) answered with: its code (for example
/// <c>ConflictException</c>, the generated <c>…Errors</c> classes name them), the HTTP status, the message, and the
/// error's other members as JSON.
/// </summary>
public class AwsServiceException : Exception
{
    /// <summary>Creates the exception.</summary>
    public AwsServiceException(string code, int statusCode, string message, JsonObject? details = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        StatusCode = statusCode;
        Details = details ?? [];
    }

    /// <summary>Creates the exception.</summary>
    public AwsServiceException()
        : this("InternalFailure", 500, "An unknown error occurred.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public AwsServiceException(string message)
        : this("InternalFailure", 500, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public AwsServiceException(string message, Exception innerException)
        : this("InternalFailure", 500, message, null, innerException)
    {
    }

    /// <summary>The error code.</summary>
    public string Code { get; }

    /// <summary>The HTTP status.</summary>
    public int StatusCode { get; }

    /// <summary>The error's other members (besides the message).</summary>
    public JsonObject Details { get; }

    /// <summary>The request id the service gave, when it gave one.</summary>
    public string? RequestId { get; init; }

    /// <summary>The service's message, with its code: <c>ConflictException: Component version … already exists</c>.</summary>
    public override string ToString() => $"{Code}: {Message}";
}
