using System.Text.Json;
using System.Text.Json.Nodes;

namespace Fogline.LocalCloud.Storage;

/// <summary>
/// The local cloud's state on disk: small JSON documents written atomically (a temporary file renamed over the old
/// one), so a cloud that is stopped or killed at any moment starts again with everything it had answered.
/// </summary>
public static class JsonFiles
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="node"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, JsonNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp-" + Environment.CurrentManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        File.WriteAllText(temporary, node.ToJsonString(Indented));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Writes bytes atomically.</summary>
    public static void WriteBytes(string path, ReadOnlySpan<byte> bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp-" + Environment.CurrentManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write))
        {
            file.Write(bytes);
            file.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a JSON object, or null when the file does not exist.</summary>
    public static JsonObject? Read(string path) => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;

    /// <summary>A file name for an arbitrary key (hex SHA-256), so any key maps to one safe file.</summary>
    public static string NameFor(string key) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
}
