using System.Security.Cryptography;

namespace Fogline.Dashboard.Web;

/// <summary>The page's files, embedded in the binary (wwwroot/), each with its content type and an ETag.</summary>
public sealed class StaticAssets
{
    private readonly Dictionary<string, Asset> _assets = new(StringComparer.Ordinal);

    /// <summary>Loads every embedded wwwroot/ file.</summary>
    public StaticAssets()
    {
        var assembly = typeof(StaticAssets).Assembly;
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith("wwwroot/", StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var etag = "\"" + Convert.ToHexString(SHA256.HashData(bytes).AsSpan(0, 8)) + "\"";
            _assets["/" + name["wwwroot/".Length..]] = new Asset(bytes, ContentType(name), etag);
        }
    }

    /// <summary>The asset at <paramref name="path"/> (e.g. <c>/app.js</c>).</summary>
    public bool TryGet(string path, out Asset asset) => _assets.TryGetValue(path, out asset!);

    private static string ContentType(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".json" => "application/json",
        _ => "application/octet-stream",
    };

    /// <summary>One file.</summary>
    /// <param name="Bytes">Its content.</param>
    /// <param name="ContentType">Its content type.</param>
    /// <param name="ETag">A strong ETag of its content.</param>
    public sealed record Asset(byte[] Bytes, string ContentType, string ETag);
}
