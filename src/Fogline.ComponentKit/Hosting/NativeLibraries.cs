using System.Reflection;
using System.Runtime.InteropServices;

namespace Fogline.ComponentKit.Hosting;

/// <summary>
/// Where a component's native libraries come from. A recipe's artifacts of both architectures are built into one folder
/// (greengrass-build/artifacts/NAME/VERSION), so a component that ships a native library names one per architecture
/// (<c>libonnxruntime-linux-x64.so</c>, <c>libSystem.IO.Ports.Native-linux-arm64.so</c>); the resolver loads the one for
/// this process's architecture from beside the executable, and otherwise lets .NET look as usual (a build output, the tests).
/// </summary>
public static class NativeLibraries
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<Assembly> Installed = [];

    /// <summary>
    /// Resolves <paramref name="importName"/>, as <paramref name="assembly"/>'s P/Invokes name it, to
    /// <c>{fileStem}-linux-{x64|arm64}.so</c> beside the executable when that file is there. One resolver per assembly.
    /// </summary>
    public static void LoadBesideExecutable(Assembly assembly, string importName, string fileStem)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        lock (Gate)
        {
            if (!Installed.Add(assembly))
            {
                return;
            }
        }

        NativeLibrary.SetDllImportResolver(assembly, (name, _, _) =>
        {
            if (name != importName)
            {
                return IntPtr.Zero;
            }

            var architecture = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
            var besides = Path.Combine(AppContext.BaseDirectory, $"{fileStem}-{architecture}.so");
            return File.Exists(besides) && NativeLibrary.TryLoad(besides, out var handle) ? handle : IntPtr.Zero;
        });
    }
}
