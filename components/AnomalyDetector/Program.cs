using Fogline.Anomaly.Detection;
using Fogline.AnomalyDetector;
using Fogline.ComponentKit.Hosting;

// Deployed, ONNX Runtime's native library is an artifact beside the binary named for its platform
// (libonnxruntime-linux-x64.so, libonnxruntime-linux-arm64.so: a recipe's artifacts share one folder name space).
OnnxRuntimeLibrary.UseBesideExecutable();
return await ComponentHost.RunAsync(new AnomalyDetectorComponent());
