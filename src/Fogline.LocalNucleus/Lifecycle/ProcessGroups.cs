using System.Runtime.InteropServices;

namespace Fogline.LocalNucleus.Lifecycle;

/// <summary>Signals to whole process groups (each lifecycle step leads its own, see <see cref="ComponentSupervisor"/>).</summary>
internal static partial class ProcessGroups
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    /// <summary>Sends <paramref name="signal"/> to every process of the group led by <paramref name="processGroup"/>.</summary>
    public static void Signal(int processGroup, int signal) => _ = Kill(-processGroup, signal);

    /// <summary>True while a process of the group is alive.</summary>
    public static bool Exists(int processGroup) => Kill(-processGroup, 0) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
