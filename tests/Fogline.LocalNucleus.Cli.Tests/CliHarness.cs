using System.Text;
using System.Text.Json.Nodes;
using Fogline.LocalNucleus.Components;

namespace Fogline.LocalNucleus.Cli.Tests;

/// <summary>The result of one CLI invocation.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error);

/// <summary>Output captured from a CLI invocation still running (sub, --follow), safe to read while it is written.</summary>
public sealed class LiveOutput
{
    private readonly StringBuilder _text = new();

    public LiveOutput()
    {
        Writer = TextWriter.Synchronized(new StringWriter(_text));
    }

    public TextWriter Writer { get; }

    public string Text
    {
        get
        {
            lock (Writer)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>Waits until the output contains <paramref name="expected"/> (the test's [CancelAfter] bounds it).</summary>
    public async Task WaitForAsync(string expected, CancellationToken cancellationToken)
    {
        while (!Text.Contains(expected, StringComparison.Ordinal))
        {
            await Task.Delay(20, cancellationToken);
        }
    }
}

/// <summary>A local Nucleus with CLI access in a fresh temporary root, and the CLI run in-process against it.</summary>
public sealed class CliHarness : IAsyncDisposable
{
    private CliHarness(Nucleus nucleus, string root)
    {
        Nucleus = nucleus;
        Root = root;
    }

    public Nucleus Nucleus { get; }

    public string Root { get; }

    public static string NewRoot() => Path.Combine(Path.GetTempPath(), "fogline-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public static async Task<CliHarness> StartAsync()
    {
        var root = NewRoot();
        var nucleus = await Nucleus.StartAsync(new NucleusOptions { RootPath = root });
        nucleus.EnableCliAccess();
        return new CliHarness(nucleus, root);
    }

    public ComponentRecord Add(string name, string version = "1.0.0", string? configurationJson = null) =>
        Nucleus.AddComponent(name, version, configurationJson is null ? null : JsonNode.Parse(configurationJson)!.AsObject());

    /// <summary>Runs the CLI to its end with <c>--root</c> this root.</summary>
    public Task<CliResult> RunAsync(params string[] args) => RunInAsync(Root, args);

    /// <summary>Runs the CLI to its end with <c>--root</c> <paramref name="root"/>.</summary>
    public static async Task<CliResult> RunInAsync(string root, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await Cli.RunAsync([.. args, "--root", root], output, error);
        return new CliResult(exit, output.ToString(), error.ToString());
    }

    /// <summary>Starts a CLI invocation that runs until cancelled; returns its task (the exit code) and its live output.</summary>
    public (Task<int> Exit, LiveOutput Output, LiveOutput Error) Start(CancellationToken stop, params string[] args)
    {
        var output = new LiveOutput();
        var error = new LiveOutput();
        var exit = Task.Run(() => Cli.RunAsync([.. args, "--root", Root], output.Writer, error.Writer, stop));
        return (exit, output, error);
    }

    public async ValueTask DisposeAsync()
    {
        await Nucleus.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
