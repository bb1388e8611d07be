using Fogline.LocalNucleus.IoTCore;

namespace Fogline.LocalNucleus.CliAccess;

/// <summary>Reads the cloud journal of a root (<c>&lt;root&gt;/cloud/journal.jsonl</c>) from another process.</summary>
public static class CloudJournalReader
{
    /// <summary>The journal path of a root.</summary>
    public static string PathFor(string rootPath) => Path.Combine(Path.GetFullPath(rootPath), "cloud", "journal.jsonl");

    /// <summary>Every message that reached the cloud, in order; empty when there is no journal yet.</summary>
    public static IReadOnlyList<CloudJournalEntry> Read(string rootPath)
    {
        var path = PathFor(rootPath);
        return File.Exists(path) ? CloudJournal.Read(path) : [];
    }
}
