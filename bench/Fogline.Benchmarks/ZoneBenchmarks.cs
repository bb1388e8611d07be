using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Fogline.ComponentKit.Configuration;
using Fogline.ComponentKit.Messages;
using Fogline.Dashboard.Live;
using Fogline.ZoneCorrelator;

namespace Fogline.Benchmarks;

/// <summary>
/// Per reading, what ZoneCorrelator and the Dashboard do with a raw reading of a zone of 100 devices × 5 metrics:
/// decoding it (the baseline: every consumer pays it), ZoneCorrelator's update of the zone and evaluation of the two
/// rules that read its metric (a two-device rule and a spread over the zone), and the Dashboard's recording of it.
/// 1,000 readings per invocation, so the figures are per reading.
/// </summary>
[MemoryDiagnoser]
public class ZoneBenchmarks
{
    private const int Readings = 1000;
    private readonly byte[][] _payloads = new byte[Readings][];
    private readonly Utf8StringPool _names = new();
    private ZoneState _zone = null!;
    private ZoneRuleState[] _rules = null!;
    private LiveState _live = null!;
    private double _now;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        for (var i = 0; i < Readings; i++)
        {
            var device = random.Next(100);
            var metric = random.Next(5) == 0 ? "temperature" : "metric-" + random.Next(4);
            _payloads[i] = Encoding.UTF8.GetBytes($$"""{"v":1,"zone":"hall-a","device":"device-{{device:D3}}","metric":"{{metric}}","value":{{50 + (random.NextDouble() * 40):0.###}},"unit":"C","ts":1796400000.{{i:D3}},"seq":{{i}}}""");
        }

        var options = ZoneCorrelatorOptions.Parse(new ConfigNode(JsonDocument.Parse("""
            {"rules": [
              {"name": "hot-and-shaking", "zone": "hall-a", "minDurationSeconds": 2,
               "conditions": [{"metric": "temperature", "device": "device-001", "above": 80}, {"metric": "metric-1", "device": "device-002", "above": 85}]},
              {"name": "temperature-spread", "severity": "warning", "conditions": [{"metric": "temperature", "aggregate": "spread", "above": 35, "minDevices": 2}]}]}
            """).RootElement));
        _zone = new ZoneState("hall-a");
        _rules = [.. options.Rules.Select(r => new ZoneRuleState(r))];
        _live = new LiveState(120, 10, 5000);
        for (var round = 0; round < 3; round++)
        {
            Decode();
            Correlate();
            Record();
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Readings)]
    public double Decode()
    {
        var sum = 0.0;
        foreach (var payload in _payloads)
        {
            ReadingCodec.TryRead(payload, _names, out var reading, out _);
            sum += reading.Value;
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public int Correlate()
    {
        var changes = 0;
        foreach (var payload in _payloads)
        {
            ReadingCodec.TryRead(payload, _names, out var reading, out _);
            _now += 0.0002;
            _zone.Update(reading, _now, 4096);
            foreach (var rule in _rules)
            {
                if (rule.Rule.Reads(reading.Metric) && rule.Evaluate(_zone, _now, 30, out _))
                {
                    changes++;
                }
            }
        }

        return changes;
    }

    [Benchmark(OperationsPerInvoke = Readings)]
    public double Record()
    {
        var sum = 0.0;
        foreach (var payload in _payloads)
        {
            ReadingCodec.TryRead(payload, _names, out var reading, out _);
            _now += 0.0002;
            _live.Record(reading, _now);
            sum += reading.Value;
        }

        return sum;
    }
}
