using System.Text;
using Fogline.ComponentKit.Messages;

namespace Fogline.ComponentKit.Tests.Messages;

public class ReadingCodecTests
{
    [Test]
    public void WriteThenRead_RoundTripsEveryField()
    {
        using var writer = new PayloadWriter();
        var reading = new Reading("hall-a", "press-1", "temperature", 21.5, 1763812345.125, "C", 42) { Quality = ReadingQuality.Stale };
        var payload = writer.Write(reading);

        var status = ReadingCodec.TryRead(payload.Span, new Utf8StringPool(), out var back, out var error);

        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(DecodeStatus.Ok), error);
            Assert.That(back.SchemaVersion, Is.EqualTo(1));
            Assert.That(back.Zone, Is.EqualTo("hall-a"));
            Assert.That(back.Device, Is.EqualTo("press-1"));
            Assert.That(back.Metric, Is.EqualTo("temperature"));
            Assert.That(back.Unit, Is.EqualTo("C"));
            Assert.That(back.Value, Is.EqualTo(21.5));
            Assert.That(back.Timestamp, Is.EqualTo(1763812345.125));
            Assert.That(back.Sequence, Is.EqualTo(42));
            Assert.That(back.Quality, Is.EqualTo(ReadingQuality.Stale));
        });
        Assert.That(Encoding.UTF8.GetString(payload.Span), Is.EqualTo(
            "{\"v\":1,\"zone\":\"hall-a\",\"device\":\"press-1\",\"metric\":\"temperature\",\"value\":21.5,\"unit\":\"C\",\"ts\":1763812345.125,\"seq\":42,\"quality\":\"stale\"}"));
    }

    [TestCase("", "the payload is empty")]
    [TestCase("[1,2]", "not a JSON object")]
    [TestCase("{\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1}", "$.v (the schema version) is missing")]
    [TestCase("{\"v\":\"1\",\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1}", "$.v must be an integer")]
    [TestCase("{\"v\":1,\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1}", "required member $.zone is missing")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"ts\":1}", "required member $.value is missing")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":\"hot\",\"ts\":1}", "$.value must be a finite number")]
    [TestCase("{\"v\":1,\"zone\":\"a/b\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1}", "$.zone must be 1-64 letters")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"#\",\"metric\":\"c\",\"value\":1,\"ts\":1}", "$.device must be 1-64 letters")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":7,\"value\":1,\"ts\":1}", "$.metric must be a string")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":-5}", "$.ts must be epoch seconds")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1,\"quality\":\"meh\"}", "$.quality must be")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1", "invalid JSON at byte")]
    [TestCase("{\"v\":1,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1e999,\"ts\":1}", "$.value must be a finite number")]
    public void TryRead_Malformed_SaysWhat(string json, string expected)
    {
        var status = ReadingCodec.TryRead(Encoding.UTF8.GetBytes(json), new Utf8StringPool(), out _, out var error);

        Assert.That(status, Is.EqualTo(DecodeStatus.Malformed));
        Assert.That(error, Does.Contain(expected));
    }

    [Test]
    public void TryRead_InvalidUtf8InAName_IsMalformed()
    {
        var json = Encoding.UTF8.GetBytes("{\"v\":1,\"zone\":\"aXb\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1}");
        json[Array.IndexOf(json, (byte)'X')] = 0xFF;

        var status = ReadingCodec.TryRead(json, new Utf8StringPool(), out _, out var error);

        Assert.That(status, Is.EqualTo(DecodeStatus.Malformed));
        Assert.That(error, Does.Contain("UTF-8").Or.Contain("invalid JSON"));
    }

    [Test]
    public void TryRead_UnknownSchemaVersion_IsTold()
    {
        var json = "{\"v\":2,\"zone\":\"a\",\"device\":\"b\",\"metric\":\"c\",\"value\":1,\"ts\":1}"u8;

        var status = ReadingCodec.TryRead(json, new Utf8StringPool(), out _, out var error);

        Assert.That(status, Is.EqualTo(DecodeStatus.UnsupportedVersion));
        Assert.That(error, Is.EqualTo("schema version 2 is not supported (this consumer reads 1..1)"));
    }

    [Test]
    public void TryRead_UnknownMembersAndEscapedNames_AreHandled()
    {
        var json = "{\"v\":1,\"extra\":{\"deep\":[1,2,{\"x\":null}]},\"zone\":\"h\\u0061ll\",\"device\":\"b\",\"metric\":\"c\",\"value\":null,\"ts\":1}"u8;

        var status = ReadingCodec.TryRead(json, new Utf8StringPool(), out var reading, out var error);

        Assert.That(status, Is.EqualTo(DecodeStatus.Ok), error);
        Assert.That(reading.Zone, Is.EqualTo("hall"));
        Assert.That(double.IsNaN(reading.Value), Is.True);
    }

    [Test]
    public void ReadAndWrite_InSteadyState_AllocateNothing()
    {
        var pool = new Utf8StringPool();
        using var writer = new PayloadWriter();
        var payloads = new byte[16][];
        for (var i = 0; i < payloads.Length; i++)
        {
            payloads[i] = writer.Write(new Reading("zone-1", "dev-" + i, "temperature", i * 1.5, 1763812345.0 + i, "C", i)).ToArray();
        }

        // Warm up: intern the names, size the buffers, JIT.
        for (var i = 0; i < 1000; i++)
        {
            ReadingCodec.TryRead(payloads[i % payloads.Length], pool, out var r, out _);
            writer.Write(r);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            ReadingCodec.TryRead(payloads[i % payloads.Length], pool, out var r, out _);
            r.Value += 1;
            writer.Write(r);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public void StringPool_IsBounded()
    {
        var pool = new Utf8StringPool(capacity: 10);
        for (var i = 0; i < 100; i++)
        {
            pool.Get(Encoding.UTF8.GetBytes("name-" + i));
        }

        Assert.That(pool.Count, Is.EqualTo(10));
        Assert.That(pool.Get("name-3"u8), Is.SameAs(pool.Get("name-3"u8)));
        Assert.That(pool.Get("name-50"u8), Is.EqualTo("name-50"));
    }

    [Test]
    public void StringPool_RejectsInvalidUtf8()
    {
        Assert.Throws<DecoderFallbackException>(() => new Utf8StringPool().Get([0x61, 0xFF, 0x62]));
    }
}
