using System.Globalization;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Fogline.Aws;
using Fogline.LocalCloud.Http;
using Microsoft.AspNetCore.Http;

namespace Fogline.LocalCloud.S3;

/// <summary>
/// Amazon S3 as the AWS CLI and SDKs use it, path-style (<c>/bucket/key</c>) and virtual-host-style
/// (<c>bucket.HOST/key</c>): ListBuckets; CreateBucket (LocationConstraint, <c>BucketAlreadyOwnedByYou</c> outside
/// us-east-1, <c>BucketAlreadyExists</c> for another account's), HeadBucket (301 with <c>x-amz-bucket-region</c> from
/// the wrong region), GetBucketLocation, DeleteBucket, ListObjectsV2 (prefix, delimiter, pages, URL encoding);
/// PutObject (Content-MD5 checked, aws-chunked bodies decoded and their chunk signatures checked), GetObject (ranges),
/// HeadObject, DeleteObject; multipart uploads; presigned GETs (checked by the verifier). A bucket is its account's:
/// another account gets AccessDenied.
/// </summary>
internal sealed class S3Service(S3Store store, string endpointHost)
{
    private const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    public async Task HandleAsync(CloudRequest request, byte[] body)
    {
        var (bucketName, key) = Address(request);
        var context = request.Context;
        context.Response.Headers["x-amz-request-id"] = request.Id;
        if (bucketName is null)
        {
            if (request.Method == "GET")
            {
                await ListBucketsAsync(request).ConfigureAwait(false);
                return;
            }

            throw new AwsServiceException("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
        }

        if (key is null)
        {
            await BucketOperationAsync(request, bucketName, body).ConfigureAwait(false);
            return;
        }

        var bucket = OwnedBucket(request, bucketName);
        switch (request.Method)
        {
            case "PUT" when request.Query.Contains("uploadId"):
                UploadPart(request, bucket, key, Decoded(request, body));
                return;
            case "PUT":
                PutObject(request, bucket, key, Decoded(request, body));
                return;
            case "POST" when request.Query.Contains("uploads"):
                await CreateUploadAsync(request, bucket, key).ConfigureAwait(false);
                return;
            case "POST" when request.Query.Contains("uploadId"):
                await CompleteUploadAsync(request, bucket, body).ConfigureAwait(false);
                return;
            case "DELETE" when request.Query.Contains("uploadId"):
                store.AbortUpload(bucket.Name, request.Query["uploadId"].First());
                context.Response.StatusCode = 204;
                return;
            case "DELETE":
                store.Delete(bucket.Name, key);
                context.Response.StatusCode = 204;
                return;
            case "GET" or "HEAD":
                await GetObjectAsync(request, bucket, key, head: request.Method == "HEAD").ConfigureAwait(false);
                return;
            default:
                throw new AwsServiceException("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
        }
    }

    /// <summary>The bucket and key a request addresses: virtual-host style when the Host has a bucket label, else path style.</summary>
    private (string? Bucket, string? Key) Address(CloudRequest request)
    {
        var host = (request.Header("Host") ?? string.Empty).Split(':')[0];
        var path = request.RawPath.TrimStart('/');
        if (host.Length > endpointHost.Length && host.EndsWith("." + endpointHost, StringComparison.OrdinalIgnoreCase))
        {
            var virtualBucket = host[..^(endpointHost.Length + 1)];
            return (virtualBucket, path.Length == 0 ? null : Uri.UnescapeDataString(path));
        }

        if (path.Length == 0)
        {
            return (null, null);
        }

        var slash = path.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 || slash == path.Length - 1
            ? (Uri.UnescapeDataString(path.TrimEnd('/')), null)
            : (Uri.UnescapeDataString(path[..slash]), Uri.UnescapeDataString(path[(slash + 1)..]));
    }

    private async Task BucketOperationAsync(CloudRequest request, string name, byte[] body)
    {
        var context = request.Context;
        switch (request.Method)
        {
            case "PUT":
                CreateBucket(request, name, body);
                return;
            case "HEAD":
                {
                    var bucket = store.Bucket(name) ?? throw NoSuchBucket(name);
                    context.Response.Headers["x-amz-bucket-region"] = bucket.Region;
                    if (bucket.AccountId != request.Caller.AccountId)
                    {
                        throw new AwsServiceException("AccessDenied", 403, "Access Denied");
                    }

                    if (bucket.Region != request.Region)
                    {
                        throw new AwsServiceException("PermanentRedirect", 301, "The bucket you are attempting to access must be addressed using the specified endpoint.");
                    }

                    context.Response.StatusCode = 200;
                    return;
                }

            case "GET" when request.Query.Contains("location"):
                {
                    var bucket = store.Bucket(name) ?? throw NoSuchBucket(name);
                    if (bucket.AccountId != request.Caller.AccountId)
                    {
                        throw new AwsServiceException("AccessDenied", 403, "Access Denied");
                    }

                    var constraint = bucket.Region == "us-east-1" ? string.Empty : bucket.Region;
                    await WriteXmlAsync(context, $"<LocationConstraint xmlns=\"{Namespace}\">{constraint}</LocationConstraint>").ConfigureAwait(false);
                    return;
                }

            case "GET":
                await ListObjectsAsync(request, OwnedBucket(request, name)).ConfigureAwait(false);
                return;
            case "DELETE":
                {
                    var bucket = OwnedBucket(request, name);
                    if (!store.DeleteBucket(bucket.Name))
                    {
                        throw new AwsServiceException("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", new JsonObject { ["BucketName"] = name });
                    }

                    context.Response.StatusCode = 204;
                    return;
                }

            default:
                throw new AwsServiceException("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
        }
    }

    private void CreateBucket(CloudRequest request, string name, byte[] body)
    {
        if (name.Length is < 3 or > 63 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.') || !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            throw new AwsServiceException("InvalidBucketName", 400, "The specified bucket is not valid.", new JsonObject { ["BucketName"] = name });
        }

        string? constraint = null;
        if (body.Length > 0)
        {
            try
            {
                constraint = XDocument.Parse(Encoding.UTF8.GetString(body)).Descendants().FirstOrDefault(e => e.Name.LocalName == "LocationConstraint")?.Value;
            }
            catch (System.Xml.XmlException)
            {
                throw new AwsServiceException("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.");
            }
        }

        if (constraint == "us-east-1")
        {
            throw new AwsServiceException("InvalidLocationConstraint", 400, "The specified location-constraint is not valid", new JsonObject { ["LocationConstraint"] = constraint });
        }

        var region = string.IsNullOrEmpty(constraint) ? "us-east-1" : constraint;
        if (region != request.Region)
        {
            throw new AwsServiceException("IllegalLocationConstraintException", 400,
                constraint is null
                    ? "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
                    : $"The {constraint} location constraint is incompatible for the region specific endpoint this request was sent to.");
        }

        if (store.Bucket(name) is { } existing)
        {
            if (existing.AccountId != request.Caller.AccountId)
            {
                throw new AwsServiceException("BucketAlreadyExists", 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.", new JsonObject { ["BucketName"] = name });
            }

            if (existing.Region != "us-east-1")
            {
                throw new AwsServiceException("BucketAlreadyOwnedByYou", 409, "Your previous request to create the named bucket succeeded and you already own it.", new JsonObject { ["BucketName"] = name });
            }
        }
        else
        {
            store.CreateBucket(name, region, request.Caller.AccountId);
        }

        request.Context.Response.StatusCode = 200;
        request.Context.Response.Headers.Location = region == "us-east-1" ? "/" + name : $"http://{name}.s3.amazonaws.com/";
    }

    private void PutObject(CloudRequest request, S3Bucket bucket, string key, byte[] data)
    {
        CheckMd5(request, data);
        var metadata = request.Signed.Headers.Where(h => h.Key.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key[11..].ToLowerInvariant(), h => h.Value, StringComparer.Ordinal);
        var item = store.Put(bucket.Name, key, data, request.Header("Content-Type"), metadata);
        request.Context.Response.StatusCode = 200;
        request.Context.Response.Headers.ETag = item.ETag;
    }

    private void UploadPart(CloudRequest request, S3Bucket bucket, string key, byte[] data)
    {
        var uploadId = request.Query["uploadId"].First();
        if (store.UploadKey(bucket.Name, uploadId) != key)
        {
            throw NoSuchUpload(uploadId);
        }

        if (!int.TryParse(request.Query["partNumber"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var part) || part is < 1 or > 10000)
        {
            throw new AwsServiceException("InvalidArgument", 400, "Part number must be an integer between 1 and 10000, inclusive");
        }

        CheckMd5(request, data);
        request.Context.Response.StatusCode = 200;
        request.Context.Response.Headers.ETag = store.PutPart(bucket.Name, uploadId, part, data);
    }

    private async Task CreateUploadAsync(CloudRequest request, S3Bucket bucket, string key)
    {
        var metadata = request.Signed.Headers.Where(h => h.Key.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key[11..].ToLowerInvariant(), h => h.Value, StringComparer.Ordinal);
        var id = store.CreateUpload(bucket.Name, key, request.Header("Content-Type"), metadata);
        await WriteXmlAsync(request.Context, $"<InitiateMultipartUploadResult xmlns=\"{Namespace}\"><Bucket>{Escape(bucket.Name)}</Bucket><Key>{Escape(key)}</Key><UploadId>{id}</UploadId></InitiateMultipartUploadResult>").ConfigureAwait(false);
    }

    private async Task CompleteUploadAsync(CloudRequest request, S3Bucket bucket, byte[] body)
    {
        var uploadId = request.Query["uploadId"].First();
        var key = store.UploadKey(bucket.Name, uploadId) ?? throw NoSuchUpload(uploadId);
        XDocument document;
        try
        {
            document = XDocument.Parse(Encoding.UTF8.GetString(body));
        }
        catch (System.Xml.XmlException)
        {
            throw new AwsServiceException("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema.");
        }

        var parts = new List<byte[]>();
        var last = 0;
        foreach (var part in document.Descendants().Where(e => e.Name.LocalName == "Part"))
        {
            var number = int.Parse(part.Elements().First(e => e.Name.LocalName == "PartNumber").Value, CultureInfo.InvariantCulture);
            var etag = part.Elements().First(e => e.Name.LocalName == "ETag").Value;
            if (number <= last)
            {
                throw new AwsServiceException("InvalidPartOrder", 400, "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
            }

            var data = store.Part(bucket.Name, uploadId, number);
            if (data is null || "\"" + Convert.ToHexStringLower(MD5.HashData(data)) + "\"" != (etag.StartsWith('"') ? etag : "\"" + etag + "\""))
            {
                throw new AwsServiceException("InvalidPart", 400, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
            }

            parts.Add(data);
            last = number;
        }

        for (var i = 0; i < parts.Count - 1; i++)
        {
            if (parts[i].Length < 5 * 1024 * 1024)
            {
                throw new AwsServiceException("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.");
            }
        }

        var item = store.CompleteUpload(bucket.Name, uploadId, parts);
        await WriteXmlAsync(request.Context, $"<CompleteMultipartUploadResult xmlns=\"{Namespace}\"><Location>/{Escape(bucket.Name)}/{Escape(key)}</Location><Bucket>{Escape(bucket.Name)}</Bucket><Key>{Escape(key)}</Key><ETag>{Escape(item.ETag)}</ETag></CompleteMultipartUploadResult>").ConfigureAwait(false);
    }

    private async Task GetObjectAsync(CloudRequest request, S3Bucket bucket, string key, bool head)
    {
        var item = store.Head(bucket.Name, key) ?? throw new AwsServiceException("NoSuchKey", 404, "The specified key does not exist.", new JsonObject { ["Key"] = key });
        var response = request.Context.Response;
        response.Headers.ETag = item.ETag;
        response.Headers.LastModified = item.LastModified.ToString("R", CultureInfo.InvariantCulture);
        response.Headers.AcceptRanges = "bytes";
        response.ContentType = item.ContentType;
        foreach (var (name, value) in item.Metadata)
        {
            response.Headers["x-amz-meta-" + name] = value;
        }

        long start = 0;
        var end = item.Size - 1;
        if (request.Header("Range") is { } range && range.StartsWith("bytes=", StringComparison.Ordinal))
        {
            var parts = range[6..].Split('-', 2);
            if (parts[0].Length == 0)
            {
                start = Math.Max(0, item.Size - long.Parse(parts[1], CultureInfo.InvariantCulture));
            }
            else
            {
                start = long.Parse(parts[0], CultureInfo.InvariantCulture);
                end = parts[1].Length == 0 ? end : Math.Min(end, long.Parse(parts[1], CultureInfo.InvariantCulture));
            }

            if (start >= item.Size || start > end)
            {
                throw new AwsServiceException("InvalidRange", 416, "The requested range is not satisfiable", new JsonObject { ["RangeRequested"] = range, ["ActualObjectSize"] = item.Size.ToString(CultureInfo.InvariantCulture) });
            }

            response.StatusCode = 206;
            response.Headers.ContentRange = $"bytes {start}-{end}/{item.Size}";
        }
        else
        {
            response.StatusCode = 200;
        }

        response.ContentLength = end - start + 1;
        if (!head)
        {
            var data = store.Read(bucket.Name, key);
            await response.Body.WriteAsync(data.AsMemory((int)start, (int)(end - start + 1))).ConfigureAwait(false);
        }
    }

    private async Task ListObjectsAsync(CloudRequest request, S3Bucket bucket)
    {
        var q = request.Query;
        var prefix = q["prefix"].FirstOrDefault() ?? string.Empty;
        var delimiter = q["delimiter"].FirstOrDefault();
        var maxKeys = int.TryParse(q["max-keys"].FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? Math.Min(m, 1000) : 1000;
        var after = q["continuation-token"].FirstOrDefault() is { } token ? Encoding.UTF8.GetString(Convert.FromBase64String(token)) : q["start-after"].FirstOrDefault() ?? string.Empty;
        var url = q["encoding-type"].FirstOrDefault() == "url";
        string Enc(string text) => url ? Aws.Signing.SigV4.Encode(text, keepSlash: true) : Escape(text);

        var contents = new List<S3Object>();
        var prefixes = new SortedSet<string>(StringComparer.Ordinal);
        string? lastKey = null;
        var truncated = false;
        foreach (var item in store.List(bucket.Name).Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal) && string.CompareOrdinal(o.Key, after) > 0))
        {
            if (contents.Count + prefixes.Count >= maxKeys)
            {
                truncated = true;
                break;
            }

            if (delimiter is { Length: > 0 } && item.Key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) is var at and >= 0)
            {
                prefixes.Add(item.Key[..(at + delimiter.Length)]);
            }
            else
            {
                contents.Add(item);
            }

            lastKey = item.Key;
        }

        var xml = new StringBuilder();
        xml.Append($"<ListBucketResult xmlns=\"{Namespace}\"><Name>{Escape(bucket.Name)}</Name><Prefix>{Enc(prefix)}</Prefix>");
        if (delimiter is not null)
        {
            xml.Append($"<Delimiter>{Enc(delimiter)}</Delimiter>");
        }

        xml.Append($"<MaxKeys>{maxKeys}</MaxKeys>");
        if (url)
        {
            xml.Append("<EncodingType>url</EncodingType>");
        }

        xml.Append($"<KeyCount>{contents.Count + prefixes.Count}</KeyCount><IsTruncated>{(truncated ? "true" : "false")}</IsTruncated>");
        if (q["continuation-token"].FirstOrDefault() is { } given)
        {
            xml.Append($"<ContinuationToken>{Escape(given)}</ContinuationToken>");
        }

        if (truncated && lastKey is not null)
        {
            xml.Append($"<NextContinuationToken>{Convert.ToBase64String(Encoding.UTF8.GetBytes(lastKey))}</NextContinuationToken>");
        }

        foreach (var item in contents)
        {
            xml.Append($"<Contents><Key>{Enc(item.Key)}</Key><LastModified>{item.LastModified.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}</LastModified><ETag>{Escape(item.ETag)}</ETag><Size>{item.Size}</Size><StorageClass>STANDARD</StorageClass></Contents>");
        }

        foreach (var p in prefixes)
        {
            xml.Append($"<CommonPrefixes><Prefix>{Enc(p)}</Prefix></CommonPrefixes>");
        }

        xml.Append("</ListBucketResult>");
        await WriteXmlAsync(request.Context, xml.ToString()).ConfigureAwait(false);
    }

    private async Task ListBucketsAsync(CloudRequest request)
    {
        var xml = new StringBuilder($"<ListAllMyBucketsResult xmlns=\"{Namespace}\"><Owner><ID>{request.Caller.AccountId}</ID><DisplayName>{Escape(request.Caller.UserName)}</DisplayName></Owner><Buckets>");
        foreach (var b in store.Buckets(request.Caller.AccountId))
        {
            xml.Append($"<Bucket><Name>{Escape(b.Name)}</Name><CreationDate>{b.Created.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}</CreationDate></Bucket>");
        }

        xml.Append("</Buckets></ListAllMyBucketsResult>");
        await WriteXmlAsync(request.Context, xml.ToString()).ConfigureAwait(false);
    }

    /// <summary>The bucket, when it exists, is the caller's and is addressed in its region.</summary>
    private S3Bucket OwnedBucket(CloudRequest request, string name)
    {
        var bucket = store.Bucket(name) ?? throw NoSuchBucket(name);
        var serviceRead = request.Caller.IsService && request.Method is "GET" or "HEAD";
        if (bucket.AccountId != request.Caller.AccountId && !serviceRead)
        {
            throw new AwsServiceException("AccessDenied", 403, "Access Denied");
        }

        if (bucket.Region != request.Region)
        {
            throw new AwsServiceException("AuthorizationHeaderMalformed", 400, $"The authorization header is malformed; the region '{request.Region}' is wrong; expecting '{bucket.Region}'", new JsonObject { ["Region"] = bucket.Region });
        }

        return bucket;
    }

    /// <summary>The body's data: aws-chunked bodies are decoded (and their chunk signatures checked).</summary>
    private static byte[] Decoded(CloudRequest request, byte[] body)
    {
        var sha = request.Header("X-Amz-Content-SHA256") ?? string.Empty;
        return sha.StartsWith("STREAMING-", StringComparison.Ordinal) || (request.Header("Content-Encoding") ?? string.Empty).Contains("aws-chunked", StringComparison.Ordinal)
            ? AwsChunkedDecoder.Decode(body, sha, request.Auth).Data
            : body;
    }

    private static void CheckMd5(CloudRequest request, byte[] data)
    {
        if (request.Header("Content-MD5") is { } md5 && md5 != Convert.ToBase64String(MD5.HashData(data)))
        {
            throw new AwsServiceException("BadDigest", 400, "The Content-MD5 you specified did not match what we received.");
        }
    }

    private static AwsServiceException NoSuchBucket(string name) =>
        new("NoSuchBucket", 404, "The specified bucket does not exist", new JsonObject { ["BucketName"] = name });

    private static AwsServiceException NoSuchUpload(string id) =>
        new("NoSuchUpload", 404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", new JsonObject { ["UploadId"] = id });

    private static Task WriteXmlAsync(HttpContext context, string xml)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/xml";
        return context.Response.WriteAsync("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + xml);
    }

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;
}
