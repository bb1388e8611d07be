using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Fogline.ComponentKit.Messages;

namespace Fogline.ComponentKit.Tests.Messages;

/// <summary>
/// CloudUplink's columnar batches: C# encode then C# decode, and the Node decoder on the same batches, give back every
/// record bit-exactly (readings' field values; every other record's bytes); corrupt, truncated and unknown batches are
/// refused with a message that says what and where.
/// </summary>
public class UplinkBatchCodecTests
{
    private static readonly string NodeDecoder = Path.Combine(Repository.Root, "components", "CloudUplink", "decoders", "fogline-batch.js");

    [Test]
    public void Readings_RoundTripBitExactly_WithOddValuesAndTimestamps()
    {
        var records = OddReadings();
        AssertRoundTrip(records);
        var batch = Encode(records);
        Assert.That(UplinkBatchCodec.Decode(batch).Messages.All(m => m.Reading is not null), "every one of these is a plain reading, carried in the columns");
    }

    [Test]
    public void MixedRecords_RoundTrip_ReadingsInColumnsAndTheRestByteExact()
    {
        var records = MixedRecords();
        AssertRoundTrip(records);
        var decoded = UplinkBatchCodec.Decode(Encode(records));
        Assert.Multiple(() =>
        {
            Assert.That(decoded.Messages.Count(m => m.Reading is not null), Is.GreaterThan(0));
            Assert.That(decoded.Messages.Count(m => m.Reading is null), Is.GreaterThan(5));
            Assert.That(decoded.Messages.Single(m => !m.IsJson).Body, Is.EqualTo(new byte[] { 0, 1, 2, 0xff, (byte)'x' }));
        });
    }

    [Test]
    public void ASingleRecord_RoundTrips()
    {
        AssertRoundTrip([new UplinkRecord(7, 1_763_812_345_000, Utf8("""{"v":1,"zone":"z","device":"d","metric":"m","value":1.5,"ts":1763812345.5,"seq":1}"""))]);
        AssertRoundTrip([new UplinkRecord(-3, 0, Utf8("""{"v":1,"name":"not a reading"}"""))]);
    }

    [Test]
    public void ThousandsOfRecords_RoundTrip_AndTakeFewBytesPerReading()
    {
        var records = Simulated(6000, seed: 3);
        AssertRoundTrip(records);
        var batch = Encode(records);
        var json = GzipJson(records);
        TestContext.Out.WriteLine($"6000 simulated readings: columnar {(double)batch.Length / records.Count:0.00} B/reading, gzip JSON {(double)json / records.Count:0.00} B/reading");
        Assert.That(batch.Length, Is.LessThan(json / 2));
    }

    /// <summary>
    /// Values on a power-of-two grid (what EdgeFilter's optimalPlr forwards) go as binary fractions: the integers'
    /// deltas, far smaller than their bits XOR-coded or their many decimals.
    /// </summary>
    [Test]
    public void GridValues_RoundTrip_AsBinaryFractions_AndTakeFewBytes()
    {
        var grid = GridRecords(0);
        AssertRoundTrip(grid);
        var offGrid = GridRecords(1);
        AssertRoundTrip(offGrid);
        static List<UplinkRecord> Sine(List<UplinkRecord> records) => [.. records.Where(r => Encoding.UTF8.GetString(r.Body.Span).Contains("\"sine\"", StringComparison.Ordinal))];
        var gridBytes = Encode(Sine(grid)).Length;
        var offGridBytes = Encode(Sine(offGrid)).Length;
        var count = Sine(grid).Count;
        TestContext.Out.WriteLine($"{count} readings of a noisy sine on a 2^-6 grid: {(double)gridBytes / count:0.00} B/reading; the same values one ulp off the grid: {(double)offGridBytes / count:0.00} B/reading");
        Assert.That(gridBytes, Is.LessThan(offGridBytes * 0.8), "binary fractions beat the bits XOR-coded (measured 1.35 vs 1.84 B)");
    }

