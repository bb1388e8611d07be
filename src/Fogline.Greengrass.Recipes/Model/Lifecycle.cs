using System.Text.RegularExpressions;

namespace Fogline.Greengrass.Recipes;

/// <summary>
/// A component lifecycle: environment variables for every step and the steps. Step keys are case-insensitive in
/// recipes (the Nucleus keeps them in its case-insensitive configuration).
/// </summary>
public sealed record Lifecycle
{
    private static readonly IReadOnlyDictionary<string, string> NoVariables = new Dictionary<string, string>();

    /// <summary>A lifecycle without steps.</summary>
    public static Lifecycle Empty { get; } = new();

    /// <summary><c>Setenv</c>: environment variables for every step (values as the Nucleus turns them into text).</summary>
    public IReadOnlyDictionary<string, string> Setenv { get; init; } = NoVariables;

    /// <summary><c>Bootstrap</c>.</summary>
    public LifecycleStep? Bootstrap { get; init; }

    /// <summary><c>Install</c>.</summary>
    public LifecycleStep? Install { get; init; }

    /// <summary><c>Startup</c>.</summary>
    public LifecycleStep? Startup { get; init; }

    /// <summary><c>Run</c>.</summary>
    public LifecycleStep? Run { get; init; }

    /// <summary><c>Shutdown</c>.</summary>
    public LifecycleStep? Shutdown { get; init; }

    /// <summary><c>Recover</c>.</summary>
    public LifecycleStep? Recover { get; init; }

    /// <summary>Where the lifecycle is in the recipe (null for <see cref="Empty"/>).</summary>
    public SourceLocation? Location { get; init; }

    /// <summary>Whether there are neither steps nor variables.</summary>
    public bool IsEmpty => Setenv.Count == 0 && Steps.Count == 0;

    /// <summary>The defined steps, in the order Bootstrap, Install, Startup, Run, Shutdown, Recover.</summary>
    public IReadOnlyList<KeyValuePair<LifecycleStepKind, LifecycleStep>> Steps
    {
        get
        {
            var steps = new List<KeyValuePair<LifecycleStepKind, LifecycleStep>>();
            foreach (var kind in Enum.GetValues<LifecycleStepKind>())
            {
                if (this[kind] is { } step)
                {
                    steps.Add(new(kind, step));
                }
            }

            return steps;
        }
    }

    /// <summary>The step of <paramref name="kind"/>, or null.</summary>
    public LifecycleStep? this[LifecycleStepKind kind] => kind switch
    {
        LifecycleStepKind.Bootstrap => Bootstrap,
        LifecycleStepKind.Install => Install,
        LifecycleStepKind.Startup => Startup,
        LifecycleStepKind.Run => Run,
        LifecycleStepKind.Shutdown => Shutdown,
        _ => Recover,
    };

    /// <summary>A copy with the step of <paramref name="kind"/> replaced.</summary>
    public Lifecycle With(LifecycleStepKind kind, LifecycleStep? step) => kind switch
    {
        LifecycleStepKind.Bootstrap => this with { Bootstrap = step },
        LifecycleStepKind.Install => this with { Install = step },
        LifecycleStepKind.Startup => this with { Startup = step },
        LifecycleStepKind.Run => this with { Run = step },
        LifecycleStepKind.Shutdown => this with { Shutdown = step },
        _ => this with { Recover = step },
    };

    /// <summary>
    /// The Nucleus's timeout, in seconds, for a step that sets none: Bootstrap, Install and Startup 120, Shutdown 15,
    /// Recover 60; Run has none (null).
    /// </summary>
    public static int? DefaultTimeoutSeconds(LifecycleStepKind kind) => kind switch
    {
        LifecycleStepKind.Bootstrap or LifecycleStepKind.Install or LifecycleStepKind.Startup => 120,
        LifecycleStepKind.Shutdown => 15,
        LifecycleStepKind.Recover => 60,
        _ => null,
    };
}

