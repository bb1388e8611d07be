// Fogline build script, run with Cake from the local tool manifest (.config/dotnet-tools.json):
//   dotnet tool restore && dotnet cake --target=Test
// Targets: Clean, Restore, Build, CheckGenerated, Components (NativeAOT linux-x64 and linux-arm64; --runtimes=linux-x64
// for one, --components=EdgeFilter,Aggregator for some), GdkBuild (--component=NAME: the custom build of a GDK
// project, see below), Package, Test (the default), Conformance (only the real-peer tests).

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Debug");
var solution = File("./GreengrassComponents.sln");
var conformanceJs = Directory("./tests/Conformance/js");
var dashboardBrowserJs = Directory("./tests/Fogline.Testing/Browser");

Task("Clean")
    .Does(() =>
{
    DotNetClean(solution, new DotNetCleanSettings { Configuration = configuration });
});

Task("Restore")
    .Does(() =>
{
    DotNetRestore(solution);
});

Task("Build")
    .IsDependentOn("Restore")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration, NoRestore = true });
});

// The generated code must be what tools/Codegen makes of the model files, and recipes/ what it makes of the GDK recipe
// templates (no hand edits, no stale output).
Task("CheckGenerated")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun("./tools/Codegen/Codegen.csproj", new ProcessArgumentBuilder().Append("--check"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
});

