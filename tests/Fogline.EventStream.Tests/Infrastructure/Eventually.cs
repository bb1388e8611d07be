namespace Fogline.EventStream.Tests.Infrastructure;

/// <summary>
/// Waiting with generous deadlines, for things that happen asynchronously. Every wait also observes the test's own
/// cancellation token, which <c>[CancelAfter]</c> cancels, so a hung test fails instead of hanging the run.
/// </summary>
internal static class Eventually
{
    /// <summary>The deadline for anything that should happen "soon" (milliseconds in practice).</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static CancellationToken TestToken => TestContext.CurrentContext.CancellationToken;

    public static async Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Deadline);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline || TestToken.IsCancellationRequested)
            {
                Assert.Fail($"Timed out waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Waits for <paramref name="task"/> with the standard deadline; fails the test (not hangs) when it does not complete.</summary>
    public static async Task<T> Within<T>(this Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Deadline, TestToken);
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
        try
        {
            await task.WaitAsync(Deadline, TestToken);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && TestToken.IsCancellationRequested))
        {
            Assert.Fail($"Timed out waiting for {what}.");
            throw;
        }
    }
}
