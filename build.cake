// Fogline build script, run with Cake from the local tool manifest (.config/dotnet-tools.json):
//   dotnet tool restore && dotnet cake --target=Test
// Targets: Clean, Restore, Build, CheckGenerated, Test (the default), Conformance (only the real-peer tests).

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
