using System.Diagnostics;

namespace Fogline.Testing;

/// <summary>What one AWS CLI command did.</summary>
/// <param name="ExitCode">Its exit code (0 success, 254 a service error, 255 a client error).</param>
/// <param name="Output">Its standard output.</param>
/// <param name="Error">Its standard error.</param>
public sealed record AwsCliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The output as JSON.</summary>
    public System.Text.Json.Nodes.JsonNode Json => System.Text.Json.Nodes.JsonNode.Parse(Output) ?? throw new InvalidOperationException("The AWS CLI printed no JSON.");
}

/// <summary>
/// Debian's AWS CLI v2 (<c>/usr/bin/aws</c>, package awscli; the <c>aws</c> on PATH may be another CLI), run against
/// an endpoint with given keys and nothing from the user's own AWS configuration. A missing CLI fails the test with
/// the package to install: it is never skipped.
/// </summary>
/// <param name="Endpoint">The <c>--endpoint-url</c>.</param>
/// <param name="AccessKeyId">The access key.</param>
/// <param name="SecretAccessKey">The secret key.</param>
/// <param name="Region">The region.</param>
public sealed record AwsCli(Uri Endpoint, string AccessKeyId, string SecretAccessKey, string Region = "us-east-1")
{
    /// <summary>Where the CLI is.</summary>
    public const string Path = "/usr/bin/aws";

    /// <summary>Runs <c>aws ARGS --endpoint-url …</c>.</summary>
    public async Task<AwsCliResult> RunAsync(params string[] args)
    {
        if (!File.Exists(Path))
        {
            Assert.Fail($"the AWS CLI v2 is not installed at {Path}: apt-get install awscli (or run the test command, which installs it)");
        }

        var start = new ProcessStartInfo(Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add("--endpoint-url");
        start.ArgumentList.Add(Endpoint.ToString());
        start.ArgumentList.Add("--output");
        start.ArgumentList.Add("json");
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("AWS_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment["AWS_ACCESS_KEY_ID"] = AccessKeyId;
        start.Environment["AWS_SECRET_ACCESS_KEY"] = SecretAccessKey;
        start.Environment["AWS_REGION"] = Region;
        start.Environment["AWS_DEFAULT_REGION"] = Region;
        start.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        start.Environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null";
        start.Environment["AWS_PAGER"] = string.Empty;
        start.Environment["AWS_EC2_METADATA_DISABLED"] = "true";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        return new AwsCliResult(process.ExitCode, await output.ConfigureAwait(false), await error.ConfigureAwait(false));
    }

    /// <summary>Runs the command and asserts it succeeded; returns its output as JSON (or null when it printed none).</summary>
    public async Task<System.Text.Json.Nodes.JsonNode?> SucceedAsync(params string[] args)
    {
        var result = await RunAsync(args).ConfigureAwait(false);
        Assert.That(result.ExitCode, Is.EqualTo(0), $"aws {string.Join(' ', args)} failed: {result.Error}");
        return string.IsNullOrWhiteSpace(result.Output) ? null : result.Json;
    }
}
