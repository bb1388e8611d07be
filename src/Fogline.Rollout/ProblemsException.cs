namespace Fogline.Rollout;

/// <summary>
/// Something the tool refuses before acting, for one or more reasons: <see cref="Problems"/> lists each, the message
/// joins them after a lead that says what was refused.
/// </summary>
public abstract class ProblemsException : Exception
{
    /// <summary>Creates the exception with a lead and the problems.</summary>
    protected ProblemsException(string lead, IReadOnlyList<string> problems)
        : base(lead + string.Join("; ", problems ?? []))
    {
        Problems = problems ?? [];
    }

    /// <summary>Creates the exception with one problem and its cause.</summary>
    protected ProblemsException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    /// <summary>Each problem.</summary>
    public IReadOnlyList<string> Problems { get; }
}
