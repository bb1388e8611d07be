using System.Buffers.Binary;
using System.Diagnostics;
using Fogline.Greengrass.Recipes;
using Fogline.LocalNucleus;

namespace Fogline.Pipeline.Tests;

/// <summary>
/// The linux-arm64 artifacts the recipes' aarch64 manifests name are self-contained NativeAOT executables for
/// AArch64: no .NET runtime on the device. Each is checked from its ELF header, and one of them is run under
/// qemu-user (Debian's qemu-user-static, with Debian's arm64 C library) against a local Nucleus, where it must
/// connect over IPC and report RUNNING like its x64 twin.
/// </summary>
[NonParallelizable]
[CancelAfter(120_000)]
public class Arm64BinaryTests
{
    private const ushort MachineAArch64 = 183;
    private static readonly string[] Names = ["SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "AnomalyDetector", "ZoneCorrelator", "CloudUplink", "Dashboard"];

    [TestCaseSource(nameof(Names))]
    public void TheAarch64Manifest_NamesASelfContainedAArch64Executable(string name)
    {
        var recipe = ComponentRecipe.Load(Path.Combine(Repository.Root, "recipes", $"com.fogline.{name}-1.0.0.yaml"));
        var manifest = recipe.SelectManifest(new DevicePlatform("linux", "aarch64"));
        var artifact = manifest.Artifacts.Single(a => a.FileName == $"{name}-linux-arm64");
        var binary = Path.Combine(Repository.Root, "artifacts", "components", recipe.ComponentName, "1.0.0", artifact.FileName);
        Assert.That(File.Exists(binary), Is.True, $"{binary} is missing: dotnet cake --target=Components");

        var header = File.ReadAllBytes(binary).AsSpan(0, 64);
        Assert.That(header[..4].ToArray(), Is.EqualTo("\u007fELF"u8.ToArray()), "an ELF executable");
        Assert.That(header[4], Is.EqualTo(2), "64-bit");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(header[18..]), Is.EqualTo(MachineAArch64), "for AArch64");
        Assert.That(manifest.Lifecycle?.Run?.Script, Is.EqualTo("exec {artifacts:path}/" + artifact.FileName), "run as it is, without dotnet");
        Assert.That(File.ReadAllBytes(binary).AsSpan().IndexOf("libcoreclr.so"u8), Is.EqualTo(-1), "no runtime to load: compiled ahead of time");
        TestContext.Out.WriteLine($"{artifact.FileName}: {new FileInfo(binary).Length / 1024.0 / 1024.0:F1} MiB");
    }

    [Test]
    public void TheAnomalyDetectorAarch64Manifest_ShipsOnnxRuntimesAArch64Library_AndTheModel()
    {
        var recipe = ComponentRecipe.Load(Path.Combine(Repository.Root, "recipes", "com.fogline.AnomalyDetector-1.0.0.yaml"));
        var names = recipe.SelectManifest(new DevicePlatform("linux", "aarch64")).Artifacts.Select(a => a.FileName).ToList();
        Assert.That(names, Is.EquivalentTo(new[] { "AnomalyDetector-linux-arm64", "libonnxruntime-linux-arm64.so", "knn-novelty-v1.onnx" }));
        var library = Path.Combine(Repository.Root, "artifacts", "components", recipe.ComponentName, "1.0.0", "libonnxruntime-linux-arm64.so");
        Assert.That(File.Exists(library), Is.True, $"{library} is missing: dotnet cake --target=Components");
        var header = File.ReadAllBytes(library).AsSpan(0, 64);
        Assert.That(header[..4].ToArray(), Is.EqualTo("\u007fELF"u8.ToArray()), "an ELF file");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(header[16..]), Is.EqualTo(3), "a shared library (ET_DYN)");
        Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(header[18..]), Is.EqualTo(MachineAArch64), "for AArch64");
        // Not run here: under Debian's qemu-user (7.2) ONNX Runtime's AArch64 library crashes in its own initialisation,
        // even when a minimal C program only dlopen()s it, so the AnomalyDetector arm64 binary is checked, not run.
        var x64 = recipe.SelectManifest(new DevicePlatform("linux", "amd64")).Artifacts.Select(a => a.FileName).ToList();
        Assert.That(x64, Is.EquivalentTo(new[] { "AnomalyDetector-linux-x64", "libonnxruntime-linux-x64.so", "knn-novelty-v1.onnx" }));
    }

    [Test]
    public void TheSensorGatewayManifests_ShipSystemIOPortsSerialShim_ForTheirArchitecture()
    {
        var recipe = ComponentRecipe.Load(Path.Combine(Repository.Root, "recipes", "com.fogline.SensorGateway-1.0.0.yaml"));
        foreach (var (platform, runtime, machine) in new[] { ("aarch64", "linux-arm64", MachineAArch64), ("amd64", "linux-x64", (ushort)62) })
        {
            var names = recipe.SelectManifest(new DevicePlatform("linux", platform)).Artifacts.Select(a => a.FileName).ToList();
            Assert.That(names, Is.EquivalentTo(new[] { $"SensorGateway-{runtime}", $"libSystem.IO.Ports.Native-{runtime}.so" }));
            var library = Path.Combine(Repository.Root, "artifacts", "components", recipe.ComponentName, "1.0.0", $"libSystem.IO.Ports.Native-{runtime}.so");
            Assert.That(File.Exists(library), Is.True, $"{library} is missing: dotnet cake --target=Components");
            var header = File.ReadAllBytes(library).AsSpan(0, 64);
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(header[16..]), Is.EqualTo(3), "a shared library (ET_DYN)");
            Assert.That(BinaryPrimitives.ReadUInt16LittleEndian(header[18..]), Is.EqualTo(machine), $"for {platform}");
        }
    }

    [Test]
    public async Task TheArm64EdgeFilter_UnderQemu_ConnectsToTheNucleus_AndReportsRunning()
    {
        var binary = Path.Combine(Repository.Root, "artifacts", "components", "com.fogline.EdgeFilter", "1.0.0", "EdgeFilter-linux-arm64");
        Assert.That(File.Exists(binary), Is.True, $"{binary} is missing: dotnet cake --target=Components");
        const string Qemu = "/usr/bin/qemu-aarch64-static";
        Assert.That(File.Exists(Qemu), Is.True, "qemu-user-static is not installed (the test command installs it)");

        var root = Path.Combine(Path.GetTempPath(), "fogline-arm64-" + Guid.NewGuid().ToString("N")[..8]);
        await using var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root });
        try
        {
            var configuration = ComponentRecipe.Load(Path.Combine(Repository.Root, "recipes", "com.fogline.EdgeFilter-1.0.0.yaml")).DefaultConfiguration;
            var record = nucleus.AddComponent("com.fogline.EdgeFilter", "1.0.0", configuration);
            var start = new ProcessStartInfo(Qemu) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = nucleus.WorkPath(record.Name) };
            start.ArgumentList.Add("-L");
            start.ArgumentList.Add("/usr/aarch64-linux-gnu");
            start.ArgumentList.Add(binary);
            foreach (var (key, value) in nucleus.EnvironmentFor(record))
            {
                start.Environment[key] = value;
            }

            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            try
            {
                while (record.State != Fogline.Greengrass.Ipc.LifecycleState.Running)
                {
                    Assert.That(process.HasExited, Is.False, () => "the arm64 binary exited: " + output.Result);
                    await Task.Delay(50, TestContext.CurrentContext.CancellationToken);
                }
            }
            finally
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            Assert.That(await output, Does.Contain("\"com.fogline.EdgeFilter\""), "its JSON-lines log");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
