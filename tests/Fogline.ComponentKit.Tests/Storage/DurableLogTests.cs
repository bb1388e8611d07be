using System.Text;
using Fogline.ComponentKit.Storage;

namespace Fogline.ComponentKit.Tests.Storage;

public class DurableLogTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "fogline-log-" + Guid.NewGuid().ToString("N")[..8]);

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Test]
    public async Task AppendedRecordsSurviveAReopen_AcknowledgedOnesDoNot_CriticalComesFirst()
    {
        await using (var log = DurableLog.Open(_dir, new DurableLogOptions { SegmentBytes = 4096 }))
        {
            var appends = Enumerable.Range(0, 1000).Select(i => log.AppendAsync(i % 10 == 0 ? LogPriority.Critical : LogPriority.Low, Payload(i)).AsTask()).ToList();
            var sequences = await Task.WhenAll(appends);
            Assert.That(sequences, Is.Unique);
            log.Acknowledge(sequences.Where((_, i) => i % 2 == 1));
        }

        Assert.That(Directory.GetFiles(_dir, "*.seg"), Has.Length.GreaterThan(1), "several segments");
        await using (var log = DurableLog.Open(_dir))
        {
            Assert.That(log.Count, Is.EqualTo(500));
            Assert.That(log.Recovery.CorruptRecords, Is.Zero);
            var first = log.Peek(100);
            Assert.That(first.Take(100).Select(r => r.Priority), Is.All.EqualTo(LogPriority.Critical), "the 100 critical records first");
            Assert.That(first.Select(r => r.Sequence), Is.Ordered, "oldest first within a priority");
            Assert.That(Encoding.UTF8.GetString(first[0].Payload), Is.EqualTo("message 0"));
        }
    }

    /// <summary>
    /// A record is handed out (Peek) only once it is on disk: one sent before its commit could be lost in a crash and
    /// its sequence number given to another record, so the cloud would drop that one as a duplicate of the first.
    /// </summary>
    [Test]
    public async Task ARecordIsNotHandedOut_BeforeItIsOnDisk()
    {
        var time = new ManualClock();
        var log = DurableLog.Open(_dir, new DurableLogOptions { Time = time, CommitInterval = TimeSpan.FromSeconds(10) });
        var append = log.AppendAsync(LogPriority.Critical, Payload(1)).AsTask();
        await Eventually.UntilAsync(() => time.PendingTimers > 0, "the commit waiting for its interval");

        Assert.That(log.Peek(10), Is.Empty, "not committed yet");
        Assert.That(log.Count, Is.EqualTo(1), "but counted");
        time.Advance(TimeSpan.FromSeconds(10));
        await append.Within("the commit");
        Assert.That(log.Peek(10).Select(r => Encoding.UTF8.GetString(r.Payload)), Is.EqualTo(new[] { "message 1" }));

        // Closing flushes through one more commit interval of the manual clock.
        var closing = log.DisposeAsync().AsTask();
        while (!closing.IsCompleted)
        {
            time.Advance(TimeSpan.FromSeconds(10));
            await Task.Delay(10, Eventually.TestToken);
        }

        await closing;
    }

    [Test]
    public async Task AcknowledgingEverything_DeletesOldSegments_AndSequencesKeepGrowingAcrossReopens()
    {
        long last;
        await using (var log = DurableLog.Open(_dir, new DurableLogOptions { SegmentBytes = 2048 }))
        {
            var sequences = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => log.AppendAsync(LogPriority.Normal, Payload(i)).AsTask()));
            log.Acknowledge(sequences);
            await log.FlushAsync();
            last = sequences.Max();
            Assert.That(Directory.GetFiles(_dir, "*.seg"), Has.Length.EqualTo(1), "only the newest segment is kept");
        }

        await using (var log = DurableLog.Open(_dir))
        {
            Assert.That(log.Count, Is.Zero);
            Assert.That(await log.AppendAsync(LogPriority.Normal, Payload(1)), Is.GreaterThan(last), "a sequence number is never reused (an old acknowledgement must not match a new record)");
        }
    }

    [Test]
    public async Task ACorruptRecordIsSkippedAndCounted_ATornTailIsDropped_TheRestIsKept()
    {
        await using (var log = DurableLog.Open(_dir))
        {
            await Task.WhenAll(Enumerable.Range(0, 10).Select(i => log.AppendAsync(LogPriority.Low, Payload(i)).AsTask()));
        }

        var segment = Directory.GetFiles(_dir, "*.seg").Single();
        var bytes = File.ReadAllBytes(segment);
        var recordLength = bytes.Length / 10;
        bytes[(3 * recordLength) + 30] ^= 0xFF; // a flipped bit in record 3's payload
        File.WriteAllBytes(segment, bytes.Concat(new byte[] { 200, 0, 0, 0, 1, 2 }).ToArray()); // a torn write at the end

        await using (var log = DurableLog.Open(_dir))
        {
            Assert.That(log.Recovery, Is.EqualTo(new RecoveryReport(9, 1, 6)));
            Assert.That(log.Peek(100).Select(r => Encoding.UTF8.GetString(r.Payload)), Does.Not.Contain("message 3").And.Contain("message 9"));
        }
    }

    [Test]
    public async Task OverTheSizeBound_LowestPriorityAndOldestAreEvictedFirst_CriticalLast()
    {
        await using var log = DurableLog.Open(_dir, new DurableLogOptions { MaxBytes = 15 * 34 });
        foreach (var priority in new[] { LogPriority.Critical, LogPriority.Normal, LogPriority.Low })
        {
            for (var i = 0; i < 10; i++)
            {
                await log.AppendAsync(priority, Payload(i));
            }
        }

        await log.FlushAsync();
        var left = log.Peek(100);
        Assert.That(log.Bytes, Is.LessThanOrEqualTo(15 * 34), "each record is 34 bytes: 25 of header and 9 of payload");
        Assert.That(left.Count(r => r.Priority == LogPriority.Critical), Is.EqualTo(10), "critical is kept");
        Assert.That(left.Count(r => r.Priority == LogPriority.Low), Is.Zero, "low goes first");
        Assert.That(log.Evicted, Is.GreaterThanOrEqualTo(10));
        var normal = left.Where(r => r.Priority == LogPriority.Normal).Select(r => Encoding.UTF8.GetString(r.Payload)).ToList();
        Assert.That(normal, Does.Not.Contain("message 0"), "the oldest normal ones went before newer ones");
    }

    [Test]
    public async Task RecordsOlderThanTheAgeBound_AreEvicted()
    {
        var time = new ManualClock(DateTimeOffset.UnixEpoch.AddYears(50));
        await using var log = DurableLog.Open(_dir, new DurableLogOptions { MaxAge = TimeSpan.FromHours(1), Time = time, CommitInterval = TimeSpan.Zero });
        await log.AppendAsync(LogPriority.Critical, Payload(1));
        time.Advance(TimeSpan.FromHours(2));
        await log.AppendAsync(LogPriority.Low, Payload(2));
        Assert.That(log.Peek(10).Select(r => Encoding.UTF8.GetString(r.Payload)), Is.EqualTo(new[] { "message 2" }));
    }

    private static byte[] Payload(int i) => Encoding.UTF8.GetBytes("message " + i);
}
