using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Fogline.LocalCloud.Storage;

namespace Fogline.LocalCloud.S3;

/// <summary>A bucket: where it is and whose it is.</summary>
public sealed record S3Bucket(string Name, string Region, string AccountId, DateTimeOffset Created);

/// <summary>An object's metadata.</summary>
public sealed record S3Object(string Bucket, string Key, long Size, string ETag, DateTimeOffset LastModified, string ContentType, IReadOnlyDictionary<string, string> Metadata);

/// <summary>
/// S3's data on disk under <c>&lt;data&gt;/s3</c>: <c>buckets/&lt;name&gt;.json</c>, and per bucket the objects as
/// <c>objects/&lt;sha256(key)&gt;.bin</c> with their metadata beside (<c>.json</c>), multipart uploads under
/// <c>uploads/&lt;id&gt;/</c>. Everything is written atomically; one lock orders the writes.
/// </summary>
public sealed class S3Store
{
    private readonly string _root;
    private readonly Lock _lock = new();

    /// <summary>Opens (or creates) the store under <paramref name="dataDirectory"/>.</summary>
    public S3Store(string dataDirectory)
    {
        _root = Path.Combine(dataDirectory, "s3");
        Directory.CreateDirectory(Path.Combine(_root, "buckets"));
    }

    /// <summary>A bucket, or null.</summary>
    public S3Bucket? Bucket(string name)
    {
        var json = JsonFiles.Read(BucketFile(name));
        return json is null ? null : new S3Bucket(name, json["region"]!.GetValue<string>(), json["account"]!.GetValue<string>(), DateTimeOffset.Parse(json["created"]!.GetValue<string>(), CultureInfo.InvariantCulture));
    }

    /// <summary>Every bucket of an account.</summary>
    public IReadOnlyList<S3Bucket> Buckets(string accountId) =>
        [.. Directory.GetFiles(Path.Combine(_root, "buckets"), "*.json").Select(f => Bucket(Path.GetFileNameWithoutExtension(f))!).Where(b => b.AccountId == accountId).OrderBy(b => b.Name, StringComparer.Ordinal)];

    /// <summary>Creates a bucket.</summary>
    public S3Bucket CreateBucket(string name, string region, string accountId)
    {
        lock (_lock)
        {
            var bucket = new S3Bucket(name, region, accountId, DateTimeOffset.UtcNow);
            JsonFiles.Write(BucketFile(name), new JsonObject { ["region"] = region, ["account"] = accountId, ["created"] = bucket.Created.ToString("o", CultureInfo.InvariantCulture) });
            Directory.CreateDirectory(Path.Combine(_root, name, "objects"));
            return bucket;
        }
    }

    /// <summary>Deletes an empty bucket; false when it holds objects.</summary>
    public bool DeleteBucket(string name)
    {
        lock (_lock)
        {
            if (Directory.Exists(Path.Combine(_root, name, "objects")) && Directory.EnumerateFiles(Path.Combine(_root, name, "objects"), "*.json").Any())
            {
                return false;
            }

            File.Delete(BucketFile(name));
            if (Directory.Exists(Path.Combine(_root, name)))
            {
                Directory.Delete(Path.Combine(_root, name), recursive: true);
            }

            return true;
        }
    }

