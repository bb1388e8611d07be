// Fogline build script, run with Cake from the local tool manifest (.config/dotnet-tools.json):
//   dotnet tool restore && dotnet cake --target=Test
// Targets: Clean, Restore, Build, CheckGenerated, Components (NativeAOT linux-x64), PortableComponents (linux-arm64),
// Package (both), Test (the default), Conformance (only the real-peer tests).

var target = Argument("target", "Test");
var configuration = Argument("configuration", "Debug");
var solution = File("./GreengrassComponents.sln");
var conformanceJs = Directory("./tests/Conformance/js");

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

// The generated IPC model must be what tools/IpcCodegen makes of the model file (no hand edits, no stale output).
Task("CheckGenerated")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetRun("./tools/IpcCodegen/IpcCodegen.csproj", new ProcessArgumentBuilder().Append("--check"),
        new DotNetRunSettings { Configuration = configuration, NoBuild = true, NoRestore = true });
});

// The pipeline components as their recipes deploy them: one NativeAOT binary each (linux-x64), in the greengrass-cli
// artifact layout artifacts/components/NAME/VERSION/FILE that `local-nucleus deployment create --artifactDir` takes.
var pipelineComponents = new[] { "SensorGateway", "EdgeFilter", "Aggregator", "AlertEngine", "CloudUplink" };
Task("Components")
    .Does(() =>
{
    foreach (var name in pipelineComponents)
    {
        var output = Directory($"./artifacts/components/com.fogline.{name}/1.0.0");
        DotNetPublish($"./components/{name}/{name}.csproj", new DotNetPublishSettings
        {
            Configuration = "Release",
            Runtime = "linux-x64",
            OutputDirectory = output,
            MSBuildSettings = new DotNetMSBuildSettings().WithProperty("PublishAot", "true").WithProperty("DebugType", "none").WithProperty("StripSymbols", "true"),
        });
        DeleteFiles(GetFiles($"{output}/*.pdb"));
        DeleteFiles(GetFiles($"{output}/*.dbg"));
    }
});

// linux-arm64: framework-dependent and portable (NativeAOT cross-compilation and the net9.0 arm64 runtime pack are not
// available here): NAME-portable.zip beside the native binary, run with `dotnet NAME.dll` on .NET 9 or later.
Task("PortableComponents")
    .Does(() =>
{
    foreach (var name in pipelineComponents)
    {
        var portable = Directory($"./artifacts/portable/{name}");
        CleanDirectory(portable);
        DotNetPublish($"./components/{name}/{name}.csproj", new DotNetPublishSettings
        {
            Configuration = "Release",
            OutputDirectory = portable,
            MSBuildSettings = new DotNetMSBuildSettings().WithProperty("DebugType", "none").WithProperty("UseAppHost", "false"),
        });
        var output = Directory($"./artifacts/components/com.fogline.{name}/1.0.0");
        EnsureDirectoryExists(output);
        Zip(portable, $"{output}/{name}-portable.zip");
    }
});

// Every artifact the recipes name.
Task("Package")
    .IsDependentOn("Components")
    .IsDependentOn("PortableComponents");

// The conformance tests run the official AWS IPC clients (npm) against our server: install them from the lock file.
Task("InstallPeers")
    .Does(() =>
{
    var exit = StartProcess("npm", new ProcessSettings
    {
        Arguments = "ci --ignore-scripts --no-audit --no-fund",
        WorkingDirectory = conformanceJs,
    });
    if (exit != 0)
    {
        throw new Exception($"npm ci in {conformanceJs} failed with exit code {exit}");
    }
});

Task("Test")
    .IsDependentOn("Build")
    .IsDependentOn("CheckGenerated")
    .IsDependentOn("InstallPeers")
    .IsDependentOn("Package")
    .Does(() =>
{
    DotNetTest(solution, new DotNetTestSettings
    {
        Configuration = configuration,
        NoBuild = true,
        NoRestore = true,
        Loggers = { "console;verbosity=normal" },
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
    });
});

RunTarget(target);
