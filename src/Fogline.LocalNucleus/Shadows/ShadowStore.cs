using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Fogline.LocalNucleus.Shadows;

/// <summary>A shadow: its thing and its name ("" for the classic shadow).</summary>
internal readonly record struct ShadowKey(string ThingName, string ShadowName);

/// <summary>A stored shadow, as a row of the shadow manager's <c>documents</c> table: the document JSON (<c>{"state", "metadata"}</c>), its version and when it was last written (epoch seconds).</summary>
internal sealed record StoredShadow(ShadowKey Key, byte[] Document, long Version, long UpdateTime);

/// <summary>
/// The shadows on disk, one JSON file per shadow in <c>&lt;root&gt;/shadows</c>, each written atomically (a temporary
/// file renamed over the old one) and removed when the shadow is deleted; all are read when the Nucleus starts. The
/// file names are derived from the thing and shadow names (readable part, plus a hash so that names differing only in
/// case or in characters a file name cannot hold stay apart); the names themselves are inside the files.
/// </summary>
internal sealed class ShadowStore
{
    private const string Extension = ".json";
    private const string TemporaryExtension = ".tmp";

    private readonly ConcurrentDictionary<ShadowKey, StoredShadow> _shadows = new();
    private readonly ILogger _logger;

    public ShadowStore(string directory, ILogger logger)
    {
        Directory = directory;
        _logger = logger;
        Load();
    }

    /// <summary>The directory of the shadow files.</summary>
    public string Directory { get; }

    public int Count => _shadows.Count;

    public IReadOnlyCollection<ShadowKey> Keys => [.. _shadows.Keys];

    public bool TryGet(ShadowKey key, out StoredShadow shadow) => _shadows.TryGetValue(key, out shadow!);

    /// <summary>Writes a shadow (to disk, then in memory). Callers hold the shadow's lock.</summary>
    public void Put(StoredShadow shadow)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = PathOf(shadow.Key);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + TemporaryExtension;
        var file = new JObject();
        file.Set("thingName", new JString(shadow.Key.ThingName));
        file.Set("shadowName", new JString(shadow.Key.ShadowName));
        file.Set("version", new JInteger(shadow.Version));
        file.Set("updateTime", new JInteger(shadow.UpdateTime));
        file.Set("document", ShadowJson.Parse(shadow.Document));
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(ShadowJson.ToBytes(file));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }

        _shadows[shadow.Key] = shadow;
    }

    /// <summary>Removes a shadow (from disk, then from memory); false when there is none. Callers hold the shadow's lock.</summary>
    public bool Remove(ShadowKey key)
    {
        if (!_shadows.ContainsKey(key))
        {
            return false;
        }

        File.Delete(PathOf(key));
        return _shadows.TryRemove(key, out _);
    }

    /// <summary>
    /// The named shadows of a thing, <paramref name="limit"/> of them from <paramref name="offset"/>, in the order of
    /// the shadow manager's table key (shadow names in ordinal order).
    /// </summary>
    public List<string> ListNamed(string thingName, int offset, int limit) =>
        [.. _shadows.Keys
            .Where(k => k.ThingName == thingName && k.ShadowName.Length > 0)
            .Select(k => k.ShadowName)
            .Order(StringComparer.Ordinal)
            .Skip(offset)
            .Take(limit)];

    /// <summary>The file of a shadow.</summary>
    public string PathOf(ShadowKey key)
    {
        var readable = Sanitize(key.ThingName) + (key.ShadowName.Length > 0 ? "~" + Sanitize(key.ShadowName) : string.Empty);
        if (readable.Length > 150)
        {
            readable = readable[..150];
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key.ThingName + "\n" + key.ShadowName));
        return Path.Combine(Directory, readable + "." + Convert.ToHexStringLower(hash.AsSpan(0, 8)) + Extension);
    }

    private static string Sanitize(string name)
    {
        var builder = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        }

        return builder.ToString();
    }

    private void Load()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }

        foreach (var temporary in System.IO.Directory.EnumerateFiles(Directory, "*" + TemporaryExtension))
        {
            TryDelete(temporary);
        }

        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            try
            {
                var shadow = Read(path);
                if (!_shadows.TryGetValue(shadow.Key, out var existing) || existing.Version < shadow.Version)
                {
                    _shadows[shadow.Key] = shadow;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidDataException or ShadowRequestException or InvalidOperationException)
            {
                ShadowsLog.ShadowFileUnreadable(_logger, path, ex.Message);
            }
        }

        ShadowsLog.ShadowsLoaded(_logger, _shadows.Count, Directory);
    }

    private static StoredShadow Read(string path)
    {
        if (ShadowJson.Parse(File.ReadAllBytes(path)) is not JObject file
            || file.Get("thingName") is not JString thing
            || file.Get("shadowName") is not JString shadow
            || file.Get("version") is not JInteger { Value.Sign: > 0 } version
            || file.Get("document") is not JObject document)
        {
            throw new InvalidDataException("not a shadow file (thingName, shadowName, version and document are required)");
        }

        ShadowValidation.ValidateShadowRequest(thing.Value, shadow.Value);
        _ = ShadowDocument.FromStored(document, version.AsLong());
        var updateTime = file.Get("updateTime") is JInteger time ? time.AsLong() : 0;
        return new StoredShadow(new ShadowKey(thing.Value, shadow.Value), ShadowJson.ToBytes(document), version.AsLong(), updateTime);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next start to clean up.
        }
    }
}
