using Fogline.ComponentKit.Hosting;
using Microsoft.ML.OnnxRuntime;

namespace Fogline.Anomaly.Detection;

/// <summary>
/// Where ONNX Runtime's native library comes from: <c>libonnxruntime-linux-{x64|arm64}.so</c> beside the executable
/// when the component is deployed (<see cref="NativeLibraries"/>), <c>libonnxruntime.so</c> as usual otherwise.
/// </summary>
public static class OnnxRuntimeLibrary
{
    /// <summary>Installs the resolver (once).</summary>
    public static void UseBesideExecutable() =>
        NativeLibraries.LoadBesideExecutable(typeof(InferenceSession).Assembly, "onnxruntime", "libonnxruntime");
}
