using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.LocalCloud.Auth;
using Fogline.LocalCloud.Greengrass;
using Fogline.LocalCloud.Http;
using Fogline.LocalCloud.S3;
using Fogline.LocalCloud.Sts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalCloud;

/// <summary>
/// A local Greengrass cloud on loopback: S3, STS and AWS IoT Greengrass V2 behind the REST APIs AWS serves, each
/// request's SigV4 signature checked against the keys the cloud knows, state on disk. The AWS CLI, the AWS SDKs and
/// Fogline reach it with <c>--endpoint-url</c> / <c>AWS_ENDPOINT_URL</c>. A request is routed by the service its
/// signature names (<c>s3</c>, <c>sts</c>, <c>greengrass</c>; IoT's <c>execute-api</c> slots in beside them), and
/// answered in that service's own format, errors included.
/// </summary>
public sealed class LocalCloudServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SigV4Verifier _verifier;
    private readonly S3Service _s3;
    private readonly RestJsonEndpoint _greengrass;
    private readonly ComponentsService _components;
    private readonly RestJsonEndpoint _iot;
    private readonly RestJsonEndpoint _iotData;
    private readonly Iot.RetainedMessages _retained;
    private readonly RestJsonEndpoint _dataPlane;
    private readonly ConcurrentQueue<CapturedRequest> _captured = new();
    private readonly int _captureLimit;
    private readonly Func<string, string, AwsServiceException?>? _fault;
    private readonly CoreDevicesService _coreDevices;
    private Uri? _endpoint;

    private LocalCloudServer(WebApplication app, LocalCloudOptions options, CloudKeys keys)
    {
        _app = app;
        Keys = keys;
        _captureLimit = options.CapturedRequests;
        _fault = options.Fault;
        _verifier = new SigV4Verifier([.. keys.All, .. options.Credentials], options.Time);
        var s3Store = new S3Store(options.DataDirectory);
        _s3 = new S3Service(s3Store, "127.0.0.1");
        _greengrass = new RestJsonEndpoint(GreengrassV2Operations.All);
        _components = new ComponentsService(new ComponentStore(options.DataDirectory), s3Store, keys.Service, () => Endpoint, options.Time, options.ComponentProcessingDelay);
        _components.Register(_greengrass);
        _dataPlane = new RestJsonEndpoint(GreengrassV2Operations.All);
        _components.RegisterDataPlane(_dataPlane);
        _iot = new RestJsonEndpoint(Fogline.Aws.Iot.IotOperations.All);
        Registry = new Iot.IotRegistryService(options.DataDirectory, options.Time);
        Registry.Register(_iot);
        Jobs = new Iot.IotJobsService(options.DataDirectory, options.Time, Registry);
        Jobs.Register(_iot);
        var deployments = new DeploymentsService(options.DataDirectory, options.Time, Registry, Jobs);
        deployments.Register(_greengrass);
        _coreDevices = new CoreDevicesService(options.DataDirectory, options.Time, Registry, Jobs, deployments);
        _coreDevices.Register(_greengrass);
        _iotData = new RestJsonEndpoint(Fogline.Aws.IotData.IotDataOperations.All);
        _retained = new Iot.RetainedMessages(options.DataDirectory, options.Time);
        _retained.Register(_iotData);
        if (options.Broker is { } broker)
        {
            Gateway = new Iot.DeviceGateway(broker, Registry, Jobs, _coreDevices.Report, _retained.Retained, options.Time, options.Logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        }
        app.Run(HandleAsync);
    }

    /// <summary>The cloud's URL (<c>http://127.0.0.1:PORT</c>), for <c>--endpoint-url</c>.</summary>
    public Uri Endpoint => _endpoint ?? throw new InvalidOperationException("The cloud is not started.");

    /// <summary>The Greengrass data plane's URL (<c>https://127.0.0.1:PORT</c>, device certificates), when configured.</summary>
    public Uri? DataPlaneEndpoint { get; private set; }

    /// <summary>AWS IoT's registry (things, thing groups), per account and region.</summary>
    internal Iot.IotRegistryService Registry { get; }

    /// <summary>AWS IoT Jobs (one job per Greengrass deployment), per account and region.</summary>
    internal Iot.IotJobsService Jobs { get; }

    /// <summary>Completes when the cloud has joined the devices' broker (at once when none is configured).</summary>
    public Task BrokerConnected => Gateway?.Connected ?? Task.CompletedTask;

    /// <summary>The cloud's side of the devices' MQTT broker (IoT Jobs), when a broker is configured.</summary>
    internal Iot.DeviceGateway? Gateway { get; }

    /// <summary>The key pairs kept in the data directory: the developer's (<see cref="CloudKeys.Default"/>) and the cloud's own.</summary>
    public CloudKeys Keys { get; }

    /// <summary>The latest requests, oldest first.</summary>
    public IReadOnlyList<CapturedRequest> Requests => [.. _captured];

    /// <summary>Starts a cloud on loopback.</summary>
    public static async Task<LocalCloudServer> StartAsync(LocalCloudOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.DataDirectory);
        var keys = CloudKeys.LoadOrCreate(options.DataDirectory);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, options.Port);
            if (options.DataPlane is { } dataPlane)
            {
                var devicesCa = new X509Certificate2Collection();
                devicesCa.ImportFromPemFile(dataPlane.DevicesCaFile);
                kestrel.Listen(IPAddress.Loopback, dataPlane.Port, listen => listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = X509Certificate2.CreateFromPemFile(dataPlane.CertificateFile, dataPlane.PrivateKeyFile),
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = (certificate, _, _) => DeviceCertificates.ChainsTo(certificate, devicesCa),
                }));
            }

            kestrel.Limits.MaxRequestBodySize = 5L * 1024 * 1024 * 1024;
            kestrel.AddServerHeader = false;
        });
        var app = builder.Build();
        var server = new LocalCloudServer(app, options, keys);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetService(typeof(IServer)) is IServer s ? s.Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [] : [];
        var address = addresses.FirstOrDefault(a => a.StartsWith("http:", StringComparison.Ordinal));
        server._endpoint = new Uri((address ?? throw new InvalidOperationException("Kestrel reported no address.")).Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        if (addresses.FirstOrDefault(a => a.StartsWith("https:", StringComparison.Ordinal)) is { } dataPlaneAddress)
        {
            server.DataPlaneEndpoint = new Uri(dataPlaneAddress.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal));
        }
        server._components.ProcessDue();
        server.Gateway?.Start();
        return server;
    }

    /// <summary>Forgets the captured requests.</summary>
    public void ClearRequests() => _captured.Clear();

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync().ConfigureAwait(false);
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        Jobs.Dispose();
        _coreDevices.Dispose();
        _retained.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        var body = buffer.ToArray();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in context.Request.Headers)
        {
            headers[name] = string.Join(',', values.ToArray());
        }

        var signed = new SignedRequest(context.Request.Method, raw, headers, body);
        var service = ServiceOf(signed);
        string? errorCode = null;
        if (context.Request.IsHttps)
        {
            errorCode = await HandleDeviceAsync(context, signed, requestId, body).ConfigureAwait(false);
            Capture(signed, raw, headers, body, context.Response.StatusCode, errorCode);
            return;
        }

        try
        {
            var auth = _verifier.Verify(signed);
            if (!auth.Ok)
            {
                throw ErrorResponses.ForAuth(service, auth);
            }

            if (_fault?.Invoke(signed.Method, raw) is { } injected)
            {
                throw injected;
            }

            var request = new CloudRequest(context, requestId, service, signed, auth, _verifier.Lookup(auth.AccessKeyId!)!);
            switch (service)
            {
                case CloudService.S3:
                    await _s3.HandleAsync(request, body).ConfigureAwait(false);
                    break;
                case CloudService.Sts:
                    await StsService.HandleAsync(context, request.Caller, body, requestId).ConfigureAwait(false);
                    break;
                case CloudService.GreengrassV2:
                    await _greengrass.DispatchAsync(request, body).ConfigureAwait(false);
                    break;
                case CloudService.Iot:
                    await _iot.DispatchAsync(request, body).ConfigureAwait(false);
                    break;
                case CloudService.IotData:
                    await _iotData.DispatchAsync(request, body).ConfigureAwait(false);
                    break;
                default:
                    throw new AwsServiceException("NotImplementedException", 501, $"The local Greengrass cloud does not serve {service} yet.");
            }
        }
        catch (AwsServiceException error)
        {
            errorCode = error.Code;
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ErrorResponses.WriteAsync(context, service, error, requestId).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            errorCode = "InternalFailure";
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ErrorResponses.WriteAsync(context, service, new AwsServiceException(service == CloudService.GreengrassV2 ? "InternalServerException" : "InternalError", 500, "The local cloud failed: " + error.Message), requestId).ConfigureAwait(false);
            }
        }

        Capture(signed, raw, headers, body, context.Response.StatusCode, errorCode, service);
    }

    private void Capture(SignedRequest signed, string raw, Dictionary<string, string> headers, byte[] body, int status, string? errorCode, CloudService service = CloudService.GreengrassV2)
    {
        if (_captureLimit > 0)
        {
            _captured.Enqueue(new CapturedRequest(service, signed.Method, raw, headers, body, status, errorCode));
            while (_captured.Count > _captureLimit && _captured.TryDequeue(out _))
            {
            }
        }
    }

    /// <summary>
    /// A core device's call to the Greengrass data plane: TLS already checked its certificate against the devices'
    /// CA; the certificate's common name is the thing, which must be in a registry (its account and region are the
    /// request's).
    /// </summary>
    private async Task<string?> HandleDeviceAsync(HttpContext context, SignedRequest signed, string requestId, byte[] body)
    {
        try
        {
            var thing = context.Connection.ClientCertificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
            if (string.IsNullOrEmpty(thing) || Registry.LocateThing(thing) is not { } place)
            {
                throw new AwsServiceException("AccessDeniedException", 403, $"The certificate's thing '{thing}' is not registered in this cloud.");
            }

            var caller = new CloudCredential("device:" + thing, string.Empty, place.Account, "thing/" + thing);
            var auth = new AuthResult(true, null, string.Empty, caller.AccessKeyId, "greengrass", place.Region, null, null, null, DateTime.UtcNow);
            await _dataPlane.DispatchAsync(new CloudRequest(context, requestId, CloudService.GreengrassV2, signed, auth, caller), body).ConfigureAwait(false);
            return null;
        }
        catch (AwsServiceException error)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Clear();
                await ErrorResponses.WriteAsync(context, CloudService.GreengrassV2, error, requestId).ConfigureAwait(false);
            }

            return error.Code;
        }
    }

    /// <summary>The service a request is for: the one its signature names, else what its shape says.</summary>
    private static CloudService ServiceOf(SignedRequest request) => SigV4Verifier.ServiceOf(request) switch
    {
        "s3" => CloudService.S3,
        "sts" => CloudService.Sts,
        "greengrass" => CloudService.GreengrassV2,
        "execute-api" or "iot" => CloudService.Iot,
        "iotdata" => CloudService.IotData,
        _ when request.RawTarget.StartsWith("/greengrass/", StringComparison.Ordinal) => CloudService.GreengrassV2,
        _ when request.RawTarget.Contains("Action=", StringComparison.Ordinal) || System.Text.Encoding.UTF8.GetString(request.Body).StartsWith("Action=", StringComparison.Ordinal) => CloudService.Sts,
        _ => CloudService.S3,
    };
}

