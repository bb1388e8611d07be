using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Fogline.ComponentKit.Messages;

namespace Fogline.ComponentKit.Tests.Messages;

/// <summary>
/// Bytes per reading of CloudUplink's batches, gzip JSON against columnar at several Brotli qualities, and encode time
/// per record, on demo-like readings and on the NAB corpus (../shared/data/nab-corpus), every reading and every 10th.
/// Explicit: it prints the figures of components/CloudUplink/BATCH-FORMAT.md
/// (<c>dotnet test tests/Fogline.ComponentKit.Tests --filter UplinkBatchMeasurements</c>).
/// </summary>
[Explicit("measurement: prints the figures of BATCH-FORMAT.md")]
public class UplinkBatchMeasurements
{
    private const int BatchSize = 2000;

    [Test]
    public void BytesPerReading_AndEncodeTime()
    {
        var demo = UplinkBatchCodecTests.Simulated(60_000, seed: 7);
        var nab = Nab();
        TestContext.Out.WriteLine($"NAB: {nab.Count:N0} readings from {Directory.GetFiles(Path.Combine(Repository.Shared, "data", "nab-corpus"), "*.csv", SearchOption.AllDirectories).Length} series");
        TestContext.Out.WriteLine("data set | readings | JSON B/reading (raw) | gzip JSON | columnar q1 | q3 | q5 | q7 | q9 | q11 | ns/record gzip JSON | q1 | q3 | q5 | q7 | q9 | q11");
        foreach (var (name, records) in new[] { ("demo-like, every reading", demo), ("demo-like, every 10th", Thin(demo)), ("NAB, every reading", nab), ("NAB, every 10th", Thin(nab)) })
        {
            var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"{name} | {records.Count:N0} | {records.Average(r => r.Body.Length):0.0}");
            var (gzipBytes, gzipNs) = Measure(records, GzipJson);
            line.Append(CultureInfo.InvariantCulture, $" | {gzipBytes:0.00}");
            var times = new List<double>();
            foreach (var quality in new[] { 1, 3, 5, 7, 9, 11 })
            {
                var (bytes, ns) = Measure(records, batch => UplinkBatchCodec.Encode("gw-1-1-2000", "low", "gw-1", batch, quality));
                line.Append(CultureInfo.InvariantCulture, $" | {bytes:0.00}");
                times.Add(ns);
            }

            line.Append(CultureInfo.InvariantCulture, $" | {gzipNs:0}");
            foreach (var ns in times)
            {
                line.Append(CultureInfo.InvariantCulture, $" | {ns:0}");
            }

            TestContext.Out.WriteLine(line.ToString());
        }
    }

    private static (double BytesPerRecord, double NsPerRecord) Measure(List<UplinkRecord> records, Func<List<UplinkRecord>, byte[]> encode)
    {
        var batches = records.Chunk(BatchSize).Select(c => c.ToList()).ToList();
        long bytes = 0;
        foreach (var batch in batches)
        {
            bytes += encode(batch).Length;
        }

        // Timed: as many passes as fit in ~1 s (after the warm-up pass above).
        var clock = Stopwatch.StartNew();
        long encoded = 0;
        while (clock.ElapsedMilliseconds < 1000)
        {
            foreach (var batch in batches)
            {
                encode(batch);
                encoded += batch.Count;
            }
        }

        return ((double)bytes / records.Count, clock.Elapsed.TotalNanoseconds / encoded);
    }

    private static List<UplinkRecord> Thin(List<UplinkRecord> records) => [.. records.Where((_, i) => i % 10 == 0)];

    /// <summary>The NAB series as readings: zone "nab", device the file, metric the folder, 5-minute-ish epoch timestamps as in the files.</summary>
    private static List<UplinkRecord> Nab()
    {
        var root = Path.Combine(Repository.Shared, "data", "nab-corpus");
        var records = new List<UplinkRecord>();
        var sequence = 1L;
        using var writer = new PayloadWriter();
        foreach (var file in Directory.GetFiles(root, "*.csv", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var device = new string([.. Path.GetFileNameWithoutExtension(file).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
            device = device.Length > 64 ? device[..64] : device;
            var metric = Path.GetFileName(Path.GetDirectoryName(file)!);
            var n = 0L;
            foreach (var line in File.ReadLines(file).Skip(1))
            {
                var comma = line.IndexOf(',', StringComparison.Ordinal);
                if (comma < 0 || !double.TryParse(line.AsSpan(comma + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                    || !DateTime.TryParse(line.AsSpan(0, comma), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
                {
                    continue;
                }

                var ts = new DateTimeOffset(time, TimeSpan.Zero).ToUnixTimeMilliseconds() / 1000.0;
                var body = writer.Write(new Reading("nab", device, metric, value, ts, "u", n++)).ToArray();
                records.Add(new UplinkRecord(sequence++, (long)(ts * 1000) + 7, body));
            }
        }

        return records;
    }

    private static byte[] GzipJson(List<UplinkRecord> records) => UplinkJsonBatch.Encode("gw-1-1-2000", "low", "gw-1", records);
}