    [Test]
    public void RandomDoubles_RoundTripBitExactly()
    {
        var random = new Random(11);
        var records = new List<UplinkRecord>();
        for (var i = 0; i < 3000; i++)
        {
            var value = BitConverter.Int64BitsToDouble(random.NextInt64());
            if (!double.IsFinite(value))
            {
                continue;
            }

            var ts = BitConverter.Int64BitsToDouble(0x41D0000000000000 + random.NextInt64(1L << 40));
            var text = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"r","device":"d{{i % 3}}","metric":"x","value":{{value:R}},"ts":{{ts:R}},"seq":{{i}}}""");
            records.Add(new UplinkRecord(i + 1, 1_700_000_000_000 + random.Next(-1000, 1000), Utf8(text)));
        }

        AssertRoundTrip(records);
    }

    [Test]
    public void TheNodeDecoder_ReturnsTheSameRecordsBitExactly()
    {
        var batches = new[] { OddReadings(), MixedRecords(), Simulated(3000, seed: 5), GridRecords(0), [new UplinkRecord(1, 2, Utf8("""{"v":1,"zone":"z","device":"d","metric":"m","value":-0.0,"ts":0.001}"""))] };
        var directory = Directory.CreateTempSubdirectory("fogline-batch-js-");
        try
        {
            var expected = new StringBuilder();
            for (var b = 0; b < batches.Length; b++)
            {
                File.WriteAllBytes(Path.Combine(directory.FullName, $"{b}.fgb"), Encode(batches[b]));
                File.WriteAllLines(Path.Combine(directory.FullName, $"{b}.bodies"), batches[b].OrderBy(r => r.Sequence).Select(r => Convert.ToBase64String(r.Body.Span)));
                foreach (var r in batches[b].OrderBy(r => r.Sequence))
                {
                    expected.Append(Dump(r)).Append('\n');
                }
            }

            var script = $$"""
                const { decode } = require({{JsonSerializer.Serialize(NodeDecoder)}});
                const fs = require('node:fs');
                const path = require('node:path');
                const dir = {{JsonSerializer.Serialize(directory.FullName)}};
                const bits = (x) => { const b = Buffer.alloc(8); b.writeDoubleBE(x); return b.toString('hex'); };
                const field = (k, v) => v === null ? `${k}=null` : typeof v === 'string' ? `${k}=s${Buffer.from(v, 'utf8').toString('hex')}` : (k === 'seq' || k === 'v') ? `${k}=${String(v)}` : `${k}=${bits(v)}`;
                const out = [];
                for (let b = 0; ; b++) {
                  const file = path.join(dir, `${b}.fgb`);
                  if (!fs.existsSync(file)) break;
                  const originals = fs.readFileSync(path.join(dir, `${b}.bodies`), 'utf8').trim().split('\n').map((l) => Buffer.from(l, 'base64'));
                  const batch = decode(fs.readFileSync(file));
                  batch.messages.forEach((m, i) => {
                    if (m.reading) {
                      const o = JSON.parse(originals[i].toString('utf8'));
                      for (const k of ['value', 'ts']) {
                        const decoded = m.body[k] === null ? 'null' : bits(m.body[k]);
                        const parsed = o[k] === null ? 'null' : bits(o[k]);
                        if (decoded !== parsed) out.push(`MISMATCH with JSON.parse of the original: ${m.id} ${k} ${decoded} != ${parsed}`);
                      }
                      out.push(`${m.id} ${m.seq} ${m.enqueuedMs} R ` + Object.keys(m.body).sort().map((k) => field(k, m.body[k])).join(' '));
                    } else {
                      const raw = m.json === undefined ? Buffer.from(m.body, 'base64') : Buffer.from(m.json, 'utf8');
                      out.push(`${m.id} ${m.seq} ${m.enqueuedMs} G ${raw.toString('base64')}`);
                    }
                  });
                }
                process.stdout.write(out.join('\n') + '\n');
                """;
            var output = RunNode(script, directory.FullName);
            Assert.That(output, Is.EqualTo(expected.ToString()));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public void TheNodeDecoder_RefusesUnknownVersionsAndTruncatedBatches()
    {
        var batch = Encode(MixedRecords());
        var directory = Directory.CreateTempSubdirectory("fogline-batch-js-");
        try
        {
            var future = batch.ToArray();
            future[3] = 2;
            File.WriteAllBytes(Path.Combine(directory.FullName, "future.fgb"), future);
            File.WriteAllBytes(Path.Combine(directory.FullName, "cut.fgb"), batch[..(batch.Length / 2)]);
            File.WriteAllBytes(Path.Combine(directory.FullName, "corrupt.fgb"), Recompressed(batch, body => body[..^3]));
            var script = $$"""
                const { decode } = require({{JsonSerializer.Serialize(NodeDecoder)}});
                const fs = require('node:fs');
                for (const name of ['future', 'cut', 'corrupt']) {
                  try { decode(fs.readFileSync(`${name}.fgb`)); console.log(`${name}: decoded`); } catch (e) { console.log(`${name}: ${e.message}`); }
                }
                """;
            var lines = RunNode(script, directory.FullName).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Multiple(() =>
            {
                Assert.That(lines[0], Does.StartWith("future: batch format version 2 is not supported"));
                Assert.That(lines[1], Does.StartWith("cut: corrupt or truncated batch"));
                Assert.That(lines[2], Does.Match("corrupt: truncated or corrupt batch: the body length \\([0-9]+\\) is more than the [0-9]+ bytes left, in generic record [0-9]+ at body byte [0-9]+"));
            });
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Test]
    public void ATruncatedBatch_IsRefusedWithWhatAndWhere()
    {
        var batch = Encode(MixedRecords());
        for (var length = 0; length < batch.Length; length++)
        {
            var e = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode(batch.AsSpan(0, length)), $"cut at {length}");
            Assert.That(e!.Message, Does.Contain("truncated").Or.Contain("not a columnar batch"), $"cut at {length}");
        }

        var bodyCut = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode(Recompressed(batch, body => body[..^3])));
        Assert.That(bodyCut!.Message, Does.Match("truncated or corrupt batch: the body length \\([0-9]+\\) is more than the [0-9]+ bytes left, in generic record [0-9]+ at body byte [0-9]+"));
    }

    [Test]
    public void ACorruptBody_IsRefusedWithWhatAndWhere()
    {
        var records = OddReadings().Take(5).ToList();
        var batch = Encode(records);
        var extra = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode(Recompressed(batch, body => [.. body, 0])));
        Assert.That(extra!.Message, Does.Contain("bytes follow the last section, in the end of the body at body byte"));

        // The first series' unit index, made to point past the string table.
        var badIndex = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode(Recompressed(batch, body =>
        {
            var copy = body.ToArray();
            var at = SeriesStart(copy) + 4;
            copy[at] = 0x7f;
            return copy;
        })));
        Assert.That(badIndex!.Message, Does.Match("corrupt batch: string index [0-9]+ is outside the table of [0-9]+, in series 0 at body byte"));

        var garbage = batch.ToArray();
        garbage.AsSpan(4).Fill(0xAA);
        var notBrotli = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode(garbage));
        Assert.That(notBrotli!.Message, Does.StartWith("corrupt batch"));
    }

    [Test]
    public void AnUnknownVersion_OrAnotherEncoding_IsRefusedClearly()
    {
        var batch = Encode(MixedRecords());
        batch[3] = 9;
        var e = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode(batch));
        Assert.Multiple(() =>
        {
            Assert.That(e!.Message, Is.EqualTo("batch format version 9 is not supported (this decoder reads version 1)"));
            Assert.That(e.UnsupportedVersion, Is.True);
        });
        var gzip = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode([0x1f, 0x8b, 8, 0, 0]));
        Assert.That(gzip!.Message, Does.Contain("gzip"));
        var json = Assert.Throws<MessageFormatException>(() => UplinkBatchCodec.Decode("{\"batchId\":1}"u8));
        Assert.That(json!.Message, Does.Contain("does not start with \"FGB\""));
    }

    // ------------------------------------------------------------------ data

    private static ReadOnlyMemory<byte> Utf8(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Encode(IReadOnlyList<UplinkRecord> records) =>
        UplinkBatchCodec.Encode($"gw-1-{records[0].Sequence}-{records[^1].Sequence}", "low", "gw-1", records);

    /// <summary>Readings with awkward values: null, -0.0, subnormals, extremes, many digits; timestamps that repeat, go back, are not whole milliseconds.</summary>
    /// <summary>
    /// Readings whose values are multiples of 2^-6 (a noisy sine rounded to the grid), plus extremes of the mode (2^-60
    /// steps, integers near 2^53, zero); with <paramref name="ulpsOff"/> each value is moved that many ulps off.
    /// </summary>
    private static List<UplinkRecord> GridRecords(int ulpsOff)
    {
        var random = new Random(9);
        var records = new List<UplinkRecord>();
        for (var i = 0; i < 2000; i++)
        {
            var (device, value) = (i % 4) switch
            {
                0 => ("sine", Math.Round((60 + (25 * Math.Sin(i / 80.0)) + random.NextDouble()) * 64) / 64),
                1 => ("tiny", Math.ScaleB(random.Next(-1000, 1000), -60)),
                2 => ("huge", (double)((1L << 52) + random.Next(1000))),
                _ => ("zero", 0.0),
            };
            for (var k = 0; k < ulpsOff && value != 0; k++)
            {
                value = Math.BitIncrement(value);
            }

            var text = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"g","device":"{{device}}","metric":"m","value":{{value:R}},"ts":{{1_763_812_345 + (i * 0.01):0.###}},"seq":{{i}}}""");
            records.Add(new UplinkRecord(i + 1, 1_763_812_345_000 + (i * 10), Utf8(text)));
        }

        return records;
    }

    internal static List<UplinkRecord> OddReadings()
    {
        string[] values = ["null", "-0.0", "0", "5e-324", "-2.2250738585072014E-308", "1.7976931348623157e308", "-1.7976931348623157e308", "0.1", "0.30000000000000004", "123456789.123456789", "1e-7", "42", "-17.25", "3.141592653589793", "1e21", "2.5"];
        string[] timestamps = ["1763812345.125", "1763812345.125", "1763812344.9", "1763812345.1234567", "0", "1e-6", "1763812345", "1763812345.000001", "4102444800.999", "1763812345.3333333333"];
        var records = new List<UplinkRecord>();
        var seq = 1000L;
        for (var i = 0; i < 64; i++)
        {
            var unit = (i % 4) switch { 0 => "\"unit\":\"°C\",", 1 => "\"unit\":\"\",", 2 => string.Empty, _ => "\"unit\":\"m\\u00b3/h\"," };
            var quality = (i % 5) switch { 0 => ",\"quality\":\"stale\"", 1 => ",\"quality\":\"bad\"", 2 => ",\"quality\":\"good\"", _ => string.Empty };
            var readingSeq = (i % 7) switch { 0 => string.Empty, 1 => ",\"seq\":9223372036854775807", 2 => ",\"seq\":-9223372036854775808", _ => $",\"seq\":{i * 3}" };
            var zone = i % 3 == 0 ? "hallé-ü" : i % 3 == 1 ? "\\u6e29\\u5ea6" : "z.1";
            var text = $$"""{"metric":"m{{i % 2}}","v":1,"zone":"{{zone}}","device":"d-{{i % 3}}",{{unit}}"value":{{values[i % values.Length]}},"ts":{{timestamps[i % timestamps.Length]}}{{readingSeq}}{{quality}}}""";
            seq += i % 9 == 0 ? 5 : 1;
            records.Add(new UplinkRecord(seq, 1_763_812_345_000 + (i * 37 % 11) - (i % 4 == 0 ? 500 : 0), Utf8(text)));
        }

        // A series of microsecond timestamps.
        for (var i = 0; i < 10; i++)
        {
            var text = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"z","device":"us","metric":"m","value":{{i * 0.5}},"ts":1763812345.{{i * 123457 % 1000000:000000}},"seq":{{i}}}""");
            records.Add(new UplinkRecord(++seq, 1_763_812_346_000 + i, Utf8(text)));
        }

        return records;
    }

    /// <summary>Readings mixed with window summaries, other JSON, readings with extra members, and bytes that are not JSON.</summary>
    internal static List<UplinkRecord> MixedRecords()
    {
        var records = Simulated(40, seed: 1);
        var seq = records[^1].Sequence;
        string[] others =
        [
            """{"v":1,"zone":"hall-a","device":"press-1","metric":"temperature","unit":"C","start":1763812340,"end":1763812350,"count":10,"min":20.5,"max":22.25,"mean":21.4,"stddev":0.5,"late":0}""",
            """{"v":1,"name":"summary-3"}""",
            """{"v":1,"zone":"z","device":"d","metric":"m","value":1,"ts":1,"extra":true}""",
            """{"v":1,"zone":"z","device":"d","metric":"m","value":1e999,"ts":1}""",
            """{"v":1,"zone":"z","device":"d","metric":"m","value":-1e999,"ts":1}""",
            """{"v":1,"zone":"z","device":"d","metric":"m","value":1,"ts":1,"unit":null}""",
            """{"v":1,"zone":"z","zone":"y","device":"d","metric":"m","value":1,"ts":1}""",
            """{"v":2,"zone":"z","device":"d","metric":"m","value":1,"ts":1}""",
            """{"v":1,"zone":"z","device":"d","metric":"m","value":1,"ts":1,"seq":1.5}""",
            """  {"v":1,"zone":"z","device":"d","metric":"m","value":1,"ts":1}  """,
            """[1,2,3]""",
            "{\"v\":1,\"zone\":\"\\ud800\",\"device\":\"d\",\"metric\":\"m\",\"value\":1,\"ts\":1}",
        ];
        foreach (var other in others)
        {
            records.Add(new UplinkRecord(++seq, 1_763_812_400_000 + seq, Utf8(other)));
        }

        records.Add(new UplinkRecord(++seq, 1_763_812_400_000, new byte[] { 0, 1, 2, 0xff, (byte)'x' }));
        records.AddRange(Simulated(30, seed: 2, firstSequence: seq + 1));
        return records;
    }

    /// <summary>Readings like SensorGateway's simulator publishes: ms timestamps, a few decimals, per device and metric.</summary>
    internal static List<UplinkRecord> Simulated(int count, int seed, long firstSequence = 1)
    {
        var random = new Random(seed);
        var records = new List<UplinkRecord>(count);
        (string Metric, string Unit, double Base, double Amplitude, int Decimals)[] metrics = [("temperature", "C", 55, 10, 2), ("pressure", "bar", 6, 0.5, 3), ("vibration", "mm/s", 2, 1.5, 3)];
        var t0 = 1_763_812_345_000L;
        for (var i = 0; i < count; i++)
        {
            var device = i % 8;
            var m = metrics[(i / 8) % metrics.Length];
            var n = i / 24;
            var value = Math.Round(m.Base + (m.Amplitude * Math.Sin(n / 10.0)) + ((random.NextDouble() - 0.5) * 0.2 * m.Amplitude), m.Decimals);
            var tsMs = t0 + (n * 100) + random.Next(0, 3);
            var text = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"hall-a","device":"press-{{device}}","metric":"{{m.Metric}}","value":{{value:R}},"unit":"{{m.Unit}}","ts":{{tsMs / 1000.0:R}},"seq":{{n}}}""");
            records.Add(new UplinkRecord(firstSequence + i, tsMs + 3 + random.Next(0, 2), Utf8(text)));
        }

        return records;
    }

    // ------------------------------------------------------------------ checks

    private static void AssertRoundTrip(IReadOnlyList<UplinkRecord> records)
    {
        var decoded = UplinkBatchCodec.Decode(Encode(records));
        var expected = records.OrderBy(r => r.Sequence).ToList();
        Assert.That(decoded.Messages, Has.Count.EqualTo(expected.Count));
        Assert.Multiple(() =>
        {
            Assert.That(decoded.Thing, Is.EqualTo("gw-1"));
            Assert.That(decoded.Priority, Is.EqualTo("low"));
            for (var i = 0; i < expected.Count; i++)
            {
                var m = decoded.Messages[i];
                var r = expected[i];
                Assert.That(m.Id, Is.EqualTo($"gw-1-{r.Sequence}"));
                Assert.That(m.Sequence, Is.EqualTo(r.Sequence));
                Assert.That(m.EnqueuedMs, Is.EqualTo(r.EnqueuedMs));
                if (m.Reading is null)
                {
                    Assert.That(m.Body, Is.EqualTo(r.Body.ToArray()), $"record {r.Sequence} byte-exact");
                }
                else
                {
                    Assert.That(Fields(m.Body), Is.EqualTo(Fields(r.Body.Span)), $"record {r.Sequence}: the rebuilt JSON's fields");
                    Assert.That(Fields(UplinkBatchCodec.ToJson(m.Reading)), Is.EqualTo(Fields(r.Body.Span)));
                }
            }
        });
    }

    /// <summary>A JSON object's members, sorted, doubles as their bit patterns, integers (v, seq) as they are.</summary>
    private static string Fields(ReadOnlySpan<byte> json)
    {
        using var doc = JsonDocument.Parse(json.ToArray());
        return string.Join(' ', doc.RootElement.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => p.Name + "=" + (p.Value.ValueKind switch
        {
            JsonValueKind.Null => "null",
            JsonValueKind.String => "s" + Convert.ToHexStringLower(Encoding.UTF8.GetBytes(p.Value.GetString()!)),
            JsonValueKind.Number when p.Name is "seq" or "v" => p.Value.GetInt64().ToString(CultureInfo.InvariantCulture),
            JsonValueKind.Number => BitConverter.DoubleToInt64Bits(p.Value.GetDouble()).ToString("x16", CultureInfo.InvariantCulture),
            _ => p.Value.GetRawText(),
        })));
    }

    /// <summary>What the Node script prints for one record, computed here from the original.</summary>
    private static string Dump(UplinkRecord r)
    {
        var decoded = UplinkBatchCodec.Decode(Encode([r])).Messages[0];
        var head = $"gw-1-{r.Sequence} {r.Sequence} {r.EnqueuedMs} ";
        return decoded.Reading is null ? head + "G " + Convert.ToBase64String(r.Body.Span) : head + "R " + Fields(r.Body.Span);
    }

    private static byte[] Recompressed(byte[] batch, Func<byte[], byte[]> change)
    {
        using var input = new BrotliStream(new MemoryStream(batch, 4, batch.Length - 4), CompressionMode.Decompress);
        using var body = new MemoryStream();
        input.CopyTo(body);
        var changed = change(body.ToArray());
        using var output = new MemoryStream();
        output.Write(batch, 0, 4);
        using (var brotli = new BrotliStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            brotli.Write(changed);
        }

        return output.ToArray();
    }

    /// <summary>Where the first series starts in a body (after the header and the string table).</summary>
    private static int SeriesStart(byte[] body)
    {
        var at = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = body[at++];
                v |= (ulong)(b & 0x7f) << shift;
                if (b < 0x80)
                {
                    return v;
                }
            }
        }

        for (var i = 0; i < 3; i++)
        {
            var length = (int)Varint();
            at += length;
        }

        Varint(); // first sequence
        Varint(); // count
        var strings = (int)Varint();
        for (var i = 0; i < strings; i++)
        {
            var length = (int)Varint();
            at += length;
        }

        Varint(); // series count
        return at;
    }

    private static long GzipJson(IReadOnlyList<UplinkRecord> records) => UplinkJsonBatch.Encode("gw-1-1-2", "low", "gw-1", records).Length;

    /// <summary>Runs a script with node; a missing node fails the test with what to install.</summary>
    private static string RunNode(string script, string workingDirectory)
    {
        var file = Path.Combine(workingDirectory, "check.js");
        File.WriteAllText(file, script);
        var start = new ProcessStartInfo("node", [file]) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"node is needed to check the JavaScript batch decoder and was not found ({e.Message}): install Node.js 20 or later (apt-get install nodejs)");
            throw;
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            Assert.That(process.ExitCode, Is.Zero, "node failed: " + stderr);
            return stdout.Result;
        }
    }
}
