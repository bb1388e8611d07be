using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fogline.Aws.Signing;

namespace Fogline.Aws.Rest;

/// <summary>
/// Calls the operations of a rest-json AWS service (Greengrass V2, IoT) from their generated description: the URI from
/// the template and the members bound to it, the query string and the headers, the other members as a JSON body,
/// signed with SigV4, sent, and the answer read back into the response shape, or into an
/// <see cref="AwsServiceException"/> with the service's error code and message. Retries as the SDKs' standard retry
/// mode does: up to <see cref="MaxAttempts"/> attempts (<c>AWS_MAX_ATTEMPTS</c>, default 3) for throttling, 5xx
/// answers and broken connections, each after an exponential backoff with full jitter (at most 20 s), signed again.
/// </summary>
public sealed class RestJsonClient
{
    private static readonly HashSet<string> RetryableCodes = new(StringComparer.Ordinal)
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException", "InternalServerException", "InternalFailure",
        "ServiceUnavailable",
    };

    private readonly HttpClient _http;
    private readonly AwsSettings _settings;
    private readonly Uri _endpoint;
    private readonly TimeProvider _time;

    /// <summary>Creates a client of <paramref name="service"/>.</summary>
    public RestJsonClient(HttpClient http, AwsSettings settings, AwsService service, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _http = http ?? throw new ArgumentNullException(nameof(http));
        _settings = settings;
        _endpoint = settings.EndpointFor(service);
        _time = time ?? TimeProvider.System;
        MaxAttempts = int.TryParse(Environment.GetEnvironmentVariable("AWS_MAX_ATTEMPTS"), out var attempts) && attempts > 0 ? attempts : 3;
    }

    /// <summary>The most attempts per call (the first included).</summary>
    public int MaxAttempts { get; init; }

    /// <summary>The endpoint calls go to.</summary>
    public Uri Endpoint => _endpoint;

    /// <summary>Raised before each request is sent (signed), for tracing and tests.</summary>
    public event EventHandler<HttpRequestMessage>? Sending;

    /// <summary>Calls <paramref name="operation"/> with <paramref name="request"/>.</summary>
    /// <exception cref="AwsServiceException">The service answered with an error.</exception>
    /// <exception cref="HttpRequestException">The service could not be reached, every attempt.</exception>
    public async Task<TOutput> InvokeAsync<TInput, TOutput>(AwsOperation<TInput, TOutput> operation, TInput request, CancellationToken cancellationToken = default)
        where TInput : class, IAwsShape, new()
        where TOutput : class, IAwsShape, new()
    {
        ArgumentNullException.ThrowIfNull(operation);
        ArgumentNullException.ThrowIfNull(request);
        operation.IdempotencyToken?.Invoke(request);
        var bindings = new RequestBindings();
        operation.WriteInput(request, bindings);
        var body = operation.InputHasBody ? JsonSerializer.SerializeToUtf8Bytes(request, operation.InputJson) : [];
        var uri = BuildUri(operation.UriTemplate, bindings);
        for (var attempt = 1; ; attempt++)
        {
            using var message = new HttpRequestMessage(new HttpMethod(operation.Method), uri);
            if (operation.InputHasBody)
            {
                message.Content = new ByteArrayContent(body);
                message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            foreach (var (name, value) in bindings.Headers)
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }

            message.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            var credentials = await _settings.CurrentCredentialsAsync().ConfigureAwait(false);
            SigV4.Sign(message, body, credentials, _settings.Region, operation.SigningName, _time.GetUtcNow().UtcDateTime);
            Sending?.Invoke(this, message);

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(message, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException) when (attempt < MaxAttempts)
            {
                await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
                continue;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested && attempt < MaxAttempts)
            {
                _ = e;
                await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (response)
            {
                var payload = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    var result = operation.OutputHasBody && payload.Length > 0
                        ? JsonSerializer.Deserialize(payload, operation.OutputJson) ?? new TOutput()
                        : new TOutput();
                    operation.ReadOutput(new ResponseBindings(response), result);
                    return result;
                }

                var error = ReadError(response, payload);
                if (attempt < MaxAttempts && (RetryableCodes.Contains(error.Code) || (int)response.StatusCode is 500 or 502 or 503 or 504 or 429))
                {
                    await BackoffAsync(attempt, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                throw error;
            }
        }
    }

    /// <summary>The User-Agent Fogline sends.</summary>
    public static string UserAgent { get; } = "fogline/" + (typeof(RestJsonClient).Assembly.GetName().Version?.ToString(3) ?? "1.0.0") + " dotnet/" + Environment.Version.ToString(3);

    /// <summary>
    /// The error in an AWS answer: the code from <c>x-amzn-ErrorType</c> (before any <c>:</c>), else the body's
    /// <c>__type</c> (after any <c>#</c>) or <c>code</c>; the message from the body's <c>message</c> or <c>Message</c>.
    /// </summary>
    public static AwsServiceException ReadError(HttpResponseMessage response, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(response);
        JsonObject? body = null;
        try
        {
            body = payload.Length > 0 ? JsonNode.Parse(payload) as JsonObject : null;
        }
        catch (JsonException)
        {
        }

        var code = response.Headers.TryGetValues("x-amzn-ErrorType", out var types) ? types.First().Split(':')[0] : null;
        code ??= body?["__type"]?.GetValue<string>() is { } type ? type[(type.LastIndexOf('#') + 1)..] : body?["code"]?.GetValue<string>();
        code ??= response.StatusCode switch
        {
            HttpStatusCode.NotFound => "NotFound",
            HttpStatusCode.Forbidden => "AccessDenied",
            _ => ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        var message = body?["message"]?.GetValue<string>() ?? body?["Message"]?.GetValue<string>()
            ?? (payload.Length > 0 && body is null ? Encoding.UTF8.GetString(payload) : response.ReasonPhrase ?? string.Empty);
        body?.Remove("message");
        body?.Remove("Message");
        body?.Remove("__type");
        return new AwsServiceException(code, (int)response.StatusCode, message, body)
        {
            RequestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.First() : null,
        };
    }

    /// <summary>The request URI: the template's labels filled (greedy ones keep their slashes), and the query.</summary>
    private Uri BuildUri(string template, RequestBindings bindings)
    {
        var question = template.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? template : template[..question];
        var query = new List<string>();
        if (question >= 0)
        {
            query.AddRange(template[(question + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries));
        }

        var built = new StringBuilder();
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] != '{')
            {
                built.Append(path[i]);
                continue;
            }

            var end = path.IndexOf('}', i);
            var name = path[(i + 1)..end];
            var greedy = name.EndsWith('+');
            name = name.TrimEnd('+');
            var value = bindings.Labels.TryGetValue(name, out var v) && v is not null
                ? v
                : throw new ArgumentException($"The request has no value for {name}, which the URI needs.");
            built.Append(SigV4.Encode(value, keepSlash: greedy));
            i = end;
        }

        foreach (var (name, value) in bindings.Query)
        {
            query.Add(SigV4.Encode(name, keepSlash: false) + "=" + SigV4.Encode(value, keepSlash: false));
        }

        var baseUri = _endpoint.AbsoluteUri.TrimEnd('/');
        return new Uri(baseUri + built + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty));
    }

    private async Task BackoffAsync(int attempt, CancellationToken cancellationToken)
    {
        var ceiling = Math.Min(20.0, Math.Pow(2, attempt - 1));
        await Task.Delay(TimeSpan.FromSeconds(Random.Shared.NextDouble() * ceiling), _time, cancellationToken).ConfigureAwait(false);
    }

    private sealed class RequestBindings : IHttpBindingWriter
    {
        public Dictionary<string, string?> Labels { get; } = new(StringComparer.Ordinal);

        public List<(string Name, string Value)> Query { get; } = [];

        public List<(string Name, string Value)> Headers { get; } = [];

        public void Label(string name, string? value) => Labels[name] = value;

        void IHttpBindingWriter.Query(string name, string? value)
        {
            if (value is not null)
            {
                Query.Add((name, value));
            }
        }

        void IHttpBindingWriter.Query(string name, IEnumerable<string>? values)
        {
            foreach (var value in values ?? [])
            {
                Query.Add((name, value));
            }
        }

        public void Header(string name, string? value)
        {
            if (value is not null)
            {
                Headers.Add((name, value));
            }
        }
    }

    private sealed class ResponseBindings(HttpResponseMessage response) : IHttpBindingReader
    {
        public string? Label(string name) => null;

        public string? Query(string name) => null;

        public IReadOnlyList<string>? QueryValues(string name) => null;

        public string? Header(string name) =>
            response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(',', values) : null;
    }
}
