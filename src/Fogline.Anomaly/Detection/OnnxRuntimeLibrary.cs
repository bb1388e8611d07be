using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace Fogline.Anomaly.Detection;

/// <summary>
/// Where ONNX Runtime's native library comes from. A Greengrass component's artifacts all land in one folder, so a
/// recipe whose manifests ship one native library per architecture names them apart
/// (<c>libonnxruntime-linux-x64.so</c>, <c>libonnxruntime-linux-arm64.so</c>); the resolver loads the one for this
/// process's architecture from beside the executable, and otherwise lets .NET find <c>libonnxruntime.so</c> as usual
/// (a build output, the tests).
/// </summary>
public static class OnnxRuntimeLibrary
{
    private static int _installed;

    /// <summary>Installs the resolver (once).</summary>
    public static void UseBesideExecutable()
    {
        if (Interlocked.Exchange(ref _installed, 1) == 1)
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(InferenceSession).Assembly, (name, assembly, searchPath) =>
        {
            if (name != "onnxruntime")
            {
                return IntPtr.Zero;
            }

            var architecture = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
            var besides = Path.Combine(AppContext.BaseDirectory, $"libonnxruntime-{architecture}.so");
            return File.Exists(besides) && NativeLibrary.TryLoad(besides, out var handle) ? handle : IntPtr.Zero;
        });
    }
}