// The pipeline components as their recipes deploy them: one self-contained NativeAOT binary per architecture
// (linux-x64 natively, linux-arm64 cross-compiled with clang and Debian's aarch64 cross toolchain), no .NET runtime
// needed on the device, in the greengrass-cli artifact layout artifacts/components/NAME/VERSION/FILE that
// `local-nucleus deployment create --artifactDir` takes. Incremental: a binary is only compiled again when its inputs
// changed (MSBuild's own up-to-date checks; nothing is cleaned first). --components=A,B builds only those (default: all
// six; GdkBuild's default: its one component). AnomalyDetector also ships ONNX Runtime's native library and its models.
var pipelineComponents = new[] { "SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "AnomalyDetector", "ZoneCorrelator", "CloudUplink", "Dashboard" };
var allRuntimes = new[] { "linux-x64", "linux-arm64" };
// GdkBuild: a components/ folder name, or Pipeline for the repository's own GDK project (the bundle at the root).
var gdkComponent = Argument("component", string.Empty);
var gdkBuild = target == "GdkBuild";
if (gdkBuild && gdkComponent != "Pipeline" && !pipelineComponents.Contains(gdkComponent))
{
    throw new Exception($"GdkBuild needs --component=NAME, NAME one of Pipeline, {string.Join(", ", pipelineComponents)} (got '{gdkComponent}')");
}

// A GDK build ships what its recipe names: both architectures, whatever --runtimes says.
var componentRuntimes = gdkBuild ? allRuntimes : Argument("runtimes", string.Join(",", allRuntimes)).Split(',', StringSplitOptions.RemoveEmptyEntries);
var selectedComponents = Argument("components", gdkBuild ? (gdkComponent == "Pipeline" ? string.Empty : gdkComponent) : string.Join(",", pipelineComponents))
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
Task("Components")
    .Does(() =>
{
    var unknown = selectedComponents.Where(c => !pipelineComponents.Contains(c)).ToList();
    if (unknown.Count > 0)
    {
        throw new Exception($"--components: unknown {string.Join(", ", unknown)}; the components are {string.Join(", ", pipelineComponents)}");
    }

    foreach (var runtime in componentRuntimes)
    {
        var msbuild = new DotNetMSBuildSettings()
            .WithProperty("PublishAot", "true")
            .WithProperty("DebugType", "none")
            .WithProperty("StripSymbols", "true");
        if (runtime == "linux-arm64" && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture != System.Runtime.InteropServices.Architecture.Arm64)
        {
            // Cross-compiling: clang links for aarch64 against Debian's cross libc (gcc-aarch64-linux-gnu,
            // libc6-dev-arm64-cross); objcopy strips the symbols into the aarch64 format.
            msbuild = msbuild.WithProperty("CppCompilerAndLinker", "clang").WithProperty("ObjCopyName", "aarch64-linux-gnu-objcopy");
        }

        foreach (var name in selectedComponents)
        {
            var staging = Directory($"./artifacts/publish/{name}/{runtime}");
            DotNetPublish($"./components/{name}/{name}.csproj", new DotNetPublishSettings
            {
                Configuration = "Release",
                Runtime = runtime,
                OutputDirectory = staging,
                MSBuildSettings = msbuild,
            });
            var output = Directory($"./artifacts/components/com.fogline.{name}/1.0.0");
            EnsureDirectoryExists(output);
            var target = File($"{output}/{name}-{runtime}");
            var source = File($"{staging}/{name}");
            CopyIfChanged(source, target);
            // Native libraries the binary loads (AnomalyDetector's ONNX Runtime, SensorGateway's System.IO.Ports shim)
            // ship beside it, named for their platform: a recipe's artifacts of both architectures share one folder
            // (see ComponentKit's NativeLibraries). Model files ship as they are.
            foreach (var native in GetFiles($"{staging}/*.so"))
            {
                CopyIfChanged(native, File($"{output}/{native.GetFilenameWithoutExtension()}-{runtime}.so"));
            }

            foreach (var model in GetFiles($"./components/{name}/models/*.onnx"))
            {
                CopyIfChanged(model, File($"{output}/{model.GetFilename()}"));
            }
        }
    }
});

// Copied only when it changed, so a running component's files are not rewritten for nothing.
void CopyIfChanged(FilePath source, FilePath target)
{
    if (!FileExists(target) || !System.IO.File.ReadAllBytes(source.FullPath).AsSpan().SequenceEqual(System.IO.File.ReadAllBytes(target.FullPath)))
    {
        CopyFile(source, target);
    }
}

// The custom build of a GDK project (`gdk component build` runs it, from gdk-config.json's custom_build_command, with
// no shell, in the project folder, after wiping its greengrass-build/): components/NAME for --component=NAME, the
// repository's root for --component=Pipeline. Cake makes the script's folder (the repository root) its working
// directory whatever folder it is started from, so every path here is the repository's. It writes what GDK's
// custom-build contract wants in PROJECT/greengrass-build/ (creating what is missing, wiping nothing):
//   recipes/recipe.yaml                  the project's recipe.yaml template filled in (name, author, version as
//                                        configured, literally NEXT_PATCH) by tools/Codegen's gdk-build verb, the
//                                        same renderer that makes recipes/ (Fogline.Gdk's RecipeTemplate);
//   artifacts/NAME/VERSION/FILE          each artifact the recipe names, copied from Components' output
//                                        (NAME-linux-x64 and NAME-linux-arm64; none for the Pipeline bundle).
Task("GdkBuild")
    .IsDependentOn("Components")
    .Does(() =>
{
    var project = MakeAbsolute(gdkComponent == "Pipeline" ? Directory(".") : Directory($"./components/{gdkComponent}"));
    var args = new ProcessArgumentBuilder().Append("gdk-build").AppendQuoted(project.FullPath);
    if (gdkComponent != "Pipeline")
    {
        args.Append("--artifacts-from").AppendQuoted(MakeAbsolute(Directory($"./artifacts/components/com.fogline.{gdkComponent}/1.0.0")).FullPath);
    }

    DotNetRun("./tools/Codegen/Codegen.csproj", args, new DotNetRunSettings { Configuration = configuration });
});

// AnomalyDetector's ONNX models (components/AnomalyDetector/models) and the tests' deliberately bad ones
// (tests/Fogline.Anomaly.Tests/Models), from tools/models/models.json, by tools/models/build_models.py with Debian's
// python3-onnx and python3-numpy. Deterministic: a test rebuilds them and compares the bytes with the committed files.
Task("Models")
    .IsDependentOn("InstallPrerequisites")
    .Does(() =>
{
    var exit = StartProcess("/usr/bin/python3", new ProcessSettings
    {
        Arguments = new ProcessArgumentBuilder()
            .Append("tools/models/build_models.py")
            .Append("--definitions").Append("tools/models/models.json")
            .Append("--out").Append("components/AnomalyDetector/models")
            .Append("--test-out").Append("tests/Fogline.Anomaly.Tests/Models"),
    });
    if (exit != 0)
    {
        throw new Exception($"tools/models/build_models.py exited with {exit}");
    }
});

// Every artifact the recipes name.
Task("Package")
    .IsDependentOn("Components");

// The simulated fleet's stand-in component (components/samples/FleetWorkload), one NativeAOT binary for this
// machine: a fleet of hundreds of devices runs one process of it per device (Fogline.Fleet's FleetWorkload finds it
// in artifacts/fleet).
Task("FleetWorkload")
    .Does(() =>
{
    var runtime = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "linux-arm64" : "linux-x64";
    DotNetPublish("./components/samples/FleetWorkload/FleetWorkload.csproj", new DotNetPublishSettings
    {
        Configuration = "Release",
        Runtime = runtime,
        OutputDirectory = Directory("./artifacts/fleet"),
        MSBuildSettings = new DotNetMSBuildSettings().WithProperty("PublishAot", "true").WithProperty("DebugType", "none").WithProperty("StripSymbols", "true"),
    });
});

// What the tests and the build need from Debian, installed when missing (as root; otherwise the task says what to
// install and stops), so that the test command alone works on a fresh Debian 12 machine. Each row: what is checked,
// how, and the Debian package that provides it.
//   command: a program on PATH; python: a module of Debian's /usr/bin/python3 (not a pyenv python3 on PATH);
//   file: a file that only the package provides.
var debianPrerequisites = new (string Kind, string What, string Package, string Why)[]
{
    ("command", "node", "nodejs", "the official Greengrass IPC client (Node.js) is a conformance peer"),
    ("command", "npm", "npm", "installs that client from tests/Conformance/js/package-lock.json"),
    ("python", "jsonschema", "python3-jsonschema", "recipes and gdk-config.json are checked with GDK's JSON schemas"),
    ("python", "yaml", "python3-yaml", "the schema check reads YAML recipes as GDK does"),
    ("python", "pymodbus", "python3-pymodbus", "SensorGateway reads registers from a real Modbus TCP and RTU server"),
    ("python", "serial_asyncio", "python3-serial-asyncio", "pymodbus's serial RTU server needs pyserial-asyncio"),
    ("file", "/usr/bin/socat", "socat", "the Modbus RTU tests run on pseudo-terminal pairs made by socat"),
    ("python", "onnx", "python3-onnx", "AnomalyDetector's ONNX models are rebuilt by tools/models to check the committed files"),
    ("python", "numpy", "python3-numpy", "tools/models builds the models' constant tensors with numpy"),
    ("command", "clang", "clang", "links the NativeAOT components (linux-arm64 cross-linked)"),
    ("command", "aarch64-linux-gnu-objcopy", "binutils-aarch64-linux-gnu", "strips the linux-arm64 binaries"),
    ("file", "/usr/lib/gcc-cross/aarch64-linux-gnu/12/libgcc.a", "gcc-aarch64-linux-gnu", "the aarch64 C runtime the linux-arm64 binaries link with"),
    ("file", "/usr/aarch64-linux-gnu/lib/libc.so", "libc6-dev-arm64-cross", "the aarch64 C library the linux-arm64 binaries link with"),
    ("command", "qemu-aarch64-static", "qemu-user-static", "runs the linux-arm64 binaries in a test"),
    ("file", "/usr/sbin/mosquitto", "mosquitto", "the local Nucleus's MQTT connection is tested against a real broker with mutual TLS"),
    ("file", "/usr/bin/aws", "awscli", "Debian's AWS CLI v2 is the peer of the local Greengrass cloud and of fogline component publish"),
    ("file", "/usr/bin/chromium", "chromium", "the Dashboard's browser tests drive Debian's Chromium (headless, with playwright-core from npm)"),
};

bool IsPresent(string kind, string what) => kind switch
{
    "command" => StartProcess("sh", new ProcessSettings { Arguments = $"-c \"command -v {what}\"", RedirectStandardOutput = true }) == 0,
    "python" => System.IO.File.Exists("/usr/bin/python3") && StartProcess("/usr/bin/python3", new ProcessSettings { Arguments = $"-c \"import {what}\"", RedirectStandardOutput = true, RedirectStandardError = true }) == 0,
    _ => System.IO.File.Exists(what),
};

Task("InstallPrerequisites")
    .Does(() =>
{
    var missing = debianPrerequisites.Where(p => !IsPresent(p.Kind, p.What)).ToList();
    if (missing.Count == 0)
    {
        return;
    }

    var packages = string.Join(" ", missing.Select(m => m.Package).Distinct());
    foreach (var m in missing)
    {
        Information($"missing {m.What} ({m.Package}): {m.Why}");
    }

    StartProcess("id", new ProcessSettings { Arguments = "-u", RedirectStandardOutput = true }, out var uid);
    var isRoot = uid.FirstOrDefault()?.Trim() == "0";
    if (!isRoot)
    {
        throw new Exception($"The tests need Debian packages that are not installed. Install them (as root), then run the tests again: apt-get install -y {packages}");
    }

    Information($"installing {packages}");
    var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
    if (StartProcess("apt-get", new ProcessSettings { Arguments = "update -qq", EnvironmentVariables = env }) != 0
        || StartProcess("apt-get", new ProcessSettings { Arguments = $"install -y -qq {packages}", EnvironmentVariables = env }) != 0)
    {
        throw new Exception($"apt-get install {packages} failed");
    }

    var still = debianPrerequisites.Where(p => !IsPresent(p.Kind, p.What)).Select(p => p.What).ToList();
    if (still.Count > 0)
    {
        throw new Exception("still missing after apt-get install: " + string.Join(", ", still));
    }
});

// The conformance tests run the official AWS IPC clients (npm) against our server, and the Dashboard's browser tests
// drive Chromium with playwright-core (npm): both installed from their lock files.
Task("InstallPeers")
    .IsDependentOn("InstallPrerequisites")
    .Does(() =>
{
    foreach (var folder in new[] { conformanceJs, dashboardBrowserJs })
    {
        var exit = StartProcess("npm", new ProcessSettings
        {
            Arguments = "ci --ignore-scripts --no-audit --no-fund",
            WorkingDirectory = folder,
        });
        if (exit != 0)
        {
            throw new Exception($"npm ci in {folder} failed with exit code {exit}");
        }
    }
});

// Every test has a real time limit: a test that makes no progress for 5 minutes (the longest one takes under a minute)
// is stopped and reported by the test platform's hang detector, so one hang cannot stall CI for its whole limit.
ProcessArgumentBuilder HangTimeout(ProcessArgumentBuilder args) => args.Append("--blame-hang-timeout 5m").Append("--blame-hang-dump-type none");

Task("Test")
    .IsDependentOn("InstallPrerequisites")
    .IsDependentOn("Build")
    .IsDependentOn("CheckGenerated")
    .IsDependentOn("InstallPeers")
    .IsDependentOn("Package")
    .IsDependentOn("FleetWorkload")
    .Does(() =>
{
    // Test assemblies run side by side on the machine's cores, the 200-device fleet rehearsal among them.
    DotNetTest(solution, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
        Loggers = { "console;verbosity=normal" },
        ArgumentCustomization = HangTimeout,
    });
});

Task("Conformance")
    .IsDependentOn("Build")
    .IsDependentOn("InstallPeers")
    .Does(() =>
{
    DotNetTest(solution, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
        Filter = "Category=Conformance",
        Loggers = { "console;verbosity=normal" },
        ArgumentCustomization = HangTimeout,
    });
});

RunTarget(target);
