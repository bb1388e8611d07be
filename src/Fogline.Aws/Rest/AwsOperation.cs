using System.Text.Json.Serialization.Metadata;

namespace Fogline.Aws.Rest;

/// <summary>A shape of an AWS service model (the generated request, response and nested structures).</summary>
#pragma warning disable CA1040 // a marker for generated shapes
public interface IAwsShape
{
}
#pragma warning restore CA1040

/// <summary>
/// An operation of a rest-json AWS service as its model defines it: the HTTP method, the URI template (labels in
/// braces, <c>{name+}</c> greedy), the status of success, the errors it declares. Generated from botocore's models;
/// the client sends requests with it and the local cloud routes and answers them with it.
/// </summary>
/// <param name="ServiceId">The model's serviceId.</param>
/// <param name="SigningName">The SigV4 service name.</param>
/// <param name="Name">The operation name.</param>
/// <param name="Method">The HTTP method.</param>
/// <param name="UriTemplate">The request URI template, with the query string the model fixes, if any.</param>
/// <param name="SuccessStatus">The HTTP status of a successful response.</param>
/// <param name="Errors">The error codes the operation declares.</param>
public abstract record AwsOperation(string ServiceId, string SigningName, string Name, string Method, string UriTemplate, int SuccessStatus, IReadOnlyList<string> Errors)
{
    /// <summary>The request type.</summary>
    public abstract Type InputType { get; }

    /// <summary>The response type.</summary>
    public abstract Type OutputType { get; }
}

/// <summary>An operation with its request and response shapes and the code that binds them to HTTP.</summary>
/// <typeparam name="TInput">The request shape.</typeparam>
/// <typeparam name="TOutput">The response shape.</typeparam>
public sealed record AwsOperation<TInput, TOutput>(
    string ServiceId,
    string SigningName,
    string Name,
    string Method,
    string UriTemplate,
    int SuccessStatus,
    IReadOnlyList<string> Errors,
    JsonTypeInfo<TInput> InputJson,
    JsonTypeInfo<TOutput> OutputJson,
    bool InputHasBody,
    bool OutputHasBody,
    Action<TInput, IHttpBindingWriter> WriteInput,
    Action<IHttpBindingReader, TInput> ReadInput,
    Action<TOutput, IHttpBindingWriter> WriteOutput,
    Action<IHttpBindingReader, TOutput> ReadOutput,
    Action<TInput>? IdempotencyToken)
    : AwsOperation(ServiceId, SigningName, Name, Method, UriTemplate, SuccessStatus, Errors)
    where TInput : class, IAwsShape, new()
    where TOutput : class, IAwsShape, new()
{
    /// <inheritdoc />
    public override Type InputType => typeof(TInput);

    /// <inheritdoc />
    public override Type OutputType => typeof(TOutput);
}

/// <summary>Where the generated binding code puts the members that do not go in the body.</summary>
public interface IHttpBindingWriter
{
    /// <summary>Sets the URI label <paramref name="name"/> (a null value leaves it empty).</summary>
    void Label(string name, string? value);

    /// <summary>Adds a query-string parameter, unless <paramref name="value"/> is null.</summary>
    void Query(string name, string? value);

    /// <summary>Adds a query-string parameter once per value.</summary>
    void Query(string name, IEnumerable<string>? values);

    /// <summary>Sets a header, unless <paramref name="value"/> is null.</summary>
    void Header(string name, string? value);
}

/// <summary>Where the generated binding code reads the members that do not come in the body.</summary>
public interface IHttpBindingReader
{
    /// <summary>The value of the URI label <paramref name="name"/>, decoded.</summary>
    string? Label(string name);

    /// <summary>The (first) value of a query-string parameter, decoded.</summary>
    string? Query(string name);

    /// <summary>Every value of a query-string parameter, or null.</summary>
    IReadOnlyList<string>? QueryValues(string name);

    /// <summary>A header's value.</summary>
    string? Header(string name);
}
