namespace Fogline.LocalNucleus.Shadows;

/// <summary>
/// An error of a shadow operation with the code and message the shadow manager (its <c>ErrorMessage</c>) publishes on
/// the operation's <c>/rejected</c> topic.
/// </summary>
internal sealed record ShadowError(int Code, string Message)
{
    public static readonly ShadowError InvalidVersion = new(400, "Invalid version");
    public static readonly ShadowError StateTooDeep = new(400, "JSON contains too many levels of nesting; maximum is 6");
    public static readonly ShadowError Unauthorized = new(401, "Unauthorized");
    public static readonly ShadowError PayloadMissing = new(400, "Missing update payload");
    public static readonly ShadowError PayloadTooLarge = new(413, "The payload exceeds the maximum size allowed");
    public static readonly ShadowError VersionConflict = new(409, "Version conflict");
    public static readonly ShadowError InternalServiceFailure = new(500, "Internal service failure");

    /// <summary>The payload is not a valid update document; <paramref name="details"/> says why (may be empty).</summary>
    public static ShadowError InvalidJson(string details) => new(400, "Invalid JSON: " + details);

    /// <summary>A thing or shadow name that is not valid.</summary>
    public static ShadowError InvalidName(string message) => new(400, message);

    /// <summary>The shadow does not exist (a classic shadow is named "Unnamed Shadow" here).</summary>
    public static ShadowError NotFound(string shadowName) =>
        new(404, "No shadow exists with name: " + (ShadowValidation.IsBlank(shadowName) ? "Unnamed Shadow" : shadowName));
}

/// <summary>A request the shadow manager rejects as invalid (its InvalidRequestParametersException).</summary>
internal sealed class ShadowRequestException : Exception
{
    public ShadowRequestException()
        : this(ShadowError.InvalidJson(string.Empty))
    {
    }

    public ShadowRequestException(string message)
        : this(new ShadowError(400, message))
    {
    }

    public ShadowRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Error = new ShadowError(400, message);
    }

    public ShadowRequestException(ShadowError error)
        : base((error ?? throw new ArgumentNullException(nameof(error))).Message)
    {
        Error = error;
    }

    public ShadowError Error { get; }
}

/// <summary>
/// A Java runtime failure (ClassCastException, NullPointerException) the shadow manager runs into on some documents,
/// reproduced with the message Java gives it: the Nucleus answers such failures with a ServiceError carrying it.
/// </summary>
internal sealed class ShadowJavaFailureException : Exception
{
    private const string NodePackage = "com.fasterxml.jackson.databind.node.";

    public ShadowJavaFailureException()
    {
    }

    public ShadowJavaFailureException(string message)
        : base(message)
    {
    }

    public ShadowJavaFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The ClassCastException of casting a Jackson node to another node class (Java 11+ wording).</summary>
    public static ShadowJavaFailureException ClassCast(JNode node, string targetClass)
    {
        var from = NodePackage + node.JavaClassName;
        var to = NodePackage + targetClass;
        return new ShadowJavaFailureException($"class {from} cannot be cast to class {to} ({from} and {to} are in unnamed module of loader 'app')");
    }

    /// <summary>The NullPointerException of calling <paramref name="method"/> on a null local (Java 15+ helpful message).</summary>
    public static ShadowJavaFailureException NullPointer(string method, string variable) =>
        new($"Cannot invoke \"{method}\" because \"{variable}\" is null");
}
