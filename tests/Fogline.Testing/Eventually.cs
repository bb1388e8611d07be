namespace Fogline.Testing;

/// <summary>
/// Waiting for things that happen asynchronously, with generous deadlines, instead of sleeping for a time that is
/// sometimes too short. Every wait also observes the test's own cancellation token (which <c>[CancelAfter]</c>
/// cancels), so a hung test fails instead of hanging the run.
/// </summary>
public static class Eventually
{
    /// <summary>The deadline for anything that should happen "soon" (milliseconds in practice): 20 s.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>The running test's cancellation token.</summary>
    public static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    /// <summary>Waits for <paramref name="task"/> with the standard deadline; fails the test (not hangs) when it does not complete.</summary>
    public static async Task<T> Within<T>(this Task<T> task, string what)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            return await task.WaitAsync(Deadline, TestToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && TestToken.IsCancellationRequested))
        {
            Assert.Fail($"Timed out waiting for {what}.");
            throw;
        }
    }

    /// <inheritdoc cref="Within{T}(Task{T}, string)"/>
    public static async Task Within(this Task task, string what)
    {
        ArgumentNullException.ThrowIfNull(task);
        try
        {
            await task.WaitAsync(Deadline, TestToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && TestToken.IsCancellationRequested))
        {
            Assert.Fail($"Timed out waiting for {what}.");
            throw;
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds; fails the test when it has not within
    /// <paramref name="timeout"/> (default <see cref="Deadline"/>), naming <paramref name="what"/>; ends with the
    /// test's token (or <paramref name="cancellationToken"/>).</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var token = cancellationToken.CanBeCanceled ? cancellationToken : TestToken;
        var deadline = DateTime.UtcNow + (timeout ?? Deadline);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("timed out waiting for: " + what);
            }

            await Task.Delay(20, token).ConfigureAwait(false);
        }
    }

    /// <summary>As <see cref="UntilAsync(Func{bool}, string, TimeSpan?, CancellationToken)"/>, for a condition that
    /// must be awaited (a request, a process), polled every 100 ms.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var token = cancellationToken.CanBeCanceled ? cancellationToken : TestToken;
        var deadline = DateTime.UtcNow + (timeout ?? Deadline);
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail("timed out waiting for: " + what);
            }

            await Task.Delay(100, token).ConfigureAwait(false);
        }
    }
}