    /// <summary>Stores an object (replacing one with the same key); returns it.</summary>
    public S3Object Put(string bucket, string key, ReadOnlySpan<byte> data, string? contentType, IReadOnlyDictionary<string, string> metadata, string? etag = null)
    {
        etag ??= "\"" + Convert.ToHexStringLower(MD5.HashData(data)) + "\"";
        var item = new S3Object(bucket, key, data.Length, etag, DateTimeOffset.UtcNow, contentType ?? "binary/octet-stream", metadata);
        var name = JsonFiles.NameFor(key);
        lock (_lock)
        {
            JsonFiles.WriteBytes(Path.Combine(_root, bucket, "objects", name + ".bin"), data);
            var meta = new JsonObject
            {
                ["key"] = key,
                ["size"] = item.Size,
                ["etag"] = etag,
                ["lastModified"] = item.LastModified.ToString("o", CultureInfo.InvariantCulture),
                ["contentType"] = item.ContentType,
                ["metadata"] = new JsonObject(metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))),
            };
            JsonFiles.Write(Path.Combine(_root, bucket, "objects", name + ".json"), meta);
        }

        return item;
    }

    /// <summary>An object's metadata, or null.</summary>
    public S3Object? Head(string bucket, string key) => ReadMeta(bucket, Path.Combine(_root, bucket, "objects", JsonFiles.NameFor(key) + ".json"));

    /// <summary>An object's bytes.</summary>
    public byte[] Read(string bucket, string key) => File.ReadAllBytes(Path.Combine(_root, bucket, "objects", JsonFiles.NameFor(key) + ".bin"));

    /// <summary>Deletes an object (nothing when it is not there).</summary>
    public void Delete(string bucket, string key)
    {
        var name = JsonFiles.NameFor(key);
        lock (_lock)
        {
            File.Delete(Path.Combine(_root, bucket, "objects", name + ".json"));
            File.Delete(Path.Combine(_root, bucket, "objects", name + ".bin"));
        }
    }

    /// <summary>Every object of a bucket, by key.</summary>
    public IReadOnlyList<S3Object> List(string bucket)
    {
        var directory = Path.Combine(_root, bucket, "objects");
        return Directory.Exists(directory)
            ? [.. Directory.GetFiles(directory, "*.json").Select(f => ReadMeta(bucket, f)).OfType<S3Object>().OrderBy(o => o.Key, StringComparer.Ordinal)]
            : [];
    }

    /// <summary>Starts a multipart upload; returns its id.</summary>
    public string CreateUpload(string bucket, string key, string? contentType, IReadOnlyDictionary<string, string> metadata)
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        JsonFiles.Write(Path.Combine(_root, bucket, "uploads", id, "upload.json"), new JsonObject
        {
            ["key"] = key,
            ["contentType"] = contentType,
            ["metadata"] = new JsonObject(metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value))),
        });
        return id;
    }

    /// <summary>The key of an upload, or null when there is no such upload.</summary>
    public string? UploadKey(string bucket, string uploadId) =>
        IsUploadId(uploadId) ? JsonFiles.Read(Path.Combine(_root, bucket, "uploads", uploadId, "upload.json"))?["key"]?.GetValue<string>() : null;

    /// <summary>Stores a part; returns its ETag.</summary>
    public string PutPart(string bucket, string uploadId, int partNumber, ReadOnlySpan<byte> data)
    {
        var etag = "\"" + Convert.ToHexStringLower(MD5.HashData(data)) + "\"";
        JsonFiles.WriteBytes(Path.Combine(_root, bucket, "uploads", uploadId, partNumber.ToString(CultureInfo.InvariantCulture) + ".part"), data);
        return etag;
    }

    /// <summary>The bytes of a part, or null.</summary>
    public byte[]? Part(string bucket, string uploadId, int partNumber)
    {
        var path = Path.Combine(_root, bucket, "uploads", uploadId, partNumber.ToString(CultureInfo.InvariantCulture) + ".part");
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    /// <summary>Finishes an upload into an object from the given parts (checked by the caller).</summary>
    public S3Object CompleteUpload(string bucket, string uploadId, IReadOnlyList<byte[]> parts)
    {
        var upload = JsonFiles.Read(Path.Combine(_root, bucket, "uploads", uploadId, "upload.json"))!;
        var all = new MemoryStream();
        var md5s = new MemoryStream();
        foreach (var part in parts)
        {
            all.Write(part);
            md5s.Write(MD5.HashData(part));
        }

        var etag = $"\"{Convert.ToHexStringLower(MD5.HashData(md5s.ToArray()))}-{parts.Count.ToString(CultureInfo.InvariantCulture)}\"";
        var metadata = upload["metadata"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>());
        var item = Put(bucket, upload["key"]!.GetValue<string>(), all.ToArray(), upload["contentType"]?.GetValue<string>(), metadata, etag);
        AbortUpload(bucket, uploadId);
        return item;
    }

    /// <summary>Drops an upload and its parts.</summary>
    public void AbortUpload(string bucket, string uploadId)
    {
        var directory = Path.Combine(_root, bucket, "uploads", uploadId);
        if (IsUploadId(uploadId) && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static bool IsUploadId(string id) => id.Length == 32 && id.All(char.IsAsciiHexDigitLower);

    private string BucketFile(string name) => Path.Combine(_root, "buckets", name + ".json");

    private static S3Object? ReadMeta(string bucket, string path)
    {
        var json = JsonFiles.Read(path);
        return json is null
            ? null
            : new S3Object(
                bucket,
                json["key"]!.GetValue<string>(),
                json["size"]!.GetValue<long>(),
                json["etag"]!.GetValue<string>(),
                DateTimeOffset.Parse(json["lastModified"]!.GetValue<string>(), CultureInfo.InvariantCulture),
                json["contentType"]!.GetValue<string>(),
                json["metadata"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()));
    }
}
