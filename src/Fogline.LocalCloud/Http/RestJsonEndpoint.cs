using System.Text.Json;
using System.Text.RegularExpressions;
using Fogline.Aws;
using Fogline.Aws.Rest;

namespace Fogline.LocalCloud.Http;

/// <summary>
/// Serves a rest-json service from its generated operation table, the same one the client sends with: a request is
/// matched to an operation by method and URI template, its members read from the URI labels, the query string, the
/// headers and the JSON body, the handler called, and the response written with the operation's success status. An
/// operation of the model that the local cloud does not serve is answered 501 with its name.
/// </summary>
internal sealed class RestJsonEndpoint
{
    private readonly List<Route> _routes = [];
    private readonly IReadOnlyList<AwsOperation> _model;

    public RestJsonEndpoint(IReadOnlyList<AwsOperation> model)
    {
        _model = model;
    }

    /// <summary>Serves <paramref name="operation"/> with <paramref name="handler"/>.</summary>
    public void Handle<TInput, TOutput>(AwsOperation<TInput, TOutput> operation, Func<TInput, CloudRequest, Task<TOutput>> handler)
        where TInput : class, IAwsShape, new()
        where TOutput : class, IAwsShape, new()
    {
        var regex = Pattern(operation.UriTemplate);
        _routes.Add(new Route(operation, regex, async (request, body) =>
        {
            TInput input;
            try
            {
                input = operation.InputHasBody && body.Length > 0 ? JsonSerializer.Deserialize(body, operation.InputJson) ?? new TInput() : new TInput();
                operation.ReadInput(new Bindings(request, regex.Match(request.RawPath)), input);
            }
            catch (Exception e) when (e is JsonException or FormatException or OverflowException)
            {
                throw new AwsServiceException("ValidationException", 400, $"The request is not valid JSON for {operation.Name}: {e.Message}", new System.Text.Json.Nodes.JsonObject { ["reason"] = "CANNOT_PARSE" });
            }

            var output = await handler(input, request).ConfigureAwait(false);
            var response = request.Context.Response;
            response.StatusCode = operation.SuccessStatus;
            response.Headers["x-amzn-RequestId"] = request.Id;
            var headers = new ResponseHeaders(response);
            operation.WriteOutput(output, headers);
            if (operation.OutputHasBody && operation.SuccessStatus != 204)
            {
                response.ContentType = "application/json";
                await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(output, operation.OutputJson)).ConfigureAwait(false);
            }
        }));
    }

    /// <summary>Routes and answers a request.</summary>
    public Task DispatchAsync(CloudRequest request, byte[] body)
    {
        foreach (var route in _routes)
        {
            if (route.Operation.Method == request.Method && route.Pattern.IsMatch(request.RawPath))
            {
                return route.Invoke(request, body);
            }
        }

        foreach (var operation in _model)
        {
            if (operation.Method == request.Method && Pattern(operation.UriTemplate).IsMatch(request.RawPath))
            {
                throw new AwsServiceException("NotImplementedException", 501, $"The local Greengrass cloud does not serve {operation.ServiceId} {operation.Name}.");
            }
        }

        throw new AwsServiceException("UnknownOperationException", 404, $"No operation matches {request.Method} {request.RawPath}.");
    }

    /// <summary>The regular expression of a URI template: <c>{name}</c> one segment, <c>{name+}</c> the rest.</summary>
    private static Regex Pattern(string template)
    {
        var path = template.Split('?', 2)[0];
        var pattern = new System.Text.StringBuilder("^");
        var at = 0;
        foreach (Match label in Regex.Matches(path, "{([A-Za-z0-9_]+)(\\+?)}"))
        {
            pattern.Append(Regex.Escape(path[at..label.Index]));
            pattern.Append(label.Groups[2].Value == "+" ? $"(?<{label.Groups[1].Value}>.+)" : $"(?<{label.Groups[1].Value}>[^/]+)");
            at = label.Index + label.Length;
        }

        pattern.Append(Regex.Escape(path[at..])).Append('$');
        return new Regex(pattern.ToString(), RegexOptions.CultureInvariant);
    }

    private sealed record Route(AwsOperation Operation, Regex Pattern, Func<CloudRequest, byte[], Task> Invoke);

    private sealed class Bindings(CloudRequest request, Match match) : IHttpBindingReader
    {
        public string? Label(string name) => match.Groups[name] is { Success: true } g ? Uri.UnescapeDataString(g.Value) : null;

        public string? Query(string name) => request.Query[name].FirstOrDefault();

        public IReadOnlyList<string>? QueryValues(string name) => request.Query.Contains(name) ? [.. request.Query[name]] : null;

        public string? Header(string name) => request.Header(name);
    }

    private sealed class ResponseHeaders(Microsoft.AspNetCore.Http.HttpResponse response) : IHttpBindingWriter
    {
        public void Label(string name, string? value)
        {
        }

        public void Query(string name, string? value)
        {
        }

        public void Query(string name, IEnumerable<string>? values)
        {
        }

        public void Header(string name, string? value)
        {
            if (value is not null)
            {
                response.Headers[name] = value;
            }
        }
    }
}
