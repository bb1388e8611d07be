using System.Globalization;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>A second Nucleus asked to run on a root directory that a live one holds.</summary>
public sealed class NucleusAlreadyRunningException : IOException
{
    /// <summary>Creates the exception.</summary>
    public NucleusAlreadyRunningException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public NucleusAlreadyRunningException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public NucleusAlreadyRunningException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Who owns a Nucleus root: an exclusive lock on <c>&lt;root&gt;/.nucleus/lock</c> (flock, taken through
/// <see cref="FileShare.None"/>), held for the life of the Nucleus and released by the kernel when its process ends
/// however it ends (SIGKILL, a closed terminal); its pid is in <c>.nucleus/pid</c> until it stops cleanly. A live Nucleus is told from the files a dead one left (its socket,
/// <c>cli_ipc_info</c>) by the lock alone, never by the files.
/// <para>It also keeps the ledger of the process groups the Nucleus started (<c>.nucleus/process-groups</c>: leader pid
/// and its start time), so that a Nucleus starting over a dead one's root can stop what that one left running. The
/// start time (from <c>/proc/PID/stat</c>) makes sure a recycled pid is never signalled. A group is recorded right
/// after its leader starts: one started in the instant before the Nucleus died is not recorded, and not stopped.</para>
/// </summary>
public sealed class RootLock : IDisposable
{
    private readonly FileStream _lock;
    private readonly string _ledgerPath;
    private readonly Dictionary<int, long> _groups = [];
    private readonly object _gate = new();

    private RootLock(FileStream stream, string ledgerPath, bool previousOwnerDied)
    {
        _lock = stream;
        _ledgerPath = ledgerPath;
        PreviousOwnerDied = previousOwnerDied;
    }

    /// <summary>True when the root was last held by a Nucleus that did not stop cleanly.</summary>
    public bool PreviousOwnerDied { get; }

    /// <summary>Process groups a dead Nucleus left running and that <see cref="Acquire"/> killed.</summary>
    public IReadOnlyList<int> KilledLeftovers { get; private set; } = [];

    /// <summary>
    /// Takes the root. When a Nucleus that died held it before, kills the process groups it left (still the same
    /// processes by their start time).
    /// </summary>
    /// <exception cref="NucleusAlreadyRunningException">A live Nucleus holds the root.</exception>
    public static RootLock Acquire(string rootPath)
    {
        var directory = Path.Combine(Path.GetFullPath(rootPath), ".nucleus");
        Directory.CreateDirectory(directory);
        var lockPath = Path.Combine(directory, "lock");
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            var holder = TryReadPid(Path.Combine(directory, "pid"));
            throw new NucleusAlreadyRunningException(
                $"a local Nucleus already runs at {Path.GetFullPath(rootPath)}{(holder is { } pid ? $" (pid {pid})" : string.Empty)}", e);
        }

        // The pid file is beside the lock (a locked file cannot be read by others): left behind, it means its owner
        // never reached a clean stop.
        var pidPath = Path.Combine(directory, "pid");
        var previous = File.Exists(pidPath);
        File.WriteAllText(pidPath, Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");

        var rootLock = new RootLock(stream, Path.Combine(directory, "process-groups"), previous);
        rootLock.KilledLeftovers = rootLock.KillLeftovers();
        return rootLock;
    }

    /// <summary>Records a process group the Nucleus started (its leader's pid).</summary>
    public void Started(int processGroup)
    {
        if (ReadStartTime(processGroup) is not { } start)
        {
            return;
        }

        lock (_gate)
        {
            _groups[processGroup] = start;
            SaveLedger();
        }
    }

    /// <summary>Forgets a process group whose leader has ended.</summary>
    public void Ended(int processGroup)
    {
        lock (_gate)
        {
            if (_groups.Remove(processGroup))
            {
                SaveLedger();
            }
        }
    }

    /// <summary>Releases the root: a clean stop leaves an empty lock file and no ledger.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _groups.Clear();
            TryDelete(_ledgerPath);
        }

        TryDelete(Path.Combine(Path.GetDirectoryName(_ledgerPath)!, "pid"));
        _lock.Dispose();
    }

    private List<int> KillLeftovers()
    {
        var killed = new List<int>();
        if (!File.Exists(_ledgerPath))
        {
            return killed;
        }

        foreach (var line in File.ReadAllLines(_ledgerPath))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2
                && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var pgid)
                && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
                && ReadStartTime(pgid) == start)
            {
                ProcessGroups.Signal(pgid, ProcessGroups.SIGKILL);
                killed.Add(pgid);
            }
        }

        TryDelete(_ledgerPath);
        return killed;
    }

    private void SaveLedger()
    {
        var text = string.Concat(_groups.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Key} {g.Value}\n")));
        var temporary = _ledgerPath + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, _ledgerPath, overwrite: true);
    }

    /// <summary>A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or null when it is gone.</summary>
    private static long? ReadStartTime(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields.Length > 19 && long.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks : null;
    }

    private static int? TryReadPid(string pidPath)
    {
        try
        {
            return int.TryParse(File.ReadAllText(pidPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }
}