/// <summary>
/// The key pairs a cloud keeps in <c>&lt;data&gt;/credentials.json</c> (mode 600), made at its first start: the
/// developer's default key for an account of its own, and the cloud's own key that signs the URLs it hands out.
/// </summary>
/// <param name="Default">The developer's key (the one <c>fogline cloud env</c> prints).</param>
/// <param name="Service">The cloud's own key.</param>
public sealed record CloudKeys(CloudCredential Default, CloudCredential Service)
{
    /// <summary>Every key.</summary>
    public IEnumerable<CloudCredential> All => [Default, Service];

    /// <summary>Reads the keys of <paramref name="dataDirectory"/>, making them on first use.</summary>
    public static CloudKeys LoadOrCreate(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, "credentials.json");
        if (File.Exists(file))
        {
            return JsonSerializer.Deserialize<CloudKeys>(File.ReadAllBytes(file), new JsonSerializerOptions(JsonSerializerDefaults.Web))
                ?? throw new InvalidDataException($"{file} holds no keys.");
        }

        var account = string.Concat(Enumerable.Range(0, 12).Select(i => (char)('0' + RandomNumberGenerator.GetInt32(i == 0 ? 1 : 0, 10))));
        var keys = new CloudKeys(
            new CloudCredential("AKIA" + Random(16), Secret(), account, "fogline-developer"),
            new CloudCredential("AKIA" + Random(16), Secret(), account, "greengrass-service", IsService: true));
        var temporary = file + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(keys, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temporary, file, overwrite: true);
        return keys;
    }

    private static string Random(int length) => RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", length);

    private static string Secret() => RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
}