/// <summary>
/// One lifecycle step: written either as a script (<c>Run: ./start.sh</c>) or as a mapping with <c>Script</c>,
/// <c>Timeout</c>, <c>Setenv</c>, <c>Skipif</c> and <c>RequiresPrivilege</c>.
/// </summary>
public sealed record LifecycleStep
{
    private static readonly IReadOnlyDictionary<string, string> NoVariables = new Dictionary<string, string>();

    /// <summary>The shell script.</summary>
    public required string Script { get; init; }

    /// <summary>Whether the step was written as a plain script rather than a mapping.</summary>
    public bool IsScriptOnly { get; init; }

    /// <summary><c>Timeout</c> in seconds, when set to a number.</summary>
    public int? Timeout { get; init; }

    /// <summary>
    /// <c>Timeout</c> when it is written with recipe variables (e.g. <c>{configuration:/timeout}</c>); interpolation
    /// turns it into <see cref="Timeout"/>.
    /// </summary>
    public string? TimeoutExpression { get; init; }

    /// <summary><c>Setenv</c> of this step (added to the lifecycle's).</summary>
    public IReadOnlyDictionary<string, string> Setenv { get; init; } = NoVariables;

    /// <summary><c>Skipif</c>, or null.</summary>
    public SkipIf? Skipif { get; init; }

    /// <summary><c>RequiresPrivilege</c>: run as root (the Nucleus's privileged user).</summary>
    public bool RequiresPrivilege { get; init; }

    /// <summary>Where the step is in the recipe.</summary>
    public SourceLocation? Location { get; init; }
}

/// <summary>The check of a <see cref="SkipIf"/>.</summary>
public enum SkipIfCheck
{
    /// <summary><c>onpath &lt;executable&gt;</c>: the executable is found on PATH.</summary>
    OnPath,

    /// <summary><c>exists &lt;file&gt;</c>: the file or directory exists.</summary>
    Exists,
}

/// <summary>
/// <c>Skipif</c>: the step is skipped when the check is true (or false, with a leading <c>!</c>). The Nucleus trims the
/// expression, takes an optional <c>!</c>, and requires <c>(exists|onpath) +(.+)</c> exactly (lowercase, spaces).
/// </summary>
/// <param name="Check">What is checked.</param>
/// <param name="Argument">The executable or path.</param>
/// <param name="Negated">Whether the expression starts with <c>!</c>.</param>
public sealed partial record SkipIf(SkipIfCheck Check, string Argument, bool Negated = false)
{
    /// <summary>Parses a Skipif expression; null with the reason when the Nucleus would reject it.</summary>
    public static SkipIf? TryParse(string expression, out string? error)
    {
        ArgumentNullException.ThrowIfNull(expression);
        var expr = expression.Trim();
        var negated = false;
        if (expr.StartsWith('!'))
        {
            expr = expr[1..].Trim();
            negated = true;
        }

        var match = SkipPattern().Match(expr);
        if (!match.Success)
        {
            error = $"'{expression}' is not a Skipif expression: write 'onpath <executable>' or 'exists <file>' (lowercase, optionally after '!')";
            return null;
        }

        error = null;
        return new SkipIf(match.Groups[1].Value == "onpath" ? SkipIfCheck.OnPath : SkipIfCheck.Exists, match.Groups[2].Value, negated);
    }

    /// <summary>
    /// Whether the step is skipped, given how to check that an executable is on PATH and that a path exists.
    /// </summary>
    public bool ShouldSkip(Func<string, bool> isOnPath, Func<string, bool> exists)
    {
        ArgumentNullException.ThrowIfNull(isOnPath);
        ArgumentNullException.ThrowIfNull(exists);
        var result = Check == SkipIfCheck.OnPath ? isOnPath(Argument) : exists(Argument);
        return result ^ Negated;
    }

    /// <summary>The expression, e.g. <c>onpath git</c> or <c>!exists /etc/x</c>.</summary>
    public override string ToString() => (Negated ? "!" : string.Empty) + (Check == SkipIfCheck.OnPath ? "onpath " : "exists ") + Argument;

    [GeneratedRegex(@"^(exists|onpath) +(.+)\z", RegexOptions.CultureInvariant)]
    private static partial Regex SkipPattern();
}
