using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.S3;
using Amazon.S3.Model;
using Fogline.Aws;
using Fogline.Aws.GreengrassV2;
using Fogline.Greengrass.Recipes;

namespace Fogline.Gdk.Publishing;

/// <summary>What <c>fogline component publish</c> was given: GDK's flags.</summary>
/// <param name="Bucket"><c>--bucket</c>: used as it is (no suffix), as GDK does.</param>
/// <param name="Region"><c>--region</c>: overrides gdk-config.json's publish.region.</param>
/// <param name="Options"><c>--options</c>: a JSON object, or a path to a .json file, replacing publish.options.</param>
public sealed record PublishOptions(string? Bucket = null, string? Region = null, string? Options = null)
{
    /// <summary>How long to wait for the version to be DEPLOYABLE.</summary>
    public TimeSpan DeployableTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Whether <see cref="ComponentPublisher.PublishAsync"/> waits until the version is DEPLOYABLE (GDK does, one
    /// component after the other); false leaves it to <see cref="ComponentPublisher.WaitDeployableAsync"/>, so that
    /// several components are processed by the service at the same time.
    /// </summary>
    public bool WaitUntilDeployable { get; init; } = true;
}

/// <summary>One uploaded (or already present) artifact.</summary>
/// <param name="File">The file name.</param>
/// <param name="Key">The S3 key.</param>
/// <param name="Bytes">Its size.</param>
/// <param name="Uploaded">False when the same bytes were already there (a resumed publish).</param>
/// <param name="Elapsed">How long the upload took.</param>
public sealed record PublishedArtifact(string File, string Key, long Bytes, bool Uploaded, TimeSpan Elapsed);

/// <summary>What a publish did.</summary>
/// <param name="ComponentName">The component.</param>
/// <param name="Version">The version created.</param>
/// <param name="Arn">Its ARN.</param>
/// <param name="Bucket">The artifact bucket.</param>
/// <param name="Artifacts">The artifacts.</param>
/// <param name="State">The cloud state it reached (DEPLOYABLE).</param>
/// <param name="Elapsed">The whole publish.</param>
public sealed record PublishResult(string ComponentName, string Version, string Arn, string Bucket, IReadOnlyList<PublishedArtifact> Artifacts, string State, TimeSpan Elapsed)
{
    /// <summary>When its publishing started (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    internal long Started { get; init; }
}

/// <summary>
/// Publishes a built GDK project as <c>gdk component publish</c> does (read from GDK's source; the facts are in
/// docs/gdk.md), in an order that never leaves a half-published version: account (STS GetCallerIdentity), region
/// (<c>--region</c>, else gdk-config.json, else the AWS settings), bucket (<c>--bucket</c> as given, else
/// <c>BUCKET-REGION-ACCOUNT</c>), version (as configured, or NEXT_PATCH: the patch after the highest version
/// ListComponentVersions returns, 1.0.0 when there is none); then the publish recipe is made and checked and an
/// existing version refused, all before the first byte is uploaded (GDK uploads first); then the bucket is checked
/// (GetBucketLocation: created when missing, an error when another account's or in another region), each artifact
/// uploaded to <c>NAME/VERSION/FILE</c> (skipped when the same bytes are there, so a publish that failed mid-upload
/// resumes), CreateComponentVersion, and a wait until DescribeComponent says DEPLOYABLE (GDK does not wait), or the
/// service's reason for FAILED.
/// </summary>
public sealed class ComponentPublisher
{
    private static readonly string[] UploadArgs = ["ContentType", "Metadata", "ACL", "ServerSideEncryption", "StorageClass"];
    private readonly AwsClients _aws;
    private readonly TextWriter _log;
    private readonly TimeProvider _time;
    private string? _account;

