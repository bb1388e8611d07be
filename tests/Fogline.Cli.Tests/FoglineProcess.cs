using System.Diagnostics;

namespace Fogline.Cli.Tests;

/// <summary>What one <c>fogline</c> command did.</summary>
internal sealed record FoglineResult(int ExitCode, string Output, string Error)
{
    /// <summary>The non-empty lines of standard error.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>
/// The built <c>fogline</c> (fogline.dll beside the tests) run as a child process in a folder, with nothing from the
/// user's AWS configuration (no AWS_* variables, no profile files) nor the user's local cloud; the variables a test gives are
/// added.
/// </summary>
internal static class FoglineProcess
{
    public static async Task<FoglineResult> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "fogline.dll");
        Assert.That(File.Exists(dll), Is.True, dll);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal) || k == "FOGLINE_CLOUD_DIR").ToList())
        {
            start.Environment.Remove(name);
        }

        // HOME stays (dotnet finds the repository's local tools, Cake, in its NuGet cache); the local cloud's default
        // directory and the AWS files do not.
        start.Environment["XDG_STATE_HOME"] = Path.Combine(Path.GetTempPath(), "fogline-cli-tests-state");
        start.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        return new FoglineResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>The variables that point fogline (and any AWS SDK) at <paramref name="cloud"/> with its developer key.</summary>
    public static Dictionary<string, string> For(Fogline.LocalCloud.LocalCloudServer cloud, string region = "us-east-1") => new()
    {
        ["AWS_ENDPOINT_URL"] = cloud.Endpoint.ToString(),
        ["AWS_ACCESS_KEY_ID"] = cloud.Keys.Default.AccessKeyId,
        ["AWS_SECRET_ACCESS_KEY"] = cloud.Keys.Default.SecretAccessKey,
        ["AWS_REGION"] = region,
    };
}
