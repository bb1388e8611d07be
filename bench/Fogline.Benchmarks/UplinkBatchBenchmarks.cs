using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Fogline.ComponentKit.Messages;

namespace Fogline.Benchmarks;

/// <summary>
/// CloudUplink's batch of 2,000 filtered readings (8 devices x 3 metrics, ms timestamps, 2-3 decimals, as SensorGateway's
/// simulator makes them): the columnar encoding (<see cref="UplinkBatchCodec"/>, Brotli quality 5, the default) against
/// the earlier gzip JSON (<c>batchEncoding: json</c>), and the columnar decode. Divide by 2,000 for the time per record.
/// </summary>
[MemoryDiagnoser]
public class UplinkBatchBenchmarks
{
    private const int Records = 2000;
    private List<UplinkRecord> _records = [];
    private byte[] _columnar = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        (string Metric, string Unit, double Base, double Amplitude, int Decimals)[] metrics = [("temperature", "C", 55, 10, 2), ("pressure", "bar", 6, 0.5, 3), ("vibration", "mm/s", 2, 1.5, 3)];
        for (var i = 0; i < Records; i++)
        {
            var m = metrics[(i / 8) % metrics.Length];
            var n = i / 24;
            var value = Math.Round(m.Base + (m.Amplitude * Math.Sin(n / 10.0)) + ((random.NextDouble() - 0.5) * 0.2 * m.Amplitude), m.Decimals);
            var tsMs = 1_763_812_345_000L + (n * 100) + random.Next(0, 3);
            var text = string.Create(CultureInfo.InvariantCulture, $$"""{"v":1,"zone":"hall-a","device":"press-{{i % 8}}","metric":"{{m.Metric}}","value":{{value:R}},"unit":"{{m.Unit}}","ts":{{tsMs / 1000.0:R}},"seq":{{n}}}""");
            _records.Add(new UplinkRecord(i + 1, tsMs + 3, Encoding.UTF8.GetBytes(text)));
        }

        _columnar = EncodeColumnar();
    }

    [Benchmark(Baseline = true, Description = "gzip JSON (batchEncoding: json)")]
    public int EncodeGzipJson() => UplinkJsonBatch.Encode("gw-1-1-2000", "low", "gw-1", _records).Length;

    [Benchmark(Description = "columnar (Brotli 5)")]
    public int EncodeColumnarBatch() => EncodeColumnar().Length;

    [Benchmark(Description = "columnar decode")]
    public int DecodeColumnar() => UplinkBatchCodec.Decode(_columnar).Messages.Count;

    private byte[] EncodeColumnar() => UplinkBatchCodec.Encode("gw-1-1-2000", "low", "gw-1", _records);
}