    /// <summary>Creates a publisher that calls AWS (or a local cloud) through <paramref name="aws"/> and writes progress to <paramref name="log"/>.</summary>
    public ComponentPublisher(AwsClients aws, TextWriter log, TimeProvider? time = null)
    {
        _aws = aws ?? throw new ArgumentNullException(nameof(aws));
        _log = log ?? throw new ArgumentNullException(nameof(log));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Publishes <paramref name="project"/> (built).</summary>
    /// <exception cref="GdkException">The project, its build or the recipe is wrong, or the version exists; nothing was published.</exception>
    /// <exception cref="AwsServiceException">A Greengrass call failed.</exception>
    /// <exception cref="AwsSettingsException">The credentials are missing or refused.</exception>
    public async Task<PublishResult> PublishAsync(GdkProject project, PublishOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(options);
        var started = Stopwatch.GetTimestamp();
        var config = project.Config;
        var name = config.ComponentName;
        if (!Directory.Exists(project.ComponentArtifactsDirectory))
        {
            throw new GdkException($"{name} is not built: {project.ComponentArtifactsDirectory} does not exist (run `fogline component build` in {project.Directory})");
        }

        var uploadArgs = UploadArguments(options.Options, config.Publish.Options);
        _account ??= await _aws.AccountAsync(cancellationToken).ConfigureAwait(false);
        var account = _account;
        var region = FirstNonEmpty(options.Region, config.Publish.Region, _aws.Settings.Region)!;
        if (region != _aws.Settings.Region)
        {
            throw new GdkException($"the publish region is {region} (from {(string.IsNullOrEmpty(options.Region) ? "gdk-config.json" : "--region")}) but the AWS clients are set up for {_aws.Settings.Region}");
        }

        var bucket = !string.IsNullOrWhiteSpace(options.Bucket) ? options.Bucket!
            : !string.IsNullOrWhiteSpace(config.Publish.Bucket) ? $"{config.Publish.Bucket.Trim()}-{region}-{account}"
            : throw new GdkException("Bucket cannot be empty. Please provide a valid bucket.");
        var componentArn = $"arn:aws:greengrass:{region}:{account}:components:{name}";
        var existing = await VersionsAsync(componentArn, cancellationToken).ConfigureAwait(false);
        var version = config.IsNextPatch ? NextPatch(existing) : config.Version;
        await _log.WriteLineAsync($"{name}: publishing version {version} to account {account} in {region} (artifacts in s3://{bucket}/{name}/{version}/)").ConfigureAwait(false);
        if (existing.Any(v => v.PrecedenceEquals(SemVersion.Parse(version)) && v.ToString() == version))
        {
            throw new GdkException($"{name} {version} already exists in account {account} ({region}): a published version cannot change; publish a new one (version NEXT_PATCH, or a higher version in gdk-config.json)");
        }

        var recipe = PublishRecipe.Create(project, version, bucket);
        await EnsureBucketAsync(bucket, region, cancellationToken).ConfigureAwait(false);
        var artifacts = new List<PublishedArtifact>();
        foreach (var file in recipe.ArtifactFiles)
        {
            artifacts.Add(await UploadAsync(file, bucket, $"{name}/{version}/{Path.GetFileName(file)}", uploadArgs, cancellationToken).ConfigureAwait(false));
        }

        CreateComponentVersionResponse created;
        try
        {
            created = await _aws.Greengrass.CreateComponentVersionAsync(new CreateComponentVersionRequest { InlineRecipe = recipe.Bytes }, cancellationToken).ConfigureAwait(false);
        }
        catch (AwsServiceException e) when (e.Code == GreengrassV2Errors.ConflictException)
        {
            throw new GdkException($"{name} {version} already exists (the service's ConflictException: {e.Message}); publish a new version");
        }

        await _log.WriteLineAsync($"{name}: created {created.Arn} ({created.Status?.ComponentState}); waiting until it is DEPLOYABLE").ConfigureAwait(false);
        var result = new PublishResult(name, version, created.Arn!, bucket, artifacts, created.Status?.ComponentState ?? CloudComponentState.REQUESTED, Stopwatch.GetElapsedTime(started)) { Started = started };
        return options.WaitUntilDeployable ? await WaitDeployableAsync(result, options.DeployableTimeout, cancellationToken).ConfigureAwait(false) : result;
    }

    /// <summary>Waits until the version <paramref name="published"/> created is DEPLOYABLE (polling DescribeComponent).</summary>
    /// <exception cref="GdkException">The service failed it (its reasons are in the message), or the wait timed out.</exception>
    public async Task<PublishResult> WaitDeployableAsync(PublishResult published, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(published);
        var state = await WaitDeployableAsync(published.Arn, timeout, cancellationToken).ConfigureAwait(false);
        return published with { State = state, Elapsed = Stopwatch.GetElapsedTime(published.Started) };
    }

    /// <summary>The version after the highest of <paramref name="existing"/>: its patch plus one (pre-release and build dropped), or 1.0.0.</summary>
    public static string NextPatch(IReadOnlyList<SemVersion> existing)
    {
        ArgumentNullException.ThrowIfNull(existing);
        var highest = existing.Count == 0 ? null : existing.Max();
        return highest is null ? "1.0.0" : $"{highest.Major}.{highest.Minor}.{highest.Patch + 1}";
    }

    private async Task<List<SemVersion>> VersionsAsync(string componentArn, CancellationToken cancellationToken)
    {
        var versions = new List<SemVersion>();
        string? token = null;
        do
        {
            var page = await _aws.Greengrass.ListComponentVersionsAsync(new ListComponentVersionsRequest { Arn = componentArn, NextToken = token }, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.ComponentVersions ?? [])
            {
                if (SemVersion.TryParse(item.ComponentVersion, out var parsed))
                {
                    versions.Add(parsed);
                }
            }

            token = string.IsNullOrEmpty(page.NextToken) ? null : page.NextToken;
        }
        while (token is not null);
        return versions;
    }

    /// <summary>GDK's bucket check (GetBucketLocation): missing → created in the region; elsewhere or not ours → an error.</summary>
    private async Task EnsureBucketAsync(string bucket, string region, CancellationToken cancellationToken)
    {
        try
        {
            var location = await _aws.S3.GetBucketLocationAsync(new GetBucketLocationRequest { BucketName = bucket }, cancellationToken).ConfigureAwait(false);
            var actual = string.IsNullOrEmpty(location.Location?.Value) ? "us-east-1" : location.Location.Value == "EU" ? "eu-west-1" : location.Location.Value;
            if (actual != region)
            {
                throw new GdkException($"the bucket '{bucket}' is yours but in region {actual}, not {region}; pass --bucket with a bucket in {region}, or --region {actual}");
            }

            return;
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchBucket")
        {
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "AccessDenied" || e.StatusCode == HttpStatusCode.Forbidden)
        {
            throw new GdkException($"the bucket '{bucket}' exists and is not yours (S3 {e.ErrorCode}); choose another bucket name (publish.bucket in gdk-config.json, or --bucket)");
        }

        var request = new PutBucketRequest { BucketName = bucket };
        if (region != "us-east-1")
        {
            request.BucketRegionName = region;
        }

        try
        {
            await _aws.S3.PutBucketAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyExists")
        {
            throw new GdkException($"the bucket '{bucket}' exists and is not yours (S3 {e.ErrorCode}); choose another bucket name (publish.bucket in gdk-config.json, or --bucket)");
        }

        await _log.WriteLineAsync($"  created the bucket {bucket} in {region}").ConfigureAwait(false);
    }

    /// <summary>Uploads one artifact, unless the object already has the same bytes (its ETag is their MD5).</summary>
    private async Task<PublishedArtifact> UploadAsync(string file, string bucket, string key, Action<PutObjectRequest> uploadArgs, CancellationToken cancellationToken)
    {
        var size = new FileInfo(file).Length;
        byte[] md5;
        var stream = File.OpenRead(file);
        await using (stream.ConfigureAwait(false))
        {
            md5 = await MD5.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        var etag = "\"" + Convert.ToHexStringLower(md5) + "\"";
        try
        {
            var head = await _aws.S3.GetObjectMetadataAsync(bucket, key, cancellationToken).ConfigureAwait(false);
            if (head.ContentLength == size && head.ETag == etag)
            {
                await _log.WriteLineAsync($"  {Path.GetFileName(file),-28} {Size(size),10}  already uploaded (same MD5)").ConfigureAwait(false);
                return new PublishedArtifact(Path.GetFileName(file), key, size, false, TimeSpan.Zero);
            }
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
        }

        var watch = Stopwatch.StartNew();
        // As botocore sends it (GDK uploads with boto3): not aws-chunked; the payload signed whole over http and left
        // unsigned over https (Content-MD5 covers it there), and the content type S3 stores when none is given (the
        // .NET SDK would otherwise guess one from the file's extension).
        var request = new PutObjectRequest
        {
            BucketName = bucket,
            Key = key,
            FilePath = file,
            MD5Digest = Convert.ToBase64String(md5),
            DisablePayloadSigning = _aws.Settings.EndpointFor(AwsService.S3).Scheme == Uri.UriSchemeHttps,
            UseChunkEncoding = false,
            ContentType = "binary/octet-stream",
        };
        uploadArgs(request);
        var response = await _aws.S3.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        watch.Stop();
        if (response.ETag != etag)
        {
            throw new GdkException($"S3 stored s3://{bucket}/{key} with ETag {response.ETag}, not the MD5 of {file} ({etag})");
        }

        var rate = size / Math.Max(watch.Elapsed.TotalSeconds, 1e-6);
        await _log.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  {Path.GetFileName(file),-28} {Size(size),10}  uploaded in {watch.Elapsed.TotalSeconds:0.00} s ({Size((long)rate)}/s)")).ConfigureAwait(false);
        return new PublishedArtifact(Path.GetFileName(file), key, size, true, watch.Elapsed);
    }

    private async Task<string> WaitDeployableAsync(string arn, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _time.GetUtcNow() + timeout;
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            var described = await _aws.Greengrass.DescribeComponentAsync(new DescribeComponentRequest { Arn = arn }, cancellationToken).ConfigureAwait(false);
            var status = described.Status;
            switch (status?.ComponentState)
            {
                case CloudComponentState.DEPLOYABLE:
                    return CloudComponentState.DEPLOYABLE;
                case CloudComponentState.FAILED:
                    var reasons = status.Errors is { Count: > 0 } errors ? ": " + string.Join("; ", errors.Select(e => $"{e.Key}: {e.Value}")) : string.Empty;
                    throw new GdkException($"the service could not make {arn} deployable (FAILED: {status.Message}{reasons})");
            }

            if (_time.GetUtcNow() > deadline)
            {
                throw new GdkException($"{arn} is still {status?.ComponentState} after {timeout.TotalSeconds:0} s; check it later with `fogline component list`");
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
        }
    }

    /// <summary>
    /// GDK's <c>publish.options.file_upload_args</c> (or <c>--options</c>, which replaces publish.options): the
    /// upload arguments boto3 takes that mean something for an artifact (ContentType, Metadata, ACL,
    /// ServerSideEncryption, StorageClass); anything else is an error rather than silently ignored.
    /// </summary>
    private static Action<PutObjectRequest> UploadArguments(string? flag, JsonObject configured)
    {
        JsonObject options = configured;
        if (!string.IsNullOrWhiteSpace(flag))
        {
            var text = flag.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                ? File.Exists(flag) ? File.ReadAllText(flag) : throw new GdkException("JSON file path provided in the command does not exist. Please provide a valid JSON file.")
                : flag;
            try
            {
                options = JsonNode.Parse(text) as JsonObject ?? throw new GdkException($"--options must be a JSON object, not {text}");
            }
            catch (JsonException e)
            {
                throw new GdkException($"Argument '{flag}' provided in the command is invalid. JSON string is incorrectly formatted. Error: {e.Message}");
            }
        }

        if (options["file_upload_args"] is not JsonObject args)
        {
            return _ => { };
        }

        var unknown = args.Select(a => a.Key).Except(UploadArgs, StringComparer.Ordinal).ToList();
        if (unknown.Count > 0)
        {
            throw new GdkException($"file_upload_args: {string.Join(", ", unknown)} not supported; fogline takes {string.Join(", ", UploadArgs)}");
        }

        return request =>
        {
            if (args["ContentType"] is { } type)
            {
                request.ContentType = type.GetValue<string>();
            }

            if (args["ACL"] is { } acl)
            {
                request.CannedACL = new S3CannedACL(acl.GetValue<string>());
            }

            if (args["ServerSideEncryption"] is { } sse)
            {
                request.ServerSideEncryptionMethod = new ServerSideEncryptionMethod(sse.GetValue<string>());
            }

            if (args["StorageClass"] is { } storage)
            {
                request.StorageClass = new S3StorageClass(storage.GetValue<string>());
            }

            if (args["Metadata"] is JsonObject metadata)
            {
                foreach (var (key, value) in metadata)
                {
                    request.Metadata[key] = value?.ToString();
                }
            }
        };
    }

    private static string? FirstNonEmpty(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v));

    /// <summary>A byte count for people: B, KiB, MiB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB"),
    };
}
