using System.Diagnostics;

namespace Fogline.Anomaly.Tests;

/// <summary>The committed models are exactly what tools/models builds from tools/models/models.json (Debian's python3-onnx).</summary>
public class ModelsBuildTests
{
    [Test]
    public void TheCommittedModels_AreWhatTheModelsToolBuilds()
    {
        const string Python = "/usr/bin/python3";
        Assert.That(File.Exists(Python), Is.True, "Debian's python3 is missing (the test command installs python3-onnx and python3-numpy)");
        var output = Path.Combine(Path.GetTempPath(), "models-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var start = new ProcessStartInfo(Python) { WorkingDirectory = Repository.Root, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in new[] { "tools/models/build_models.py", "--definitions", "tools/models/models.json", "--out", Path.Combine(output, "component"), "--test-out", Path.Combine(output, "tests") })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, $"{stderr}{(stderr.Contains("No module named", StringComparison.Ordinal) ? " (the test command installs python3-onnx and python3-numpy)" : "")}");
            TestContext.Out.WriteLine(stdout.Result);

            foreach (var (built, committed) in new[]
            {
                (Path.Combine(output, "component"), Path.Combine(Repository.Root, "components", "AnomalyDetector", "models")),
                (Path.Combine(output, "tests"), Path.Combine(Repository.Root, "tests", "Fogline.Anomaly.Tests", "Models")),
            })
            {
                var names = Directory.GetFiles(built, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
                Assert.That(Directory.GetFiles(committed, "*.onnx").Select(Path.GetFileName).Order(StringComparer.Ordinal), Is.EqualTo(names), committed);
                foreach (var name in names)
                {
                    Assert.That(File.ReadAllBytes(Path.Combine(committed, name!)), Is.EqualTo(File.ReadAllBytes(Path.Combine(built, name!))), $"{name} differs from what tools/models builds: dotnet cake --target=Models");
                }
            }
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
